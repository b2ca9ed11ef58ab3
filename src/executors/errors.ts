/**
 * Error classes of the executors beyond the contract's
 * `EngineUnavailableError` and `ServiceStartError` (see `types.ts`).
 */

import { ServiceStartError } from './types.js';

/** A command probe (`ServiceHandle.exec`) did not finish within its timeout. */
export class ExecTimeoutError extends Error {
  override name = 'ExecTimeoutError';
  constructor(
    /** The timeout that was exceeded, in ms. */
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/**
 * An image a service or step needs is neither present locally nor pullable.
 * Message: `image "x" not found locally and could not be pulled: <reason>`.
 */
export class ImageNotFoundError extends ServiceStartError {
  override name = 'ImageNotFoundError';
  constructor(
    message: string,
    /** What to do about it. */
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * `docker build` of an agent failed (e.g. a failing `RUN`). The message is
 * the builder's error followed by the last lines of build output.
 */
export class ImageBuildError extends ServiceStartError {
  override name = 'ImageBuildError';
  constructor(
    message: string,
    /** The last lines of build output (at most 20). */
    readonly output: string[],
  ) {
    super(message);
  }
}
