// Butane fcos 1.5.0 -> Ignition 3.4.0, checked against the real butane v0.25.1 (`--strict`) on a
// corpus of realistic configs, and against ignition-validate; bad configs fail with the field's
// path, line and column. The other supported specs: butane-versions.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isOcneError } from '@ocne/core';
import { ignitionValidate, schemaErrors } from '@ocne/test-ignition';
import { describe, expect, it } from 'vitest';
import { isButane, parseUnitContents, translateButane } from '../src/butane.js';
import { decodeDataUrl } from '../src/data-url.js';
import { IgnitionError } from '../src/errors.js';
import {
  corpus,
  EDGES,
  expectButaneParity,
  FILES,
  FIXTURES,
  normalize,
  readFile,
  realButane,
  realButaneText,
} from './butane-harness.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('Butane corpus: ours equals the real butane --strict', () => {
  it('has at least 32 realistic configs', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(32);
  });

  it.each(corpus)('%s', (name) => {
    const file = join(FIXTURES, name);
    const text = readFileSync(file, 'utf8');
    const ours = translateButane(text, { source: file, filesDir: FILES, readFile });
    const real = realButane(file);
    expect(real.stderr).toBe('');
    expect(real.status).toBe(0);
    const theirs = JSON.parse(real.stdout) as unknown;
    expect(normalize(ours)).toEqual(normalize(theirs));

    const json = JSON.stringify(ours);
    expect(ignitionValidate(json)).toEqual({ status: 0, output: '' });
    expect(schemaErrors(ours)).toEqual([]);
  });
});

describe('translation details', () => {
  const fcos = (body: string): string => `variant: fcos\nversion: 1.5.0\n${body}`;

  it('sets compression to "" for inline contents, and leaves mode and overwrite unset', () => {
    const out = translateButane(
      fcos('storage:\n  files:\n    - path: /etc/hostname\n      contents:\n        inline: node-1\n'),
      {
        source: 'inline.bu',
      },
    );
    expect(out).toEqual({
      ignition: { version: '3.4.0' },
      storage: { files: [{ path: '/etc/hostname', contents: { source: 'data:,node-1', compression: '' } }] },
    });
  });

  it('reads YAML as yaml.v3 does: 0644 is octal, yes is true, 1 is the text "1"', () => {
    const out = translateButane(
      fcos('storage:\n  files:\n    - {path: /a, mode: 0644, overwrite: yes, contents: {inline: 1}}\n'),
      { source: 'quirks.bu' },
    );
    expect(out.storage?.files?.[0]).toEqual({
      path: '/a',
      mode: 0o644,
      overwrite: true,
      contents: { source: 'data:,1', compression: '' },
    });
  });

  it('keeps user-compressed contents as they are and does not compress again', () => {
    const out = translateButane(
      fcos(
        `storage:\n  files:\n    - path: /a\n      contents:\n        compression: gzip\n        local: configs/hosts.gz\n`,
      ),
      {
        source: 'gz.bu',
        filesDir: FILES,
        readFile,
      },
    );
    const contents = out.storage?.files?.[0]?.contents;
    expect(contents?.compression).toBe('gzip');
    expect(Buffer.from(decodeDataUrl(contents!.source!)!)).toEqual(
      readFileSync(join(FILES, 'configs/hosts.gz')),
    );
  });

  it('passes the reader absolute paths under filesDir and never reads by itself', () => {
    const asked: string[] = [];
    const out = translateButane(
      fcos(
        'storage:\n  files:\n    - path: /a\n      contents:\n        local: sub/dir/../x.txt\nsystemd:\n  units:\n    - name: a.service\n      contents_local: a.service\n',
      ),
      {
        source: 'fake.bu',
        filesDir: '/srv/butane-files',
        readFile: (path) => {
          asked.push(path);
          return new TextEncoder().encode(
            path.endsWith('.service') ? '[Service]\nExecStart=/bin/true\n' : 'x',
          );
        },
      },
    );
    expect(asked).toEqual(['/srv/butane-files/sub/x.txt', '/srv/butane-files/a.service']);
    expect(out.systemd?.units?.[0]?.contents).toBe('[Service]\nExecStart=/bin/true\n');
    const butaneDir = join(here, '../src/butane');
    for (const file of [
      join(here, '../src/butane.ts'),
      ...readdirSync(butaneDir).map((f) => join(butaneDir, f)),
    ]) {
      expect(readFileSync(file, 'utf8')).not.toMatch(/from 'node:fs'|from 'fs'/);
    }
  });

  it('is a pure function of its input', () => {
    const text = readFileSync(join(FIXTURES, '34-kitchen-sink.bu'), 'utf8');
    const a = translateButane(text, { source: 'a', filesDir: FILES, readFile });
    const b = translateButane(text, { source: 'a', filesDir: FILES, readFile });
    expect(a).toEqual(b);
  });

  it('parses unit files as go-systemd does', () => {
    expect(parseUnitContents('[Unit]\nDescription=x\n\n[Install]\nWantedBy=a\n')).toEqual({
      sections: ['Unit', 'Install'],
    });
    expect(parseUnitContents('[Install]\n')).toEqual({ sections: [] });
    expect(parseUnitContents('[Service]\nExecStart=/bin/sh -c \\\n  true\n[Install]\nX=1')).toEqual({
      sections: ['Service', 'Install'],
    });
    expect(parseUnitContents('# comment\n; other\n[Unit]\n# c\nA=1\n')).toEqual({ sections: ['Unit'] });
    expect(parseUnitContents('[Unit')).toEqual({ error: 'unable to find end of section' });
    expect(parseUnitContents('[Unit]\nNoEquals\n')).toEqual({
      error: 'unexpected newline encountered while parsing option name',
    });
    expect(parseUnitContents('[Unit]\nNoEquals')).toEqual({ error: 'EOF' });
    expect(parseUnitContents(`[Unit]\nA=${'x'.repeat(2050)}\n`)).toEqual({
      error: 'line too long (max 2048 bytes)',
    });
  });
});

describe('isButane', () => {
  it('is true for an object with a variant key', () => {
    expect(isButane({ variant: 'fcos', version: '1.5.0' })).toBe(true);
    expect(isButane({ variant: 'flatcar' })).toBe(true);
  });
  it('is false for Ignition configs and non-objects', () => {
    expect(isButane({ ignition: { version: '3.4.0' } })).toBe(false);
    expect(isButane(null)).toBe(false);
    expect(isButane([{ variant: 'fcos' }])).toBe(false);
    expect(isButane('variant: fcos')).toBe(false);
    expect(isButane(undefined)).toBe(false);
  });
});

interface BadCase {
  name: string;
  text: string;
  code: string;
  line: number;
  column: number;
  path: string | undefined;
  message?: RegExp;
  /** What the real butane --strict does with it: reject, or accept (an intentional difference). */
  butane: 'rejects' | 'accepts';
  filesDir?: string | null;
}

const head = 'variant: fcos\nversion: 1.5.0\n';

const BAD: BadCase[] = [
  {
    name: 'the openshift variant (MachineConfigs, not node Ignition)',
    text: 'variant: openshift\nversion: 4.14.0\nmetadata:\n  name: x\n  labels:\n    machineconfiguration.openshift.io/role: worker\n',
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 1,
    column: 10,
    path: 'variant',
    message:
      /variant "openshift" makes MachineConfigs .*: use fcos 1\.0\.0 to 1\.5\.0, flatcar 1\.0\.0 or 1\.1\.0/,
    butane: 'accepts',
  },
  {
    name: 'an unknown variant',
    text: 'variant: fedora\nversion: 1.5.0\n',
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 1,
    column: 10,
    path: 'variant',
    butane: 'rejects',
  },
  {
    name: 'an fcos version that makes Ignition 3.5',
    text: 'variant: fcos\nversion: 1.6.0\n',
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 2,
    column: 10,
    path: 'version',
    message: /fcos 1\.6\.0 makes Ignition 3\.5\.0, newer than the Ignition 3\.4\.0 nodes get/,
    butane: 'accepts',
  },
  {
    name: 'an fcos version that does not exist',
    text: 'variant: fcos\nversion: 1.9.0\n',
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 2,
    column: 10,
    path: 'version',
    message: /fcos has no version "1\.9\.0": the versions translated are 1\.0\.0, 1\.1\.0/,
    butane: 'rejects',
  },
  {
    name: 'no variant',
    text: 'version: 1.5.0\nstorage: {}\n',
    code: 'OCNE_IGNITION_INVALID',
    line: 1,
    column: 1,
    path: 'variant',
    message: /variant is required/,
    butane: 'rejects',
  },
  {
    name: 'storage.disks',
    text: `${head}storage:\n  disks:\n    - device: /dev/sdb\n      wipe_table: true\n`,
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 4,
    column: 3,
    path: 'storage.disks',
    message: /disks is not supported/,
    butane: 'accepts',
  },
  {
    name: 'storage.luks',
    text: `${head}storage:\n  luks:\n    - name: data\n      device: /dev/sdb\n`,
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 4,
    column: 3,
    path: 'storage.luks',
    butane: 'accepts',
  },
  {
    name: 'storage.trees',
    text: `${head}storage:\n  trees:\n    - local: configs\n      path: /etc/ocne\n`,
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 4,
    column: 3,
    path: 'storage.trees',
    message: /trees is not supported/,
    butane: 'accepts',
  },
  {
    name: 'storage.filesystems',
    text: `${head}storage:\n  filesystems:\n    - device: /dev/sdb1\n      format: xfs\n`,
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 4,
    column: 3,
    path: 'storage.filesystems',
    butane: 'accepts',
  },
  {
    name: 'boot_device',
    text: `${head}boot_device:\n  mirror:\n    devices: [/dev/sda, /dev/sdb]\n`,
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 3,
    column: 1,
    path: 'boot_device',
    message: /boot_device is not supported/,
    butane: 'accepts',
  },
  {
    name: 'grub',
    text: `${head}grub:\n  users:\n    - name: root\n      password_hash: grub.pbkdf2.sha512.10000.AA\n`,
    code: 'OCNE_BUTANE_UNSUPPORTED',
    line: 3,
    column: 1,
    path: 'grub',
    butane: 'accepts',
  },
  {
    name: 'an unknown key, with its location',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      permissions: 0644\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 7,
    path: 'storage.files[0].permissions',
    message: /unknown key "permissions"; allowed here: path, overwrite, user, group, mode, contents, append/,
    butane: 'rejects',
  },
  {
    name: 'a camelCase key, with the Butane spelling',
    text: `${head}ignition:\n  proxy:\n    httpProxy: http://proxy:3128\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 5,
    path: 'ignition.proxy.httpProxy',
    message: /Butane spells it "http_proxy"/,
    butane: 'rejects',
  },
  {
    name: 'ignition.version',
    text: `${head}ignition:\n  version: 3.4.0\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 4,
    column: 3,
    path: 'ignition.version',
    message: /not allowed in Butane/,
    butane: 'rejects',
  },
  {
    name: 'a mode of the wrong type',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      mode: rw-r--r--\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 13,
    path: 'storage.files[0].mode',
    message: /expected a whole number, got "rw-r--r--"/,
    butane: 'rejects',
  },
  {
    name: 'a quoted mode (a string, as in Butane)',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      mode: "0644"\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 13,
    path: 'storage.files[0].mode',
    butane: 'rejects',
  },
  {
    name: 'files as a mapping instead of a list',
    text: `${head}storage:\n  files:\n    path: /etc/a\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 5,
    path: 'storage.files',
    message: /expected a list, got a mapping/,
    butane: 'rejects',
  },
  {
    name: 'a string where true/false is expected',
    text: `${head}systemd:\n  units:\n    - name: a.service\n      enabled: "true"\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 16,
    path: 'systemd.units[0].enabled',
    butane: 'rejects',
  },
  {
    name: 'a mode written in decimal by mistake',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      mode: 644\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 13,
    path: 'storage.files[0].mode',
    message: /write 0644/,
    butane: 'rejects',
  },
  {
    name: 'a mode out of range',
    text: `${head}storage:\n  directories:\n    - path: /etc/a\n      mode: 0o17777\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 13,
    path: 'storage.directories[0].mode',
    message: /illegal mode/,
    butane: 'rejects',
  },
  {
    name: 'a relative path',
    text: `${head}storage:\n  files:\n    - path: etc/a\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 13,
    path: 'storage.files[0].path',
    message: /not absolute/,
    butane: 'rejects',
  },
  {
    name: 'a path used twice',
    text: `${head}storage:\n  directories:\n    - path: /etc/a\n  files:\n    - path: /etc/a\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 7,
    column: 7,
    path: 'storage.files[0]',
    message: /duplicate path "\/etc\/a" \(also at storage.directories\[0\]\)/,
    butane: 'rejects',
  },
  {
    name: 'an unreadable local file',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      contents:\n        local: configs/missing.conf\n`,
    code: 'OCNE_IGNITION_READ_FAILED',
    line: 7,
    column: 16,
    path: 'storage.files[0].contents.local',
    message: /cannot read local file .*configs\/missing.conf: ENOENT/,
    butane: 'rejects',
  },
  {
    name: 'a local path escaping the files folder',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      contents:\n        local: configs/../../../butane.test.ts\n`,
    code: 'OCNE_IGNITION_READ_FAILED',
    line: 7,
    column: 16,
    path: 'storage.files[0].contents.local',
    message: /outside the files folder/,
    butane: 'rejects',
  },
  {
    name: 'an absolute local path',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      contents:\n        local: /etc/passwd\n`,
    code: 'OCNE_IGNITION_READ_FAILED',
    line: 7,
    column: 16,
    path: 'storage.files[0].contents.local',
    message: /must be relative to the files folder/,
    butane: 'rejects',
  },
  {
    name: 'a local file without a files folder',
    text: `${head}systemd:\n  units:\n    - name: a.service\n      contents_local: units/a.service\n`,
    code: 'OCNE_IGNITION_READ_FAILED',
    line: 6,
    column: 23,
    path: 'systemd.units[0].contents_local',
    message: /need a files folder/,
    butane: 'rejects',
    filesDir: null,
  },
  {
    name: 'ssh_authorized_keys_local without a files folder',
    text: `${head}passwd:\n  users:\n    - name: core\n      ssh_authorized_keys_local: [ssh/ops.pub]\n`,
    code: 'OCNE_IGNITION_READ_FAILED',
    line: 6,
    column: 34,
    path: 'passwd.users[0].ssh_authorized_keys_local',
    butane: 'rejects',
    filesDir: null,
  },
  {
    name: 'inline and local together',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      contents:\n        local: configs/one\n        inline: two\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 8,
    column: 17,
    path: 'storage.files[0].contents.inline',
    message: /only one of the following can be set: inline, local, source \(got local and inline\)/,
    butane: 'rejects',
  },
  {
    name: 'contents and contents_local together',
    text: `${head}systemd:\n  units:\n    - name: a.service\n      contents: "[Service]"\n      contents_local: units/kubelet-extra.conf\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 7,
    column: 23,
    path: 'systemd.units[0].contents_local',
    butane: 'rejects',
  },
  {
    name: 'invalid YAML',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n     mode: 0644\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 1,
    path: undefined,
    message: /not valid JSON or YAML/,
    butane: 'rejects',
  },
  {
    name: 'an enabled unit without an Install section',
    text: `${head}systemd:\n  units:\n    - name: a.service\n      enabled: true\n      contents: |\n        [Service]\n        ExecStart=/bin/true\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 7,
    column: 17,
    path: 'systemd.units[0].contents',
    message: /enabled, but has no install section/,
    butane: 'rejects',
  },
  {
    name: 'unit contents that do not parse',
    text: `${head}systemd:\n  units:\n    - name: a.service\n      contents: "[Service"\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 17,
    path: 'systemd.units[0].contents',
    message: /invalid unit content: unable to find end of section/,
    butane: 'rejects',
  },
  {
    name: 'a unit name without a unit type',
    text: `${head}systemd:\n  units:\n    - name: kubelet\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 13,
    path: 'systemd.units[0].name',
    butane: 'rejects',
  },
  {
    name: 'a plain HTTP proxy for HTTPS',
    text: `${head}ignition:\n  proxy:\n    https_proxy: http://proxy:3128\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 18,
    path: 'ignition.proxy.https_proxy',
    message: /insecure plaintext HTTP proxy/,
    butane: 'rejects',
  },
  {
    name: 'overwrite without contents',
    text: `${head}storage:\n  files:\n    - path: /etc/a\n      overwrite: true\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 18,
    path: 'storage.files[0].overwrite',
    butane: 'rejects',
  },
  {
    name: 'a link without a target',
    text: `${head}storage:\n  links:\n    - path: /etc/a\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 7,
    path: 'storage.links[0]',
    message: /link target is required/,
    butane: 'rejects',
  },
  {
    name: 'an inline merge config that is not Ignition',
    text: `${head}ignition:\n  config:\n    merge:\n      - inline: '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"rel"}]}}'\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 17,
    path: 'ignition.config.merge[0].inline',
    message: /not a valid Ignition config/,
    butane: 'rejects',
  },
  {
    name: 'a kernel argument both wanted and unwanted',
    text: `${head}kernel_arguments:\n  should_exist: [quiet]\n  should_not_exist: [quiet]\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 22,
    path: 'kernel_arguments.should_not_exist[0]',
    message: /duplicate kernel argument "quiet"/,
    butane: 'rejects',
  },
  {
    name: 'an empty list item (Butane drops it silently)',
    text: `${head}passwd:\n  users:\n    - name: core\n      groups: [wheel, ~]\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 6,
    column: 23,
    path: 'passwd.users[0].groups[1]',
    butane: 'accepts',
  },
  {
    name: 'a user without a name (Butane writes name "")',
    text: `${head}passwd:\n  users:\n    - uid: 1000\n`,
    code: 'OCNE_IGNITION_INVALID',
    line: 5,
    column: 7,
    path: 'passwd.users[0]',
    message: /user name is required/,
    butane: 'accepts',
  },
];

describe('bad Butane', () => {
  it('has at least 10 cases', () => {
    expect(BAD.length).toBeGreaterThanOrEqual(10);
  });

  it.each(BAD.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const options =
      c.filesDir === null
        ? { source: 'bad.bu' }
        : { source: 'bad.bu', filesDir: c.filesDir ?? FILES, readFile };
    let error: unknown;
    try {
      translateButane(c.text, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IgnitionError);
    expect(isOcneError(error)).toBe(true);
    const e = error as IgnitionError;
    expect({ code: e.code, line: e.line, column: e.column, path: e.path, source: e.source }).toEqual({
      code: c.code,
      line: c.line,
      column: c.column,
      path: c.path,
      source: 'bad.bu',
    });
    if (c.message !== undefined) expect(e.message).toMatch(c.message);
    expect(e.message.startsWith(`bad.bu:${c.line}:${c.column}: `)).toBe(true);

    // The real butane agrees it is an error, or accepts it where we differ on purpose.
    const real = realButaneText(c.text, c.filesDir === null ? '' : (c.filesDir ?? FILES));
    if (c.butane === 'rejects') expect(real.status, real.stderr).not.toBe(0);
    else expect(real.status, real.stderr).toBe(0);
  });
});

describe('parity with butane --strict at the edges', () => {
  it.each(EDGES.map((c) => (typeof c === 'string' ? { text: c, position: true } : c)))(
    '$text',
    ({ text, position }) => {
      expectButaneParity(`${head}${text}\n`, { position });
    },
  );
});
