/**
 * Processes that belong to runs, for `agent doctor`: every process a run
 * spawns (and every process those fork) carries `AGENT_RUN_ID=<run>` in its
 * environment, so one scan of `/proc/<pid>/environ` finds what a run left
 * behind, whatever became of its process group.
 *
 * Linux only: where `/proc` cannot be listed, the scan says `supported:
 * false`. Processes of other users (unreadable environment), zombies, the
 * caller and its ancestors (an `agent doctor` run by a step of a run carries
 * that run's id itself) are never listed.
 *
 * `src/executors/sweep.ts` scans for one run id (with kill rounds, for the
 * runner); this scans for every run id at once, which doctor needs. One
 * "any run" query in sweep.ts could serve both (not done yet).
 */

import { readdirSync, readFileSync } from 'node:fs';

/** The variable that marks a process as a run's. */
const RUN_ID_VAR = 'AGENT_RUN_ID';

/** A process carrying a run id. */
export interface RunProcess {
  pid: number;
  runId: string;
  /** Its argv joined by spaces, or `[comm]` when empty. */
  command: string;
}

/** How `/proc` is read; tests pass a fake. Both throw as `node:fs` does. */
export interface ProcFiles {
  list(): string[];
  read(pid: number, file: 'stat' | 'environ' | 'cmdline'): Buffer;
}

const realProc: ProcFiles = {
  list: () => readdirSync('/proc'),
  read: (pid, file) => readFileSync(`/proc/${pid}/${file}`),
};

function tryRead(proc: ProcFiles, pid: number, file: 'stat' | 'environ' | 'cmdline') {
  try {
    return proc.read(pid, file);
  } catch {
    return undefined; // exited meanwhile, or not ours to read
  }
}

/** State letter, parent pid and command name from `/proc/<pid>/stat` (the name may hold spaces and parentheses). */
function readStat(
  proc: ProcFiles,
  pid: number,
): { state: string; ppid: number; comm: string } | undefined {
  const text = tryRead(proc, pid, 'stat')?.toString('utf8');
  if (text === undefined) return undefined;
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  return { state: rest[0] ?? '', ppid: Number(rest[1]), comm: text.slice(open + 1, close) };
}

/** The value of `AGENT_RUN_ID` in an environment block, if set. */
export function runIdOfEnviron(environ: Buffer): string | undefined {
  const needle = `${RUN_ID_VAR}=`;
  for (const entry of environ.toString('utf8').split('\0')) {
    if (entry.startsWith(needle)) return entry.slice(needle.length) || undefined;
  }
  return undefined;
}

/**
 * Every live process (not a zombie) whose environment has `AGENT_RUN_ID`,
 * by ascending pid; never this process or its ancestors, nor pid 1.
 */
export function findRunProcesses(proc: ProcFiles = realProc): {
  supported: boolean;
  processes: RunProcess[];
} {
  let entries: string[];
  try {
    entries = proc.list();
  } catch {
    return { supported: false, processes: [] };
  }
  const excluded = new Set<number>([process.pid]);
  for (let pid = process.pid, depth = 0; pid > 1 && depth < 4096; depth += 1) {
    const stat = readStat(proc, pid);
    if (!stat) break;
    pid = stat.ppid;
    excluded.add(pid);
  }
  const marker = Buffer.from(`${RUN_ID_VAR}=`);
  const processes: RunProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid <= 1 || excluded.has(pid)) continue;
    const environ = tryRead(proc, pid, 'environ');
    if (!environ?.includes(marker)) continue;
    const runId = runIdOfEnviron(environ);
    if (runId === undefined) continue;
    const stat = readStat(proc, pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    const argv = tryRead(proc, pid, 'cmdline')?.toString('utf8').split('\0').filter(Boolean) ?? [];
    processes.push({ pid, runId, command: argv.length > 0 ? argv.join(' ') : `[${stat.comm}]` });
  }
  processes.sort((a, b) => a.pid - b.pid);
  return { supported: true, processes };
}

/** What became of a process {@link killRunProcess} was asked to kill. */
export type KillOutcome = 'killed' | 'gone' | 'not-permitted';

/**
 * SIGKILLs `p` if it still carries its run id (a pid reused since the scan
 * by an unrelated process is left alone: 'gone').
 */
export function killRunProcess(p: RunProcess, proc: ProcFiles = realProc): KillOutcome {
  const environ = tryRead(proc, p.pid, 'environ');
  if (environ === undefined || runIdOfEnviron(environ) !== p.runId) return 'gone';
  try {
    process.kill(p.pid, 'SIGKILL');
    return 'killed';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'not-permitted' : 'gone';
  }
}
