// Extra Ignition from the cluster configuration: a file, a folder of Ignition and Butane files,
// inline text; bad input names the source and the location.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, readConfigFiles } from '@ocne/config';
import { isOcneError } from '@ocne/core';
import { decoded } from '@ocne/test-ignition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFileInputs } from '../src/extra.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocne-extra-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ign = (files: Array<[string, string]>, version = '3.4.0') =>
  JSON.stringify({
    ignition: { version },
    storage: {
      files: files.map(([path, text]) => ({
        path,
        contents: { source: `data:,${encodeURIComponent(text)}` },
      })),
    },
  });
const bu = (path: string, text: string) =>
  `variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: ${path}\n      contents:\n        inline: ${text}\n`;

/** `extraIgnition` (a path) and `extraIgnitionInline` read at the edge, then parsed and merged. */
async function loadExtraIgnition(options: { path?: string; inline?: string; directory?: string }) {
  const settings = {
    sshPublicKey: '',
    sshPublicKeyPath: '',
    clusterDefinition: '',
    clusterDefinitionInline: '',
    extraIgnition: options.path ?? '',
    extraIgnitionInline: options.inline ?? '',
    directory: options.directory ?? '',
  };
  return configFileInputs(settings, await readConfigFiles(settings)).extra?.[0];
}

describe('extra Ignition, read by readConfigFiles and merged by configFileInputs', () => {
  it('reads a folder (Ignition and Butane, by name, other files skipped), then inline text, which wins', async () => {
    const folder = join(dir, 'ign.d');
    mkdirSync(folder);
    writeFileSync(join(folder, '10-hostname.bu'), bu('/etc/hostname', 'node-a'));
    writeFileSync(join(folder, '20-motd.ign'), ign([['/etc/motd', 'hello']], '3.2.0'));
    writeFileSync(join(folder, 'README.md'), '# not a config');
    const config = await loadExtraIgnition({
      path: 'ign.d',
      directory: dir,
      inline: ign([['/etc/hostname', 'node-b']]),
    });
    expect(config?.ignition.version).toBe('3.4.0');
    expect(decoded(config)).toMatchObject({
      storage: {
        files: [
          { path: '/etc/hostname', contents: { decoded: 'node-b' } },
          { path: '/etc/motd', contents: { decoded: 'hello' } },
        ],
      },
    });
  });

  it('nothing set: undefined', async () => {
    expect(await loadExtraIgnition({})).toBeUndefined();
  });

  it('two files of a folder that disagree about a path are a conflict naming both', async () => {
    const folder = join(dir, 'conflict.d');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.ign'), ign([['/etc/hostname', 'one']]));
    writeFileSync(join(folder, 'b.bu'), bu('/etc/hostname', 'two'));
    const error = await loadExtraIgnition({ path: folder }).catch((e) => e);
    expect(isOcneError(error) && error.code).toBe('OCNE_IGNITION_CONFLICT');
    expect(error.message).toContain('a.ign');
    expect(error.message).toContain('b.bu');
  });

  it.each([
    ['not JSON or YAML', '{"ignition": {"version": "3.4.0"', 'OCNE_IGNITION_INVALID'],
    [
      'an unknown spec version',
      '{"ignition": {"version": "3.6.0-experimental"}}',
      'OCNE_IGNITION_UNSUPPORTED_VERSION',
    ],
    ['neither Ignition nor Butane', 'hello: world\n', 'OCNE_IGNITION_INVALID'],
  ])('%s in a file is an error naming the file and line', async (_, text, code) => {
    const file = join(dir, `bad-${code}-${text.length}.ign`);
    writeFileSync(file, text);
    const error = await loadExtraIgnition({ path: file }).catch((e) => e);
    expect(isOcneError(error)).toBe(true);
    expect(error).toMatchObject({ code, source: file });
    expect(error.line).toBeGreaterThanOrEqual(1);
  });

  it('a missing file is a read error', async () => {
    const error = await loadExtraIgnition({ path: join(dir, 'absent.ign') }).catch((e) => e);
    expect(error).toMatchObject({ code: 'OCNE_CONFIG_FILE_MISSING', key: 'extraIgnition' });
  });

  it('inline Butane reads local files from the configuration directory, and not outside it', async () => {
    writeFileSync(join(dir, 'motd.txt'), 'from a file\n');
    const inline =
      'variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        local: motd.txt\n';
    const config = await loadExtraIgnition({ inline, directory: dir });
    expect(decoded(config)).toMatchObject({
      storage: { files: [{ path: '/etc/motd', contents: { decoded: 'from a file\n' } }] },
    });
    const outside = inline.replace('motd.txt', '../../etc/passwd');
    await expect(loadExtraIgnition({ inline: outside, directory: dir })).rejects.toMatchObject({
      code: 'OCNE_IGNITION_READ_FAILED',
    });
  });
});

describe('a problem inside extraIgnitionInline is reported where the text stands in the configuration', () => {
  const badButane = ['variant: fcos', 'version: 1.5.0', 'storage:', '  files:', '    - path: etc/motd'];

  /** Loads a configuration (a file, or text), reads its files with the provenance, and parses the extra Ignition. */
  async function problem(config: { file: string } | { text: string }) {
    const home = mkdtempSync(join(tmpdir(), 'ocne-extra-home-'));
    try {
      const { cluster, provenance } = await loadConfig({
        ...('file' in config ? { configPath: config.file } : { config: config.text }),
        defaults: false,
        home,
        env: {},
      });
      const files = await readConfigFiles(cluster, { provenance });
      return (() => {
        try {
          configFileInputs(cluster, files);
        } catch (e) {
          return e as { code: string; source: string; line?: number; column?: number; message: string };
        }
        throw new Error('no error');
      })();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }

  const indented = (indent: string) => badButane.map((l) => `${indent}${l}`).join('\n');
  it.each([
    ['a literal block', 7, 15, `extraIgnitionInline: |\n${indented('  ')}\n`],
    ['an indented block after a comment', 8, 17, `extraIgnitionInline: |  # Butane\n\n${indented('    ')}\n`],
    ['a block kept with trailing lines', 7, 15, `extraIgnitionInline: |+\n${indented('  ')}\n\n\n`],
    [
      'JSON on one line',
      2,
      89,
      'extraIgnitionInline: \'{"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": 1}]}}\'\n',
    ],
  ])('%s: at line %i, column %i of the file', async (_name, line, column, yaml) => {
    const file = join(dir, 'inline-config.yaml');
    writeFileSync(file, `name: demo\n${yaml}`);
    const error = await problem({ file });
    expect(error).toMatchObject({ code: 'OCNE_IGNITION_INVALID', source: file, line, column });
    expect(error.message.startsWith(`${file}:${line}:${column}: `)).toBe(true);
    expect(error.message).toMatch(/\(in extraIgnitionInline\)$/);
  });

  it("folded or escaped text: the setting's own position, with the line and column in the text", async () => {
    const file = join(dir, 'inline-quoted.yaml');
    writeFileSync(file, `name: demo\nextraIgnitionInline: "${badButane.join('\\n')}\\n"\n`);
    const error = await problem({ file });
    expect(error).toMatchObject({ source: file, line: 2, column: 22 });
    expect(error.message).toMatch(/\(in extraIgnitionInline, line 5, column 13 of the text\)$/);
  });

  it("configuration given as text: its label and the setting's position", async () => {
    const error = await problem({
      text: `name: demo\nextraIgnitionInline: |\n${badButane.map((l) => `  ${l}`).join('\n')}\n`,
    });
    expect(error).toMatchObject({ source: '<cluster config text>', line: 2, column: 22 });
    expect(error.message).toMatch(/\(in extraIgnitionInline, line 5, column 13 of the text\)$/);
  });
});
