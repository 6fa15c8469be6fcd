/**
 * @ocne/provider-byo: clusters on machines you bring. `byoStart` makes the PKI and the first
 * control-plane node's Ignition; `byoJoin` makes the Ignition of more nodes and the commands that
 * admit them; `migrateNode` moves a running node between clusters. `provider` is all of it as the
 * `Cluster` facade of `@ocne/cluster` drives it (loaded by name for `provider: byo`); the functions
 * also work on their own.
 *
 * @packageDocumentation
 */

export type {
  CoreAppCatalog,
  CoreAppFacts,
  CoreAppInstallResult,
  CoreAppPlan,
  InstallCoreApplicationsOptions,
} from './apps.js';
export { coreApplications, installCoreApplications, kubeletClusterDns } from './apps.js';
export type { ByoJoinOptions, ByoJoinResult, ByoOptions, ByoStartResult } from './byo.js';
export {
  byoJoin,
  byoStart,
  FIRST_CONTROL_PLANE_PLACEHOLDER,
  validateByoConfig,
} from './byo.js';
export type { MigrateNodeOptions, MigrateNodeResult } from './migrate.js';
export { migrateNode } from './migrate.js';
export type { ByoProviderOptions } from './provider.js';
export { createByoProvider, provider } from './provider.js';
