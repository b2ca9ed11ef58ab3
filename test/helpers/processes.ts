/**
 * Process checks for tests that kill process groups: "alive" means present
 * and not a zombie (a zombie has exited; it only waits to be reaped, which
 * an init process that does not reap may never do).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Parsed `/proc/<pid>/stat`: state letter and process group id; undefined when the process is gone. */
function readStat(pid: number): { state: string; pgid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may contain spaces.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '';
  const pgid = Number(rest[2]);
  return { state, pgid };
}

/** True when a process with this pid exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  const stat = readStat(pid);
  if (stat !== undefined) return stat.state !== 'Z' && stat.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of the live (non-zombie) processes of process group `pgid`, from /proc. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (stat && stat.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(pid);
  }
  return members;
}

/** True when any live process of process group `pgid` remains. */
export function pgidAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

/**
 * Polls `predicate` every `intervalMs` (default 25) until it returns true;
 * rejects after `timeoutMs` (default 10 000) with `message`.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) {
      throw new Error(options.message ?? `condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Spawns `argv` detached (its own process group), stdin and stderr ignored,
 * stdout ignored or piped (`stdout: 'pipe'`, to wait for a "ready" line), with
 * the environment a run gives its processes: `AGENT_RUN_ID`, and
 * `AGENT_STEP_ID` and `AGENT_ATTEMPT` when given. Throws when it could not be
 * spawned.
 */
export function spawnWithRunEnv(
  argv: string[],
  run: { runId: string; stepId?: string; attempt?: number },
  options: { stdout?: 'ignore' | 'pipe' } = {},
): { pid: number; child: ChildProcess } {
  const [file = '', ...args] = argv;
  const child = spawn(file, args, {
    detached: true,
    stdio: ['ignore', options.stdout ?? 'ignore', 'ignore'],
    env: {
      ...process.env,
      AGENT_RUN_ID: run.runId,
      ...(run.stepId !== undefined ? { AGENT_STEP_ID: run.stepId } : {}),
      ...(run.attempt !== undefined ? { AGENT_ATTEMPT: String(run.attempt) } : {}),
    },
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${file}`);
  return { pid: child.pid, child };
}

/** Resolves once `child` has written `text` to its (piped) stdout; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) resolve();
    });
    child.once('exit', () => reject(new Error(`exited before writing ${JSON.stringify(text)}`)));
  });
}

/**
 * Pids of the live processes whose environment has every one of `entries`
 * (`NAME=value`), read from /proc independently of the code under test.
 */
export function pidsCarrying(...entries: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (entries.every((e) => environ.includes(e)) && processAlive(pid)) pids.push(pid);
  }
  return pids;
}
