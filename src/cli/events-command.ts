/**
 * `agent events RUN [FILE]`: a run's stored event stream, the audit log.
 * `--json` prints each stored event as one line, `JSON.stringify` of the
 * event exactly as reporters received it, the same bytes `agent run --output
 * json` printed live; otherwise the plain lines of `agent run --output
 * plain`. `--follow` keeps reading (every 200 ms) until the run's session
 * ends (`run.finished`) or its runner is gone.
 */

import type { StoredEvent } from '../core/events.js';
import { formatEventPlain } from '../report/plain.js';
import type { StateStore } from '../store/types.js';
import { type StdoutWatch, watchStdout } from './closed-stdout.js';
import { type CliIo, ExitCode } from './common.js';
import {
  FOLLOW_POLL_MS,
  findRun,
  runsWithLiveLease,
  type StoreOptions,
  sleepUnlessAborted,
  splitFileArgument,
  withExistingStore,
} from './read-store.js';

/** Options of `agent events`, as commander parses them. */
export interface EventsOptions extends StoreOptions {
  json?: boolean;
  follow?: boolean;
}

/** Events read from the store at a time. */
const PAGE = 1000;

/** Runs `agent events`; resolves with the exit code. @throws CliError */
export async function eventsCommand(
  runId: string,
  rest: (string | undefined)[],
  opts: EventsOptions,
  io: CliIo,
): Promise<number> {
  const { file } = splitFileArgument(rest, 0, 'agent events RUN [FILE] [--json] [--follow]');
  const watch = watchStdout(io);
  return withExistingStore(file, opts, io, async (store) => {
    const run = await findRun(store, runId);
    const print = (e: StoredEvent) => {
      if (opts.json) io.stdout.write(`${JSON.stringify(e)}\n`);
      else for (const line of formatEventPlain(e, io.cwd)) io.stdout.write(`${line}\n`);
    };
    let last = await drain(store, run.id, 0, print, watch);
    if (!opts.follow) return ExitCode.ok;
    for (;;) {
      if (watch.closed() || last.event?.type === 'run.finished') return ExitCode.ok;
      // Liveness before reading: what is read after the runner is seen gone is all there is.
      const live = (await runsWithLiveLease(store)).has(run.id);
      last = await drain(store, run.id, last.seq, print, watch, last.event);
      if (!live) return ExitCode.ok;
      await sleepUnlessAborted(FOLLOW_POLL_MS, watch.signal);
    }
  });
}

/** Prints every event after `afterSeq`, page by page; resolves with the last one seen. */
async function drain(
  store: StateStore,
  runId: string,
  afterSeq: number,
  print: (e: StoredEvent) => void,
  watch: StdoutWatch,
  previous?: StoredEvent,
): Promise<{ seq: number; event: StoredEvent | undefined }> {
  let seq = afterSeq;
  let event = previous;
  for (;;) {
    if (watch.closed()) break;
    const page = await store.getEvents(runId, { afterSeq: seq, limit: PAGE });
    for (const e of page) {
      if (watch.closed()) break;
      print(e);
      seq = e.seq;
      event = e;
    }
    if (page.length < PAGE) break;
  }
  return { seq, event };
}
