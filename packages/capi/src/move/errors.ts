/** The errors of {@link moveCluster}: their codes, and what a failed move left behind. */
import { OcneError, type OcneErrorCode } from '@ocne/core';
import type { MoveObjectRef } from './graph.js';

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

  constructor(code: OcneErrorCode, message: string, options: CapiMoveErrorOptions = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.object = options.object;
    this.state = options.state ?? 'unchanged';
    this.rollbackErrors = options.rollbackErrors ?? [];
  }

  override get name(): string {
    return 'CapiMoveError';
  }
}
