/**
 * The process executor: step attempts and `runtime: process` services run as
 * local processes through execa.
 *
 * Every attempt is started with `detached: true`, so it leads its own process
 * group (pgid = pid), and with `AGENT_RUN_ID`, `AGENT_STEP_ID` and
 * `AGENT_ATTEMPT` in its environment (services: `AGENT_RUN_ID`), which every
 * process it forks inherits.
 *
 * An attempt ends when its main process exits, on its own or because it was
 * stopped (timeout, abort, `stop()`): SIGTERM to the whole group, then SIGKILL
 * after a grace period, execa's "graceful stop, then force kill after a
 * delay" applied to the group so that the children of a `sh -c` script die
 * with it. The attempt does not wait for its stdout and stderr to close: a
 * descendant that left the group (`setsid cmd &`) would hold them open for as
 * long as it lives, and with them the step and its timeout.
 *
 * Once the main process has exited, whatever it left behind is stopped (as
 * CI runners do at the end of a job): the live members of its group and, on
 * Linux, every process whose environment carries the attempt's run, step and
 * attempt wherever it went ({@link sweepRunProcesses}): SIGTERM, SIGKILL
 * after the grace. Then the output still in the pipes is read until they
 * close, at most {@link DRAIN_MS}; a pipe still held after that (by a process
 * the sweep cannot see) is closed on our side. Output already written is
 * kept in every case.
 *
 * A step with an `outputFile` gets `AGENT_OUTPUT=<that path>`; `secretFiles`
 * are for containers and ignored here (a process step gets its secrets as
 * environment variables). With a `redact`, output is masked before it
 * reaches the log file, the listener, a service's `logTail` and the output
 * of its command probes.
 */

import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream';
import { execa, type Result } from 'execa';
import { watchAttempt } from './attempt-watch.js';
import { ExecTimeoutError } from './errors.js';
import { MAX_LINE_BYTES, maskText, type OutputSink, openOutputSink, RingBuffer } from './output.js';
import { prepareOutputFile } from './output-file.js';
import { firstPortInUse } from './port-check.js';
import {
  ENV_ATTEMPT,
  ENV_RUN_ID,
  ENV_STEP_ID,
  findRunProcesses,
  type ProcessQuery,
  sweepRunProcesses,
} from './sweep.js';
import type {
  AttemptResult,
  AttemptSpec,
  Redactor,
  ServiceHandle,
  ServiceRunner,
  ServiceStartSpec,
  StepExecutor,
} from './types.js';
import { ENV_OUTPUT, ServiceStartError } from './types.js';

/** Default grace between SIGTERM and SIGKILL for a step attempt, in ms. */
export const DEFAULT_STEP_GRACE_MS = 2000;
/** Default grace between SIGTERM and SIGKILL for a service, in ms (docker stop's default). */
export const DEFAULT_SERVICE_GRACE_MS = 10_000;
/** Lines of output a service keeps for {@link ServiceHandle.logTail}. */
export const DEFAULT_LOG_TAIL_LINES = 200;
/**
 * ms to keep reading the pipes of an attempt once its processes are gone,
 * before closing them on our side: long enough for the kernel to hand over
 * what is buffered, short enough that a holder the sweep cannot see (one
 * that cleared its environment) delays the end of the attempt by no more.
 */
export const DRAIN_MS = 2000;

/** How long the pipes may take to close after the main process exited before leftovers are looked for, in ms. */
const PIPES_CLOSE_MS = 50;

/** Whether process group `pgid` still has a live member (`kill(-pgid, 0)`). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
/** Bytes of output a command probe keeps (the rest is dropped): see {@link ServiceHandle.exec}. */
export const PROBE_OUTPUT_BYTES = MAX_LINE_BYTES;

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
 * on the strength of the number alone. Reads `/proc` (see
 * {@link findRunProcesses}); where there is none (not Linux), kills nothing.
 * Escaped members of the run, outside the group, are for
 * {@link sweepRunProcesses}.
 *
 * @returns true when the group was ours and was signalled.
 */
export function killLeftoverGroup(pgid: number, runId: string): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  const ours = findRunProcesses({ runId }).processes.some((p) => p.pgid === pgid);
  if (!ours) return false;
  return killProcessGroup(pgid, 'SIGKILL');
}

/** Options of {@link ProcessExecutor}. */
export interface ProcessExecutorOptions {
  /** ms between SIGTERM and SIGKILL when a step attempt times out or is cancelled, or leaves processes behind. Default {@link DEFAULT_STEP_GRACE_MS}. */
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

/** How the main process of a group ended, from the child's `exit` event. */
interface LeaderExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The exit of the main process, which comes before its pipes close when
 * something else holds them. `done` is set synchronously in the `exit`
 * handler, so a timer firing afterwards already sees it.
 */
function watchExit(subprocess: Subprocess): { exit: Promise<LeaderExit>; readonly done: boolean } {
  let done = false;
  const exit = new Promise<LeaderExit>((resolve) => {
    subprocess.once('exit', (exitCode, signal) => {
      done = true;
      resolve({ exitCode, signal });
    });
  });
  return {
    exit,
    get done() {
      return done;
    },
  };
}

/** The pipes of a subprocess being read, and how to stop reading them. */
interface Pipes {
  /** Settles once both pipes are closed and what they carried has been handled. */
  readonly done: Promise<void>;
  /** Closes the pipes on our side; `done` then settles once what was read is handled. */
  abandon(): void;
}

/** Settles when `stream` has finished, errored or been destroyed; never rejects. */
function ended(stream: Readable | Writable): Promise<void> {
  return new Promise((resolve) => {
    finished(stream, () => resolve());
  });
}

/** Pipes stdout and stderr into `sink`, with backpressure (see {@link OutputSink.writable}). */
function pipeToSink(subprocess: Subprocess, sink: OutputSink): Pipes {
  const pairs: [Readable, Writable][] = [];
  if (subprocess.stdout) pairs.push([subprocess.stdout, sink.writable('stdout')]);
  if (subprocess.stderr) pairs.push([subprocess.stderr, sink.writable('stderr')]);
  for (const [readable, writable] of pairs) readable.pipe(writable);
  return {
    done: Promise.all(pairs.map(([, writable]) => ended(writable))).then(() => undefined),
    abandon() {
      for (const [readable, writable] of pairs) {
        readable.unpipe(writable);
        readable.destroy();
        writable.end();
      }
    },
  };
}

/** Collects up to `maxBytes` of stdout and stderr together (for command probes). */
function collectOutput(subprocess: Subprocess, maxBytes: number): Pipes & { text(): string } {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const streams = [subprocess.stdout, subprocess.stderr].filter((s): s is Readable => !!s);
  for (const stream of streams) {
    stream.on('data', (chunk: Buffer) => {
      if (bytes >= maxBytes) return;
      const kept = chunk.subarray(0, maxBytes - bytes);
      chunks.push(kept);
      bytes += kept.length;
    });
  }
  return {
    done: Promise.all(streams.map(ended)).then(() => undefined),
    abandon() {
      for (const stream of streams) stream.destroy();
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

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
 * Stops a running group: SIGTERM to the group, SIGKILL after `graceMs` when
 * its main process has not exited by then (`exit` has not settled).
 */
async function stopGroup(pgid: number, exit: Promise<unknown>, graceMs: number): Promise<void> {
  if (!killProcessGroup(pgid, 'SIGTERM')) return;
  if (await settlesWithin(exit, graceMs)) return;
  killProcessGroup(pgid, 'SIGKILL');
}

/**
 * After the main process of group `pgid` exited: stops what it left (its
 * group, and what `query` finds; SIGTERM, SIGKILL after `graceMs`), reads
 * the pipes until they close or {@link DRAIN_MS} passed, and waits for execa
 * to settle.
 */
async function finishGroup(options: {
  subprocess: Subprocess;
  pgid: number;
  query: Omit<ProcessQuery, 'processGroup'>;
  pipes: Pipes;
  graceMs: number;
}): Promise<void> {
  const { subprocess, pgid, pipes } = options;
  // The common case costs no /proc scan (2-35 ms on a busy host): nothing is
  // left when the group is empty and the pipes close with the main process.
  // Otherwise something outlived it (in the group, or holding the pipes
  // after a `setsid`): find it by the attempt's AGENT_* variables and stop
  // it. An escapee that neither stays in the group nor keeps the pipes is
  // left for the run's end-of-run sweep.
  const left = groupAlive(pgid) || !(await settlesWithin(pipes.done, PIPES_CLOSE_MS));
  if (left) {
    try {
      await sweepRunProcesses({ ...options.query, processGroup: pgid, graceMs: options.graceMs });
    } catch {
      // Only an invalid query throws, and a spawned pid is always > 1.
    }
  }
  if (!(await settlesWithin(pipes.done, DRAIN_MS))) pipes.abandon();
  await pipes.done;
  await subprocess;
}

/**
 * Runs step attempts as local processes and starts `runtime: process`
 * services. See the module docs for how an attempt ends and what is stopped.
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
   * Runs one attempt. `spec.env` is merged over the runner's environment, and
   * `AGENT_RUN_ID`, `AGENT_STEP_ID`, `AGENT_ATTEMPT` over that, from
   * `spec.runId`, `spec.stepId`, `spec.attempt`, and `AGENT_OUTPUT` from
   * `spec.outputFile` (created when missing; without one, an `AGENT_OUTPUT`
   * of the runner's environment is not passed on, one in `spec.env` is);
   * `spec.workdir` must be an existing absolute directory. `spec.secretFiles`
   * are ignored. Output is masked by `spec.redact`. The result is that of
   * the main process (see the module docs). Never throws for a failing
   * step: a missing command, a non-zero exit, a timeout (`timedOut`) or an
   * abort (`cancelled`) are all results.
   *
   * @throws only when the log file or the outputs file cannot be created.
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

    if (spec.outputFile !== undefined) await prepareOutputFile(spec.outputFile);
    const sink = await openOutputSink({
      logFile: spec.logFile,
      onOutput: spec.onOutput,
      redact: spec.redact,
    });
    const env: NodeJS.ProcessEnv = {
      ...this.baseEnv,
      ...spec.env,
      [ENV_RUN_ID]: spec.runId,
      [ENV_STEP_ID]: spec.stepId,
      [ENV_ATTEMPT]: String(spec.attempt),
    };
    if (spec.outputFile !== undefined) env[ENV_OUTPUT] = spec.outputFile;
    // The runner's own (a run inside a step of another) is not this step's file.
    else if (!(ENV_OUTPUT in spec.env)) delete env[ENV_OUTPUT];
    const subprocess = spawnGroup({ command: spec.command, cwd: spec.workdir, env });
    const pid = subprocess.pid;
    if (pid === undefined) {
      const result = await subprocess;
      await sink.close();
      return {
        exitCode: null,
        timedOut: false,
        cancelled: false,
        error: spawnFailure(result, spec.command),
        durationMs: elapsed(),
      };
    }
    const pipes = pipeToSink(subprocess, sink);
    const leader = watchExit(subprocess);
    let stopping: Promise<void> | undefined;
    const watch = watchAttempt({
      timeoutMs: spec.timeoutMs,
      signal: spec.signal,
      stopping: () => leader.done || stopping !== undefined,
      stop: () => {
        stopping ??= stopGroup(pid, leader.exit, this.graceMs);
      },
    });
    if (spec.onStarted) {
      try {
        spec.onStarted({ pid });
      } catch {
        // The store's bookkeeping failing is not the step's failure.
      }
    }

    const { exitCode, signal } = await leader.exit;
    watch.dispose();
    const { timedOut, cancelled } = watch;
    await stopping;
    await finishGroup({
      subprocess,
      pgid: pid,
      query: { runId: spec.runId, stepId: spec.stepId, attempt: spec.attempt },
      pipes,
      graceMs: this.graceMs,
    });
    await sink.close();

    const durationMs = elapsed();
    const base = { exitCode, timedOut, cancelled, durationMs, ...(signal ? { signal } : {}) };
    if (timedOut) return { ...base, error: `timed out after ${spec.timeoutMs} ms` };
    if (cancelled) return { ...base, error: 'cancelled' };
    if (exitCode === 0) return base;
    return { ...base, error: signal ? `killed by ${signal}` : `exit code ${exitCode}` };
  }

  /**
   * Starts a `runtime: process` service: `agent.command` in `agent.workdir`
   * (default: the directory of the agent's file), with `spec.env` merged over
   * the runner's environment and `AGENT_RUN_ID` from `spec.runId`. Its ports
   * are its own: the endpoint maps each container port to the same port on
   * 127.0.0.1. `spec.secretFiles` are ignored; `spec.redact` masks its
   * output, `logTail` and the output of its command probes.
   *
   * Before it starts, every TCP port of the agent must be free on 127.0.0.1
   * (`port-check.ts`): a health check would otherwise pass against the
   * program already holding it.
   *
   * @throws ServiceStartError when the agent has no command, the working
   *   directory is missing, one of its TCP ports is already in use, or the
   *   command cannot be started.
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
    const taken = await firstPortInUse(
      agent.ports.filter((p) => p.protocol === 'tcp').map((p) => p.container),
    );
    if (taken !== undefined) {
      throw new ServiceStartError(
        `port ${taken} is already in use on 127.0.0.1: another program listens there, and the health check would pass against it; stop it or give the service another port`,
      );
    }
    const env = { ...this.baseEnv, ...spec.env, [ENV_RUN_ID]: spec.runId };
    const ring = new RingBuffer(this.logTailLines);
    const sink = await openOutputSink({
      logFile: spec.logFile,
      onOutput: spec.onOutput,
      ring,
      redact: spec.redact,
    });
    const subprocess = spawnGroup({ command: agent.command, cwd, env });
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
      pipes: pipeToSink(subprocess, sink),
      ports,
      ring,
      closeSink: () => sink.close(),
      cwd,
      env,
      redact: spec.redact,
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
  private readonly leader: ReturnType<typeof watchExit>;
  private readonly ring: RingBuffer;
  private readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly redact: Redactor | undefined;
  private readonly done: Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(options: {
    name: string;
    pid: number;
    subprocess: Subprocess;
    pipes: Pipes;
    ports: Record<number, number>;
    ring: RingBuffer;
    closeSink: () => Promise<void>;
    cwd: string;
    env: NodeJS.ProcessEnv;
    redact?: Redactor;
  }) {
    this.name = options.name;
    this.pid = options.pid;
    this.id = String(options.pid);
    this.endpoint = { host: '127.0.0.1', ports: options.ports };
    this.ring = options.ring;
    this.cwd = options.cwd;
    this.env = options.env;
    this.redact = options.redact;
    this.leader = watchExit(options.subprocess);
    // Once the service's main process is gone: what it left in its group is
    // stopped, its output read to the end. Escaped processes of the run are
    // for the runner's sweep at the end of the run.
    this.done = this.leader.exit.then(async () => {
      await finishGroup({
        subprocess: options.subprocess,
        pgid: this.pid,
        query: {},
        pipes: options.pipes,
        graceMs: DEFAULT_STEP_GRACE_MS,
      });
      await options.closeSink();
    });
    this.exited = new Promise((resolve) => {
      void this.done.then(async () => {
        const { exitCode } = await this.leader.exit;
        if (this.stopping === undefined) resolve({ exitCode });
      });
    });
  }

  logTail(n: number): string[] {
    return this.ring.tail(n);
  }

  /**
   * Runs a command probe as a local process in the service's working
   * directory and environment; `output` is the first
   * {@link PROBE_OUTPUT_BYTES} bytes of its stdout and stderr, masked by the
   * service's redactor. It ends when
   * its main process exits; what it left in its group is stopped then.
   * Rejects with {@link ExecTimeoutError} when it does not finish within
   * `timeoutMs` (its process group is killed), with an Error when it cannot
   * be started.
   */
  async exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const subprocess = spawnGroup({ command, cwd: this.cwd, env: this.env });
    const pid = subprocess.pid;
    if (pid === undefined) throw new Error(spawnFailure(await subprocess, command));
    const output = collectOutput(subprocess, PROBE_OUTPUT_BYTES);
    const leader = watchExit(subprocess);
    let timedOut = false;
    let stopping: Promise<void> | undefined;
    const timer = setTimeout(() => {
      if (leader.done) return;
      timedOut = true;
      stopping ??= stopGroup(pid, leader.exit, 0);
    }, timeoutMs);
    const { exitCode } = await leader.exit;
    clearTimeout(timer);
    await stopping;
    await finishGroup({
      subprocess,
      pgid: pid,
      query: {},
      pipes: output,
      graceMs: DEFAULT_STEP_GRACE_MS,
    });
    if (timedOut) throw new ExecTimeoutError(timeoutMs);
    return { exitCode: exitCode ?? 128, output: maskText(this.redact, output.text()) };
  }

  probeAddress(port: number): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.endpoint.ports[port] ?? port };
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs: number = DEFAULT_SERVICE_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.leader.done) {
        try {
          await stopGroup(this.pid, this.leader.exit, graceMs);
        } catch {
          // stop() never throws; the group is gone or not ours to signal.
        }
      }
      await this.done;
    })();
    return this.stopping;
  }
}
