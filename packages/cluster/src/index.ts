/**
 * @ocne/cluster: the Cluster facade, operations, events and the cluster cache.
 *
 * This entry point is intentionally empty: the package exists so that the workspace,
 * its build and its API report are in place. Its API arrives with the issue that
 * implements it; nothing here pretends to work before then.
 *
 * @packageDocumentation
 */
export {};
