/** The errors of {@link moveCluster}: their codes, and what a failed move left behind. */
import { OcneError } from '@ocne/core';
import type { MoveObjectRef } from './graph.js';

/** Codes of the errors {@link moveCluster} raises (as {@link CapiMoveError}). */
export const CapiMoveErrorCode = {
  /** The Cluster does not exist in the source namespace. */
  NotFound: 'OCNE_CAPI_MOVE_NOT_FOUND',
  /** The cluster did not become ready to move in time (clusterctl: `cannot start the move operation ...`). */
  NotReady: 'OCNE_CAPI_MOVE_NOT_READY',
  /**
   * The move cannot be done as asked: the source and the target are the same cluster, the target
   * lacks a kind of the graph, the target already has this Cluster unpaused, objects are shared
   * with another Cluster, or owner references form a cycle.
   */
  Conflict: 'OCNE_CAPI_MOVE_CONFLICT',
  /** A feature this move does not handle, such as a Cluster with a managed topology (ClusterClass). */
  Unsupported: 'OCNE_CAPI_MOVE_UNSUPPORTED',
  /** A request failed before the point of no return; the move was rolled back (see {@link CapiMoveError.state}). */
  Failed: 'OCNE_CAPI_MOVE_FAILED',
  /**
   * A request failed after the point of no return (the deletion from the source had begun): the
   * target holds the whole graph, still paused; running the same move again finishes it.
   */
  Incomplete: 'OCNE_CAPI_MOVE_INCOMPLETE',
  /** The caller's signal stopped the move before the point of no return; it was rolled back. */
  Cancelled: 'OCNE_CANCELLED',
} as const;

/** A move error code. */
export type CapiMoveErrorCode = (typeof CapiMoveErrorCode)[keyof typeof CapiMoveErrorCode];

/**
 * What a failed move left behind.
 *
 * - `unchanged`: it failed before changing anything.
 * - `rolled-back`: the source Cluster was unpaused (as it was) and what the move created in the target was deleted.
 * - `rollback-failed`: part of that undo failed; {@link CapiMoveError.rollbackErrors} says what.
 * - `incomplete`: it failed after the point of no return; see `OCNE_CAPI_MOVE_INCOMPLETE`.
 */
export type CapiMoveState = 'unchanged' | 'rolled-back' | 'rollback-failed' | 'incomplete';

/** Options of the {@link CapiMoveError} constructor. */
export interface CapiMoveErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** The object whose request failed. */
  object?: MoveObjectRef;
  /** @defaultValue `'unchanged'` */
  state?: CapiMoveState;
  rollbackErrors?: readonly unknown[];
}

/** An error of {@link moveCluster}: a code, the object concerned, and what the move left behind. */
export class CapiMoveError extends OcneError {
  /** The object whose request failed, when one did. */
  readonly object: MoveObjectRef | undefined;
  /** What the failed move left behind. */
  readonly state: CapiMoveState;
  /** The errors of the undo, when it failed (`rollback-failed`). */
  readonly rollbackErrors: readonly unknown[];

  constructor(code: CapiMoveErrorCode, message: string, options: CapiMoveErrorOptions = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.object = options.object;
    this.state = options.state ?? 'unchanged';
    this.rollbackErrors = options.rollbackErrors ?? [];
  }

  override get name(): string {
    return 'CapiMoveError';
  }
}
