/**
 * `agent report [RUN] [FILE] --html OUT`: a run's report, built from the
 * state store alone (any run, finished or interrupted), written to a file.
 * RUN defaults to the newest run of the store, as `agent status` does.
 */

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, type CliIo, ExitCode } from './common.js';
import { findRun, type StoreOptions, splitFileArgument, withExistingStore } from './read-store.js';

/** Options of `agent report`, as commander parses them. */
export interface ReportOptions extends StoreOptions {
  /** Where to write the HTML page. */
  html?: string;
}

const USAGE = 'agent report [RUN] [FILE] --html OUT';

/** Registers `agent report` on `program`; its action hands its exit code to `setExit`. */
export function registerReportCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('report')
    .description(
      'write a run (default: the newest) as one self-contained HTML page: status, inputs, graph, timeline, logs',
    )
    .argument('[run]', 'run id (default: the newest run of the store)')
    .argument('[file]', 'workflow file whose store to read (default: agent.yaml)')
    .option('--html <out>', 'write the HTML report to OUT')
    .option(
      '--state <path>',
      'state database (default: .agentfile/state.db beside the file; env AGENTFILE_STATE)',
    )
    .action(async (run: string | undefined, file: string | undefined, opts: ReportOptions) => {
      setExit(await reportCommand([run, file], opts, io));
    });
}

/** Runs `agent report`; resolves with the exit code. @throws CliError */
export async function reportCommand(
  args: (string | undefined)[],
  opts: ReportOptions,
  io: CliIo,
): Promise<number> {
  const { names, file } = splitFileArgument(args, 1, USAGE);
  if (opts.html === undefined) {
    throw new CliError(
      'say where to write the report: --html OUT',
      ExitCode.invalid,
      `usage: ${USAGE}`,
    );
  }
  const out = resolve(io.cwd, opts.html);
  const { htmlReportOf, writeReportFile } = await import('../report/html/index.js');
  const html = await withExistingStore(file, opts, io, async (store) => {
    const run = await findRun(store, names[0]);
    return (await htmlReportOf(store, run.id)) as string;
  });
  try {
    writeReportFile(out, html);
  } catch (error) {
    throw new CliError((error as Error).message, ExitCode.unavailable, 'check the --html path');
  }
  return ExitCode.ok;
}
