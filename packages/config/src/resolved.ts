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

/**
 * Where clients reach the cluster's API server, derived from `virtualIp` and `loadBalancer` by
 * `resolveConfig` (the one place that decides it).
 */
export interface ApiEndpoint {
  /** The virtual IP, else the load balancer; `''` when neither is set. */
  address: string;
  /**
   * True with a virtual IP: the control-plane nodes run the load balancer themselves
   * (keepalived and nginx, upstream's "internal LB"); false with an external load balancer.
   */
  internalLB: boolean;
}

/**
 * A cluster configuration after layering and derivation: every configuration field, plus the
 * values derived from them (not configuration: the cluster cache does not store them).
 */
export type ResolvedClusterConfig = Resolved<ClusterConfig> & {
  /** Derived from `virtualIp` and `loadBalancer`; its provenance is recorded under `apiEndpoint`. */
  apiEndpoint: ApiEndpoint;
};

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
