/**
 * The file-system edge of configuration: finds and reads the defaults file and the cluster
 * file, then hands the layers to the pure {@link resolveConfig}.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type MemoCodec, memoizedFor, type ReadRegularFileResult, readRegularFile } from '@ocne/core';
import { builtinDefaults, DEFAULTS_ENV } from './defaults.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { type ConfigLayer, LayerKind, ProvenanceRecorder, type RecordedProvenance } from './layers.js';
import { CONFIG_LIMITS, formatBytes } from './limits.js';
import { layerFromObject, type ParsedLayer, parseClusterConfig, parseDefaultsConfig } from './parse.js';
import { resolveConfig } from './resolve.js';
import type { ResolvedConfig } from './resolved.js';
import { decodeConfigBytes } from './text.js';
import type { ClusterConfig, DefaultsConfig } from './types.js';

/** The user's home folder; `node:os` is loaded only when no home is given (the CLI gives `HOME`). */
const homedir = (): string => process.getBuiltinModule('node:os').homedir();

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Path of the cluster configuration file (the CLI's `-c`). */
  configPath?: string;
  /** The cluster configuration as an object or YAML text, instead of `configPath`. */
  config?: ClusterConfig | string;
  /** Cluster-level overrides; they beat the cluster file (the CLI's `-C`, `-P`, `-n`, `-w`, `-v`, `--virtual-ip`, `--load-balancer`). */
  overrides?: ClusterConfig;
  /**
   * Defaults-level overrides; they beat the defaults file but not the cluster file, as upstream
   * codes it (the CLI's `-s`, `-i`, `-o`, `-k`, `-u`).
   */
  configOverrides?: DefaultsConfig;
  /**
   * The defaults file. A path must exist; `false` reads none; an object is used as the file's
   * content. Unset: `$OCNE_DEFAULTS`, else `<home>/.ocne/defaults.yaml`, each skipped when missing.
   */
  defaults?: string | DefaultsConfig | false;
  /** The home folder that holds `.ocne/` and `.ssh/`. @defaultValue `os.homedir()` */
  home?: string;
  /** Environment variables to read (`OCNE_DEFAULTS`). @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Provider used when the configuration names none. @defaultValue `'libvirt'` */
  defaultProvider?: string;
  /** Cancels reading files. */
  signal?: AbortSignal;
  /** Provider names accepted besides upstream's (providers an embedder registered). */
  extraProviders?: readonly string[];
}

/**
 * Reads a configuration file as text: a regular file (a pipe, a device or a folder is refused
 * before a byte is read, so `-c /dev/urandom` or a FIFO nobody writes cannot hang or fill memory),
 * of at most {@link CONFIG_LIMITS}' `maxConfigBytes` (never more than that plus one byte is read),
 * in UTF-8 (the first byte that is not is located).
 */
async function readText(path: string, what: string, signal: AbortSignal | undefined): Promise<string> {
  const fail = (issue: Omit<ConfigIssue, 'file' | 'severity'>, cause?: unknown): ConfigError =>
    new ConfigError([{ ...issue, severity: 'error', file: path }], cause === undefined ? {} : { cause });
  const maxBytes = CONFIG_LIMITS.maxConfigBytes;
  let read: ReadRegularFileResult;
  try {
    read = await readRegularFile(path, { maxBytes, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : ((error as Error).message ?? String(error));
    throw fail({ code: 'OCNE_CONFIG_READ_FAILED', message: `cannot read ${what}: ${reason}` }, error);
  }
  if (read.kind === 'not-a-file') {
    const reason =
      read.type === 'directory' ? 'it is a folder, not a file' : `it is a ${read.type}, not a regular file`;
    throw fail({ code: 'OCNE_CONFIG_READ_FAILED', message: `cannot read ${what}: ${reason}` });
  }
  if (read.kind === 'too-large') {
    throw fail({
      code: 'OCNE_CONFIG_LIMIT',
      message: `${what} is larger than ${formatBytes(maxBytes)}, the most a configuration may have (put large resources in clusterDefinition files)`,
    });
  }
  const decoded = decodeConfigBytes(read.bytes, path);
  if ('issue' in decoded) throw new ConfigError([decoded.issue]);
  return decoded.text;
}

/** Whether a regular file is there (a synchronous `stat`: microseconds, where an asynchronous one waits for the thread pool). */
function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/** What a configuration is resolved from, once its files are read: plain data, the parse memo's key. */
interface LoadInputs {
  /** `<home>/.ssh/id_rsa.pub` when that file exists (the built-ins name it then). */
  sshKey: string | undefined;
  defaults: { object: DefaultsConfig } | { file: string; text: string } | undefined;
  configOverrides: DefaultsConfig | undefined;
  cluster: { file: string; text: string } | { text: string } | { object: ClusterConfig } | undefined;
  overrides: ClusterConfig | undefined;
  defaultProvider: string | undefined;
  extraProviders: readonly string[] | undefined;
}

/**
 * Loads, layers, derives and validates configuration as `ocne cluster start` does, and returns
 * it with provenance. Throws a {@link ConfigError} listing every problem; warnings (unknown keys
 * in the cluster file, settings without effect) are in the result's `warnings`.
 *
 * With the parse memo on (see `@ocne/core`; the CLI turns it on), the files are read as always and
 * a resolution of the very same inputs (texts, objects and options) comes from the memo.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const { signal } = options;
  signal?.throwIfAborted();
  const home = options.home ?? homedir();
  const env = options.env ?? process.env;

  // Built-ins, with the ssh key path when the file exists (GetDefaultConfig does the same).
  const sshKey = join(home, '.ssh', 'id_rsa.pub');

  // The defaults file.
  let defaults: LoadInputs['defaults'];
  const given = options.defaults;
  if (typeof given === 'object') {
    defaults = { object: given };
  } else if (typeof given === 'string') {
    const path = resolve(given);
    defaults = { file: path, text: await readText(path, 'the defaults file', signal) };
  } else if (given === undefined) {
    const fromEnv = env[DEFAULTS_ENV];
    const path = resolve(
      fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(home, '.ocne', 'defaults.yaml'),
    );
    // Upstream silently uses the built-ins when the file is missing.
    if (exists(path)) defaults = { file: path, text: await readText(path, 'the defaults file', signal) };
  }

  // The cluster file.
  if (options.configPath !== undefined && options.config !== undefined) {
    throw new ConfigError([
      {
        code: 'OCNE_CONFIG_CONFLICT',
        message: 'give the cluster configuration as configPath or as config, not both',
        severity: 'error',
        file: options.configPath,
      },
    ]);
  }
  let cluster: LoadInputs['cluster'];
  if (options.configPath !== undefined) {
    const path = resolve(options.configPath);
    cluster = { file: path, text: await readText(path, 'the cluster configuration file', signal) };
  } else if (typeof options.config === 'string') {
    cluster = { text: options.config };
  } else if (options.config !== undefined) {
    cluster = { object: options.config };
  }

  const inputs: LoadInputs = {
    sshKey: exists(sshKey) ? sshKey : undefined,
    defaults,
    configOverrides: options.configOverrides,
    cluster,
    overrides: options.overrides,
    defaultProvider: options.defaultProvider,
    extraProviders: options.extraProviders,
  };
  return memoizedFor('load-config', inputs, () => resolveInputs(inputs), RESOLVED_CODEC);
}

/** Parses, layers, derives and validates read inputs: pure. */
function resolveInputs(inputs: LoadInputs): ResolvedConfig {
  const parsed: ParsedLayer[] = [];
  const builtin = builtinDefaults();
  if (inputs.sshKey !== undefined) builtin.sshPublicKeyPath = inputs.sshKey;
  parsed.push({
    layer: {
      kind: LayerKind.Builtin,
      source: '<built-in defaults>',
      data: builtin as Record<string, unknown>,
    },
    warnings: [],
  });
  const { defaults, cluster } = inputs;
  if (defaults !== undefined) {
    parsed.push(
      'object' in defaults
        ? layerFromObject(LayerKind.DefaultsFile, defaults.object, '<defaults object>')
        : parseDefaultsConfig(defaults.text, { file: defaults.file }),
    );
  }
  if (inputs.configOverrides !== undefined) {
    parsed.push(layerFromObject(LayerKind.ConfigOverrides, inputs.configOverrides, '<config overrides>'));
  }
  let clusterFileDirectory: string | undefined;
  if (cluster !== undefined) {
    if ('object' in cluster) {
      parsed.push(layerFromObject(LayerKind.ClusterFile, cluster.object, '<cluster config object>'));
    } else if ('file' in cluster) {
      parsed.push(parseClusterConfig(cluster.text, { file: cluster.file }));
      clusterFileDirectory = dirname(cluster.file);
    } else {
      parsed.push(parseClusterConfig(cluster.text, { file: '<cluster config text>' }));
    }
  }
  if (inputs.overrides !== undefined) {
    parsed.push(layerFromObject(LayerKind.ClusterOverrides, inputs.overrides, '<cluster overrides>'));
  }

  const layers: ConfigLayer[] = parsed.map((p) => p.layer);
  const warnings: ConfigIssue[] = parsed.flatMap((p) => p.warnings);
  const result = resolveConfig(layers, {
    ...(inputs.defaultProvider !== undefined ? { defaultProvider: inputs.defaultProvider } : {}),
    ...(clusterFileDirectory !== undefined ? { clusterFileDirectory } : {}),
    ...(inputs.extraProviders !== undefined ? { extraProviders: inputs.extraProviders } : {}),
  });
  return { ...result, warnings: [...warnings, ...result.warnings] };
}

/** A resolved configuration as the parse memo keeps it: the provenance by layer index. */
interface SavedResolved {
  cluster: unknown;
  defaults: unknown;
  warnings: unknown;
  layers: unknown;
  provenance: RecordedProvenance;
  defaultsProvenance: RecordedProvenance;
}

const RESOLVED_CODEC: MemoCodec<ResolvedConfig> = {
  save(value) {
    const { provenance, defaultsProvenance } = value;
    if (!(provenance instanceof ProvenanceRecorder) || !(defaultsProvenance instanceof ProvenanceRecorder))
      return undefined;
    const saved = {
      cluster: value.cluster,
      defaults: value.defaults,
      warnings: value.warnings,
      layers: value.layers,
      provenance: provenance.save(value.layers),
      defaultsProvenance: defaultsProvenance.save(value.layers),
    };
    return saved.provenance && saved.defaultsProvenance ? saved : undefined;
  },
  load(saved) {
    const s = saved as SavedResolved;
    const layers = s.layers as ConfigLayer[];
    if (!Array.isArray(layers) || !Array.isArray(s.provenance) || !Array.isArray(s.defaultsProvenance))
      throw new TypeError('not a saved configuration');
    return {
      cluster: s.cluster as ResolvedConfig['cluster'],
      defaults: s.defaults as ResolvedConfig['defaults'],
      warnings: s.warnings as ResolvedConfig['warnings'],
      layers,
      provenance: ProvenanceRecorder.restore(s.provenance, layers),
      defaultsProvenance: ProvenanceRecorder.restore(s.defaultsProvenance, layers),
    };
  },
};
