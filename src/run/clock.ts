/**
 * Time as the runner sees it: the current time, sleeping (for backoff) and
 * ticking (for heartbeats). The system clock in production; a fake clock in
 * the runner's unit tests, so retries, backoff and heartbeats run in
 * microseconds without real waits.
 */

/** A source of time. All values in ms (epoch ms for {@link Clock.now}). */
export interface Clock {
  /** Epoch ms. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until the returned function is called. The timer must not keep the process alive. */
  every(ms: number, fn: () => void): () => void;
}

/** The real clock: `Date.now`, `setTimeout`, `setInterval` (unref'd). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done);
    });
  },
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
