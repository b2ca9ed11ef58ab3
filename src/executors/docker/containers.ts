/**
 * What container steps and docker services share: labels, grace periods,
 * the output stream, start failures, stopping and removing a container.
 */

import { Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { OutputSink } from '../output.js';
import { apiMessage, DEFAULT_ENGINE_CALL_TIMEOUT_MS, ignoreGone } from './api.js';
import type { DockerEngine } from './engine.js';

/** Label telling steps (`step`) from services (`service`) among a run's containers. */
export const LABEL_KIND = 'agentfile.kind';
/** Default grace between the stop signal and SIGKILL for a step container, in ms. */
export const DEFAULT_CONTAINER_STEP_GRACE_MS = 2000;
/** Default grace for stopping a service container, in ms (docker stop's default). */
export const DEFAULT_CONTAINER_SERVICE_GRACE_MS = 10_000;

/** `KEY=value` list for the engine. */
export function toEnvList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

/** Feeds a container's multiplexed output stream into a sink; resolves when the stream ends. */
export function pipeContainerOutput(
  engine: DockerEngine,
  stream: NodeJS.ReadWriteStream,
  sink: OutputSink,
): Promise<void> {
  const writable = (push: (chunk: Buffer) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        push(chunk);
        callback();
      },
    });
  engine.docker.modem.demuxStream(
    stream,
    writable((chunk) => sink.stdout.push(chunk)),
    writable((chunk) => sink.stderr.push(chunk)),
  );
  return new Promise((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.on('error', () => resolve());
  });
}

/**
 * `command not found: foo` for the runtime's "executable file not found",
 * `host port 8080 is already in use (port is already allocated)` for a
 * published port the engine cannot bind, else the engine's message.
 */
export function startFailure(error: unknown): string {
  const message = apiMessage(error);
  const taken = /Bind for [^ ]*:([0-9]+) failed: port is already allocated/.exec(message);
  if (taken) return `host port ${taken[1]} is already in use (port is already allocated)`;
  const notFound = /exec: "([^"]+)": executable file not found/.exec(message);
  if (notFound) return `command not found: ${notFound[1]}`;
  const noFile = /exec: "([^"]+)": stat [^:]+: no such file or directory/.exec(message);
  if (noFile) return `command not found: ${noFile[1]}`;
  return message;
}

/** Signal name for a container exit code above 128 (`137` → `SIGKILL`). */
export function signalOf(exitCode: number): string | undefined {
  if (exitCode === 137) return 'SIGKILL';
  if (exitCode === 143) return 'SIGTERM';
  if (exitCode === 130) return 'SIGINT';
  return undefined;
}

/**
 * Stops a container: its stop signal, then SIGKILL after `graceMs` (rounded
 * up to whole seconds). The call may take the grace plus
 * {@link DEFAULT_ENGINE_CALL_TIMEOUT_MS}.
 *
 * @throws EngineUnavailableError when the engine cannot be reached or does not answer.
 */
export async function stopContainer(
  engine: DockerEngine,
  container: Dockerode.Container,
  graceMs: number,
): Promise<void> {
  await engine.call(() => ignoreGone(() => container.stop({ t: Math.ceil(graceMs / 1000) })), {
    timeoutMs: graceMs + DEFAULT_ENGINE_CALL_TIMEOUT_MS,
  });
}

/**
 * Force-removes a container with its anonymous volumes, giving up after
 * `timeoutMs` (default {@link DEFAULT_ENGINE_CALL_TIMEOUT_MS}; callers that
 * know the engine is gone pass a short one). Never throws: leftovers are
 * found by label later ({@link DockerEngine.removeRunLeftovers}).
 */
export async function removeContainer(
  engine: DockerEngine,
  container: Dockerode.Container,
  timeoutMs: number = DEFAULT_ENGINE_CALL_TIMEOUT_MS,
): Promise<void> {
  try {
    await engine.call(() => ignoreGone(() => container.remove({ force: true, v: true })), {
      timeoutMs,
    });
  } catch {
    // Leftovers are found by label later (removeRunLeftovers).
  }
}

/** ms the cleanup of a container may take once the engine is known to be gone. */
export const LOST_ENGINE_CLEANUP_MS = 2000;

/** Destroys an attach stream (if any) so its connection cannot keep the process alive; never throws. */
export function destroyStream(stream: NodeJS.ReadableStream | undefined): void {
  const s = stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
  try {
    s?.destroy?.();
  } catch {
    // Already closed.
  }
}
