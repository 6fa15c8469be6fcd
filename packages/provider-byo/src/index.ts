/**
 * @ocne/provider-byo: clusters on machines you bring. `byoStart` makes the PKI and the first
 * control-plane node's Ignition; `byoJoin` makes the Ignition of more nodes and the commands that
 * admit them. The `Cluster` facade of `@ocne/cluster` drives these; they also work on their own.
 *
 * @packageDocumentation
 */

export type {
  CoreAppCatalog,
  CoreAppFacts,
  CoreAppPlan,
  InstallCoreApplicationsOptions,
} from './apps.js';
export { CoreAppsErrorCode, coreApplications, installCoreApplications, kubeletClusterDns } from './apps.js';
export type { ByoJoinOptions, ByoJoinResult, ByoOptions, ByoStartResult } from './byo.js';
export {
  ByoErrorCode,
  byoJoin,
  byoStart,
  FIRST_CONTROL_PLANE_PLACEHOLDER,
  validateByoConfig,
} from './byo.js';
export type { MigrateNodeOptions, MigrateNodeResult } from './migrate.js';
export { MigrateErrorCode, migrateNode } from './migrate.js';
