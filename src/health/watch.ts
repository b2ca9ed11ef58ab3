/**
 * The watch of a healthy service: while steps need it, its health check keeps
 * running at its interval and its exit is awaited, so a server that dies or
 * stops answering after it became healthy is noticed (Docker keeps running a
 * container's healthcheck for as long as it runs; Kubernetes' liveness probe).
 */

import type { HealthCheck } from '../config/model.js';
import type { ProbeResult } from './probe.js';
import { type Clock, safeProbe, systemClock, untilInterrupted } from './wait-healthy.js';

/** How watching a healthy service ended. */
export type WatchOutcome =
  /** `retries` probes in a row failed; `lastError` is the last one's reason. */
  | { status: 'unhealthy'; lastError: string; probes: number; consecutiveFailures: number }
  /** The service exited on its own. */
  | { status: 'exited'; exitCode: number | null }
  /** `signal` aborted: the service is being stopped (no step needs it any more, or the run ends). */
  | { status: 'stopped' };

/** Options of {@link watchHealthy}. */
export interface WatchOptions {
  /** The service's health check; undefined: only its exit is watched. */
  check: HealthCheck | undefined;
  /** Runs one probe; must respect the check's `timeoutMs` and never reject (as `probeOnce`). */
  probe: () => Promise<ProbeResult>;
  /** Resolves when the service exits on its own; rejects when its runtime goes away (the engine). */
  exited: Promise<{ exitCode: number | null }>;
  /** Aborting ends the watch with `stopped`. */
  signal: AbortSignal;
  /** Default: the real clock. */
  clock?: Clock;
  /** Called after every probe with the counted failures in a row (0 after a success). */
  onProbe?: (result: ProbeResult, consecutiveFailures: number) => void;
}

/**
 * Watches a service that just became healthy, with compose healthcheck
 * semantics after the start: a probe every `intervalMs` (the first one
 * `intervalMs` after it became healthy, the next `intervalMs` after the
 * previous one finished); `retries` consecutive failures (below 1 treated as
 * 1) make it `unhealthy`; a success resets the count. There is no start
 * period any more: every failure counts.
 *
 * An exit ends the watch at once (mid-probe or mid-interval), so a dead
 * service is noticed as soon as its runtime reports it; a service that stops
 * answering but keeps running is noticed after about `retries × intervalMs`
 * (plus the probes' own time, at most `timeoutMs` each).
 *
 * Resolves with how it ended; rejects only when `exited` rejects (the
 * engine went away) or a probe throws `EngineUnavailableError`. Abort wins
 * over exit when both happened.
 */
export async function watchHealthy(options: WatchOptions): Promise<WatchOutcome> {
  const { check, probe, exited, signal, onProbe } = options;
  const clock = options.clock ?? systemClock;
  if (signal.aborted) return { status: 'stopped' };

  const interrupt = new AbortController();
  let exit: { exitCode: number | null } | undefined;
  let lost: { error: unknown } | undefined;
  const onAbort = (): void => interrupt.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  exited.then(
    (info) => {
      exit = info;
      interrupt.abort();
    },
    (error: unknown) => {
      lost = { error };
      interrupt.abort();
    },
  );
  const interrupted = (): WatchOutcome | undefined => {
    if (signal.aborted) return { status: 'stopped' };
    if (lost !== undefined) throw lost.error;
    if (exit !== undefined) return { status: 'exited', exitCode: exit.exitCode };
    return undefined;
  };

  try {
    await Promise.resolve();
    if (check === undefined) {
      // Nothing to probe: wait for the exit or the stop.
      await new Promise<void>((resolve) => {
        if (interrupt.signal.aborted) return resolve();
        interrupt.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return interrupted() ?? { status: 'stopped' };
    }
    const retries = Math.max(1, check.retries);
    let probes = 0;
    let consecutiveFailures = 0;
    for (;;) {
      await clock.sleep(check.intervalMs, interrupt.signal).catch(() => undefined);
      const stop = interrupted();
      if (stop) return stop;
      const result = await untilInterrupted(safeProbe(probe), interrupt.signal);
      const stopDuringProbe = interrupted();
      if (stopDuringProbe || result === undefined) return stopDuringProbe ?? { status: 'stopped' };
      probes += 1;
      if (result.ok) {
        consecutiveFailures = 0;
        onProbe?.(result, 0);
        continue;
      }
      consecutiveFailures += 1;
      onProbe?.(result, consecutiveFailures);
      if (consecutiveFailures >= retries) {
        return { status: 'unhealthy', lastError: result.error, probes, consecutiveFailures };
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
