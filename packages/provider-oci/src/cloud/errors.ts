/**
 * OCI failures as `OcneError`s. The SDK throws `OciError` for service answers (status, service
 * code, opc-request-id) and plain objects for network failures; here each becomes an
 * {@link OciServiceError} with a catalogue code, the request id and what to do about it.
 */
import { isOcneError, OcneError, type OcneErrorCode } from '@ocne/core';

/** Options of {@link OciServiceError}. */
export interface OciServiceErrorDetails {
  /** The SDK operation, e.g. `ListCompartments`. */
  readonly operation: string;
  /** The HTTP status (absent for network failures and timeouts). */
  readonly status?: number;
  /** OCI's error code, e.g. `NotAuthorizedOrNotFound` (absent for network failures). */
  readonly serviceCode?: string;
  /** The `opc-request-id` of the failed request: what Oracle support asks for. */
  readonly requestId?: string;
  /** How many attempts were made. */
  readonly attempts: number;
  readonly cause?: unknown;
}

/** An OCI call that failed: the code says what kind, the fields say which request. */
export class OciServiceError extends OcneError {
  readonly operation: string;
  readonly status: number | undefined;
  readonly serviceCode: string | undefined;
  readonly requestId: string | undefined;
  readonly attempts: number;

  constructor(code: OcneErrorCode, message: string, details: OciServiceErrorDetails) {
    super(code, message, details.cause === undefined ? {} : { cause: details.cause });
    this.operation = details.operation;
    this.status = details.status;
    this.serviceCode = details.serviceCode;
    this.requestId = details.requestId;
    this.attempts = details.attempts;
  }
}

/** What the SDK throws, as far as this layer reads it. */
interface SdkFailure {
  statusCode?: unknown;
  serviceCode?: unknown;
  opcRequestId?: unknown;
  message?: unknown;
}

/** The HTTP status of an SDK error, or undefined for a network failure. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as SdkFailure | undefined)?.statusCode;
  return typeof status === 'number' && status > 0 ? status : undefined;
}

/** The OCI service code of an SDK error. */
export function serviceCodeOf(error: unknown): string | undefined {
  const code = (error as SdkFailure | undefined)?.serviceCode;
  return typeof code === 'string' ? code : undefined;
}

/** True when a failed attempt may succeed when sent again. */
export function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return true; // network failure or timeout
  // A 429 is retried with or without OCI's TooManyRequests code (the SDK's own retrier needs the
  // code); 409 only for IncorrectState, as the SDK does.
  return status === 429 || status >= 500 || (status === 409 && serviceCodeOf(error) === 'IncorrectState');
}

/** What the user can do about a status. */
function advice(status: number, profile: string): string {
  switch (status) {
    case 401:
      return `check the user, tenancy, fingerprint and key_file of profile ${profile} in the OCI config (the fingerprint must be the uploaded API key's) and that this computer's clock is right`;
    case 404:
      return 'check the name or OCID, and that the policies of the user allow reading it';
    case 429:
      return 'Oracle Cloud is limiting the request rate: try again later';
    default:
      return status >= 500
        ? 'Oracle Cloud had an internal problem: try again later, and give the request id to Oracle support if it persists'
        : 'check the request values; give the request id to Oracle support if they are right';
  }
}

/** Turns a failed OCI call into an {@link OciServiceError} (an `OcneError` passes through). */
export function ociError(
  error: unknown,
  context: { operation: string; attempts: number; timedOut: boolean; profile: string; endpoint?: string },
): OcneError {
  if (isOcneError(error)) return error;
  const { operation, attempts, profile } = context;
  const status = statusOf(error);
  const sdk = error as SdkFailure | undefined;
  const message = typeof sdk?.message === 'string' ? sdk.message : String(error);
  if (status === undefined) {
    const where = context.endpoint ? ` (${context.endpoint})` : '';
    return context.timedOut
      ? new OciServiceError(
          'OCNE_OCI_TIMEOUT',
          `${operation} got no answer from Oracle Cloud${where} in time, ${attempts} attempt(s): check the network or proxy, or try again later`,
          { operation, attempts, cause: error },
        )
      : new OciServiceError(
          'OCNE_OCI_UNREACHABLE',
          `${operation} could not reach Oracle Cloud${where} after ${attempts} attempt(s): ${message}. Check the region, the network and any proxy`,
          { operation, attempts, cause: error },
        );
  }
  const serviceCode = serviceCodeOf(error);
  const requestId = typeof sdk?.opcRequestId === 'string' ? sdk.opcRequestId : undefined;
  const code: OcneErrorCode =
    status === 401
      ? 'OCNE_OCI_AUTH_FAILED'
      : status === 404
        ? 'OCNE_OCI_NOT_FOUND'
        : status === 429
          ? 'OCNE_OCI_THROTTLED'
          : 'OCNE_OCI_REQUEST_FAILED';
  return new OciServiceError(
    code,
    `${operation} failed: ${status} ${serviceCode ?? 'None'}: ${message} (opc-request-id ${requestId ?? 'none'}` +
      `${attempts > 1 ? `, ${attempts} attempts` : ''}). What to do: ${advice(status, profile)}`,
    {
      operation,
      status,
      attempts,
      cause: error,
      ...(serviceCode === undefined ? {} : { serviceCode }),
      ...(requestId === undefined ? {} : { requestId }),
    },
  );
}
