/**
 * The shape of dockerode's errors and small helpers over it: the engine's
 * HTTP status, its own message, whether an error means the engine could not
 * be reached at all, and the error for an engine lost mid-operation.
 */

import { EngineUnavailableError } from '../types.js';
import type { DockerEngine } from './engine.js';

/**
 * ms a short engine call (inspect, create, start, remove, network and image
 * calls) may take before the engine counts as gone. Generous: such calls
 * answer in well under a second on a healthy engine, a few seconds on a busy
 * one.
 */
export const DEFAULT_ENGINE_CALL_TIMEOUT_MS = 60_000;

/** The shape of dockerode's errors: the engine's HTTP status and JSON body. */
export interface DockerApiError extends Error {
  statusCode?: number;
  json?: { message?: string } | null;
  reason?: string;
  code?: string;
  syscall?: string;
}

/** The engine's HTTP status of a failed call, or undefined when there was no answer. */
export function statusOf(error: unknown): number | undefined {
  return (error as DockerApiError | undefined)?.statusCode;
}

/** The engine's own message for an API error (`No such image: x`), else the error's message. */
export function apiMessage(error: unknown): string {
  const e = error as DockerApiError;
  const raw = e?.json?.message ?? e?.message ?? String(error);
  // Streaming calls (pull, build) only carry `(HTTP code 500) server error - <message>`.
  const message = raw.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  return message.split('\n')[0] ?? message;
}

/** Error codes of a connection to the engine that failed or broke (Node's `net` and `http`). */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  // Also `socket hang up` and a response cut short (`aborted`).
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
]);

/**
 * True for errors that mean the engine could not be reached or the
 * connection to it broke: any failure to connect (ENOENT or ECONNREFUSED on
 * the socket, ...), a reset, `socket hang up`, EPIPE. Never for an answer of
 * the engine (those have a `statusCode`).
 */
export function isConnectionError(error: unknown): boolean {
  const e = error as DockerApiError | undefined;
  if (!e || typeof e !== 'object' || e.statusCode !== undefined) return false;
  if (e.syscall === 'connect') return true;
  return CONNECTION_ERROR_CODES.has(e.code ?? '');
}

/** Runs `fn` ignoring the engine's "already gone" answers (404 no such, 304 not modified, 409 in progress). */
export async function ignoreGone(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    const status = statusOf(error);
    if (status === 404 || status === 304 || status === 409) return false;
    throw error;
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/**
 * The {@link EngineUnavailableError} for an engine lost in the middle of
 * something: `the Docker engine at <address> went away while <activity>
 * (<cause>)`, e.g. `... while step "build" was running (connect ENOENT
 * /var/run/docker.sock)`, with a hint to resume the run once the engine is
 * back. `cause` is the connection error (an EngineUnavailableError's own
 * `cause` is used when it has one); it is kept as the result's `cause`.
 */
export function engineLostError(
  engine: DockerEngine,
  activity: string,
  cause: unknown,
): EngineUnavailableError {
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  const reason = (inner instanceof Error ? inner.message : String(inner)).split('\n')[0];
  const error = new EngineUnavailableError(
    `the Docker engine at ${engine.address} went away while ${activity} (${reason})`,
    'start Docker again (or set DOCKER_HOST), then continue the run with `agent run --resume`',
  );
  error.cause = cause;
  return error;
}
