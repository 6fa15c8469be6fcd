/**
 * Moving one Cluster API cluster from a management cluster to another, as `clusterctl move` does
 * (upstream ocne calls clusterctl's library for its self-managed clusters): discover the object
 * graph, wait until the cluster is ready to move, pause it, recreate the graph in the target with
 * its owner references, delete it from the source, and unpause it in the target.
 *
 * `graph.ts` is the pure part (discovery results in, the move plan out), `mover.ts` does the
 * requests (their concurrency bounded by `@ocne/core`'s `pool`), `errors.ts` has the error type.
 *
 * Where it differs from clusterctl 1.10, on purpose or as a limit:
 * - One Cluster per call (clusterctl moves a namespace); objects carrying the Cluster's
 *   `cluster.x-k8s.io/cluster-name` label come along even without an owner reference to it.
 * - Status is copied (without `observedGeneration`, since the copies start at generation 1), so
 *   readiness survives the move; clusterctl leaves status to the controllers.
 * - Never swallows an error (upstream ocne ignores move errors), waits for readiness with a
 *   timeout, and rolls back before its point of no return: the source is unpaused and what was
 *   created in the target is deleted. The target namespace stays even when the move created it.
 * - After the point of no return, running the same move again finishes it, also when the source
 *   Cluster (deleted last) is already gone and the target's copy is still paused.
 * - Not moved: cluster-scoped objects (global identities), ClusterResourceSets (their bindings
 *   move), objects that only the `clusterctl.cluster.x-k8s.io/move` and `move-hierarchy` labels
 *   select, and Clusters with a ClusterClass topology (refused). Upstream's template uses none.
 */
export type { CapiMoveErrorOptions, CapiMoveState } from './errors.js';
export { CapiMoveError } from './errors.js';
export type { MoveObject, MoveObjectRef, MoveOwner } from './graph.js';
export type { MoveClusterOptions, MoveResult } from './mover.js';
export { CAPI_MOVE_STEP, moveCluster } from './mover.js';
