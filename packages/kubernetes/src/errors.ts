/**
 * Errors of Kubernetes access: the API's `Status` (reason, code, message) is kept; raw HTTP
 * bodies never reach callers.
 */
import { isOcneError, OcneError, type OcneErrorCode } from '@ocne/core';

/** The fields of a Kubernetes `Status` that callers may act on. */
export interface KubeStatus {
  /** HTTP status code, such as 404. */
  code: number;
  /** Machine reason, such as `NotFound`, `AlreadyExists`, `Conflict`, `Forbidden`. */
  reason: string;
  message: string;
}

/** An error from Kubernetes access. */
export class KubeError extends OcneError {
  /** The API's `Status`, when the server answered. */
  readonly status: KubeStatus | undefined;

  constructor(code: OcneErrorCode, message: string, options: { cause?: unknown; status?: KubeStatus } = {}) {
    super(code, message, 'cause' in options ? { cause: options.cause } : {});
    this.status = options.status;
  }

  override get name(): string {
    return 'KubeError';
  }
}

/** True when `error` is a {@link KubeError} with the given `Status` reason (`NotFound`, ...). */
export function hasReason(error: unknown, reason: string): boolean {
  return error instanceof KubeError && error.status?.reason === reason;
}

function statusOf(body: unknown, code: number): KubeStatus {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const s = (parsed ?? {}) as { kind?: string; reason?: string; message?: string; code?: number };
  const fallback =
    code === 404
      ? 'NotFound'
      : code === 409
        ? 'Conflict'
        : code === 401
          ? 'Unauthorized'
          : code === 403
            ? 'Forbidden'
            : 'Unknown';
  return {
    code: typeof s.code === 'number' ? s.code : code,
    reason: typeof s.reason === 'string' && s.reason !== '' ? s.reason : fallback,
    message: typeof s.message === 'string' ? s.message : `HTTP ${code}`,
  };
}

/**
 * Wraps whatever client-node or fetch threw into a {@link KubeError} that says what was being
 * done (`doing`, such as `applying Deployment kube-system/coredns`).
 */
export function wrapKubeError(error: unknown, doing: string): OcneError {
  if (isOcneError(error)) return error;
  const e = error as {
    code?: unknown;
    body?: unknown;
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e?.name === 'TimeoutError')
    return new KubeError('OCNE_KUBE_TIMEOUT', `${doing}: timed out`, { cause: error });
  if (e?.name === 'AbortError')
    return new KubeError('OCNE_CANCELLED', `${doing}: cancelled`, { cause: error });
  if (typeof e?.code === 'number') {
    const status = statusOf(e.body, e.code);
    const code = status.code === 401 || status.code === 403 ? 'OCNE_KUBE_UNAUTHORIZED' : 'OCNE_KUBE_API';
    return new KubeError(code, `${doing}: ${status.reason} (${status.code}): ${status.message}`, {
      cause: error,
      status,
    });
  }
  const detail = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
  return new KubeError('OCNE_KUBE_UNREACHABLE', `${doing}: the API server could not be reached: ${detail}`, {
    cause: error,
  });
}
