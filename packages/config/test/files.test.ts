// The files a configuration names, read at the edge by readConfigFiles: which ones, at which
// paths, in which order, and one error code per failure, each naming the path and the key.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigFileError,
  type ConfigFileSettings,
  configFileContents,
  configFilePaths,
  readConfigFiles,
} from '@ocne/config';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'ocne-config-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NONE: ConfigFileSettings = {
  sshPublicKey: '',
  sshPublicKeyPath: '',
  extraIgnition: '',
  clusterDefinition: '',
  clusterDefinitionInline: '',
  directory: '',
};
const settings = (s: Partial<ConfigFileSettings>): ConfigFileSettings => ({ ...NONE, ...s });

async function failure(s: Partial<ConfigFileSettings>): Promise<ConfigFileError> {
  const error = await readConfigFiles(settings(s)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigFileError);
  return error as ConfigFileError;
}

describe('configFilePaths', () => {
  it('resolves extraIgnition and clusterDefinition against directory, sshPublicKeyPath as written, ~ as a plain name', () => {
    expect(
      configFilePaths(
        settings({
          directory: '/conf',
          sshPublicKeyPath: '~/.ssh/id_rsa.pub',
          extraIgnition: 'ign.d',
          clusterDefinition: '/abs/capi.yaml',
        }),
      ),
    ).toEqual({
      extraIgnition: '/conf/ign.d',
      sshPublicKeyPath: '~/.ssh/id_rsa.pub',
      clusterDefinition: '/abs/capi.yaml',
    });
    // Without a directory, relative paths stay relative: to the working directory.
    expect(configFilePaths(settings({ extraIgnition: 'x.ign' }))).toEqual({ extraIgnition: 'x.ign' });
  });

  it('leaves out the key file when sshPublicKey is set, and clusterDefinition when inline resources are', () => {
    expect(
      configFilePaths(
        settings({
          sshPublicKey: 'ssh-ed25519 AAAA k',
          sshPublicKeyPath: '/k.pub',
          clusterDefinition: '/c.yaml',
          clusterDefinitionInline: 'kind: x',
        }),
      ),
    ).toEqual({});
  });
});

describe('readConfigFiles', () => {
  it('reads the key, the definition and a folder of extra Ignition (by name, other files skipped)', async () => {
    writeFileSync(join(dir, 'key.pub'), 'ssh-ed25519 AAAA k\n');
    writeFileSync(join(dir, 'capi.yaml'), 'kind: Cluster\n');
    const folder = join(dir, 'ign.d');
    mkdirSync(folder);
    writeFileSync(join(folder, 'b.ign'), '{}');
    writeFileSync(join(folder, 'a.BU'), 'variant: fcos');
    writeFileSync(join(folder, 'c.json'), '{}');
    writeFileSync(join(folder, 'README.md'), '# not a config');
    const files = await readConfigFiles(
      settings({
        directory: dir,
        sshPublicKeyPath: join(dir, 'key.pub'),
        extraIgnition: 'ign.d',
        clusterDefinition: 'capi.yaml',
      }),
    );
    expect(files.sshPublicKeyPath).toEqual({ path: join(dir, 'key.pub'), text: 'ssh-ed25519 AAAA k\n' });
    expect(files.clusterDefinition).toEqual({ path: join(dir, 'capi.yaml'), text: 'kind: Cluster\n' });
    expect(files.extraIgnition).toEqual({
      path: folder,
      folder: true,
      files: [
        { path: join(folder, 'a.BU'), text: 'variant: fcos' },
        { path: join(folder, 'b.ign'), text: '{}' },
        { path: join(folder, 'c.json'), text: '{}' },
      ],
    });
    expect(files.readLocalFile?.(join(dir, 'key.pub'))).toEqual(Buffer.from('ssh-ed25519 AAAA k\n'));
  });

  it('reads only the keys asked for', async () => {
    const files = await readConfigFiles(settings({ clusterDefinition: join(dir, 'absent.yaml') }), {
      keys: ['sshPublicKeyPath', 'extraIgnition'],
    });
    expect(files.clusterDefinition).toBeUndefined();
  });

  it('a missing file: OCNE_CONFIG_FILE_MISSING, naming the path and the key', async () => {
    const path = join(dir, 'absent.pub');
    const e = await failure({ sshPublicKeyPath: path });
    expect(e).toMatchObject({ code: 'OCNE_CONFIG_FILE_MISSING', key: 'sshPublicKeyPath', file: path });
    expect(e.message).toBe(`cannot read sshPublicKeyPath ${path}: no such file or folder`);
    const below = join(dir, 'key.pub', 'x.ign');
    expect(await failure({ extraIgnition: below })).toMatchObject({
      code: 'OCNE_CONFIG_FILE_MISSING',
      key: 'extraIgnition',
      message: `cannot read extraIgnition ${below}: a part of the path is not a folder`,
    });
  });

  it('a folder or a device where a file belongs: OCNE_CONFIG_NOT_A_FILE', async () => {
    expect(await failure({ clusterDefinition: dir })).toMatchObject({
      code: 'OCNE_CONFIG_NOT_A_FILE',
      key: 'clusterDefinition',
      message: `cannot read clusterDefinition ${dir}: it is a folder, not a file`,
    });
    expect(await failure({ sshPublicKeyPath: '/dev/null' })).toMatchObject({
      code: 'OCNE_CONFIG_NOT_A_FILE',
      message: 'cannot read sshPublicKeyPath /dev/null: it is not a regular file',
    });
    // A folder with an Ignition name inside an extraIgnition folder.
    const folder = join(dir, 'nested.d');
    mkdirSync(join(folder, 'inner.ign'), { recursive: true });
    expect(await failure({ extraIgnition: folder })).toMatchObject({
      code: 'OCNE_CONFIG_NOT_A_FILE',
      key: 'extraIgnition',
      file: join(folder, 'inner.ign'),
    });
  });

  it('extraIgnition that is neither file nor folder: OCNE_CONFIG_NOT_A_FILE_OR_FOLDER', async () => {
    expect(await failure({ extraIgnition: '/dev/null' })).toMatchObject({
      code: 'OCNE_CONFIG_NOT_A_FILE_OR_FOLDER',
      message: 'cannot read extraIgnition /dev/null: it is neither a file nor a folder',
    });
  });

  it('a path the system cannot resolve (a symbolic link loop): OCNE_CONFIG_FILE_UNREADABLE', async () => {
    const loop = join(dir, 'loop.pub');
    symlinkSync(loop, loop);
    const e = await failure({ sshPublicKeyPath: loop });
    expect(e).toMatchObject({ code: 'OCNE_CONFIG_FILE_UNREADABLE', key: 'sshPublicKeyPath', file: loop });
    expect(e.message).toContain(`cannot read sshPublicKeyPath ${loop}: `);
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ELOOP');
  });

  it('an abort is rethrown as it is', async () => {
    writeFileSync(join(dir, 'k2.pub'), 'ssh-ed25519 AAAA k\n');
    const reason = new Error('stop');
    const error = await readConfigFiles(settings({ sshPublicKeyPath: join(dir, 'k2.pub') }), {
      signal: AbortSignal.abort(reason),
    }).catch((e: unknown) => e);
    expect(error).toBe(reason);
  });
});

describe('configFileContents', () => {
  it('gives the contents of a named file, nothing for an unnamed one, and refuses contents that were not read', () => {
    const s = settings({ sshPublicKeyPath: '/k.pub' });
    const files = { sshPublicKeyPath: { path: '/k.pub', text: 'key' } };
    expect(configFileContents(s, files, 'sshPublicKeyPath')).toEqual({ path: '/k.pub', text: 'key' });
    expect(configFileContents(s, files, 'extraIgnition')).toBeUndefined();
    for (const given of [undefined, {}, { sshPublicKeyPath: { path: '/other.pub', text: 'key' } }]) {
      expect(() => configFileContents(s, given, 'sshPublicKeyPath')).toThrow(
        expect.objectContaining({
          code: 'OCNE_CONFIG_FILE_NOT_READ',
          key: 'sshPublicKeyPath',
          file: '/k.pub',
        }),
      );
    }
  });
});
