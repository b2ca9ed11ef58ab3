/**
 * Waiting for a container to stop without hanging when the engine goes away.
 *
 * `POST /containers/{id}/wait` is a long poll: the engine sends the response
 * headers at once and the body when the container stops. When the connection
 * is lost in between (the engine stopped, crashed, or its socket went away),
 * docker-modem never settles the call: it listens for errors on the request
 * only, and a response cut short emits none. So the wait is watched: when the
 * container's output stream ends (the container exited, or the connection
 * went with the engine) and every {@link EXIT_CHECK_INTERVAL_MS} while it
 * runs, the container is inspected. An engine that cannot be reached, or does
 * not answer within {@link EXIT_CHECK_TIMEOUT_MS}, ends the wait with
 * {@link EngineUnavailableError}; a container the engine reports stopped while
 * the wait still has not answered a moment later ends it with the exit code
 * from inspect.
 */

import type Dockerode from 'dockerode';
import { EngineUnavailableError } from '../types.js';
import { engineLostError, statusOf } from './api.js';
import type { DockerEngine } from './engine.js';

/** ms between checks of a running container (one `inspect` each). */
export const EXIT_CHECK_INTERVAL_MS = 5000;
/** ms a check's `inspect` may take before the engine counts as gone. */
export const EXIT_CHECK_TIMEOUT_MS = 30_000;
/** ms after the output stream ends before the first check: a container that exited is answered by the wait first. */
const OUTPUT_END_CHECK_DELAY_MS = 200;
/** ms the wait gets to answer once inspect has seen the container stopped (or gone). */
const STOPPED_GRACE_MS = 1000;

/** Options of {@link waitForExit}. */
export interface WaitForExitOptions {
  engine: DockerEngine;
  container: Dockerode.Container;
  /** What runs in the container, for messages: `step "build"`, `service "db"`. */
  what: string;
  /** Settles when the container's attached output stream ends. */
  outputEnded: Promise<unknown>;
  /** Stops watching: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Default {@link EXIT_CHECK_INTERVAL_MS}. */
  checkIntervalMs?: number;
  /** Default {@link EXIT_CHECK_TIMEOUT_MS}. */
  checkTimeoutMs?: number;
}

/**
 * Waits until the container stops and resolves with its exit code (the
 * engine's `StatusCode`, or `State.ExitCode` when the wait's connection was
 * lost but the engine still answers).
 *
 * @throws EngineUnavailableError ({@link engineLostError}) when the engine
 *   cannot be reached or does not answer a check within `checkTimeoutMs`.
 * @throws the engine's API error when the wait fails otherwise, or when the
 *   container is gone (404) and the wait did not answer.
 * @throws the signal's reason when `signal` aborts first.
 */
export function waitForExit(options: WaitForExitOptions): Promise<{ exitCode: number }> {
  const { engine, container, what, signal } = options;
  const intervalMs = options.checkIntervalMs ?? EXIT_CHECK_INTERVAL_MS;
  const checkTimeoutMs = options.checkTimeoutMs ?? EXIT_CHECK_TIMEOUT_MS;
  const abortWait = new AbortController();

  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let checking = false;
    /** Set once a check saw the container stopped or gone; the next one decides. */
    let stoppedSeen = false;

    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Frees the wait's connection when it has not answered (a no-op otherwise).
      abortWait.abort();
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    const schedule = (ms: number): void => {
      if (settled) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check(), ms);
    };

    const check = async (): Promise<void> => {
      if (settled || checking) return;
      checking = true;
      let next = intervalMs;
      try {
        const info = await engine.call(() => container.inspect(), { timeoutMs: checkTimeoutMs });
        if (!info.State.Running) {
          if (stoppedSeen) {
            finish(() => resolve({ exitCode: info.State.ExitCode }));
            return;
          }
          stoppedSeen = true;
          next = STOPPED_GRACE_MS;
        }
      } catch (error) {
        if (error instanceof EngineUnavailableError) {
          finish(() => reject(engineLostError(engine, `${what} was running`, error)));
          return;
        }
        if (statusOf(error) === 404) {
          if (stoppedSeen) {
            finish(() => reject(error));
            return;
          }
          stoppedSeen = true;
          next = STOPPED_GRACE_MS;
        }
        // Any other answer (a 500) shows the engine is there: keep waiting.
      } finally {
        checking = false;
      }
      schedule(next);
    };

    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    engine
      .call(() => container.wait({ abortSignal: abortWait.signal }), { timeoutMs: null })
      .then(
        (result: { StatusCode: number }) => finish(() => resolve({ exitCode: result.StatusCode })),
        (error: unknown) =>
          finish(() =>
            reject(
              error instanceof EngineUnavailableError
                ? engineLostError(engine, `${what} was running`, error)
                : error,
            ),
          ),
      );
    options.outputEnded.then(
      () => schedule(OUTPUT_END_CHECK_DELAY_MS),
      () => schedule(OUTPUT_END_CHECK_DELAY_MS),
    );
    schedule(intervalMs);
  });
}
