/**
 * Layering with provenance. Pure: layers in, merged data and a record of where each value
 * came from out.
 *
 * Upstream merges field by field (`MergeConfig`, `MergeClusterConfig`, `OverlayConfig` and one
 * `Merge*` per section in `pkg/config/types/types.go`), and every one of those functions applies
 * one rule per Go type:
 *
 * | Go type | rule (`base`, `override`) |
 * |---|---|
 * | `string` (`ies`) | the override wins when it is not `""`; `""` can never clear a value |
 * | `uint16`/`int` (`ieu`/`iei`) | the override wins when it is not `0` |
 * | `*bool` (`iebp`) | the override wins when it is set, `false` included |
 * | slices (`MergeApplications`, `MergeCatalogs`) | concatenated, base first, no de-duplication |
 * | structs | merged field by field with the same rules |
 *
 * So the merge here applies those rules per schema type, walking the generated schema, which
 * makes it complete for every field by construction. The exceptions upstream codes are applied
 * by the caller (`resolve.ts`): `ephemeralCluster.preserve` is dropped, and the fields that exist
 * in only one of the two formats come only from layers of that format (the schemas guarantee it).
 * Any-typed values (`applications[].config`) are taken whole.
 */
import { memoizedFor } from '@ocne/core';
import { clusterConfigSchema, defaultsConfigSchema } from './generated/schemas.js';
import type { Position } from './schema-walk.js';
import { type JsonSchema, joinPath, resolveSchemaRef } from './schema-walk.js';

/** The layers, from lowest to highest precedence. */
export const LayerKind = {
  /** Built-in defaults. */
  Builtin: 'builtin',
  /** `~/.ocne/defaults.yaml` or `$OCNE_DEFAULTS`. */
  DefaultsFile: 'defaults-file',
  /** Programmatic overrides of defaults-level settings (the CLI's `-s`, `-i`, `-o`, `-k`, `-u`). */
  ConfigOverrides: 'config-overrides',
  /** The cluster configuration file or object. */
  ClusterFile: 'cluster-file',
  /** Programmatic overrides of cluster-level settings (the CLI's `-C`, `-P`, `-n`, `-w`, `-v`, `--virtual-ip`, `--load-balancer`). */
  ClusterOverrides: 'cluster-overrides',
} as const;

/** A layer kind. */
export type LayerKind = (typeof LayerKind)[keyof typeof LayerKind];

/** The layer kinds from lowest to highest precedence. */
export const LAYER_ORDER: readonly LayerKind[] = [
  LayerKind.Builtin,
  LayerKind.DefaultsFile,
  LayerKind.ConfigOverrides,
  LayerKind.ClusterFile,
  LayerKind.ClusterOverrides,
];

/** One source of configuration values. */
export interface ConfigLayer {
  kind: LayerKind;
  /** File path, or a label such as `<overrides>`. */
  source: string;
  data: Record<string, unknown>;
  /** Positions of values in the source file, by YAML path. */
  positions?: ReadonlyMap<string, Position>;
}

/** Where a resolved value came from. */
export interface ValueSource {
  /** The layer that set it, or `derived` for values computed from others (see `note`). */
  layer: LayerKind | 'derived';
  /** File path or label of that layer. */
  source: string;
  /** The value's path inside that layer (differs for list items, which are concatenated). */
  path: string;
  line?: number;
  column?: number;
  /** For derived values: the rule that computed it. */
  note?: string;
}

/** Where each resolved value came from. */
export interface Provenance {
  /**
   * Where the value at `path` (such as `providers.oci.compartment` or `applications[0].name`)
   * came from, or `undefined` when no layer set it (the value is the zero value).
   */
  sourceOf(path: string): ValueSource | undefined;
  /** Every path a layer set or a rule derived, with its source. */
  entries(): Array<[string, ValueSource]>;
}

/** Records, for each value path, the layer that set it. Internal: callers see {@link Provenance}. */
export class ProvenanceRecorder implements Provenance {
  readonly #entries = new Map<string, { layer: ConfigLayer | DerivedOrigin; path: string }>();

  set(path: string, layer: ConfigLayer | DerivedOrigin, layerPath: string): void {
    this.#entries.set(path, { layer, path: layerPath });
  }

  delete(path: string): void {
    for (const key of [...this.#entries.keys()]) {
      if (key === path || key.startsWith(`${path}.`) || key.startsWith(`${path}[`)) this.#entries.delete(key);
    }
  }

  sourceOf(path: string): ValueSource | undefined {
    let prefix = path;
    for (;;) {
      const entry = this.#entries.get(prefix);
      if (entry !== undefined) {
        const layerPath = entry.path + path.slice(prefix.length);
        const { layer } = entry;
        if ('derived' in layer) {
          const from = layer.from;
          return {
            layer: 'derived',
            source: layer.source,
            path: from?.path ?? layerPath,
            note: layer.note,
            ...(from?.line !== undefined ? { line: from.line, column: from.column } : {}),
          };
        }
        const at = layer.positions?.get(layerPath) ?? layer.positions?.get(entry.path);
        return {
          layer: layer.kind,
          source: layer.source,
          path: layerPath,
          ...(at ? { line: at.line, column: at.column } : {}),
        };
      }
      const cut = Math.max(prefix.lastIndexOf('.'), prefix.lastIndexOf('['));
      if (cut <= 0) return undefined;
      prefix = prefix.slice(0, cut);
    }
  }

  entries(): Array<[string, ValueSource]> {
    return [...this.#entries.keys()].map((p) => [p, this.sourceOf(p)!]);
  }

  /**
   * What was recorded, as plain data: each layer as its index in `layers` (`undefined` when a
   * recorded layer is not among them). {@link ProvenanceRecorder.restore} rebuilds the recorder.
   * @internal For the parse memo of `loadConfig`.
   */
  save(layers: readonly ConfigLayer[]): RecordedProvenance | undefined {
    const saved: RecordedProvenance = [];
    for (const [path, { layer, path: layerPath }] of this.#entries) {
      if ('derived' in layer) {
        saved.push([path, structuredClone(layer), layerPath]);
        continue;
      }
      const index = layers.indexOf(layer);
      if (index < 0) return undefined;
      saved.push([path, index, layerPath]);
    }
    return saved;
  }

  /**
   * A recorder holding what {@link ProvenanceRecorder.save} saved, with the same `layers`.
   * @internal For the parse memo of `loadConfig`.
   */
  static restore(saved: RecordedProvenance, layers: readonly ConfigLayer[]): ProvenanceRecorder {
    const recorder = new ProvenanceRecorder();
    for (const [path, origin, layerPath] of saved) {
      const layer = typeof origin === 'number' ? layers[origin] : origin;
      if (layer === undefined) throw new RangeError(`no layer ${String(origin)}`);
      recorder.set(path, layer, layerPath);
    }
    return recorder;
  }
}

/**
 * A {@link ProvenanceRecorder}'s entries as plain data: the path, the layer's index (or the
 * derived origin) and the path in the layer.
 * @internal
 */
export type RecordedProvenance = Array<[string, number | DerivedOrigin, string]>;

/** Origin of a derived value: the rule, and where the value it was derived from stands. */
export interface DerivedOrigin {
  derived: true;
  source: string;
  note: string;
  /** The value the rule started from, when a layer set it. */
  from?: ValueSource;
}

function isSet(type: string | string[] | undefined, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (type === 'string') return value !== '';
  if (type === 'integer' || type === 'number') return value !== 0;
  return true;
}

/** The zero value of a schema type, as Go's zero values. */
function zero(root: JsonSchema, schema: JsonSchema): unknown {
  const s = resolveSchemaRef(root, schema);
  switch (s.type) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = zero(root, v);
      return out;
    }
    default:
      return null;
  }
}

/** A layer's value at one path, and that path inside the layer. */
interface Contribution {
  layer: ConfigLayer;
  value: unknown;
  at: string;
}

/**
 * Merges layers (lowest precedence first) by upstream's rules into a fully populated object:
 * fields no layer sets hold their zero value. Records in `provenance` which layer set each value.
 */
export function mergeLayers(
  root: JsonSchema,
  layers: readonly ConfigLayer[],
  provenance: ProvenanceRecorder,
): Record<string, unknown> {
  const format =
    root === clusterConfigSchema ? 'cluster' : root === defaultsConfigSchema ? 'defaults' : undefined;
  if (format === undefined) return merge(root, layers, provenance);
  // With the parse memo on (the CLI), the same layers merge once: what the merge recorded in the
  // provenance is kept by layer index, and replayed onto this run's layers when the memo had it.
  let computed = false;
  const { merged, recorded } = memoizedFor(
    `merge\0${format}`,
    layers.map((l) => [l.kind, l.source, l.data]),
    () => {
      computed = true;
      const recorded: [string, number, string][] = [];
      const merged = merge(root, layers, {
        set: (path, layer, at) => {
          provenance.set(path, layer, at);
          recorded.push([path, layers.indexOf(layer as ConfigLayer), at]);
        },
      });
      return { merged, recorded };
    },
  );
  if (!computed)
    for (const [path, index, at] of recorded) provenance.set(path, layers[index] as ConfigLayer, at);
  return merged;
}

function merge(
  root: JsonSchema,
  layers: readonly ConfigLayer[],
  provenance: Pick<ProvenanceRecorder, 'set'>,
): Record<string, unknown> {
  const walk = (schemaIn: JsonSchema, values: Contribution[], path: string): unknown => {
    const schema = resolveSchemaRef(root, schemaIn);
    if (schema.type === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        const childValues: Contribution[] = [];
        for (const { layer, value, at } of values) {
          // Own keys only: a layer made by a caller may be an ordinary object, and `key in` would
          // find `constructor` or anything set on Object.prototype.
          if (
            value !== null &&
            typeof value === 'object' &&
            !Array.isArray(value) &&
            Object.hasOwn(value, key)
          ) {
            childValues.push({
              layer,
              value: (value as Record<string, unknown>)[key],
              at: joinPath(at, key),
            });
          }
        }
        out[key] = walk(child, childValues, joinPath(path, key));
      }
      return out;
    }
    if (schema.type === 'array') {
      const out: unknown[] = [];
      for (const { layer, value, at } of values) {
        if (!Array.isArray(value)) continue;
        value.forEach((item, index) => {
          const itemPath = joinPath(path, out.length);
          const itemAt = joinPath(at, index);
          provenance.set(itemPath, layer, itemAt);
          out.push(walk(schema.items ?? {}, [{ layer, value: item, at: itemAt }], itemPath));
        });
      }
      return out;
    }
    let result: unknown = zero(root, schema);
    for (const { layer, value, at } of values) {
      if (!isSet(schema.type, value)) continue;
      result = schema.type === undefined ? structuredClone(value) : value;
      provenance.set(path, layer, at);
    }
    return result;
  };
  return walk(
    root,
    layers.map((layer) => ({ layer, value: layer.data, at: '' })),
    '',
  ) as Record<string, unknown>;
}
