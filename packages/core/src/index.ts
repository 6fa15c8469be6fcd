/**
 * @ocne/core: what every package of the OCNE SDK shares, and nothing else: {@link OcneError} with
 * the one catalogue of error codes ({@link ERROR_CODES}), the events operations report, the
 * contract between the `Cluster` facade and its providers, atomic file writes, bounded reads of
 * the files a user names and upstream's PID lock.
 *
 * @example
 * ```ts
 * import { ERROR_CODES, isOcneError } from '@ocne/core';
 * try {
 *   await cluster.start();
 * } catch (error) {
 *   if (isOcneError(error)) console.error(error.code, ERROR_CODES[error.code].meaning);
 * }
 * ```
 *
 * @packageDocumentation
 */

export type { ErrorCodeInfo, OcneErrorCode } from './codes.js';
export { ERROR_CODES, isOcneErrorCode } from './codes.js';
export type { OcneErrorOptions } from './errors.js';
export { isOcneError, OcneError } from './errors.js';
export type {
  DoneEvent,
  EventBase,
  EventInput,
  EventSink,
  InstructionsEvent,
  LogEvent,
  OcneEvent,
  ProgressEvent,
  StepEvent,
  WarningEvent,
} from './events.js';
export { runStep } from './events.js';
export type { AcquirePidLockOptions, PidLock, PidLockHolder, WriteFileAtomicOptions } from './fs.js';
export { acquirePidLock, formatPidLockHolder, pidLockHolder, writeFileAtomic } from './fs.js';
export type { MemoCodec, ParseMemoOptions } from './memo.js';
export { enableParseMemo, memoized, memoizedFor } from './memo.js';
export { commonJsExports, importOptional, isModuleMissing } from './modules.js';
export type { Operation, OperationContext, OperationOptions } from './operation.js';
export { startOperation } from './operation.js';
export type { PoolOptions } from './pool.js';
export { pool } from './pool.js';
export type {
  ClusterProvider,
  ProviderCapabilities,
  ProviderContext,
  ProviderJoinRequest,
  ProviderJoinResult,
  ProviderMoveNodeRequest,
  ProviderMoveNodeResult,
  ProviderOperation,
  ProviderPostStartRequest,
  ProviderStartResult,
} from './provider.js';
export { assertClusterProvider } from './provider.js';
export { systemRandomBytes } from './random.js';
export type { NonRegularFileType, ReadRegularFileOptions, ReadRegularFileResult } from './read.js';
export { readRegularFile } from './read.js';
