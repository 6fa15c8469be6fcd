/**
 * The shapes after layering: every field present, as upstream's Go structs after a merge.
 */
import type { ConfigIssue } from './errors.js';
import type { ConfigLayer, Provenance } from './layers.js';
import type { ClusterConfig, DefaultsConfig } from './types.js';

/**
 * `T` with every field present, recursively. Unset strings are `''` and unset numbers `0`,
 * exactly as upstream's Go zero values; tri-state booleans have their resolved value.
 */
export type Resolved<T> = T extends readonly (infer U)[]
  ? Resolved<U>[]
  : T extends object
    ? { [K in keyof T]-?: Resolved<Exclude<T[K], undefined>> }
    : T;

/** A cluster configuration after layering and derivation. */
export type ResolvedClusterConfig = Resolved<ClusterConfig>;

/** The defaults-level configuration after layering (upstream's `Config`). */
export type ResolvedDefaultsConfig = Resolved<DefaultsConfig>;

/** What loading and resolving configuration produces. */
export interface ResolvedConfig {
  /** The cluster configuration every operation uses. */
  cluster: ResolvedClusterConfig;
  /** The defaults-level configuration (built-ins, defaults file and defaults-level overrides). */
  defaults: ResolvedDefaultsConfig;
  /** Where each value of `cluster` came from. */
  provenance: Provenance;
  /** Where each value of `defaults` came from. */
  defaultsProvenance: Provenance;
  /** Problems that do not stop loading: unknown keys in the cluster file, settings that have no effect. */
  warnings: readonly ConfigIssue[];
  /** The layers, lowest precedence first. */
  layers: readonly ConfigLayer[];
}
