/**
 * The executor interface: how the scheduler runs one attempt of a step and
 * starts a service, whatever runs it (a local process through execa, or a
 * Docker container through dockerode). Executors never touch the store or
 * print; they report through callbacks and return results as values.
 */

import type { AgentSpec, SecuritySpec } from '../config/model.js';

/** Which stream a line of output came from. */
export type OutputStream = 'stdout' | 'stderr';

/** Called for every complete line a step or service writes (without the newline). */
export type OutputListener = (stream: OutputStream, line: string) => void;

/** Labels put on every container and network, so leftovers of a run can always be found. */
export const LABEL_RUN = 'agentfile.run';
export const LABEL_STEP = 'agentfile.step';

/**
 * The variable naming a step's outputs file (GitHub Actions' `$GITHUB_OUTPUT`):
 * the host path for process steps, {@link CONTAINER_OUTPUT_PATH} in containers.
 */
export const ENV_OUTPUT = 'AGENT_OUTPUT';
/** Where a container step's outputs file is bind-mounted (read-write) inside the container. */
export const CONTAINER_OUTPUT_PATH = '/run/agent/output';
/** The directory of secret files in containers (`/run/secrets/<name>`, docker compose's path). */
export const CONTAINER_SECRETS_DIR = '/run/secrets';

/**
 * Masks secret values in text. The executors apply it to every line (and
 * every piece of a long line) before it is written to the log file or given
 * to a listener, and to error text they build from output.
 */
export interface Redactor {
  /** Replaces every secret value in `text` with `***`. */
  redact(text: string): string;
  /**
   * UTF-16 length of the longest value masked (0 when none): a consumer that
   * splits a stream into pieces keeps `longest - 1` characters back so a
   * value straddling two pieces is still masked.
   */
  readonly longest: number;
}

/**
 * A secret given to a container as the file `/run/secrets/<name>`
 * ({@link CONTAINER_SECRETS_DIR}), as docker compose does. `name` is one
 * path component (no `/`, not `.` or `..`, at most 100 bytes); `value` is
 * written as UTF-8.
 */
export interface SecretFile {
  name: string;
  value: string;
}

/** What to run for one attempt of a step. */
export interface AttemptSpec {
  runId: string;
  stepId: string;
  /** 1-based attempt number. */
  attempt: number;
  /** argv; for a `run:` string already `['sh', '-c', script]`. */
  command: string[];
  /** Extra environment (process steps also inherit the runner's environment). */
  env: Record<string, string>;
  /** Working directory: absolute host path for processes, a path in the container for containers. */
  workdir?: string;
  /** Container steps only. */
  image?: string;
  /**
   * Container steps only: CPU and memory limits and requests, as an agent's
   * (nano-CPUs, bytes; mapped as for services: `Memory`, `NanoCpus`,
   * `CpuShares`, `MemoryReservation`). Not yet
   * set from workflow files; the executor honours it.
   */
  resources?: AgentSpec['resources'];
  /** Container steps only: how the container runs, as an agent's `security`. Not yet set from workflow files. */
  security?: SecuritySpec;
  /** Kill the attempt after this many ms and report `timedOut`. */
  timeoutMs?: number;
  /** Aborting kills the attempt (process group or container) and reports `cancelled`. */
  signal: AbortSignal;
  /** Absolute path of the log file; stdout and stderr lines are appended, prefixed by stream. */
  logFile: string;
  onOutput?: OutputListener;
  /**
   * Called once the attempt has an OS-level identity (a process group id or a
   * container id), before it can do any work worth resuming, so the store can
   * record it and a later `--resume` can clean it up after `kill -9`.
   */
  onStarted?: (handle: { pid?: number; containerId?: string }) => void;
  /**
   * Absolute host path of the step's outputs file, which the runner creates
   * (empty) before the attempt and reads after it (`src/run/step-outputs.ts`).
   * The executor creates it when missing (never truncating it). Process
   * steps get `AGENT_OUTPUT=<this path>`; container steps get the file
   * bind-mounted read-write at {@link CONTAINER_OUTPUT_PATH}, made writable
   * by any user (mode 0666) so a non-root container user can write it, and
   * `AGENT_OUTPUT=/run/agent/output`. `AGENT_OUTPUT` overrides the same
   * name in `env`.
   */
  outputFile?: string;
  /**
   * Container steps: each becomes the file `/run/secrets/<name>` in the
   * container (mode 0444, owner root), copied into the created container
   * before it starts, never written to a file by the runner. Process steps
   * ignore them (they get their secrets as environment variables).
   */
  secretFiles?: SecretFile[];
  /** Masks secret values in every line before it is written to the log file or passed to onOutput. */
  redact?: Redactor;
}

/**
 * How an attempt ended. Failure reasons are data (execa's model): exactly one
 * of `exitCode === 0`, `timedOut`, `cancelled`, or a failure is what happened.
 */
export interface AttemptResult {
  /** Exit code, or null when killed by a signal or never started. */
  exitCode: number | null;
  /** Signal name when killed by one (`SIGKILL`, ...). */
  signal?: string;
  timedOut: boolean;
  cancelled: boolean;
  /** A one-line reason when it failed to start or failed (`command not found: foo`, `exit code 2`). */
  error?: string;
  /**
   * Why it failed, when a cause is known beyond the exit code: `oom` when the
   * kernel killed it for exceeding its memory limit (the engine's
   * `State.OOMKilled`; `error` then reads `out of memory (limit 32Mi)`).
   */
  reason?: 'oom';
  durationMs: number;
}

/** Runs one attempt of a step. Never throws for a failing step; throws only for infrastructure errors (e.g. {@link EngineUnavailableError}). */
export interface StepExecutor {
  runAttempt(spec: AttemptSpec): Promise<AttemptResult>;
}

/** Where a started service can be reached. */
export interface ServiceEndpoint {
  /** Host for the runner (and process steps): `127.0.0.1` for published ports. */
  host: string;
  /** Container port (or process port) → host port, for every published port. */
  ports: Record<number, number>;
}

/** A running service. `stop()` is idempotent and never throws. */
export interface ServiceHandle {
  readonly name: string;
  readonly endpoint: ServiceEndpoint;
  /** Container id or process group id, for the store. */
  readonly id: string;
  /**
   * Resolves when the service exits on its own (not after `stop()`), with its
   * exit code; rejects with {@link EngineUnavailableError} when its runtime
   * goes away (the Docker engine).
   */
  readonly exited: Promise<{ exitCode: number | null }>;
  /** The last `n` lines of its output, for error messages. */
  logTail(n: number): string[];
  /**
   * Runs a command probe where compose would: inside the container (docker
   * exec) or as a local process for process services. Resolves with the exit
   * code and output; rejects on timeout.
   */
  exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /**
   * Host and port for network probes (http/tcp) of the given service port:
   * the published host port when published, otherwise the container's address
   * on the run network.
   */
  probeAddress(port: number): { host: string; port: number };
  /** Graceful stop (SIGTERM), then kill after `graceMs` (default 10 000 ms, docker stop's default). */
  stop(graceMs?: number): Promise<void>;
}

/** What to start for a service. */
export interface ServiceStartSpec {
  runId: string;
  /** Service name; also its DNS alias on the run network. */
  name: string;
  /**
   * Docker services: more DNS aliases on the run network besides `name`
   * (`<name>-<i>` for each of several replicas). Process services ignore it.
   */
  aliases?: string[];
  agent: AgentSpec;
  /** Environment resolved for this run (`from: env` already looked up). */
  env: Record<string, string>;
  logFile: string;
  signal: AbortSignal;
  onOutput?: OutputListener;
  /**
   * Docker services: files `/run/secrets/<name>`, as for container steps
   * (see {@link AttemptSpec.secretFiles}). Process services ignore them.
   */
  secretFiles?: SecretFile[];
  /**
   * Masks secret values in every line before it is written to the log file or
   * passed to onOutput; also in `logTail`, command probe output and image
   * build errors.
   */
  redact?: Redactor;
}

/** Starts services of one runtime. */
export interface ServiceRunner {
  startService(spec: ServiceStartSpec): Promise<ServiceHandle>;
}

/**
 * The Docker side of a run: what the runner needs from a container engine
 * beyond running steps and services. Created lazily, only for plans with a
 * container step or a docker service.
 */
export interface ContainerEngine {
  /** @throws EngineUnavailableError when the engine cannot be reached. */
  ping(): Promise<void>;
  /** Creates the run's own network (labelled with the run id); resolves with its name. */
  createRunNetwork(runId: string): Promise<string>;
  /** Removes every container and network labelled with the run id; resolves with how many. */
  removeRunLeftovers(runId: string): Promise<number>;
  /** Runs container steps on the run's network. */
  steps(network: string): StepExecutor;
  /** Starts docker services on the run's network. */
  services(network: string): ServiceRunner;
}

/** What a sweep for a run's processes found and killed. */
export interface SweepResult {
  /** Pids killed, with their command lines (as far as they could be read). */
  killed: { pid: number; command: string }[];
}

/**
 * Finds and kills a run's leftover processes (after kill -9 of a runner, and
 * at the end of every run): by the process groups the store recorded, and by
 * the `AGENT_RUN_ID` every step and service process carries in its
 * environment. Never throws.
 */
export interface ProcessCleaner {
  /** Kills process group `pgid` if a process in it still carries `AGENT_RUN_ID=runId`. */
  killGroup(pgid: number, runId: string): void;
  /**
   * Kills every process whose environment carries `AGENT_RUN_ID=runId` (and,
   * when given, `AGENT_STEP_ID=stepId`).
   */
  sweep(runId: string, stepId?: string): Promise<SweepResult>;
}

/**
 * The runtimes a run drives, wired once in the composition root
 * (`src/wiring.ts`) and handed to the runner. Only what the plan uses needs
 * to work: the Docker side is created only for plans that need it.
 */
export interface Executors {
  /** Local process steps. */
  process: StepExecutor;
  /** `runtime: process` services. */
  processServices: ServiceRunner;
  /** The container engine, created on first use. Its `ping` throws {@link EngineUnavailableError}. */
  docker?: () => ContainerEngine | Promise<ContainerEngine>;
  processes: ProcessCleaner;
}

/** The Docker engine could not be reached or refused an operation that is not the step's fault. Exit code 4. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
  constructor(
    message: string,
    /** What to do about it. */
    readonly hint: string = 'start Docker (or set DOCKER_HOST) and try again',
  ) {
    super(message);
  }
}

/** A service could not be started (image build failed, port in use, command not found). */
export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}
