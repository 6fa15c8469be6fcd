/**
 * Work of a start that runs at once (the providers beside the images, one image per
 * architecture), stopped together: nothing runs on after a failure is reported.
 */

/**
 * Runs one task per item at once. The first failure stops the others (through the signal each
 * gets) and is thrown once they have settled.
 */
export async function allOrNothing<T, R>(
  items: readonly T[],
  signal: AbortSignal,
  task: (item: T, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const stop = new AbortController();
  const scoped = AbortSignal.any([signal, stop.signal]);
  const runs = items.map((item) => task(item, scoped));
  try {
    return await Promise.all(runs);
  } catch (error) {
    stop.abort(error);
    await Promise.allSettled(runs);
    throw error;
  }
}
