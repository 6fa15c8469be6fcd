/**
 * Bounded concurrency: run an async function over items, at most N at a time, and collect the
 * errors instead of stopping at the first one (unless asked to). Shared by the requests that go
 * out in parallel: a cluster move (`@ocne/capi`) and the applies of one ordering rank
 * (`@ocne/kubernetes`).
 */

/** Options of {@link pool}. */
export interface PoolOptions {
  /**
   * Start no further item after an error or once {@link PoolOptions.stop} answers true. The items
   * already running finish either way: a half-sent request is not abandoned.
   */
  failFast: boolean;
  /** Asked before each item starts (with `failFast`): true stops starting new items, e.g. on a cancellation. */
  stop?: () => boolean;
}

/**
 * Runs `fn` on every item, at most `limit` (at least 1) at a time, in the order of `items`. Returns
 * the errors the calls threw (empty when all succeeded), in the order they happened; it never rejects.
 */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  options: PoolOptions,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (options.failFast && (errors.length > 0 || options.stop?.())) return;
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return errors;
}
