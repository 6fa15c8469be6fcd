/**
 * `Operation<T>`: what long SDK calls return. Await it for the result; iterate it (or pass
 * `onEvent`) for the events; abort it through `signal` or `cancel()`.
 */
import { isOcneError, OcneError } from './errors.js';
import type { EventInput, EventSink, OcneEvent } from './events.js';

/** A running operation. */
export interface Operation<T> extends PromiseLike<T>, AsyncIterable<OcneEvent> {
  /** Aborts when the operation is cancelled (by `cancel()` or the caller's signal). */
  readonly signal: AbortSignal;
  /** Asks the operation to stop; it then rejects with an `OCNE_CANCELLED` error. */
  cancel(reason?: string): void;
  /** Every event so far. */
  readonly events: readonly OcneEvent[];
  /** Calls `listener` for every later event; returns a function that removes it. */
  onEvent(listener: (event: OcneEvent) => void): () => void;
  /** The result as a real Promise (for `Promise.all`, `.catch`, `.finally`). */
  promise(): Promise<T>;
}

/** Options every operation takes. */
export interface OperationOptions {
  signal?: AbortSignal;
  /** Receives every event, synchronously, in order. */
  onEvent?: (event: OcneEvent) => void;
}

/** What the code of an operation gets. */
export interface OperationContext {
  readonly signal: AbortSignal;
  readonly emit: EventSink;
}

function errorInfo(error: unknown): { code: string; message: string } {
  if (isOcneError(error)) return { code: error.code, message: error.message };
  return { code: 'OCNE_ERROR', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Starts `run` at once and returns it as an {@link Operation}. Every operation ends with one
 * `done` event. A rejection never goes unhandled: callers that ignore the result lose nothing.
 */
export function startOperation<T>(
  run: (context: OperationContext) => Promise<T>,
  options: OperationOptions = {},
): Operation<T> {
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const events: OcneEvent[] = [];
  const listeners = new Set<(event: OcneEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);
  const waiters = new Set<() => void>();
  let finished = false;

  const emit: EventSink = (input: EventInput) => {
    if (finished) return;
    const event = { ...input, seq: events.length + 1, timestamp: new Date().toISOString() } as OcneEvent;
    events.push(event);
    if (event.type === 'done') finished = true;
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break the operation or the other listeners.
      }
    }
    for (const wake of [...waiters]) wake();
  };

  const promise = (async () => {
    // Let the caller attach listeners and iterators before the first event.
    await Promise.resolve();
    try {
      signal.throwIfAborted();
      const result = await run({ signal, emit });
      emit({ type: 'done', ok: true });
      return result;
    } catch (error) {
      const wrapped =
        signal.aborted && !isOcneError(error)
          ? new OcneError(
              'OCNE_CANCELLED',
              `the operation was cancelled${signal.reason ? `: ${String(signal.reason)}` : ''}`,
              {
                cause: error,
              },
            )
          : error;
      emit({ type: 'done', ok: false, error: errorInfo(wrapped) });
      throw wrapped;
    }
  })();
  promise.catch(() => {});

  return {
    signal,
    events,
    cancel(reason?: string) {
      controller.abort(reason ?? 'cancelled');
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    promise: () => promise,
    // biome-ignore lint/suspicious/noThenProperty: an Operation is awaitable on purpose.
    then(onfulfilled, onrejected) {
      return promise.then(onfulfilled, onrejected);
    },
    async *[Symbol.asyncIterator]() {
      let index = 0;
      for (;;) {
        while (index < events.length) {
          const event = events[index++]!;
          yield event;
          if (event.type === 'done') return;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
        });
      }
    },
  };
}
