/**
 * `agent prune --older-than AGE [FILE]`: deletes the runs created before now
 * minus AGE, with their steps, attempts, events and log directory, never a
 * run whose runner is alive (a live lease); then compacts the store
 * (`VACUUM`, `ANALYZE`). `--dry-run` lists what would go and changes nothing.
 */

import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDuration } from '../config/units.js';
import { formatTable } from '../report/status.js';
import { logFilePath } from '../store/paths.js';
import type { RunRecord } from '../store/types.js';
import { watchStdout } from './closed-stdout.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import {
  maintenanceOf,
  runsWithLiveLease,
  type StoreOptions,
  splitFileArgument,
  withExistingStore,
} from './read-store.js';

/** Options of `agent prune`, as commander parses them. */
export interface PruneOptions extends StoreOptions {
  olderThan: string;
  dryRun?: boolean;
}

const DAY_MS = 86_400_000;
const AGE = /^(?:([0-9]+)w)?(?:([0-9]+)d)?(.*)$/;

/**
 * Parses an age for `--older-than`: the durations of the file format
 * (`parseDuration`: `12h`, `90m`, `1h30m`) with weeks and days in front
 * (`30d`, `2w`, `1d12h`). A day is 24 hours. A bare number is not an age.
 *
 * @returns milliseconds, or undefined for text that is not an age.
 */
export function parseAge(text: string): number | undefined {
  const m = AGE.exec(text.trim());
  if (!m) return undefined;
  const [, weeks, days, rest = ''] = m;
  if (weeks === undefined && days === undefined && rest === '') return undefined;
  const restMs = rest === '' ? 0 : parseDuration(rest);
  if (restMs === undefined) return undefined;
  return (Number(weeks ?? 0) * 7 + Number(days ?? 0)) * DAY_MS + restMs;
}

/**
 * The directory holding a run's log files: the one `logFilePath` puts them
 * in (`.agentfile/runs/<run>/`), undefined for a run id that is not a plain
 * file name (never a path outside the runs directory).
 */
export function runLogDir(statePath: string, runId: string): string | undefined {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(runId)) return undefined;
  return path.dirname(logFilePath(statePath, runId, 'step', 1));
}

/** Total size in bytes of the files under `dir` (0 when it does not exist). */
async function sizeOf(dir: string): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    try {
      const s = await stat(path.join(dir, e));
      if (s.isFile()) total += s.size;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** `1.2 MB`, `340 kB`, `12 B`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const time = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** Runs `agent prune`; resolves with the exit code. @throws CliError */
export async function pruneCommand(
  args: (string | undefined)[],
  opts: PruneOptions,
  io: CliIo,
): Promise<number> {
  const { file } = splitFileArgument(args, 0, 'agent prune --older-than AGE [FILE] [--dry-run]');
  const ageMs = parseAge(opts.olderThan);
  if (ageMs === undefined) {
    throw new CliError(
      `--older-than must be an age like 30d, 2w, 12h or 1d12h, got "${opts.olderThan}"`,
      ExitCode.invalid,
    );
  }
  watchStdout(io);
  return withExistingStore(file, opts, io, async (store, statePath) => {
    const maintenance = maintenanceOf(store, 'prune');
    const now = Date.now();
    const cutoff = now - ageMs;
    const old = await store.listRuns({ createdBefore: cutoff });
    const live = await runsWithLiveLease(store, now);
    const kept = old.filter((r) => live.has(r.id));
    const doomed = old.filter((r) => !live.has(r.id));
    const logBytes = new Map<string, number>();
    for (const r of doomed) {
      const dir = runLogDir(statePath, r.id);
      logBytes.set(r.id, dir === undefined ? 0 : await sizeOf(dir));
    }
    const totalLogBytes = [...logBytes.values()].reduce((a, b) => a + b, 0);
    const age = `older than ${opts.olderThan.trim()}`;
    if (doomed.length === 0) {
      io.stdout.write(`nothing to prune: no run created before ${time(cutoff)} (${age})\n`);
    } else {
      io.stdout.write(
        `${opts.dryRun ? 'would prune' : 'pruning'} ${plural(doomed.length, 'run')} created before ${time(cutoff)} (${age}):\n`,
      );
      writeRuns(io, doomed, logBytes);
    }
    for (const r of kept) {
      io.stdout.write(`kept run ${r.id}: its runner is alive (a live lease names it)\n`);
    }
    if (opts.dryRun || doomed.length === 0) return ExitCode.ok;

    // Again just before deleting, to narrow the window in which a runner
    // could take one of them up (`--resume`) after the listing above.
    const liveNow = await runsWithLiveLease(store);
    const result = await store.deleteRuns(
      doomed.filter((r) => !liveNow.has(r.id)).map((r) => r.id),
    );
    let dirs = 0;
    for (const id of result.runs) {
      const dir = runLogDir(statePath, id);
      if (dir === undefined) continue;
      try {
        await rm(dir, { recursive: true, force: true });
        dirs += 1;
      } catch (error) {
        io.stderr.write(`agent: could not remove ${dir}: ${(error as Error).message}\n`);
      }
    }
    await maintenance.vacuum();
    io.stdout.write(
      `removed ${plural(result.runs.length, 'run')}, ${plural(result.events, 'event')} and ${plural(dirs, 'log directory', 'log directories')} (${formatBytes(totalLogBytes)} of logs); store compacted (VACUUM, ANALYZE)\n`,
    );
    return ExitCode.ok;
  });
}

function writeRuns(io: CliIo, runs: readonly RunRecord[], logBytes: Map<string, number>): void {
  const rows = runs.map((r) => [
    `  ${r.id}`,
    r.workflow,
    r.status,
    time(r.createdAt),
    formatBytes(logBytes.get(r.id) ?? 0),
  ]);
  for (const line of formatTable(['  RUN', 'WORKFLOW', 'STATUS', 'CREATED', 'LOGS'], rows)) {
    io.stdout.write(`${line}\n`);
  }
}
