/**
 * Upstream's YAML form of a cluster configuration: the Go CLI's `ClusterConfig` struct as yaml.v3
 * marshals it into the cluster cache (`~/.ocne/clusters.yaml`). Every field of the struct is
 * written, with zero values for unset ones, and each tri-state boolean carries the plain-bool
 * companion upstream keeps under a dummy key (`headlessfake`...), because upstream's code reads
 * that companion. Reading accepts what upstream writes (and older or hand-written entries: built-in
 * defaults fill what is missing).
 *
 * Pure: text and objects in, objects out. The cache file itself (its document, the lock, atomic
 * writes) is `@ocne/cluster`'s.
 */
import { type Alias, parseDocument, type YAMLMap, type Node as YamlNode } from 'yaml';
import { builtinDefaults } from './defaults.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { clusterConfigSchema } from './generated/schemas.js';
import { LayerKind } from './layers.js';
import { CONFIG_LIMITS, formatBytes } from './limits.js';
import { clusterReadOptions, finishLayer, parseClusterConfig } from './parse.js';
import { resolveConfig } from './resolve.js';
import type { ResolvedClusterConfig } from './resolved.js';
import {
  type JsonSchema,
  type ParsedYamlDocument,
  readYamlNode,
  resolveSchemaRef,
  utf8LengthOver,
} from './schema-walk.js';
import { normalizeLineBreaks } from './text.js';

/**
 * The tri-state booleans (paths inside a cluster config) and the YAML key of the plain `bool`
 * that upstream's structs keep next to each one. Upstream code reads the plain bool, which
 * yaml.v3 fills from that dummy key, so the cache must carry it.
 */
const TRI_STATES: ReadonlyMap<string, string> = new Map([
  ['headless', 'headlessfake'],
  ['catalog', 'catalogfake'],
  ['communityCatalog', 'communityCatalogFake'],
  ['providers.oci.selfManaged', 'selfmanagedfake'],
  ['providers.byo.automaticTokenCreation', 'automaticTokenCreationfake'],
  ['providers.olvm.selfManaged', 'selfmanagedfake'],
  ['providers.olvm.ovirtCsiDriver.install', 'installFake'],
  ['providers.olvm.olvmOvirtAPIServer.insecureSkipTLSVerify', 'insecureSkipTLSVerifyFake'],
  ['providers.olvm.controlPlaneMachine.virtualMachine.network.ipv6.autoConf', 'autoConfFake'],
  ['providers.olvm.workerMachine.virtualMachine.network.ipv6.autoConf', 'autoConfFake'],
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const deref = (schema: JsonSchema): JsonSchema => resolveSchemaRef(clusterConfigSchema, schema);

/**
 * Every field of the schema, in schema order, with zero values for missing ones (the resolved
 * shape), and each tri-state's dummy key just before it, as upstream's structs order them.
 */
function encodeValue(schemaIn: JsonSchema, value: unknown, path: string): unknown {
  const schema = deref(schemaIn);
  switch (schema.type) {
    case 'object': {
      const source = isRecord(value) ? value : {};
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        const childPath = path === '' ? key : `${path}.${key}`;
        const encoded = encodeValue(child, source[key], childPath);
        const fake = TRI_STATES.get(childPath);
        if (fake !== undefined) out[fake] = encoded;
        out[key] = encoded;
      }
      return out;
    }
    case 'array':
      return Array.isArray(value)
        ? value.map((item) => encodeValue(schema.items ?? {}, item, `${path}[]`))
        : [];
    case 'string':
      return typeof value === 'string' ? value : '';
    case 'integer':
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : 0;
    case 'boolean':
      return typeof value === 'boolean' ? value : schema.default === true;
    default:
      // Any YAML (application `config`): a nil interface is `null` upstream.
      return value === undefined ? null : value;
  }
}

/**
 * A resolved cluster configuration as upstream's struct marshals it: every field in schema order,
 * zero values for missing ones, and the dummy companion key before each tri-state boolean.
 */
export function encodeUpstreamClusterConfig(config: ResolvedClusterConfig): Record<string, unknown> {
  return encodeValue(clusterConfigSchema, config, '') as Record<string, unknown>;
}

function getPath(data: Record<string, unknown>, segments: readonly string[]): unknown {
  let current: unknown = data;
  for (const segment of segments) {
    if (!isRecord(current)) return undefined;
    current = current[segment];
  }
  return current;
}

function setPath(data: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let current = data;
  for (const segment of segments.slice(0, -1)) {
    const next = current[segment];
    if (isRecord(next)) {
      current = next;
    } else {
      const created: Record<string, unknown> = {};
      current[segment] = created;
      current = created;
    }
  }
  current[segments[segments.length - 1] as string] = value;
}

/**
 * Sets every value the cache holds over the resolved config, exactly (an empty string or 0
 * included, which a merge would not let override a default), so that what was written is what
 * is read. Lists are already the cache's own (no default layer has list items).
 */
function overlay(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (!Object.hasOwn(target, key)) continue;
    const current = target[key];
    if (isRecord(value) && isRecord(current)) overlay(current, value);
    else if (!Array.isArray(value) && !isRecord(value)) target[key] = value;
  }
}

/** Options of {@link decodeUpstreamClusterConfig}. */
export interface DecodeUpstreamOptions {
  /** The file the text comes from, for error locations. */
  file: string;
  /** The YAML path of the configuration inside that file, prefixed to error paths (`clusters.x.config`). */
  path?: string;
  /** The line of the file the text starts at (1 for a whole file). @defaultValue 1 */
  firstLine?: number;
}

/**
 * Reads a cluster configuration in upstream's form (the text of one cache entry's `config`, with
 * the text before it on its first line blanked so columns stay right). It gets exactly the
 * cluster-file rules (types checked, unknown keys ignored); a tri-state upstream left unset takes
 * its dummy companion's value; built-in defaults fill what the text lacks, and the values the text
 * holds are then set exactly (resolution would re-derive some of them).
 *
 * @throws `ConfigError` located in `file`, with `path` and `firstLine` applied.
 */
export function decodeUpstreamClusterConfig(
  text: string,
  options: DecodeUpstreamOptions,
): ResolvedClusterConfig {
  let data: Record<string, unknown>;
  try {
    data = parseClusterConfig(text, { file: options.file }).layer.data;
  } catch (error) {
    throw located(error, options);
  }
  // The text passed the reader's limits above, so a second parse is linear; keys are compared
  // only by the reader (the `yaml` package's own check is quadratic).
  const doc = parseDocument(normalizeLineBreaks(text), { uniqueKeys: false });
  return decoded(data, options.file, (path) => doc.getIn(path));
}

/** Options of {@link decodeUpstreamClusterConfigNode}. */
export interface DecodeUpstreamNodeOptions {
  /** The file the document comes from, for error locations. */
  file: string;
  /** The YAML path of the configuration inside that file, prefixed to error paths (`clusters.x.config`). */
  path?: string;
}

/**
 * {@link decodeUpstreamClusterConfig} of a mapping inside a document that
 * {@link parseYamlDocument} parsed (a cache entry's `config`), without parsing its text again: the
 * same result and the same errors as that function given the mapping's text. As there, only the
 * mapping's own text counts: an alias to an anchor outside it is unknown, and its text may hold
 * at most `maxConfigBytes`. Errors carry the lines of the whole document.
 *
 * @throws `ConfigError` located in `file`, with `path` applied.
 */
export function decodeUpstreamClusterConfigNode(
  parsed: ParsedYamlDocument,
  node: YAMLMap,
  options: DecodeUpstreamNodeOptions,
): ResolvedClusterConfig {
  const { file } = options;
  const range = node.range;
  if (!range)
    throw new TypeError('decodeUpstreamClusterConfigNode: the mapping has no place in the document');
  const [start, end] = range;
  // The text the mapping's own text would be read as: from the start of its first line.
  const lineStart = parsed.text.lastIndexOf('\n', start - 1) + 1;
  // A block mapping with something before it on its first line (its first key's anchor or tag)
  // reads differently once that is blanked: such a mapping (never one upstream writes) is read
  // from its own text, to keep what that reads.
  const first = parsed.text[start];
  if (first === '&' || first === '!' || (!node.flow && /\S/.test(parsed.text.slice(lineStart, start)))) {
    const snippet = ' '.repeat(start - lineStart) + parsed.text.slice(start, end);
    return decodeUpstreamClusterConfig(snippet, { ...options, firstLine: parsed.lines.linePos(start).line });
  }
  const maxBytes = CONFIG_LIMITS.maxConfigBytes;
  if (
    end - lineStart > maxBytes &&
    utf8LengthOver(' '.repeat(start - lineStart) + parsed.text.slice(start, end), maxBytes)
  ) {
    throw located(
      new ConfigError([
        {
          code: 'OCNE_CONFIG_LIMIT',
          message: `the text is larger than ${formatBytes(maxBytes)}, the most a configuration may have`,
          severity: 'error',
          file,
        },
      ]),
      options,
    );
  }
  // The mapping's own anchor stands before its text, so an alias to it is unknown too.
  const resolveAlias = (alias: Alias): YamlNode | undefined => {
    const target = parsed.resolveAlias(alias);
    const at = target?.range;
    return target !== node && at && at[0] >= start && at[1] <= end ? target : undefined;
  };
  const read = readYamlNode(parsed, node, { ...clusterReadOptions(file), resolveAlias });
  let data: Record<string, unknown>;
  try {
    data = finishLayer(LayerKind.ClusterFile, file, read).layer.data;
  } catch (error) {
    throw located(error, options);
  }
  return decoded(data, file, (path) => node.getIn(path));
}

/** A reader's `ConfigError` with the entry's path prefixed and its lines moved to the file's. */
function located(error: unknown, options: DecodeUpstreamOptions): unknown {
  if (!(error instanceof ConfigError)) return error;
  const prefix = options.path ?? '';
  const lineOffset = (options.firstLine ?? 1) - 1;
  const issues: ConfigIssue[] = error.issues.map((i) => ({
    ...i,
    path: i.path ? (prefix ? `${prefix}.${i.path}` : i.path) : prefix,
    ...(i.line !== undefined ? { line: i.line + lineOffset } : {}),
  }));
  return new ConfigError(issues, { cause: error });
}

/** The resolved configuration of the data read, with the tri-states' companions (`getIn` of the same YAML). */
function decoded(
  data: Record<string, unknown>,
  file: string,
  getIn: (path: readonly string[]) => unknown,
): ResolvedClusterConfig {
  for (const [path, fake] of TRI_STATES) {
    const segments = path.split('.');
    if (typeof getPath(data, segments) === 'boolean') continue;
    const value = getIn([...segments.slice(0, -1), fake]);
    if (typeof value === 'boolean') setPath(data, segments, value);
  }
  const { cluster } = resolveConfig(
    [
      {
        kind: LayerKind.Builtin,
        source: '<built-in defaults>',
        data: builtinDefaults() as Record<string, unknown>,
      },
      { kind: LayerKind.ClusterFile, source: file, data },
    ],
    { skipValidation: true },
  );
  overlay(cluster as unknown as Record<string, unknown>, data);
  return cluster;
}
