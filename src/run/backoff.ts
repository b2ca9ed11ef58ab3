/**
 * Retry backoff as a pure function (graphile/worker's model): exponential,
 * capped, with optional jitter.
 */

/** Backoff parameters, all durations in ms. */
export interface BackoffOptions {
  /** Delay before the second attempt, in ms. */
  initialMs: number;
  /** Multiplier per further attempt (2 doubles the delay each time). */
  factor: number;
  /** Cap on any single delay, in ms. */
  maxMs: number;
  /**
   * "Equal jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"):
   * the delay is uniformly drawn from [d/2, d], so retries of many runners
   * spread out but never wait less than half the nominal delay. Default true.
   */
  jitter?: boolean;
}

/**
 * Delay in ms before attempt `attempt + 1`, after `attempt` (1-based) failed:
 * `min(maxMs, initialMs × factor^(attempt-1))`, then jittered.
 *
 * @param random a number in [0, 1), for tests; defaults to Math.random().
 * @throws RangeError when `attempt` < 1.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: number = Math.random(),
): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  const nominal = Math.min(options.maxMs, options.initialMs * options.factor ** (attempt - 1));
  if (options.jitter === false) return Math.round(nominal);
  return Math.round(nominal / 2 + (nominal / 2) * random);
}
