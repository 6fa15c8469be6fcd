// The Ignition model: data URLs, Ignition's merge, the builder and the reader, checked against
// the 3.4 JSON Schema and the real ignition-validate.
import { gunzipSync } from 'node:zlib';
import { isOcneError } from '@ocne/core';
import { decoded, ignitionValidate, schemaErrors } from '@ocne/test-ignition';
import { describe, expect, it } from 'vitest';
import { emptyIgnition, IgnitionBuilder, serializeIgnition } from '../src/builder.js';
import { decodeDataUrl, decodeDataUrlText, makeDataUrl } from '../src/data-url.js';
import { mergeIgnition } from '../src/merge.js';
import { parseIgnition } from '../src/parse.js';
import type { IgnitionConfig } from '../src/spec.js';

describe('data URLs', () => {
  it('short text stays readable, percent-escaped', () => {
    expect(makeDataUrl('ocne-node-1\n')).toEqual({ source: 'data:,ocne-node-1%0A', compression: '' });
  });
  it('bytes that escape badly go base64', () => {
    const bytes = Uint8Array.from({ length: 48 }, (_, i) => 200 + (i % 50));
    const url = makeDataUrl(bytes, { allowCompression: false });
    expect(url.source.startsWith('data:;base64,')).toBe(true);
    expect(Uint8Array.from(decodeDataUrl(url.source, url.compression)!)).toEqual(bytes);
  });
  it('repetitive text is gzipped, and only when that is shorter counting "gzip"', () => {
    const text = 'keepalived '.repeat(400);
    const url = makeDataUrl(text);
    expect(url.compression).toBe('gzip');
    expect(gunzipSync(Buffer.from(url.source.slice('data:;base64,'.length), 'base64')).toString()).toBe(text);
    expect(url.source.length).toBeLessThan(text.length / 10);
    expect(makeDataUrl(text, { allowCompression: false }).compression).toBe('');
  });
  it.each(['', 'a', 'ünïcödé ✓\n', '100% #hash ?q=1&x=2\ttab', '\u0000\u0001binary\u00ff'])(
    'round-trips %j',
    (text) => {
      const url = makeDataUrl(text);
      expect(decodeDataUrlText(url.source, url.compression)).toBe(text);
    },
  );
  it('is deterministic (gzip has no timestamp)', () => {
    expect(makeDataUrl('x'.repeat(5000))).toEqual(makeDataUrl('x'.repeat(5000)));
  });
});

const base = (): IgnitionConfig => emptyIgnition();

describe("Ignition's merge", () => {
  it('keys files by path and the child wins, field by field', () => {
    const parent: IgnitionConfig = {
      ...base(),
      storage: {
        files: [
          { path: '/a', mode: 420, contents: { source: 'data:,p' } },
          { path: '/b', mode: 384 },
        ],
      },
    };
    const child: IgnitionConfig = {
      ...base(),
      storage: { files: [{ path: '/a', contents: { source: 'data:,c' } }, { path: '/c' }] },
    };
    const merged = mergeIgnition(parent, child);
    expect(merged.storage?.files).toEqual([
      { path: '/a', mode: 420, contents: { source: 'data:,c' } },
      { path: '/b', mode: 384 },
      { path: '/c' },
    ]);
    expect(parent.storage?.files?.[0]?.contents?.source).toBe('data:,p');
  });
  it('a child link replaces a parent file at the same path', () => {
    const merged = mergeIgnition(
      { ...base(), storage: { files: [{ path: '/etc/x' }, { path: '/etc/y' }] } },
      { ...base(), storage: { links: [{ path: '/etc/x', target: '/etc/y' }] } },
    );
    expect(merged.storage?.files?.map((f) => f.path)).toEqual(['/etc/y']);
    expect(merged.storage?.links?.map((f) => f.path)).toEqual(['/etc/x']);
  });
  it('keys units and drop-ins by name; a child can add a drop-in without losing the contents', () => {
    const merged = mergeIgnition(
      {
        ...base(),
        systemd: {
          units: [{ name: 'x.service', contents: '[Unit]\n', dropins: [{ name: 'a.conf', contents: 'A' }] }],
        },
      },
      {
        ...base(),
        systemd: {
          units: [
            {
              name: 'x.service',
              enabled: true,
              dropins: [
                { name: 'a.conf', contents: 'A2' },
                { name: 'b.conf', contents: 'B' },
              ],
            },
          ],
        },
      },
    );
    expect(merged.systemd?.units).toEqual([
      {
        name: 'x.service',
        contents: '[Unit]\n',
        enabled: true,
        dropins: [
          { name: 'a.conf', contents: 'A2' },
          { name: 'b.conf', contents: 'B' },
        ],
      },
    ]);
  });
  it('keys users by name and unions their keys and groups', () => {
    const merged = mergeIgnition(
      { ...base(), passwd: { users: [{ name: 'ocne', groups: ['wheel'], sshAuthorizedKeys: ['k1'] }] } },
      {
        ...base(),
        passwd: {
          users: [{ name: 'ocne', groups: ['wheel', 'adm'], sshAuthorizedKeys: ['k2'], shell: '/bin/sh' }],
        },
      },
    );
    expect(merged.passwd?.users).toEqual([
      { name: 'ocne', groups: ['wheel', 'adm'], sshAuthorizedKeys: ['k1', 'k2'], shell: '/bin/sh' },
    ]);
  });
  it("a null in the child is an unset pointer: the parent's value stays", () => {
    const merged = mergeIgnition(
      { ...base(), storage: { files: [{ path: '/a', mode: 420 }] } },
      { ...base(), storage: { files: [{ path: '/a', mode: null }] } },
    );
    expect(merged.storage?.files?.[0]?.mode).toBe(420);
  });
  it('a child that gives only a source keeps the parent compression (why every file states its compression)', () => {
    const merged = mergeIgnition(
      {
        ...base(),
        storage: { files: [{ path: '/a', contents: { source: 'data:;base64,H4s=', compression: 'gzip' } }] },
      },
      { ...base(), storage: { files: [{ path: '/a', contents: { source: 'data:,x' } }] } },
    );
    expect(merged.storage?.files?.[0]?.contents).toEqual({ source: 'data:,x', compression: 'gzip' });
  });
  it('append lists concatenate, kernel arguments move between shouldExist and shouldNotExist', () => {
    const merged = mergeIgnition(
      {
        ...base(),
        storage: { files: [{ path: '/a', append: [{ source: 'data:,1' }] }] },
        kernelArguments: { shouldExist: ['a', 'b'] },
      },
      {
        ...base(),
        storage: { files: [{ path: '/a', append: [{ source: 'data:,1' }] }] },
        kernelArguments: { shouldNotExist: ['a'] },
      },
    );
    expect(merged.storage?.files?.[0]?.append).toEqual([{ source: 'data:,1' }, { source: 'data:,1' }]);
    expect(merged.kernelArguments).toEqual({ shouldExist: ['b'], shouldNotExist: ['a'] });
  });
});

describe('IgnitionBuilder', () => {
  const build = () =>
    new IgnitionBuilder()
      .file('/etc/ocne/update.yaml', 'registry: r\ntag: 1.33\n', { mode: 0o400 })
      .file('/etc/keepalived/keepalived.conf', 'vrrp_instance VI_1 {\n'.repeat(50), {
        user: 'keepalived_script',
        group: 'keepalived_script',
      })
      .directory('/etc/ocne/ock/patches')
      .link('/etc/localtime', '/usr/share/zoneinfo/UTC')
      .unit('ocne.service', { enabled: true })
      .dropin('ocne.service', 'bootstrap.conf', '[Service]\nEnvironment=ACTION=init\n')
      .dropin('crio.service', 'proxy.conf', '[Service]\n')
      .group({ name: 'nginx_script', system: true })
      .user({ name: 'ocne', groups: ['wheel'], sshAuthorizedKeys: ['ssh-ed25519 AAAA test'] })
      .build();

  it('writes files overwrite:true with decimal modes and owners, units with their drop-ins', () => {
    const config = build();
    expect(config.ignition.version).toBe('3.4.0');
    const update = config.storage?.files?.[0];
    expect(update).toMatchObject({
      path: '/etc/ocne/update.yaml',
      overwrite: true,
      mode: 256,
      contents: { compression: '' },
    });
    expect(config.storage?.files?.[1]).toMatchObject({
      user: { name: 'keepalived_script' },
      group: { name: 'keepalived_script' },
      mode: 420,
      contents: { compression: 'gzip' },
    });
    expect(config.systemd?.units).toEqual([
      {
        name: 'ocne.service',
        enabled: true,
        dropins: [{ name: 'bootstrap.conf', contents: '[Service]\nEnvironment=ACTION=init\n' }],
      },
      { name: 'crio.service', dropins: [{ name: 'proxy.conf', contents: '[Service]\n' }] },
    ]);
  });

  it('validates against the 3.4 JSON Schema and with the real ignition-validate', () => {
    const config = build();
    expect(schemaErrors(config)).toEqual([]);
    const result = ignitionValidate(serializeIgnition(config));
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('ignition-validate does reject a broken config (the check can fail)', () => {
    const bad = { ...build(), storage: { files: [{ path: 'relative/path' }] } };
    expect(ignitionValidate(JSON.stringify(bad)).status).not.toBe(0);
    expect(schemaErrors({ ignition: { version: 3 } }).length).toBeGreaterThan(0);
  });

  it('a later file at the same path replaces the earlier one', () => {
    const config = new IgnitionBuilder().file('/etc/hostname', 'a\n').file('/etc/hostname', 'b\n').build();
    expect(decoded(config)).toMatchObject({
      storage: { files: [{ path: '/etc/hostname', contents: { decoded: 'b\n' } }] },
    });
  });
});

describe('parseIgnition', () => {
  it.each(['3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0'])(
    'reads spec %s and upgrades it to 3.4.0',
    (version) => {
      const config = parseIgnition(
        JSON.stringify({ ignition: { version }, storage: { files: [{ path: '/etc/x', mode: 420 }] } }),
        {
          source: 'x.ign',
        },
      );
      expect(config.ignition.version).toBe('3.4.0');
      expect(schemaErrors(config)).toEqual([]);
    },
  );

  it.each([
    ['{"ignition": {"version": "2.3.0"}}', 'OCNE_IGNITION_UNSUPPORTED_VERSION', 1, 26, 'ignition.version'],
    ['{"ignition": {"version": "3.5.0"}}', 'OCNE_IGNITION_UNSUPPORTED_VERSION', 1, 26, 'ignition.version'],
    ['{"ignition": {}}', 'OCNE_IGNITION_INVALID', 1, 14, 'ignition.version'],
    [
      '{\n  "ignition": {"version": "3.4.0"},\n  "storage": {"files": [{"path": "etc/x"}]}\n}',
      'OCNE_IGNITION_INVALID',
      3,
      34,
      'storage.files[0].path',
    ],
    [
      '{\n  "ignition": {"version": "3.4.0"},\n  "storage": {"file": []}\n}',
      'OCNE_IGNITION_INVALID',
      3,
      15,
      'storage.file',
    ],
    [
      '{\n  "ignition": {"version": "3.4.0"},\n  "systemd": {"units": [{"name": "nosuffix"}]}\n}',
      'OCNE_IGNITION_INVALID',
      3,
      34,
      'systemd.units[0].name',
    ],
    [
      '{\n  "ignition": {"version": "3.4.0"},\n  "storage": {"files": [{"path": "/x", "mode": "0644"}]}\n}',
      'OCNE_IGNITION_INVALID',
      3,
      48,
      'storage.files[0].mode',
    ],
    [
      '{\n  "ignition": {"version": "3.4.0"},\n  "storage": {"files": [{"path": "/x"}], "directories": [{"path": "/x"}]}\n}',
      'OCNE_IGNITION_INVALID',
      3,
      58,
      'storage.directories[0]',
    ],
    [
      '{"ignition": {"version": "3.4.0"},\n  "storage": {"files": [ }',
      'OCNE_IGNITION_INVALID',
      2,
      26,
      undefined,
    ],
    ['[1, 2]', 'OCNE_IGNITION_INVALID', 1, 1, undefined],
  ])('rejects %j', (text, code, line, column, path) => {
    let error: unknown;
    try {
      parseIgnition(text, { source: 'extra.ign' });
    } catch (e) {
      error = e;
    }
    expect(isOcneError(error)).toBe(true);
    expect(error).toMatchObject({ code, source: 'extra.ign', line, column, path });
  });
});
