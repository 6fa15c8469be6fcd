/**
 * @ocne/cluster: the typed `Cluster` facade over the OCNE providers, the operations and events
 * it reports, the provider registry, and the upstream-compatible cluster cache.
 *
 * @example
 * ```ts
 * import { Cluster } from '@ocne/cluster';
 * const cluster = await Cluster.open({ configPath: 'byo.yaml' });
 * const start = cluster.start();
 * for await (const event of start) console.error(event.type, event);
 * const { ignition } = await start;
 * ```
 *
 * @packageDocumentation
 */

export type { Operation, OperationContext, OperationOptions } from '@ocne/core';
export { startOperation } from '@ocne/core';
export type {
  CachedCluster,
  ClusterCacheCallOptions,
  ClusterCacheOptions,
  ClusterClaim,
  NewCachedCluster,
} from './cache.js';
export { CLUSTER_CACHE_FILE, ClusterCache, PID_LOCK_FILE } from './cache.js';
export type {
  ClusterInfo,
  ClusterOpenOptions,
  ConfiglessMoveNodeOptions,
  ConsoleOptions,
  JoinOptions,
  JoinResult,
  MoveNodeOptions,
  MoveNodeResult,
  StartOptions,
  StartResult,
  TemplateOptions,
} from './cluster.js';
export { Cluster } from './cluster.js';
export type { ProviderLoader } from './provider.js';
export { loadProvider, registeredProviders, registerProvider } from './provider.js';
