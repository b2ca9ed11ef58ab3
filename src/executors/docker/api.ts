/**
 * The shape of dockerode's errors and small helpers over it: the engine's
 * HTTP status, its own message, and whether an error means the engine could
 * not be reached at all.
 */

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

/** True for errors that mean the engine could not be reached (socket missing, refused, reset). */
export function isConnectionError(error: unknown): boolean {
  const e = error as DockerApiError | undefined;
  if (!e || typeof e !== 'object' || e.statusCode !== undefined) return false;
  if (e.syscall === 'connect') return true;
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(
    e.code ?? '',
  );
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
