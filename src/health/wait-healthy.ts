/**
 * The probe loop: waits until a started service is healthy, with docker
 * compose health check semantics (see {@link HealthCheck} in the model).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthCheck } from '../config/model.js';
import { EngineUnavailableError } from '../executors/types.js';
import type { ProbeResult } from './probe.js';

/** Time source of the probe loop; a fake one makes the loop testable without waiting. */
export interface Clock {
  /** Current time in ms (any fixed origin). */
  now(): number;
  /** Resolves after `ms`; rejects (or resolves early) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The real clock: `performance.now()` and `timers/promises` `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    await sleep(ms, undefined, { signal });
  },
};

/** How waiting for a service ended. `probes` counts every probe run, start period included. */
export type HealthOutcome =
  | { status: 'healthy'; probes: number }
  | { status: 'unhealthy'; lastError: string; probes: number }
  | { status: 'exited'; exitCode: number | null; lastError?: string }
  | { status: 'cancelled' };

/** What {@link waitHealthy} tells `onProbe` about each probe. */
export interface ProbeInfo {
  /** 1-based probe number. */
  attempt: number;
  /** False for a failure inside the start period (it does not count toward `retries`). */
  counted: boolean;
  /** Counted failures in a row, this one included. */
  consecutiveFailures: number;
}

/** Options of {@link waitHealthy}. */
export interface WaitHealthyOptions {
  /** The service's health check; undefined: healthy once started (compose `service_started`). */
  check: HealthCheck | undefined;
  /** Runs one probe; must respect the check's `timeoutMs` itself (as {@link probeOnce} does) and never reject. */
  probe: () => Promise<ProbeResult>;
  /** Resolves when the service exits on its own; the wait then ends at once with `exited`. */
  exited?: Promise<{ exitCode: number | null }>;
  /** Aborting ends the wait with `cancelled`. */
  signal: AbortSignal;
  /** Default {@link systemClock}. */
  clock?: Clock;
  /** Called after every probe, e.g. to report failures. */
  onProbe?: (result: ProbeResult, info: ProbeInfo) => void;
}

/**
 * Waits until a service is healthy, following docker compose's health check
 * semantics (Docker's healthcheck monitor), with one documented difference:
 *
 * - the first probe runs right after start (Docker waits one interval first,
 *   which only delays a runner that is waiting on the service);
 * - the next probe starts `intervalMs` after the previous one finished;
 * - a failing probe that started within `startPeriodMs` of the start does
 *   not count; `retries` consecutive counted failures make the service
 *   `unhealthy` (`retries` below 1 is treated as 1);
 * - any successful probe, in the start period or not, makes it `healthy`;
 * - when `exited` resolves the wait ends with `exited` at once, mid-probe or
 *   mid-interval; aborting `signal` ends it with `cancelled` likewise.
 *
 * With probes that take no time, an always-failing service is declared
 * unhealthy at `ceil(startPeriodMs / intervalMs) × intervalMs + (retries - 1) × intervalMs`
 * after start: the first counted probe, then `retries - 1` more.
 *
 * The loop is a small state machine: probing → (healthy | counting a
 * failure → unhealthy | waiting an interval → probing), interrupted from any
 * state by exit or abort. Never rejects.
 */
export async function waitHealthy(options: WaitHealthyOptions): Promise<HealthOutcome> {
  const { check, probe, exited, signal, onProbe } = options;
  const clock = options.clock ?? systemClock;
  if (signal.aborted) return { status: 'cancelled' };
  if (check === undefined) return { status: 'healthy', probes: 0 };

  // Exit and abort both interrupt whatever the loop is waiting on.
  const interrupt = new AbortController();
  let exit: { exitCode: number | null } | undefined;
  // `exited` rejecting means the service's runtime itself is gone (the Docker
  // engine went away): that is not the service's health, it ends the wait
  // with the error.
  let lost: { error: unknown } | undefined;
  const onAbort = (): void => interrupt.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  exited?.then(
    (info) => {
      exit = info;
      interrupt.abort();
    },
    (error: unknown) => {
      lost = { error };
      interrupt.abort();
    },
  );

  const retries = Math.max(1, check.retries);
  const startedAt = clock.now();
  let probes = 0;
  let consecutiveFailures = 0;
  let lastError: string | undefined;

  /** The outcome when the wait was interrupted, if it was. Abort wins over exit. */
  const interrupted = (): HealthOutcome | undefined => {
    if (signal.aborted) return { status: 'cancelled' };
    if (lost !== undefined) throw lost.error;
    if (exit !== undefined) {
      return {
        status: 'exited',
        exitCode: exit.exitCode,
        ...(lastError !== undefined ? { lastError } : {}),
      };
    }
    return undefined;
  };

  try {
    // Let an `exited` that is already resolved be seen before the first probe.
    await Promise.resolve();
    for (;;) {
      const stop = interrupted();
      if (stop) return stop;

      // probing
      const probeStartedAt = clock.now();
      const result = await untilInterrupted(safeProbe(probe), interrupt.signal);
      const stopDuringProbe = interrupted();
      if (stopDuringProbe || result === undefined) {
        return stopDuringProbe ?? { status: 'cancelled' };
      }
      probes += 1;
      if (result.ok) {
        onProbe?.(result, { attempt: probes, counted: true, consecutiveFailures: 0 });
        return { status: 'healthy', probes };
      }

      // counting a failure
      lastError = result.error;
      const counted = probeStartedAt - startedAt >= check.startPeriodMs;
      if (counted) consecutiveFailures += 1;
      onProbe?.(result, { attempt: probes, counted, consecutiveFailures });
      if (consecutiveFailures >= retries) return { status: 'unhealthy', lastError, probes };

      // waiting an interval
      await clock.sleep(check.intervalMs, interrupt.signal).catch(() => undefined);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Runs a probe, turning a rejection (a bug in the probe) into a failed
 * result; an `EngineUnavailableError` (the engine went away) is rethrown.
 */
export async function safeProbe(probe: () => Promise<ProbeResult>): Promise<ProbeResult> {
  try {
    return await probe();
  } catch (error) {
    if (error instanceof EngineUnavailableError) throw error;
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Resolves with the promise's value, or undefined as soon as `signal` aborts. */
export function untilInterrupted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    });
  });
}
