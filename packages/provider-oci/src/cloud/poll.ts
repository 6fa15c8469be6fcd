/**
 * The one polling loop of the cloud layer, for what Oracle Cloud finishes on its own time (an
 * import's work request, an image an earlier start began importing): read, stop when settled, else
 * wait (a fixed interval when one is given, else 1 s doubling up to 10 s) until a deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link pollUntilSettled}. */
export interface PollOptions<T> {
  signal: AbortSignal;
  /** Between two reads; without it 1 s, doubling up to 10 s. */
  intervalMs: number | undefined;
  timeoutMs: number;
  /** The error when the deadline passes, given the last value read. */
  timedOut: (last: T) => Error;
}

/** Reads until `settled` holds for the value read, which it returns; the signal's reason when aborted. */
export async function pollUntilSettled<T>(
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  options: PollOptions<T>,
): Promise<T> {
  const { signal } = options;
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 1000;
  for (;;) {
    const value = await read();
    if (settled(value)) return value;
    if (Date.now() >= deadline) throw options.timedOut(value);
    const wait = Math.min(interval, Math.max(0, deadline - Date.now()));
    if (options.intervalMs === undefined) interval = Math.min(10_000, interval * 2);
    await sleep(wait, undefined, { signal }).catch((error: unknown) => {
      signal.throwIfAborted();
      throw error;
    });
  }
}
