/**
 * The file-system edge of configuration: finds and reads the defaults file and the cluster
 * file, then hands the layers to the pure {@link resolveConfig}.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { builtinDefaults, DEFAULTS_ENV } from './defaults.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { type ConfigLayer, LayerKind } from './layers.js';
import { layerFromObject, type ParsedLayer, parseClusterConfig, parseDefaultsConfig } from './parse.js';
import { resolveConfig } from './resolve.js';
import type { ResolvedConfig } from './resolved.js';
import type { ClusterConfig, DefaultsConfig } from './types.js';

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

async function readText(
  path: string,
  what: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ABORT_ERR') throw error;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : ((error as Error).message ?? String(error));
    throw new ConfigError(
      [
        {
          code: 'OCNE_CONFIG_READ_FAILED',
          message: `cannot read ${what}: ${reason}`,
          severity: 'error',
          file: path,
        },
      ],
      { cause: error },
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Loads, layers, derives and validates configuration as `ocne cluster start` does, and returns
 * it with provenance. Throws a {@link ConfigError} listing every problem; warnings (unknown keys
 * in the cluster file, settings without effect) are in the result's `warnings`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const { signal } = options;
  signal?.throwIfAborted();
  const home = options.home ?? homedir();
  const env = options.env ?? process.env;
  const parsed: ParsedLayer[] = [];

  // Built-ins, with the ssh key path when the file exists (GetDefaultConfig does the same).
  const builtin = builtinDefaults();
  const sshKey = join(home, '.ssh', 'id_rsa.pub');
  if (await exists(sshKey)) builtin.sshPublicKeyPath = sshKey;
  parsed.push({
    layer: {
      kind: LayerKind.Builtin,
      source: '<built-in defaults>',
      data: builtin as Record<string, unknown>,
    },
    warnings: [],
  });

  // The defaults file.
  const defaults = options.defaults;
  if (typeof defaults === 'object') {
    parsed.push(layerFromObject(LayerKind.DefaultsFile, defaults, '<defaults object>'));
  } else if (typeof defaults === 'string') {
    const path = resolve(defaults);
    const text = await readText(path, 'the defaults file', signal);
    parsed.push(parseDefaultsConfig(text ?? '', { file: path }));
  } else if (defaults === undefined) {
    const fromEnv = env[DEFAULTS_ENV];
    const path = resolve(
      fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(home, '.ocne', 'defaults.yaml'),
    );
    // Upstream silently uses the built-ins when the file is missing.
    if (await exists(path)) {
      const text = await readText(path, 'the defaults file', signal);
      parsed.push(parseDefaultsConfig(text ?? '', { file: path }));
    }
  }
  if (options.configOverrides !== undefined) {
    parsed.push(layerFromObject(LayerKind.ConfigOverrides, options.configOverrides, '<config overrides>'));
  }

  // The cluster file.
  let clusterFileDirectory: string | undefined;
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
  if (options.configPath !== undefined) {
    const path = resolve(options.configPath);
    const text = await readText(path, 'the cluster configuration file', signal);
    parsed.push(parseClusterConfig(text ?? '', { file: path }));
    clusterFileDirectory = dirname(path);
  } else if (typeof options.config === 'string') {
    parsed.push(parseClusterConfig(options.config, { file: '<cluster config text>' }));
  } else if (options.config !== undefined) {
    parsed.push(layerFromObject(LayerKind.ClusterFile, options.config, '<cluster config object>'));
  }
  if (options.overrides !== undefined) {
    parsed.push(layerFromObject(LayerKind.ClusterOverrides, options.overrides, '<cluster overrides>'));
  }

  const layers: ConfigLayer[] = parsed.map((p) => p.layer);
  const warnings: ConfigIssue[] = parsed.flatMap((p) => p.warnings);
  const result = resolveConfig(layers, {
    ...(options.defaultProvider !== undefined ? { defaultProvider: options.defaultProvider } : {}),
    ...(clusterFileDirectory !== undefined ? { clusterFileDirectory } : {}),
    ...(options.extraProviders !== undefined ? { extraProviders: options.extraProviders } : {}),
  });
  return { ...result, warnings: [...warnings, ...result.warnings] };
}
