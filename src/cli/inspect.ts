/**
 * Commands that read runs from the state store, from any terminal, while a
 * run goes on or long after: `agent runs`, `status`, `logs`, `events`. None
 * of them creates a store where there is none, and a closed stdout (`agent
 * runs | head`) ends them quietly (`closed-stdout.ts`). Each command's code
 * is loaded when it runs.
 */

import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { type Command, Option } from 'commander';
import type { RunState } from '../core/status.js';
import { formatTable } from '../report/status.js';
import { formatMs } from '../run/format.js';
import { watchStdout } from './closed-stdout.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import type { EventsOptions } from './events-command.js';
import type { LogsOptions } from './logs-command.js';
import { openStore, statePathFor } from './state-store.js';
import type { StatusOptions } from './status-command.js';

const STATE_HELP =
  'state database (default: .agentfile/state.db beside the file; env AGENTFILE_STATE)';

/**
 * Registers `runs`, `status`, `logs` and `events` on `program`; each action
 * hands its exit code to `setExit`.
 */
export function registerInspectCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('runs')
    .description('list runs recorded in the state store, newest first')
    .argument('[file]', 'workflow file whose store to read', 'agent.yaml')
    .option('--state <path>', 'state database (default: .agentfile/state.db beside the file)')
    .option('-n, --limit <n>', 'how many runs', '20')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .addOption(new Option('--json', 'same as --format json').implies({ format: 'json' }))
    .option('-w, --workflow <name>', 'only runs of this workflow')
    .addOption(
      new Option('--status <status>', 'only runs in this state').choices([
        'queued',
        'running',
        'paused',
        'waiting',
        'succeeded',
        'failed',
        'cancelled',
        'interrupted',
      ]),
    )
    .action(async (file: string, opts: RunsOptions) => {
      setExit(await runsCommand(file, opts, io));
    });

  program
    .command('status')
    .description(
      'show a run (default: the newest): its steps and services, attempts, durations, the first failure, what it waits for',
    )
    .argument('[run]', 'run id (default: the newest run of the store)')
    .argument('[file]', 'workflow file whose store to read (default: agent.yaml)')
    .option('--state <path>', STATE_HELP)
    .option(
      '--json',
      'print the run, its steps with their attempts, firstFailure and waitingFor as JSON',
    )
    .action(async (run: string | undefined, file: string | undefined, opts: StatusOptions) => {
      const { statusCommand } = await import('./status-command.js');
      setExit(await statusCommand([run, file], opts, io));
    });

  program
    .command('logs')
    .description(
      "print a run's step and service output from its log files (stdout to stdout, stderr to stderr)",
    )
    .argument('<run>', 'run id, or the name of an agent or step (its newest run)')
    .argument('[step]', 'step or service (default: every one, in plan order)')
    .argument('[file]', 'workflow file whose store to read (default: agent.yaml)')
    .option('--state <path>', STATE_HELP)
    .option(
      '--attempt <n>',
      "only this attempt of STEP (1-based); alone, it prints the log's exact bytes",
    )
    .option(
      '-f, --follow',
      'keep printing as the step writes, until it ends (without STEP: until the run ends)',
    )
    .action(
      async (
        run: string,
        step: string | undefined,
        file: string | undefined,
        opts: LogsOptions,
      ) => {
        const { logsCommand } = await import('./logs-command.js');
        setExit(await logsCommand(run, [step, file], opts, io));
      },
    );

  program
    .command('events')
    .description("print a run's stored event stream (the audit log)")
    .argument('<run>', 'run id')
    .argument('[file]', 'workflow file whose store to read (default: agent.yaml)')
    .option('--state <path>', STATE_HELP)
    .option('--json', 'one JSON object per line, as `agent run --output json` prints them')
    .option('-f, --follow', 'keep printing new events until the run finishes or its runner is gone')
    .action(async (run: string, file: string | undefined, opts: EventsOptions) => {
      const { eventsCommand } = await import('./events-command.js');
      setExit(await eventsCommand(run, [file], opts, io));
    });
}

/** Options of `agent runs`. */
export interface RunsOptions {
  state?: string;
  limit: string;
  format: string;
  workflow?: string;
  status?: RunState;
}

/** `agent runs [FILE]`: runs newest first, as a table or JSON. */
export async function runsCommand(file: string, opts: RunsOptions, io: CliIo): Promise<number> {
  const limit = Number.parseInt(opts.limit, 10);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new CliError(`--limit must be a positive integer, got "${opts.limit}"`, ExitCode.invalid);
  }
  watchStdout(io);
  const statePath = statePathFor(file, opts.state, io);
  if (!existsSync(statePath)) {
    // Reading must not create a store.
    if (opts.format === 'json') io.stdout.write('[]\n');
    else
      io.stdout.write(`no runs: no state store at ${relative(io.cwd, statePath) || statePath}\n`);
    return ExitCode.ok;
  }
  const store = await openStore(statePath);
  try {
    const runs = await store.listRuns({
      limit,
      ...(opts.workflow !== undefined ? { workflow: opts.workflow } : {}),
      ...(opts.status !== undefined ? { status: opts.status } : {}),
    });
    if (opts.format === 'json') {
      io.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      return ExitCode.ok;
    }
    if (runs.length === 0) {
      io.stdout.write(`no runs in ${relative(io.cwd, statePath) || statePath}\n`);
      return ExitCode.ok;
    }
    const rows = runs.map((r) => [
      r.id,
      r.workflow,
      r.status,
      new Date(r.createdAt).toISOString().replace('T', ' ').slice(0, 19),
      r.startedAt !== null && r.finishedAt !== null ? formatMs(r.finishedAt - r.startedAt) : '-',
      r.error ?? '',
    ]);
    for (const line of formatTable(
      ['RUN', 'WORKFLOW', 'STATUS', 'CREATED (UTC)', 'DURATION', 'ERROR'],
      rows,
    )) {
      io.stdout.write(`${line}\n`);
    }
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}
