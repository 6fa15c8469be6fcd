// Every Butane spec the SDK translates besides fcos 1.5.0 (fcos 1.0.0 to 1.4.0, flatcar, r4e,
// fiot), checked against the real butane v0.25.1 --strict: the fields each spec has and lacks,
// the checks that differ, and the fcos 1.5 corpus and edge cases rewritten to the specs whose
// base differs. Where a spec lacks a field a document uses, butane refuses it, and so must we, at
// the line and column butane reports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUTANE_SPECS, translateButane } from '../src/butane.js';
import { IgnitionError } from '../src/errors.js';
import { corpus, EDGES, expectButaneParity, FIXTURES, respec } from './butane-harness.js';

const SPECS = Object.entries(BUTANE_SPECS).flatMap(([variant, versions]) =>
  Object.entries(versions).map(([version, ignition]) => ({ variant, version, ignition })),
);

const SHA256 = `sha256-${'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}`;

/**
 * Fields and checks that differ between specs, run in every spec. `{IGN}` is the spec's own
 * Ignition version. `unsupported`: butane accepts it where the spec has the field, and ours
 * refuses it as outside the subset the SDK translates (OCNE_BUTANE_UNSUPPORTED).
 */
const ACROSS: Array<{ text: string; unsupported?: true }> = [
  // Base 2 (fcos 1.1.0): resources with local files and HTTP headers, the proxy, trees.
  { text: 'storage: {files: [{path: /a, contents: {local: configs/one}}]}' },
  { text: 'storage: {files: [{path: /a, append: [{local: configs/one}]}]}' },
  {
    text: 'storage: {files: [{path: /a, contents: {source: "http://x", http_headers: [{name: a, value: b}]}}]}',
  },
  { text: 'storage: {files: [{path: /a, contents: {inline: x, source: "http://a"}}]}' },
  { text: 'ignition: {config: {replace: {source: "http://a", compression: gzip}}}' },
  { text: 'ignition: {config: {merge: [{inline: \'{"ignition":{"version":"{IGN}"}}\'}]}}' },
  { text: 'ignition: {config: {merge: [{inline: \'{"ignition":{"version":"3.0.0"}}\'}]}}' },
  { text: 'ignition: {config: {merge: [{local: configs/extra.ign}]}}' },
  { text: 'ignition: {security: {tls: {certificate_authorities: [{local: certs/corp-ca.pem}]}}}' },
  { text: 'ignition: {security: {tls: {certificate_authorities: [{}]}}}' },
  { text: 'ignition: {security: {tls: {certificate_authorities: [{source: "http://ca"}]}}}' },
  { text: 'ignition: {proxy: {http_proxy: "http://proxy:3128", no_proxy: [a]}}' },
  { text: 'storage: {trees: [{local: configs, path: /etc/x}]}', unsupported: true },
  // Ignition 3.0 verifies sha512 only; gs URLs come with 3.2, arn URLs with 3.4.
  { text: `storage: {files: [{path: /a, contents: {source: "http://a", verification: {hash: ${SHA256}}}}]}` },
  { text: 'storage: {files: [{path: /a, contents: {source: "gs://bucket/object"}}]}' },
  { text: 'storage: {files: [{path: /a, contents: {source: "arn:aws:s3:::bucket/key"}}]}' },
  // Checks that Ignition 3.4 makes and older specs do not: what the node gets is 3.4.
  { text: 'storage: {files: [{path: /a, contents: {source: "s3://b/k?versionId="}}]}' },
  { text: 'storage: {links: [{path: /a}]}' },
  // Base 3 (fcos 1.2.0): should_exist for users and groups, LUKS.
  { text: 'passwd: {users: [{name: a, should_exist: false}], groups: [{name: b, should_exist: false}]}' },
  { text: 'storage: {luks: [{name: data, device: /dev/sdb}]}', unsupported: true },
  { text: 'storage: {disks: [{device: /dev/sdb, wipe_table: true}]}', unsupported: true },
  // fcos 1.3.0: boot_device; 1.5.0: grub.
  { text: 'boot_device: {mirror: {devices: [/dev/sda, /dev/sdb]}}', unsupported: true },
  { text: 'grub: {users: [{name: root, password_hash: grub.pbkdf2.sha512.10000.AA}]}', unsupported: true },
  // Base 4 (fcos 1.4.0, flatcar 1.0.0, r4e 1.0.0): kernel arguments, which r4e and fiot refuse.
  { text: 'kernel_arguments: {should_exist: [quiet], should_not_exist: [debug]}' },
  { text: 'kernel_arguments: {}' },
  // Base 5 (fcos 1.5.0, flatcar 1.1.0, r4e 1.1.0, fiot 1.0.0): local unit contents and SSH keys.
  { text: 'systemd: {units: [{name: a.service, contents_local: units/ocne-node-setup.service}]}' },
  {
    text: 'systemd: {units: [{name: a.service, dropins: [{name: x.conf, contents_local: units/kubelet-extra.conf}]}]}',
  },
  { text: 'passwd: {users: [{name: a, ssh_authorized_keys_local: [ssh/ops.pub]}]}' },
];

describe.each(SPECS)('$variant $version', ({ variant, version, ignition }) => {
  const head = `variant: ${variant}\nversion: ${version}\n`;

  it.each(ACROSS)('$text', ({ text, unsupported }) => {
    expectButaneParity(`${head}${text.replace('{IGN}', ignition)}\n`, { unsupported: unsupported ?? false });
  });

  it('translates to Ignition 3.4.0, as upstream upgrades what butane makes', () => {
    const out = translateButane(`${head}storage: {files: [{path: /a, contents: {inline: x}}]}\n`, {
      source: 'spec.bu',
    });
    expect(out.ignition.version).toBe('3.4.0');
  });
});

describe('a field of a later spec is refused where butane refuses it, saying which version has it', () => {
  it.each([
    ['fcos', '1.3.0', 'kernel_arguments: {should_exist: [quiet]}', 3, 1, /fcos 1\.4\.0 and later do/],
    ['fcos', '1.0.0', 'ignition: {proxy: {http_proxy: "http://p"}}', 3, 12, /fcos 1\.1\.0 and later do/],
    [
      'fcos',
      '1.1.0',
      'passwd: {users: [{name: a, should_exist: false}]}',
      3,
      28,
      /fcos 1\.2\.0 and later do/,
    ],
    [
      'flatcar',
      '1.0.0',
      'passwd: {users: [{name: a, ssh_authorized_keys_local: [k]}]}',
      3,
      28,
      /flatcar 1\.1\.0/,
    ],
    [
      'r4e',
      '1.1.0',
      'kernel_arguments: {should_exist: [quiet]}',
      3,
      19,
      /kernel_arguments is not supported by Butane r4e 1\.1\.0/,
    ],
  ])('%s %s: %s', (variant, version, body, line, column, message) => {
    let error: unknown;
    try {
      translateButane(`variant: ${variant}\nversion: ${version}\n${body}\n`, { source: 'late.bu' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IgnitionError);
    expect(error).toMatchObject({ code: 'OCNE_IGNITION_INVALID', line, column });
    expect((error as Error).message).toMatch(message);
  });
});

// The corpus in each base spec older than fcos 1.5.0's (flatcar, r4e and fiot share fcos's bases;
// the cases above cover what each variant adds or refuses), and the edge cases in the two oldest,
// where the resources differ most.
const BASES = [
  ['fcos', '1.0.0'],
  ['fcos', '1.1.0'],
  ['fcos', '1.2.0'],
  ['fcos', '1.4.0'],
] as const;

describe.each(BASES)('the fcos 1.5 corpus as %s %s', (variant, version) => {
  it.each(corpus)('%s', (name) => {
    expectButaneParity(respec(readFileSync(join(FIXTURES, name), 'utf8'), variant, version));
  });
});

describe.each(BASES.slice(0, 2))('edge cases as %s %s', (variant, version) => {
  it.each(EDGES.map((c) => (typeof c === 'string' ? { text: c, position: true } : c)))(
    '$text',
    ({ text, position }) => {
      expectButaneParity(`variant: ${variant}\nversion: ${version}\n${text}\n`, { position });
    },
  );
});
