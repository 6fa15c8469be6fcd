/**
 * The files a cluster configuration names, read in one step at the edge: `sshPublicKeyPath`,
 * `extraIgnition` (a file, or a folder of Ignition and Butane files) and `clusterDefinition`.
 * {@link readConfigFiles} reads them into {@link ConfigFiles} before anything is generated, so the
 * generators (`@ocne/ignition`, `@ocne/capi/templates`, byo's start and join) take contents
 * instead of paths and stay pure. With `load.ts` (and the cache primitives of `fs.ts`), the only
 * part of this package that touches the file system.
 *
 * Paths resolve as the readers before this one resolved them: `extraIgnition` and
 * `clusterDefinition` against `directory` (which `resolveConfig` has usually made them absolute
 * against already), `sshPublicKeyPath` as written (relative to the working directory). No reader
 * expands `~`: it is an ordinary path segment, as upstream's Go readers take it.
 */
import { readFileSync } from 'node:fs';
import { extname, isAbsolute, join } from 'node:path';
import { OcneError, type OcneErrorCode, type OcneErrorOptions } from '@ocne/core';
import { type InlineTextOrigin, inlineTextOrigin } from './inline-origin.js';
import type { Provenance } from './layers.js';
import type { ResolvedClusterConfig } from './resolved.js';

/** `node:fs/promises`, loaded by the first read here (it loads readline and more: a cold command that reads none of these files does without). */
const fsp = () => process.getBuiltinModule('node:fs/promises');

/** The configuration keys that name files. */
export type ConfigFileKey = 'sshPublicKeyPath' | 'extraIgnition' | 'clusterDefinition';

/** Every {@link ConfigFileKey}, in the order {@link readConfigFiles} reads them. */
export const CONFIG_FILE_KEYS: readonly ConfigFileKey[] = [
  'extraIgnition',
  'sshPublicKeyPath',
  'clusterDefinition',
];

/** File name endings read from an `extraIgnition` folder; other files (a README, say) are skipped. */
export const EXTRA_IGNITION_EXTENSIONS: readonly string[] = [
  '.ign',
  '.json',
  '.bu',
  '.yaml',
  '.yml',
  '.butane',
];

/** A file the configuration names that cannot be used; the message names the path and the key. */
export class ConfigFileError extends OcneError {
  /** The configuration key that names the file. */
  readonly key: ConfigFileKey;
  /** The path of the file or folder (an entry's own path for a file in an `extraIgnition` folder). */
  readonly file: string;

  constructor(
    code: OcneErrorCode,
    message: string,
    where: { key: ConfigFileKey; file: string },
    options: OcneErrorOptions = {},
  ) {
    super(code, message, options);
    this.key = where.key;
    this.file = where.file;
  }

  override get name(): string {
    return 'ConfigFileError';
  }
}

/** A file as read. */
export interface ConfigFile {
  /** The path read (see {@link configFilePaths}); parse errors name it with line and column. */
  path: string;
  /** The contents, as UTF-8 text. */
  text: string;
}

/** `extraIgnition` as read: one file, or the Ignition and Butane files of a folder. */
export interface ExtraIgnitionFiles {
  /** The configured file or folder. */
  path: string;
  /** True for a folder: Butane `local:` paths then resolve against it, not against each file's folder. */
  folder: boolean;
  /** The file; or the folder's files with a name in {@link EXTRA_IGNITION_EXTENSIONS}, sorted by name. */
  files: ConfigFile[];
}

/** What the generators take instead of paths: the files a configuration names, as read. */
export interface ConfigFiles {
  /** The key text of `sshPublicKeyPath`: read only when `sshPublicKey` is empty (that one wins). */
  sshPublicKeyPath?: ConfigFile;
  /** `extraIgnition`. */
  extraIgnition?: ExtraIgnitionFiles;
  /**
   * `clusterDefinition`: read only when `clusterDefinitionInline` is empty (both at once is a
   * conflict that the resources step reports).
   */
  clusterDefinition?: ConfigFile;
  /**
   * Reads a file that Butane `local:` fields of the extra Ignition name, by absolute path. Which
   * files those are is known only once the Butane is parsed, so they are read on demand, through
   * this function, rather than up front; without it `local:` is an error.
   */
  readLocalFile?: (absolutePath: string) => Uint8Array;
  /**
   * Where `extraIgnitionInline` and each of its lines stand in the configuration file that set it,
   * so that a problem inside the text is reported at that file's line (read when
   * {@link readConfigFiles} is given the provenance).
   */
  extraIgnitionInline?: InlineTextOrigin;
}

/** The settings {@link readConfigFiles} and {@link configFilePaths} read. */
export type ConfigFileSettings = Pick<
  ResolvedClusterConfig,
  | 'sshPublicKey'
  | 'sshPublicKeyPath'
  | 'extraIgnition'
  | 'clusterDefinition'
  | 'clusterDefinitionInline'
  | 'directory'
>;

const againstDirectory = (directory: string, path: string): string =>
  isAbsolute(path) ? path : join(directory, path);

/**
 * The files a configuration names that will be read, by key, with relative paths resolved. Pure:
 * generators use it to check that the {@link ConfigFiles} they got belong to the configuration.
 */
export function configFilePaths(config: ConfigFileSettings): Partial<Record<ConfigFileKey, string>> {
  const paths: Partial<Record<ConfigFileKey, string>> = {};
  if (config.extraIgnition !== '') {
    paths.extraIgnition = againstDirectory(config.directory, config.extraIgnition);
  }
  if (config.sshPublicKey === '' && config.sshPublicKeyPath !== '') {
    paths.sshPublicKeyPath = config.sshPublicKeyPath;
  }
  if (config.clusterDefinition !== '' && config.clusterDefinitionInline === '') {
    paths.clusterDefinition = againstDirectory(config.directory, config.clusterDefinition);
  }
  return paths;
}

/**
 * The contents of the file `key` names, for a generator: `undefined` when the configuration names
 * none (or the inline setting wins). Pure. Throws a {@link ConfigFileError}
 * (`OCNE_CONFIG_FILE_NOT_READ`) when the configuration names a file that `files` does not hold.
 */
export function configFileContents<K extends ConfigFileKey>(
  config: ConfigFileSettings,
  files: ConfigFiles | undefined,
  key: K,
): ConfigFiles[K] | undefined {
  const path = configFilePaths(config)[key];
  if (path === undefined) return undefined;
  const read = files?.[key];
  if (read?.path !== path) {
    throw new ConfigFileError(
      'OCNE_CONFIG_FILE_NOT_READ',
      `${key} ${path} was not read: read the files the configuration names with readConfigFiles and pass them on`,
      { key, file: path },
    );
  }
  return read;
}

/** Options of {@link readConfigFiles}. */
export interface ReadConfigFilesOptions {
  /** Cancels the reads; an abort is rethrown as it is. */
  signal?: AbortSignal;
  /**
   * Only these keys (an operation that does not use a file leaves it alone: the template of
   * `ocne cluster template`, say, never reads `clusterDefinition`). @defaultValue {@link CONFIG_FILE_KEYS}
   */
  keys?: readonly ConfigFileKey[];
  /**
   * Where the configuration's values came from (`ResolvedConfig.provenance`). With it, the file
   * that set `extraIgnitionInline` is read again to place the text's lines in it
   * ({@link ConfigFiles.extraIgnitionInline}).
   */
  provenance?: Provenance;
}

function failure(key: ConfigFileKey, file: string, error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted || (error as { name?: string }).name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException).code;
  const [errorCode, reason]: [OcneErrorCode, string] =
    code === 'ENOENT'
      ? ['OCNE_CONFIG_FILE_MISSING', 'no such file or folder']
      : code === 'ENOTDIR'
        ? ['OCNE_CONFIG_FILE_MISSING', 'a part of the path is not a folder']
        : code === 'EACCES' || code === 'EPERM'
          ? ['OCNE_CONFIG_FILE_UNREADABLE', 'permission denied']
          : ['OCNE_CONFIG_FILE_UNREADABLE', (error as Error).message ?? String(error)];
  return new ConfigFileError(
    errorCode,
    `cannot read ${key} ${file}: ${reason}`,
    { key, file },
    { cause: error },
  );
}

async function readRegularFile(
  key: ConfigFileKey,
  path: string,
  signal: AbortSignal | undefined,
): Promise<ConfigFile> {
  signal?.throwIfAborted();
  try {
    // Checked first: reading a pipe or a device could block or never end.
    const info = await fsp().stat(path);
    if (!info.isFile()) {
      throw new ConfigFileError(
        'OCNE_CONFIG_NOT_A_FILE',
        `cannot read ${key} ${path}: ${info.isDirectory() ? 'it is a folder, not a file' : 'it is not a regular file'}`,
        { key, file: path },
      );
    }
    return { path, text: await fsp().readFile(path, { encoding: 'utf8', signal }) };
  } catch (error) {
    throw error instanceof ConfigFileError ? error : failure(key, path, error, signal);
  }
}

async function readExtraIgnition(path: string, signal: AbortSignal | undefined): Promise<ExtraIgnitionFiles> {
  const key = 'extraIgnition';
  let names: string[] | undefined;
  try {
    const info = await fsp().stat(path);
    if (info.isDirectory()) names = await fsp().readdir(path);
    else if (!info.isFile()) {
      throw new ConfigFileError(
        'OCNE_CONFIG_NOT_A_FILE_OR_FOLDER',
        `cannot read ${key} ${path}: it is neither a file nor a folder`,
        { key, file: path },
      );
    }
  } catch (error) {
    throw error instanceof ConfigFileError ? error : failure(key, path, error, signal);
  }
  if (names === undefined) return { path, folder: false, files: [await readRegularFile(key, path, signal)] };
  const files: ConfigFile[] = [];
  // Sorted by name: the order the files merge in must not depend on the file system.
  for (const name of names
    .filter((n) => EXTRA_IGNITION_EXTENSIONS.includes(extname(n).toLowerCase()))
    .sort()) {
    files.push(await readRegularFile(key, join(path, name), signal));
  }
  return { path, folder: true, files };
}

/**
 * Reads every file the configuration names (see {@link configFilePaths}): the edge step before
 * generation. Throws a {@link ConfigFileError} for a file that is missing, unreadable or of the
 * wrong kind; an abort of `signal` is rethrown as it is. The result's `readLocalFile` reads the
 * Butane `local:` files of the extra Ignition later, on demand.
 */
export async function readConfigFiles(
  config: ConfigFileSettings & Partial<Pick<ResolvedClusterConfig, 'extraIgnitionInline'>>,
  options: ReadConfigFilesOptions = {},
): Promise<ConfigFiles> {
  const { signal } = options;
  signal?.throwIfAborted();
  const keys = options.keys ?? CONFIG_FILE_KEYS;
  const paths = configFilePaths(config);
  const files: ConfigFiles = { readLocalFile: (absolutePath) => readFileSync(absolutePath) };
  // In CONFIG_FILE_KEYS order: extra Ignition, then the key, as byo and the template read them.
  for (const key of CONFIG_FILE_KEYS) {
    const path = paths[key];
    if (path === undefined || !keys.includes(key)) continue;
    if (key === 'extraIgnition') files.extraIgnition = await readExtraIgnition(path, signal);
    else files[key] = await readRegularFile(key, path, signal);
  }
  const inline = config.extraIgnitionInline ?? '';
  const at = inline !== '' ? options.provenance?.sourceOf('extraIgnitionInline') : undefined;
  if (at !== undefined) files.extraIgnitionInline = inlineTextOrigin(inline, at, await readSource(at.source));
  return files;
}

/** Larger configuration files are not read again for positions. */
const SOURCE_MAX_BYTES = 16 * 1024 * 1024;

/** The text of the file a layer came from; `undefined` for a label or a file that is gone. */
async function readSource(source: string): Promise<string | undefined> {
  if (!isAbsolute(source)) return undefined;
  try {
    // A pipe or a device (`-c /dev/stdin`) cannot be read twice, and would block.
    const info = await fsp().stat(source);
    if (!info.isFile() || info.size > SOURCE_MAX_BYTES) return undefined;
    return await fsp().readFile(source, 'utf8');
  } catch {
    // Only the positions of an error depend on it: without the file they fall back to the value's.
    return undefined;
  }
}
