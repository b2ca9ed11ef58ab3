/**
 * `agent status [RUN] [FILE]`: one run (default the newest of the store)
 * with its steps and services, their attempts and durations, the first
 * failure and what an approval step waits for (`src/report/status.ts`
 * builds and formats it).
 */

import { buildRunStatus, formatRunStatus } from '../report/status.js';
import { watchStdout } from './closed-stdout.js';
import { type CliIo, ExitCode } from './common.js';
import { findRun, type StoreOptions, splitFileArgument, withExistingStore } from './read-store.js';

/** Options of `agent status`, as commander parses them. */
export interface StatusOptions extends StoreOptions {
  json?: boolean;
}

/** Runs `agent status`; resolves with the exit code. @throws CliError */
export async function statusCommand(
  args: (string | undefined)[],
  opts: StatusOptions,
  io: CliIo,
): Promise<number> {
  const { names, file } = splitFileArgument(args, 1, 'agent status [RUN] [FILE] [--json]');
  watchStdout(io);
  return withExistingStore(file, opts, io, async (store) => {
    const run = await findRun(store, names[0]);
    const now = Date.now();
    const [steps, attempts] = await Promise.all([
      store.getSteps(run.id),
      store.getAttempts(run.id),
    ]);
    const view = buildRunStatus({ run, steps, attempts, now });
    if (opts.json) {
      io.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    } else {
      for (const line of formatRunStatus(view, { cwd: io.cwd, now })) {
        io.stdout.write(`${line}\n`);
      }
    }
    return ExitCode.ok;
  });
}
