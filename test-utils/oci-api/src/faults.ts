/**
 * Fault rules of the OCI API server: a test switches them on to see what its client does with a
 * slow, throttled, failing or vanishing service. A rule matches requests by operation name (the
 * SDK's operation names: `PutObject`, `UploadPart`, `ListCompartments`…), method or path, on
 * chosen occurrences (`nth`) or a number of times, and acts before the handler runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Which requests a rule applies to; every given field must match. */
export interface FaultMatch {
  readonly operation?: string | readonly string[];
  readonly method?: string;
  readonly path?: RegExp;
  /** Only the n-th matching requests (1-based, counted from when the rule was added). */
  readonly nth?: readonly number[];
  /** At most this many times. */
  readonly times?: number;
}

/** What a rule does to a matching request. */
export interface FaultAction {
  /** Waits this long before handling the request. */
  readonly latencyMs?: number;
  /** Answers with this status instead of handling the request. */
  readonly status?: number;
  /** The body's `code` (default: OCI's code for the status); `null` sends an empty body. */
  readonly code?: string | null;
  readonly message?: string;
  /** Reads this many bytes of the body, then drops the connection (0: at once). */
  readonly resetAfterBytes?: number;
  /** Never answers (the connection stays open until the client gives up or the server closes). */
  readonly hang?: boolean;
  /** For CreateImage: the import's work request fails with this error. */
  readonly failImport?: { readonly code: string; readonly message: string };
}

/** A rule as a test adds it. */
export type FaultRule = FaultMatch & FaultAction;

/** A rule once added. */
export interface FaultHandle {
  /** How many requests it acted on. */
  readonly hits: number;
  remove(): void;
}

interface ActiveRule {
  readonly rule: FaultRule;
  seen: number;
  hits: number;
}

/** The default error code OCI sends with a status. */
export function defaultCode(status: number): string {
  switch (status) {
    case 400:
      return 'InvalidParameter';
    case 401:
      return 'NotAuthenticated';
    case 404:
      return 'NotAuthorizedOrNotFound';
    case 409:
      return 'Conflict';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    default:
      return status >= 500 ? 'InternalServerError' : 'InvalidParameter';
  }
}

/** The rule set, and the server-wide bandwidth cap on request bodies. */
export class Faults {
  readonly #rules: ActiveRule[] = [];
  #bytesPerSecond: number | undefined;
  #nextFree = 0;
  /** How late the last wait woke (ms), credited to the next chunk. */
  #overslept = 0;

  /** Adds a rule after the existing ones (the first rule that matches acts). */
  add(rule: FaultRule): FaultHandle {
    const active: ActiveRule = { rule, seen: 0, hits: 0 };
    this.#rules.push(active);
    return {
      get hits() {
        return active.hits;
      },
      remove: () => {
        const index = this.#rules.indexOf(active);
        if (index >= 0) this.#rules.splice(index, 1);
      },
    };
  }

  /** Removes every rule and the bandwidth cap. */
  clear(): void {
    this.#rules.length = 0;
    this.#bytesPerSecond = undefined;
  }

  /** Caps the bytes per second of all request bodies together (undefined: no cap). */
  setBandwidth(bytesPerSecond: number | undefined): void {
    this.#bytesPerSecond = bytesPerSecond;
    this.#nextFree = 0;
    this.#overslept = 0;
  }

  /** @internal The rule acting on a request, if any. */
  match(operation: string, method: string, path: string): FaultRule | undefined {
    for (const active of this.#rules) {
      const { rule } = active;
      if (rule.operation !== undefined) {
        const names = typeof rule.operation === 'string' ? [rule.operation] : rule.operation;
        if (!names.includes(operation)) continue;
      }
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (rule.path !== undefined && !rule.path.test(path)) continue;
      active.seen += 1;
      if (rule.nth !== undefined && !rule.nth.includes(active.seen)) continue;
      if (rule.times !== undefined && active.hits >= rule.times) continue;
      active.hits += 1;
      return rule;
    }
    return undefined;
  }

  /** @internal Waits until `bytes` more fit under the bandwidth cap. */
  async throttle(bytes: number): Promise<void> {
    const rate = this.#bytesPerSecond;
    if (rate === undefined) return;
    const now = Date.now();
    // A little burst (50 ms worth) so that pacing stays smooth with 64 KiB socket chunks; and the
    // time this server's own last wait overslept (a busy event loop wakes timers late), which the
    // link did not cost: without it the cap shrinks with the machine's load.
    const start = Math.max(now - 50 - this.#overslept, this.#nextFree);
    this.#nextFree = start + (bytes / rate) * 1000;
    const wait = this.#nextFree - now;
    if (wait <= 0) return;
    const until = this.#nextFree;
    await sleep(wait);
    this.#overslept = Math.min(1000, Math.max(0, Date.now() - until));
  }
}
