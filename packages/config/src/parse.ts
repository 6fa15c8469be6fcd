/**
 * Turns YAML text or objects into checked layers. Pure: no file system here (see `load.ts`).
 */
import { memoized, memoizedFor } from '@ocne/core';
import { ConfigError, type ConfigIssue } from './errors.js';
import { clusterConfigSchema, defaultsConfigSchema } from './generated/schemas.js';
import { type ConfigLayer, LayerKind } from './layers.js';
import { type ReadOptions, readYaml, readYamlObject } from './schema-walk.js';
import type { ClusterConfig, DefaultsConfig } from './types.js';

/**
 * Keys that upstream's structs carry for their tri-state booleans. Upstream's parsers accept
 * them (even the strict one) and every merge ignores them, so they are accepted with a warning.
 */
const UPSTREAM_INTERNAL_KEYS: ReadonlySet<string> = new Set([
  'headlessfake',
  'catalogfake',
  'communityCatalogFake',
  'quiteFake',
  'selfmanagedfake',
  'installFake',
  'insecureSkipTLSVerifyFake',
  'autoConfFake',
  'automaticTokenCreationfake',
]);

/** A checked layer and the warnings found while reading it. */
export interface ParsedLayer {
  layer: ConfigLayer;
  warnings: ConfigIssue[];
}

/** Options of {@link parseClusterConfig} and {@link parseDefaultsConfig}. */
export interface ParseOptions {
  /** The file's path, or a label, used in errors and provenance. */
  file: string;
  /** Which layer the data is. Defaults to the cluster file, or the defaults file. */
  kind?: LayerKind;
}

type Format = 'cluster' | 'defaults';

/** A layer of what the reader read, or the `ConfigError` of its errors. Internal to the package. */
export function finishLayer(kind: LayerKind, file: string, result: ReturnType<typeof readYaml>): ParsedLayer {
  const errors = result.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0 || result.value === undefined)
    throw new ConfigError(errors.length > 0 ? errors : result.issues);
  return {
    layer: { kind, source: file, data: result.value, positions: result.positions },
    warnings: result.issues.filter((i) => i.severity === 'warning'),
  };
}

/** The reader's options of the cluster format. Internal to the package. */
export function clusterReadOptions(file: string): ReadOptions {
  return readOptions('cluster', file);
}

function readOptions(format: Format, file: string): ReadOptions {
  return {
    file,
    schema: format === 'cluster' ? clusterConfigSchema : defaultsConfigSchema,
    // Upstream parses the defaults file strictly and the cluster file loosely; here a loose
    // unknown key is a warning, not silence.
    unknownKeys: format === 'defaults' ? ('error' as const) : ('warning' as const),
    ignoredKeys: UPSTREAM_INTERNAL_KEYS,
  };
}

/**
 * Parses a cluster configuration (`capi.yaml`, `byo.yaml`). Unknown keys are warnings;
 * syntax errors and wrong types throw a {@link ConfigError} with file, line and column.
 */
export function parseClusterConfig(text: string, options: ParseOptions): ParsedLayer {
  return finishLayer(
    options.kind ?? LayerKind.ClusterFile,
    options.file,
    read('cluster', text, options.file),
  );
}

/**
 * Parses a defaults file (`~/.ocne/defaults.yaml`). Strict, as upstream: unknown keys are errors.
 */
export function parseDefaultsConfig(text: string, options: ParseOptions): ParsedLayer {
  return finishLayer(
    options.kind ?? LayerKind.DefaultsFile,
    options.file,
    read('defaults', text, options.file),
  );
}

/** Reads a file's text, from the parse memo when the program turned it on (see `@ocne/core`). */
function read(format: Format, text: string, file: string): ReturnType<typeof readYaml> {
  return memoized(`config\0${format}\0${file}`, text, () =>
    readYaml(stripBom(text), readOptions(format, file)),
  );
}

/**
 * Checks an in-memory object as a layer: the same rules as for files, with the YAML path but no
 * line numbers in errors. Cluster-format layers are `cluster-file` or `cluster-overrides`; the
 * others are defaults-format.
 */
export function layerFromObject(
  kind: LayerKind,
  object: ClusterConfig | DefaultsConfig,
  source: string,
): ParsedLayer {
  const format: Format =
    kind === LayerKind.ClusterFile || kind === LayerKind.ClusterOverrides ? 'cluster' : 'defaults';
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    throw new ConfigError([
      {
        code: 'OCNE_CONFIG_TYPE',
        message: `expected an object, found ${Array.isArray(object) ? 'an array' : typeof object}`,
        severity: 'error',
        file: source,
      },
    ]);
  }
  // Positions would refer to the YAML text of the object, which the user never saw.
  const result = memoizedFor(`object-layer\0${format}\0${source}`, object, () =>
    readYamlObject(object, readOptions(format, source)),
  );
  return finishLayer(kind, source, result);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
