/**
 * The process executor: step attempts and `runtime: process` services run as
 * local processes through execa.
 *
 * Every attempt is started with `detached: true`, so it leads its own process
 * group (pgid = pid). Stopping it (timeout, abort, `stop()`) signals the whole
 * group: SIGTERM, then SIGKILL after a grace period, execa's "graceful stop,
 * then force kill after a delay" applied to the group so that the children of
 * a `sh -c` script die with it. When the main process of an attempt exits on
 * its own, whatever it left running in its group is stopped the same way (as
 * CI runners do at the end of a job), so a stray background process cannot
 * hold the step open through its inherited stdout.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa, type Result } from 'execa';
import { watchAttempt } from './attempt-watch.js';
import { ExecTimeoutError } from './errors.js';
import { openOutputSink, RingBuffer } from './output.js';
import type {
  AttemptResult,
  AttemptSpec,
  ServiceHandle,
  ServiceRunner,
  ServiceStartSpec,
  StepExecutor,
} from './types.js';
import { ServiceStartError } from './types.js';

/** Default grace between SIGTERM and SIGKILL for a step attempt, in ms. */
export const DEFAULT_STEP_GRACE_MS = 2000;
/** Default grace between SIGTERM and SIGKILL for a service, in ms (docker stop's default). */
export const DEFAULT_SERVICE_GRACE_MS = 10_000;
/** Lines of output a service keeps for {@link ServiceHandle.logTail}. */
export const DEFAULT_LOG_TAIL_LINES = 200;

/**
 * Sends `signal` to every process of the process group `pgid`
 * (`kill(-pgid, signal)`). Use it to clean up the group of an attempt whose
 * runner died, from the pid recorded by `onStarted`.
 *
 * @returns false when no process of the group exists any more (ESRCH) or
 *   the group is not ours to signal (EPERM: the id was reused by another
 *   user's processes), true when the signal was sent.
 * @throws RangeError for a pgid ≤ 1, which would signal our own group or every process.
 */
export function killProcessGroup(pgid: number, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1)
    throw new RangeError(`invalid process group id ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Kills (SIGKILL) a process group left by a runner that died, but only if a
 * process of that group still carries `AGENT_RUN_ID=<runId>` in its
 * environment (every step and service of a run does): a pid recorded before
 * a crash may belong to an unrelated process by now, and must not be killed
 * on the strength of the number alone. Reads `/proc`; where there is none
 * (not Linux), kills nothing.
 *
 * @returns true when the group was ours and was signalled.
 */
export function killLeftoverGroup(pgid: number, runId: string): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  if (!groupCarriesRun(pgid, `AGENT_RUN_ID=${runId}`)) return false;
  return killProcessGroup(pgid, 'SIGKILL');
}

/** True when some process of group `pgid` has `marker` as an entry of its environment. */
function groupCarriesRun(pgid: number, marker: string): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return false;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name: state ppid pgrp ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) !== pgid) continue;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (environ.includes(marker)) return true;
    } catch {
      // The process ended meanwhile, or is not ours to read.
    }
  }
  return false;
}

/** Options of {@link ProcessExecutor}. */
export interface ProcessExecutorOptions {
  /** ms between SIGTERM and SIGKILL when a step attempt times out or is cancelled. Default {@link DEFAULT_STEP_GRACE_MS}. */
  graceMs?: number;
  /** Base environment the step's `env` is merged over. Default: `process.env` of the runner. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Lines a service keeps for `logTail`. Default {@link DEFAULT_LOG_TAIL_LINES}. */
  logTailLines?: number;
}

/** Starts `command` as the leader of a new process group, stdout/stderr piped, never rejecting. */
function spawnGroup(options: {
  command: string[];
  cwd: string | undefined;
  env: NodeJS.ProcessEnv;
}) {
  const [file = '', ...args] = options.command;
  return execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
}

type Subprocess = ReturnType<typeof spawnGroup>;

/** A one-line reason for a spawn failure (`command not found: foo`), from execa's result. */
function spawnFailure(result: Result, command: string[]): string {
  const code = (result as { code?: string }).code;
  const file = command[0] ?? '';
  if (code === 'ENOENT') return `command not found: ${file}`;
  if (code === 'EACCES') return `permission denied: ${file}`;
  const message = (result as { originalMessage?: string }).originalMessage ?? result.shortMessage;
  return message?.split('\n')[0] ?? `could not start ${file}`;
}

/** Checks a working directory exists; returns a one-line reason when it does not. */
async function checkWorkdir(workdir: string | undefined): Promise<string | undefined> {
  if (workdir === undefined) return undefined;
  try {
    const info = await stat(workdir);
    return info.isDirectory() ? undefined : `working directory is not a directory: ${workdir}`;
  } catch {
    return `working directory not found: ${workdir}`;
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

/**
 * Stops a process group: SIGTERM to the group, SIGKILL after `graceMs` when
 * `done` (the subprocess, which settles once every holder of its pipes is
 * gone) has not settled. As a last resort, when something outside the group
 * still holds the pipes 2 s after SIGKILL, the pipes are closed on our side.
 */
async function terminateGroup(
  pgid: number,
  subprocess: Subprocess,
  graceMs: number,
): Promise<NodeJS.Signals | undefined> {
  if (!killProcessGroup(pgid, 'SIGTERM')) return undefined;
  if (await settlesWithin(subprocess, graceMs)) return 'SIGTERM';
  killProcessGroup(pgid, 'SIGKILL');
  if (!(await settlesWithin(subprocess, 2000))) {
    subprocess.stdout?.destroy();
    subprocess.stderr?.destroy();
  }
  return 'SIGKILL';
}

/**
 * Runs step attempts as local processes and starts `runtime: process`
 * services. See the module docs for how process groups are stopped.
 */
export class ProcessExecutor implements StepExecutor, ServiceRunner {
  private readonly graceMs: number;
  private readonly baseEnv: NodeJS.ProcessEnv;
  private readonly logTailLines: number;

  constructor(options: ProcessExecutorOptions = {}) {
    this.graceMs = options.graceMs ?? DEFAULT_STEP_GRACE_MS;
    this.baseEnv = options.baseEnv ?? process.env;
    this.logTailLines = options.logTailLines ?? DEFAULT_LOG_TAIL_LINES;
  }

  /**
   * Runs one attempt. `spec.env` is merged over the runner's environment;
   * `spec.workdir` must be an existing absolute directory. Never throws for
   * a failing step: a missing command, a non-zero exit, a timeout
   * (`timedOut`) or an abort (`cancelled`) are all results.
   *
   * @throws only when the log file cannot be created.
   */
  async runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (spec.signal.aborted) {
      return {
        exitCode: null,
        timedOut: false,
        cancelled: true,
        error: 'cancelled',
        durationMs: 0,
      };
    }
    const workdirProblem = await checkWorkdir(spec.workdir);
    if (workdirProblem !== undefined) {
      return {
        exitCode: null,
        timedOut: false,
        cancelled: false,
        error: workdirProblem,
        durationMs: elapsed(),
      };
    }

    const sink = await openOutputSink({ logFile: spec.logFile, onOutput: spec.onOutput });
    const subprocess = spawnGroup({
      command: spec.command,
      cwd: spec.workdir,
      env: { ...this.baseEnv, ...spec.env },
    });
    subprocess.stdout?.on('data', (chunk: Buffer) => sink.stdout.push(chunk));
    subprocess.stderr?.on('data', (chunk: Buffer) => sink.stderr.push(chunk));

    const pid = subprocess.pid;
    let stopping: Promise<NodeJS.Signals | undefined> | undefined;
    const watch = watchAttempt({
      timeoutMs: pid !== undefined ? spec.timeoutMs : undefined,
      signal: spec.signal,
      stopping: () => stopping !== undefined,
      stop: () => {
        if (pid !== undefined) stopping ??= terminateGroup(pid, subprocess, this.graceMs);
      },
    });
    // The leader is gone: stop whatever it left behind in its group.
    subprocess.once('exit', () => {
      if (pid !== undefined) stopping ??= terminateGroup(pid, subprocess, this.graceMs);
    });
    if (pid !== undefined && spec.onStarted) {
      try {
        spec.onStarted({ pid });
      } catch {
        // The store's bookkeeping failing is not the step's failure.
      }
    }

    const result = await subprocess;
    watch.dispose();
    const { timedOut, cancelled } = watch;
    await stopping;
    await sink.close();

    const durationMs = elapsed();
    if (pid === undefined) {
      return {
        exitCode: null,
        timedOut: false,
        cancelled: false,
        error: spawnFailure(result, spec.command),
        durationMs,
      };
    }
    const exitCode = result.exitCode ?? null;
    const signal = result.signal;
    const base = { exitCode, timedOut, cancelled, durationMs, ...(signal ? { signal } : {}) };
    if (timedOut) return { ...base, error: `timed out after ${spec.timeoutMs} ms` };
    if (cancelled) return { ...base, error: 'cancelled' };
    if (exitCode === 0) return base;
    return { ...base, error: signal ? `killed by ${signal}` : `exit code ${exitCode}` };
  }

  /**
   * Starts a `runtime: process` service: `agent.command` in `agent.workdir`
   * (default: the directory of the agent's file), with `spec.env` merged over
   * the runner's environment. Its ports are its own: the endpoint maps each
   * container port to the same port on 127.0.0.1.
   *
   * @throws ServiceStartError when the agent has no command, the working
   *   directory is missing or the command cannot be started.
   * @throws the signal's reason when `spec.signal` is already aborted.
   */
  async startService(spec: ServiceStartSpec): Promise<ServiceHandle> {
    spec.signal.throwIfAborted();
    const { agent } = spec;
    if (agent.command === undefined || agent.command.length === 0) {
      throw new ServiceStartError(`process service "${spec.name}" has no command`);
    }
    const cwd = agent.workdir ?? dirname(agent.path);
    const workdirProblem = await checkWorkdir(cwd);
    if (workdirProblem !== undefined) {
      throw new ServiceStartError(`service "${spec.name}": ${workdirProblem}`);
    }
    const env = { ...this.baseEnv, ...spec.env };
    const ring = new RingBuffer(this.logTailLines);
    const sink = await openOutputSink({ logFile: spec.logFile, onOutput: spec.onOutput, ring });
    const subprocess = spawnGroup({ command: agent.command, cwd, env });
    subprocess.stdout?.on('data', (chunk: Buffer) => sink.stdout.push(chunk));
    subprocess.stderr?.on('data', (chunk: Buffer) => sink.stderr.push(chunk));
    const pid = subprocess.pid;
    if (pid === undefined) {
      const result = await subprocess;
      await sink.close();
      throw new ServiceStartError(
        `service "${spec.name}" could not start: ${spawnFailure(result, agent.command)}`,
      );
    }

    const ports: Record<number, number> = {};
    for (const port of agent.ports) ports[port.container] = port.container;
    return new ProcessServiceHandle({
      name: spec.name,
      pid,
      subprocess,
      ports,
      ring,
      closeSink: () => sink.close(),
      cwd,
      env,
    });
  }
}

/** A running process service. */
class ProcessServiceHandle implements ServiceHandle {
  readonly name: string;
  readonly id: string;
  readonly endpoint: { host: string; ports: Record<number, number> };
  readonly exited: Promise<{ exitCode: number | null }>;
  private readonly pid: number;
  private readonly subprocess: Subprocess;
  private readonly ring: RingBuffer;
  private readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly done: Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(options: {
    name: string;
    pid: number;
    subprocess: Subprocess;
    ports: Record<number, number>;
    ring: RingBuffer;
    closeSink: () => Promise<void>;
    cwd: string;
    env: NodeJS.ProcessEnv;
  }) {
    this.name = options.name;
    this.pid = options.pid;
    this.id = String(options.pid);
    this.subprocess = options.subprocess;
    this.endpoint = { host: '127.0.0.1', ports: options.ports };
    this.ring = options.ring;
    this.cwd = options.cwd;
    this.env = options.env;
    let leftovers: Promise<unknown> | undefined;
    this.subprocess.once('exit', () => {
      leftovers = terminateGroup(this.pid, this.subprocess, DEFAULT_STEP_GRACE_MS);
    });
    this.done = this.subprocess.then(async () => {
      await leftovers;
      await options.closeSink();
    });
    this.exited = new Promise((resolve) => {
      this.subprocess.then((result) => {
        if (this.stopping === undefined) resolve({ exitCode: result.exitCode ?? null });
      });
    });
  }

  logTail(n: number): string[] {
    return this.ring.tail(n);
  }

  /**
   * Runs a command probe as a local process in the service's working
   * directory and environment. Rejects with {@link ExecTimeoutError} when it
   * does not finish within `timeoutMs` (its process group is killed), with an
   * Error when it cannot be started.
   */
  async exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const subprocess = spawnGroup({ command, cwd: this.cwd, env: this.env });
    const chunks: Buffer[] = [];
    subprocess.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    subprocess.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
    const pid = subprocess.pid;
    let timedOut = false;
    let stopping: Promise<unknown> | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) stopping ??= terminateGroup(pid, subprocess, 0);
    }, timeoutMs);
    subprocess.once('exit', () => {
      if (pid !== undefined) stopping ??= terminateGroup(pid, subprocess, DEFAULT_STEP_GRACE_MS);
    });
    const result = await subprocess;
    clearTimeout(timer);
    await stopping;
    if (pid === undefined) throw new Error(spawnFailure(result, command));
    if (timedOut) throw new ExecTimeoutError(timeoutMs);
    return { exitCode: result.exitCode ?? 128, output: Buffer.concat(chunks).toString('utf8') };
  }

  probeAddress(port: number): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.endpoint.ports[port] ?? port };
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs: number = DEFAULT_SERVICE_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await terminateGroup(this.pid, this.subprocess, graceMs);
      } catch {
        // stop() never throws; the group is gone or not ours to signal.
      }
      await this.done;
    })();
    return this.stopping;
  }
}
