/**
 * The clock of the OCI API server's resource model: work requests and image imports move on it.
 * It follows real time until a test freezes it, and a test may move it forward at will, so an
 * import that "takes ten minutes" finishes the moment the test says so.
 */

/** The clock a test controls. */
export interface TestClock {
  /** Milliseconds since the epoch, as the model sees them. */
  now(): number;
  /** Moves the clock forward (frozen or not). */
  advance(ms: number): void;
  /** Stops the clock where it is (it then moves only through {@link TestClock.advance}). */
  freeze(): void;
  /** Lets it follow real time again, from where it is. */
  resume(): void;
}

/** A clock that starts at real time. */
export function createTestClock(): TestClock {
  let offset = 0;
  let frozenAt: number | undefined;
  return {
    now: () => frozenAt ?? Date.now() + offset,
    advance(ms) {
      if (frozenAt !== undefined) frozenAt += ms;
      else offset += ms;
    },
    freeze() {
      frozenAt ??= Date.now() + offset;
    },
    resume() {
      if (frozenAt === undefined) return;
      offset = frozenAt - Date.now();
      frozenAt = undefined;
    },
  };
}
