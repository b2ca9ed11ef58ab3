/**
 * The timeout and cancellation of one attempt, shared by the process and
 * Docker executors: whichever of the deadline and the abort signal comes
 * first calls `stop` once and is remembered, so the result can say
 * `timedOut` or `cancelled` (execa's model: reasons as data).
 */

/** Options of {@link watchAttempt}. */
export interface WatchAttemptOptions {
  /** Deadline in ms from now; undefined: none. */
  timeoutMs?: number;
  /** Aborting it cancels the attempt. Already aborted: cancelled at once. */
  signal: AbortSignal;
  /** Starts stopping the attempt (idempotent on the caller's side). */
  stop: () => void;
  /** True once the attempt is stopping for another reason (e.g. it exited): neither cause is recorded then. */
  stopping: () => boolean;
}

/** What stopped the attempt, read after it ended. Call `dispose()` when it ends. */
export interface AttemptWatch {
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  dispose(): void;
}

/** Starts watching; see {@link WatchAttemptOptions}. */
export function watchAttempt(options: WatchAttemptOptions): AttemptWatch {
  const state = { timedOut: false, cancelled: false };
  const timer =
    options.timeoutMs !== undefined
      ? setTimeout(() => {
          if (options.stopping()) return;
          state.timedOut = true;
          options.stop();
        }, options.timeoutMs)
      : undefined;
  const onAbort = (): void => {
    if (options.stopping()) return;
    state.cancelled = true;
    options.stop();
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  // It may have aborted while the attempt was being set up.
  if (options.signal.aborted) onAbort();
  return {
    get timedOut() {
      return state.timedOut;
    },
    get cancelled() {
      return state.cancelled;
    },
    dispose() {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
    },
  };
}
