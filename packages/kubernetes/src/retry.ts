/**
 * The one retry policy of the requests this package sends to an API server, for both ways it
 * sends them: {@link KubeClient}'s methods (through `@kubernetes/client-node`) and
 * {@link KubeRestClient} (plain REST). Neither retries anything else, so no request is retried twice
 * over.
 *
 * - Transient failures are retried: the answers 429, 500, 502, 503 and 504, a dropped or refused
 *   connection, and an attempt that got no answer in time.
 * - The delay doubles from 100 ms (with jitter, up to 5 s), unless the answer carries a
 *   `Retry-After` header (seconds or an HTTP date), which is honoured up to 30 s.
 * - The caller's signal stops it at once, also during a delay, as `OCNE_CANCELLED`.
 * - A request that must not be repeated blindly (a create) is retried only when the server surely
 *   did not act on it: 429, 503, a refused connection.
 * - A retried write whose first answer was lost may meet its own effect: a PUT then fails with 409
 *   Conflict (the write landed; the retry carries the old resourceVersion). The caller then reads
 *   the object, and when what is stored is what was sent ({@link storedAsSent}), that is success.
 *
 * Errors leave as they always did: a {@link KubeError} from {@link wrapKubeError} that says what was
 * being done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { hasReason, KubeError, wrapKubeError } from './errors.js';

/** Answers worth another attempt. */
const TRANSIENT_STATUS: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
/** Answers that say the server did not act on the request, so even a create may be repeated. */
const NOT_PROCESSED_STATUS: ReadonlySet<number> = new Set([429, 503]);
/** Connection failures (node:net, node:http and undici codes) worth another attempt. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** Connection failures before anything was sent. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Defaults of {@link RetryOptions}. */
const RETRY_DEFAULTS: {
  readonly attempts: number;
  readonly timeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetryAfterMs: number;
} = {
  attempts: 5,
  timeoutMs: 60_000,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

/** Options of {@link withRetries}. */
export interface RetryOptions<T> {
  /** What is being done, for errors: `reading ConfigMap kube-system/kubeadm-config`. */
  doing: string;
  /** The caller's signal: stops the attempts and the delays between them. */
  signal?: AbortSignal | undefined;
  /** Attempts, the first included. @defaultValue 5 */
  attempts?: number;
  /** How long one attempt may take before it counts as failed (and is retried). @defaultValue 60000 */
  timeoutMs?: number;
  /**
   * Whether the request may be repeated after a failure whose outcome is unknown (a dropped
   * connection, a timeout, 500, 502, 504). False for a create: it is then retried only when the
   * server surely did not act on it. @defaultValue true
   */
  repeatable?: boolean;
  /**
   * Called when an attempt after the first fails with 409 Conflict, which may be the first
   * attempt's own write: `{ value }` ends the call with that value, `undefined` keeps the error.
   */
  afterConflict?: () => Promise<{ value: T } | undefined>;
}

/** What a failed attempt says about trying again. */
interface Verdict {
  /** Worth another attempt (for a repeatable request). */
  transient: boolean;
  /** The server surely did not act on the request. */
  notProcessed: boolean;
  /** The delay the server asked for, in ms. */
  retryAfterMs: number | undefined;
}

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
    e = e.cause as typeof e;
  }
  return codes;
}

/** How a raw failure (client-node's `ApiException`, a REST answer, a socket or fetch error) is retried. */
function verdictOf(error: unknown, timedOut: boolean): Verdict {
  const e = error as { code?: unknown; headers?: Record<string, string | string[] | undefined> } | undefined;
  if (typeof e?.code === 'number') {
    const header = e.headers?.['retry-after'];
    return {
      transient: TRANSIENT_STATUS.has(e.code),
      notProcessed: NOT_PROCESSED_STATUS.has(e.code),
      retryAfterMs: retryAfterMs(Array.isArray(header) ? header[0] : header),
    };
  }
  // Already reported (a kubeconfig that cannot be used, an answer that is not JSON): final.
  if (error instanceof KubeError) return { transient: false, notProcessed: false, retryAfterMs: undefined };
  // A socket or fetch error carries its code, or its cause does (fetch's `TypeError: fetch failed`).
  const codes = errorCodes(error);
  return {
    transient: timedOut || codes.some((c) => NETWORK_CODES.has(c)),
    notProcessed: codes.some((c) => NOT_SENT_CODES.has(c)),
    retryAfterMs: undefined,
  };
}

/**
 * The delay a `Retry-After` header asks for, in ms: delta seconds or an HTTP date (relative to
 * `now`); `undefined` when absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim() ?? '';
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The delay before attempt `attempt + 1`: the server's `Retry-After` (capped), else exponential backoff with jitter. */
function delayMs(attempt: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, RETRY_DEFAULTS.maxRetryAfterMs);
  const backoff = Math.min(RETRY_DEFAULTS.baseDelayMs * 2 ** (attempt - 1), RETRY_DEFAULTS.maxDelayMs);
  // Jitter: parallel requests that failed together do not all come back at the same moment.
  return backoff / 2 + (Math.random() * backoff) / 2;
}

/**
 * Runs `attempt` until it succeeds, retrying transient failures as the module description says.
 * `attempt` gets a signal that ends with the caller's signal or the attempt's time; it throws what
 * its client threw (raw errors are classified here). Throws a {@link KubeError}: the last attempt's
 * error wrapped with `doing`, `OCNE_KUBE_TIMEOUT` when the last attempt got no answer in time, or
 * `OCNE_CANCELLED` when the caller's signal stopped it.
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions<T>,
): Promise<T> {
  const { doing, signal: caller } = options;
  const attempts = Math.max(1, options.attempts ?? RETRY_DEFAULTS.attempts);
  const timeoutMs = options.timeoutMs ?? RETRY_DEFAULTS.timeoutMs;
  const cancelled = (cause: unknown) => new KubeError('OCNE_CANCELLED', `${doing}: cancelled`, { cause });
  for (let n = 1; ; n++) {
    if (caller?.aborted) throw cancelled(caller.reason);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
    let failure: unknown;
    try {
      return await attempt(signal);
    } catch (caught) {
      failure = caught;
    }
    if (caller?.aborted) throw cancelled(failure);
    const timedOut = timeout.aborted && typeof (failure as { code?: unknown })?.code !== 'number';
    const error = timedOut
      ? new KubeError('OCNE_KUBE_TIMEOUT', `${doing}: no answer in ${timeoutMs} ms`, { cause: failure })
      : wrapKubeError(failure, doing);
    if (n > 1 && options.afterConflict && hasReason(error, 'Conflict')) {
      const settled = await options.afterConflict();
      if (settled !== undefined) return settled.value;
    }
    const verdict = verdictOf(failure, timedOut);
    const again = verdict.transient && (options.repeatable !== false || verdict.notProcessed);
    if (!again || n >= attempts) throw error;
    try {
      await sleep(delayMs(n, verdict.retryAfterMs), undefined, caller ? { signal: caller } : {});
    } catch (caught) {
      throw cancelled(caught);
    }
  }
}

/** Metadata the API server sets on every write, which a retried write cannot match. */
const SERVER_SET_METADATA: ReadonlySet<string> = new Set([
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

const isEmpty = (value: unknown) =>
  value === undefined ||
  value === null ||
  (typeof value === 'object' && Object.keys(value as object).length === 0);

/** Every field of `sent` is in `stored` with the same value; `stored` may have more (server defaults). */
function contains(sent: unknown, stored: unknown): boolean {
  if (Array.isArray(sent)) {
    return (
      Array.isArray(stored) &&
      sent.length === stored.length &&
      sent.every((item, i) => contains(item, stored[i]))
    );
  }
  if (sent !== null && typeof sent === 'object') {
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return false;
    const s = stored as Record<string, unknown>;
    // The server leaves out empty maps, lists and nulls.
    return Object.entries(sent).every(([key, value]) =>
      isEmpty(value) ? isEmpty(s[key]) : contains(value, s[key]),
    );
  }
  return sent === stored;
}

/** Options of {@link storedAsSent}. */
export interface StoredAsSentOptions {
  /** The write went to the status subresource: the status is what it wrote, so it must match too. */
  status?: boolean;
}

/**
 * Whether the object the server stores is the one a write sent, ignoring what the server sets
 * (resourceVersion, generation, timestamps, managed fields) and the status (a write of the main
 * resource leaves it to the status subresource), and allowing fields the server defaulted. Used
 * after a retried PUT met 409 Conflict: true means the first attempt's write landed. A write of
 * the status subresource is compared by its status as well: otherwise a status write that did not
 * land would pass for one that did. Managed fields are never compared: a PUT of an object as read
 * sends them back, and the server then adds its own entry.
 */
export function storedAsSent(sent: unknown, stored: unknown, options: StoredAsSentOptions = {}): boolean {
  if (sent === null || typeof sent !== 'object' || stored === null || typeof stored !== 'object')
    return false;
  const { status: sentStatus, metadata: sentMetadata, ...sentRest } = sent as Record<string, unknown>;
  const { status: storedStatus, metadata: storedMetadata, ...storedRest } = stored as Record<string, unknown>;
  const metadata = Object.fromEntries(
    Object.entries((sentMetadata ?? {}) as Record<string, unknown>).filter(
      ([key]) => !SERVER_SET_METADATA.has(key),
    ),
  );
  return (
    contains(sentRest, storedRest) &&
    contains(metadata, storedMetadata ?? {}) &&
    (!options.status || contains(sentStatus ?? {}, storedStatus ?? {}))
  );
}
