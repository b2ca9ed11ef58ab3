/**
 * A reading command's stdout may be closed before it is done: `agent runs |
 * head -1`, `agent events RUN --follow | grep -m1 finished`. Node ignores
 * SIGPIPE, so the next write fails with EPIPE, emitted as an `error` event on
 * the stream; unhandled, that event is a stack trace. {@link watchStdout}
 * handles it: the command ends quietly (git, docker and kubectl do the same),
 * and a command that loops (`--follow`) sees `signal` aborted and stops.
 */

import type { CliIo } from './common.js';

/** What {@link watchStdout} reports about stdout. */
export interface StdoutWatch {
  /** Aborted once stdout is closed: loops stop, nothing more is written. */
  readonly signal: AbortSignal;
  /** True once stdout is closed. */
  closed(): boolean;
}

/** Error codes of a write to a stdout whose reader went away. */
const CLOSED_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

const watched = new WeakMap<object, StdoutWatch>();

/**
 * Watches `io.stdout` for the error of a closed reader (EPIPE) and keeps it
 * from being thrown. One watch per stream, kept for the life of the process
 * (a late EPIPE after the command returned is also absorbed). Other write
 * errors (disk full behind `> file`) are absorbed too but written once to
 * stderr, since output was lost.
 */
export function watchStdout(io: CliIo): StdoutWatch {
  const existing = watched.get(io.stdout);
  if (existing) return existing;
  const controller = new AbortController();
  const watch: StdoutWatch = {
    signal: controller.signal,
    closed: () => controller.signal.aborted,
  };
  if (typeof io.stdout.on === 'function') {
    io.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (!controller.signal.aborted && !CLOSED_CODES.has(error.code ?? '')) {
        io.stderr.write(`agent: cannot write to stdout: ${error.message}\n`);
      }
      controller.abort();
    });
  }
  watched.set(io.stdout, watch);
  return watch;
}
