/**
 * Commands that read runs from the state store, from any terminal, while a
 * run goes on or long after: `agent runs`. None of them creates a store
 * where there is none.
 */

import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { type Command, Option } from 'commander';
import type { RunState } from '../core/status.js';
import { formatMs } from '../run/format.js';
import { CliError, type CliIo, ExitCode, openStore, statePathFor } from './common.js';

/**
 * Registers `runs` (and the other reading commands) on `program`; each
 * action hands its exit code to `setExit`.
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
    writeTable(io, ['RUN', 'WORKFLOW', 'STATUS', 'CREATED (UTC)', 'DURATION', 'ERROR'], rows);
    return ExitCode.ok;
  } finally {
    await store.close();
  }
}

/** Writes rows as left-aligned columns, two spaces apart, the last column unpadded. */
export function writeTable(io: CliIo, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows]) {
    io.stdout.write(
      `${row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}
