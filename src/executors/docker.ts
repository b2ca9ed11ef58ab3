/**
 * The Docker side of the executors, through dockerode: the engine (networks,
 * images, leftovers), container steps ({@link DockerExecutor}) and
 * `runtime: docker` services ({@link DockerServiceRunner}).
 *
 * Every container and network carries the labels `agentfile.run` and
 * `agentfile.step` (see `types.ts`), so {@link DockerEngine.removeRunLeftovers}
 * can always find what an interrupted run left behind. Each run gets its own
 * bridge network `agentfile-<runId>`, on which services and container steps
 * are reachable by their name (a DNS alias), as in docker compose.
 */

import { createHash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Writable } from 'node:stream';
import Dockerode from 'dockerode';
import type { AgentSpec, BuildSpec } from '../config/model.js';
import { watchAttempt } from './attempt-watch.js';
import { ExecTimeoutError, ImageBuildError, ImageNotFoundError } from './errors.js';
import { type OutputSink, openOutputSink, RingBuffer } from './output.js';
import {
  type AttemptResult,
  type AttemptSpec,
  EngineUnavailableError,
  LABEL_RUN,
  LABEL_STEP,
  type OutputListener,
  type ServiceEndpoint,
  type ServiceHandle,
  type ServiceRunner,
  ServiceStartError,
  type ServiceStartSpec,
  type StepExecutor,
} from './types.js';

/** Label telling steps (`step`) from services (`service`) among a run's containers. */
export const LABEL_KIND = 'agentfile.kind';
/** Default grace between the stop signal and SIGKILL for a step container, in ms. */
export const DEFAULT_CONTAINER_STEP_GRACE_MS = 2000;
/** Default grace for stopping a service container, in ms (docker stop's default). */
export const DEFAULT_CONTAINER_SERVICE_GRACE_MS = 10_000;

/** The name of a run's network: `agentfile-<runId>`. */
export function runNetworkName(runId: string): string {
  return `agentfile-${runId}`;
}

/** Options of the image methods of {@link DockerEngine}. */
export interface ImageOptions {
  /** Receives build and pull progress, one line at a time (always as `stdout`). */
  onOutput?: OutputListener;
  /** Aborts a build or pull in progress. */
  signal?: AbortSignal;
}

/** The shape of dockerode's errors: the engine's HTTP status and JSON body. */
interface DockerApiError extends Error {
  statusCode?: number;
  json?: { message?: string } | null;
  reason?: string;
  code?: string;
  syscall?: string;
}

function statusOf(error: unknown): number | undefined {
  return (error as DockerApiError | undefined)?.statusCode;
}

/** The engine's own message for an API error (`No such image: x`), else the error's message. */
function apiMessage(error: unknown): string {
  const e = error as DockerApiError;
  const raw = e?.json?.message ?? e?.message ?? String(error);
  // Streaming calls (pull, build) only carry `(HTTP code 500) server error - <message>`.
  const message = raw.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  return message.split('\n')[0] ?? message;
}

/** True for errors that mean the engine could not be reached (socket missing, refused, reset). */
function isConnectionError(error: unknown): boolean {
  const e = error as DockerApiError | undefined;
  if (!e || typeof e !== 'object' || e.statusCode !== undefined) return false;
  if (e.syscall === 'connect') return true;
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(
    e.code ?? '',
  );
}

/** Runs `fn` ignoring the engine's "already gone" answers (404 no such, 304 not modified, 409 in progress). */
async function ignoreGone(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    const status = statusOf(error);
    if (status === 404 || status === 304 || status === 409) return false;
    throw error;
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/** `KEY=value` list for the engine. */
function toEnvList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

/** Splits `repo[:tag]` (the tag is after the last colon that follows the last slash). */
function splitReference(reference: string): { repo: string; tag: string } {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { repo: reference, tag: 'latest' };
}

/** An agent name as a Docker repository path component (`[a-z0-9]+([._-][a-z0-9]+)*`). */
function repositoryName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return cleaned || 'agent';
}

/** Lists a directory tree: regular files and symlinks, as sorted posix paths relative to `root`. */
async function listContext(
  root: string,
): Promise<{ path: string; absolute: string; link: boolean }[]> {
  const out: { path: string; absolute: string; link: boolean }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const absolute = join(dir, entry.name);
      const path = relative(root, absolute).split(sep).join('/');
      if (entry.isDirectory()) await walk(absolute);
      else if (entry.isSymbolicLink()) out.push({ path, absolute, link: true });
      else if (entry.isFile()) out.push({ path, absolute, link: false });
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The content hash of a build: the first 12 hex digits of a sha256 over
 * every file of the context (path and content; symlinks by target), the
 * Dockerfile path and the build arguments. Files a `.dockerignore` excludes
 * are hashed too, so the hash may change when nothing the build sees did
 * (a needless rebuild, never a stale image).
 *
 * @throws the file system error when the context cannot be read.
 */
export async function buildContextHash(build: BuildSpec): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await listContext(build.context)) {
    if (file.link) {
      hash.update(`link\0${file.path}\0${await readlink(file.absolute)}\0`);
    } else {
      const content = createHash('sha256')
        .update(await readFile(file.absolute))
        .digest('hex');
      hash.update(`file\0${file.path}\0${content}\0`);
    }
  }
  hash.update(`dockerfile\0${build.dockerfile}\0`);
  const args = Object.entries(build.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  hash.update(`args\0${JSON.stringify(args)}`);
  return hash.digest('hex').slice(0, 12);
}

/** Options of {@link DockerEngine}. */
export interface DockerEngineOptions {
  /** The dockerode instance to use. Default: `DOCKER_HOST`, else the default socket (dockerode's defaults). */
  docker?: Dockerode;
}

/**
 * One Docker engine connection. Every method maps "cannot connect" errors
 * (ECONNREFUSED, ENOENT on the socket, ...) to {@link EngineUnavailableError}.
 */
export class DockerEngine {
  readonly docker: Dockerode;

  constructor(options: DockerEngineOptions = {}) {
    this.docker = options.docker ?? new Dockerode();
  }

  /** Where the engine is expected: `DOCKER_HOST`, the socket path, or `/var/run/docker.sock`. */
  get address(): string {
    const modem = this.docker.modem as {
      socketPath?: unknown;
      host?: string;
      port?: string | number;
    };
    if (typeof modem.socketPath === 'string') return modem.socketPath;
    if (modem.host) return `${modem.host}${modem.port ? `:${modem.port}` : ''}`;
    return process.env.DOCKER_HOST ?? '/var/run/docker.sock';
  }

  /**
   * True when containers' addresses on a bridge network are reachable from
   * this process: a local engine (a unix socket) on Linux. Docker Desktop
   * (macOS, Windows) and remote engines run containers in a VM, where only
   * published ports reach them.
   */
  get containersReachable(): boolean {
    // docker-modem keeps a unix socket as a path, or, for the default socket,
    // as a function that finds it; a TCP/SSH engine has a host instead.
    const modem = this.docker.modem as { socketPath?: unknown; host?: unknown };
    return process.platform === 'linux' && !modem.host && modem.socketPath !== undefined;
  }

  /** Runs an engine call, mapping connection failures to {@link EngineUnavailableError}. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.mapError(error);
    }
  }

  /** The error to throw for an engine call's failure. */
  private mapError(error: unknown): unknown {
    if (error instanceof EngineUnavailableError) return error;
    if (isConnectionError(error)) {
      return new EngineUnavailableError(
        `cannot reach the Docker engine at ${this.address}: ${(error as Error).message}`,
      );
    }
    return error;
  }

  /**
   * Checks the engine answers.
   *
   * @throws EngineUnavailableError (`cannot reach the Docker engine at /var/run/docker.sock: connect ENOENT ...`).
   */
  async ping(): Promise<void> {
    await this.call(() => this.docker.ping());
  }

  /**
   * Creates the run's bridge network `agentfile-<runId>`, labelled
   * `agentfile.run=<runId>`, or reuses it when it exists (a resumed run).
   *
   * @returns the network's name.
   */
  async createRunNetwork(runId: string): Promise<string> {
    const name = runNetworkName(runId);
    const exists = async (): Promise<boolean> => {
      const networks = await this.call(() =>
        this.docker.listNetworks({ filters: { name: [name] } }),
      );
      return networks.some((network) => network.Name === name);
    };
    if (await exists()) return name;
    try {
      await this.call(() =>
        this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { [LABEL_RUN]: runId },
        }),
      );
    } catch (error) {
      // Created concurrently by another attempt of the same run.
      if (statusOf(error) === 409 && (await exists())) return name;
      throw error;
    }
    return name;
  }

  /**
   * Force-removes every container labelled `agentfile.run=<runId>` (with its
   * anonymous volumes), then the run's networks. Things already gone are
   * skipped silently.
   *
   * @returns how many containers and networks were removed.
   */
  async removeRunLeftovers(runId: string): Promise<number> {
    const filter = { label: [`${LABEL_RUN}=${runId}`] };
    let removed = 0;
    const containers = await this.call(() =>
      this.docker.listContainers({ all: true, filters: filter }),
    );
    for (const info of containers) {
      const container = this.docker.getContainer(info.Id);
      if (await this.call(() => ignoreGone(() => container.remove({ force: true, v: true })))) {
        removed += 1;
      }
    }
    const networks = await this.call(() => this.docker.listNetworks({ filters: filter }));
    for (const info of networks) {
      const network = this.docker.getNetwork(info.Id);
      if (await this.call(() => ignoreGone(() => network.remove()))) removed += 1;
    }
    return removed;
  }

  /** True when the image is present locally. */
  async imageExists(reference: string): Promise<boolean> {
    try {
      await this.call(() => this.docker.getImage(reference).inspect());
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /**
   * Makes an image available: uses it when present locally, otherwise pulls it.
   *
   * @returns the image reference.
   * @throws ImageNotFoundError (a {@link ServiceStartError}) `image "x" not found locally and could not be pulled: <reason>`.
   * @throws EngineUnavailableError when the engine cannot be reached.
   */
  async ensureStepImage(image: string, options: ImageOptions = {}): Promise<string> {
    if (await this.imageExists(image)) return image;
    try {
      const stream = await this.call(() =>
        this.docker.pull(image, options.signal ? { abortSignal: options.signal } : {}),
      );
      let failure: string | undefined;
      await this.followJsonStream(stream, (event) => {
        const status = [event.status, event.progress].filter(Boolean).join(' ');
        if (status) options.onOutput?.('stdout', status);
        if (event.error !== undefined || event.errorDetail !== undefined) {
          failure = event.errorDetail?.message ?? event.error;
        }
      });
      // The engine reports some pull failures inside a 200 response.
      if (failure !== undefined) throw new Error(failure);
      if (!(await this.imageExists(image))) throw new Error('the pull did not produce the image');
    } catch (error) {
      if (error instanceof EngineUnavailableError) throw error;
      options.signal?.throwIfAborted();
      throw new ImageNotFoundError(
        `image "${image}" not found locally and could not be pulled: ${apiMessage(error)}`,
        'check the image name, build or load it locally (docker build / docker load), or log in to its registry',
      );
    }
    return image;
  }

  /**
   * Makes an agent's image available. For `build`, the context is built
   * (`docker build`, classic builder) and tagged
   * `agentfile/<agent name>:<content hash>` ({@link buildContextHash}); the
   * build is skipped when that tag exists. When the agent also names an
   * `image`, the build is tagged with it too. Otherwise `agent.image` is used
   * as {@link ensureStepImage} does.
   *
   * @returns the image reference to run.
   * @throws ImageBuildError (a {@link ServiceStartError}) when the build fails; its message ends with the build's last lines.
   * @throws ImageNotFoundError, EngineUnavailableError as {@link ensureStepImage}.
   */
  async ensureImage(agent: AgentSpec, options: ImageOptions = {}): Promise<string> {
    if (agent.build === undefined) {
      if (agent.image === undefined) {
        throw new ServiceStartError(`agent "${agent.name}" has neither an image nor a build`);
      }
      return this.ensureStepImage(agent.image, options);
    }
    const build = agent.build;
    let hash: string;
    try {
      hash = await buildContextHash(build);
    } catch (error) {
      throw new ServiceStartError(
        `cannot read the build context of agent "${agent.name}": ${(error as Error).message}`,
      );
    }
    const tag = `agentfile/${repositoryName(agent.name)}:${hash}`;
    if (!(await this.imageExists(tag))) await this.buildImage({ agent, build, tag, options });
    if (agent.image !== undefined && agent.image !== tag) {
      const { repo, tag: extra } = splitReference(agent.image);
      await this.call(() => this.docker.getImage(tag).tag({ repo, tag: extra }));
    }
    return tag;
  }

  /** Builds `build` as `tag`, streaming its output; throws ImageBuildError on failure. */
  private async buildImage(options: {
    agent: AgentSpec;
    build: BuildSpec;
    tag: string;
    options: ImageOptions;
  }): Promise<void> {
    const { agent, build, tag } = options;
    const { onOutput, signal } = options.options;
    const lines = new RingBuffer(20);
    let failure: string | undefined;
    const fail = (reason: string): ImageBuildError => {
      const tail = lines.tail(10);
      const message = [`image build of agent "${agent.name}" failed: ${reason}`, ...tail].join(
        '\n',
      );
      return new ImageBuildError(message, lines.tail(20));
    };
    try {
      const stream = await this.call(() =>
        this.docker.buildImage(
          { context: build.context, src: ['.'] },
          {
            t: tag,
            dockerfile: build.dockerfile,
            buildargs: build.args,
            rm: true,
            forcerm: true,
            labels: { 'agentfile.agent': agent.name },
            ...(signal ? { abortSignal: signal } : {}),
          },
        ),
      );
      await this.followJsonStream(stream, (event) => {
        if (typeof event.stream === 'string') {
          for (const line of event.stream.split('\n')) {
            const trimmed = line.replace(/\r$/, '');
            if (trimmed.trim() === '') continue;
            lines.push(trimmed);
            onOutput?.('stdout', trimmed);
          }
        }
        if (event.error !== undefined || event.errorDetail !== undefined) {
          failure = event.errorDetail?.message ?? event.error ?? 'unknown error';
        }
      });
    } catch (error) {
      if (error instanceof EngineUnavailableError) throw error;
      signal?.throwIfAborted();
      throw fail(apiMessage(error));
    }
    if (failure !== undefined) throw fail(failure.trim());
  }

  /** Consumes a JSON-lines progress stream (build, pull), resolving at its end. */
  private followJsonStream(
    stream: NodeJS.ReadableStream,
    onEvent: (event: {
      stream?: string;
      status?: string;
      progress?: string;
      error?: string;
      errorDetail?: { message?: string };
    }) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(this.mapError(error)) : resolve()),
        onEvent,
      );
    });
  }

  /** A step executor for container steps on `network` (the run network from {@link createRunNetwork}). */
  steps(network: string): DockerExecutor {
    return new DockerExecutor({ engine: this, network });
  }

  /** A service runner for `runtime: docker` services on `network`. */
  services(network: string): DockerServiceRunner {
    return new DockerServiceRunner({ engine: this, network });
  }
}

/** Feeds a container's multiplexed output stream into a sink; resolves when the stream ends. */
function pipeContainerOutput(
  engine: DockerEngine,
  stream: NodeJS.ReadWriteStream,
  sink: OutputSink,
): Promise<void> {
  const writable = (push: (chunk: Buffer) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        push(chunk);
        callback();
      },
    });
  engine.docker.modem.demuxStream(
    stream,
    writable((chunk) => sink.stdout.push(chunk)),
    writable((chunk) => sink.stderr.push(chunk)),
  );
  return new Promise((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.on('error', () => resolve());
  });
}

/** `command not found: foo` for the runtime's "executable file not found", else the engine's message. */
function startFailure(error: unknown): string {
  const message = apiMessage(error);
  const notFound = /exec: "([^"]+)": executable file not found/.exec(message);
  if (notFound) return `command not found: ${notFound[1]}`;
  const noFile = /exec: "([^"]+)": stat [^:]+: no such file or directory/.exec(message);
  if (noFile) return `command not found: ${noFile[1]}`;
  return message;
}

/** Signal name for a container exit code above 128 (`137` → `SIGKILL`). */
function signalOf(exitCode: number): string | undefined {
  if (exitCode === 137) return 'SIGKILL';
  if (exitCode === 143) return 'SIGTERM';
  if (exitCode === 130) return 'SIGINT';
  return undefined;
}

/** Stops a container: its stop signal, then SIGKILL after `graceMs` (rounded up to whole seconds). */
async function stopContainer(
  engine: DockerEngine,
  container: Dockerode.Container,
  graceMs: number,
): Promise<void> {
  await engine.call(() => ignoreGone(() => container.stop({ t: Math.ceil(graceMs / 1000) })));
}

/** Force-removes a container with its anonymous volumes; never throws. */
async function removeContainer(container: Dockerode.Container): Promise<void> {
  try {
    await ignoreGone(() => container.remove({ force: true, v: true }));
  } catch {
    // Leftovers are found by label later (removeRunLeftovers).
  }
}

/** Options of {@link DockerExecutor}. */
export interface DockerExecutorOptions {
  engine: DockerEngine;
  /** The run network to join. Default: `createRunNetwork(spec.runId)` for each attempt. */
  network?: string;
  /** ms between the stop signal and SIGKILL on timeout or abort. Default {@link DEFAULT_CONTAINER_STEP_GRACE_MS}. */
  graceMs?: number;
}

/**
 * Runs step attempts as containers (`docker run --rm` semantics): the
 * container joins the run network with the step id as alias, its output is
 * streamed line by line, and it is always removed afterwards.
 */
export class DockerExecutor implements StepExecutor {
  private readonly engine: DockerEngine;
  private readonly network: string | undefined;
  private readonly graceMs: number;

  constructor(options: DockerExecutorOptions) {
    this.engine = options.engine;
    this.network = options.network;
    this.graceMs = options.graceMs ?? DEFAULT_CONTAINER_STEP_GRACE_MS;
  }

  /**
   * Runs one attempt in a container of `spec.image` (pulled when missing).
   * `Cmd` is `spec.command` (the image's entrypoint is kept), `WorkingDir`
   * `spec.workdir`, `Env` `spec.env` only (the runner's environment is not
   * passed into containers). A missing image or command, a non-zero exit, a
   * timeout and an abort are results; an out-of-memory kill says so.
   *
   * @throws EngineUnavailableError when the engine cannot be reached.
   */
  async runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const cancelledResult = (): AttemptResult => ({
      exitCode: null,
      timedOut: false,
      cancelled: true,
      error: 'cancelled',
      durationMs: elapsed(),
    });
    const failed = (error: string): AttemptResult => ({
      exitCode: null,
      timedOut: false,
      cancelled: false,
      error,
      durationMs: elapsed(),
    });
    if (spec.signal.aborted) return cancelledResult();
    if (spec.image === undefined) return failed(`step "${spec.stepId}" has no image`);

    try {
      await this.engine.ensureStepImage(spec.image, { signal: spec.signal });
    } catch (error) {
      if (error instanceof EngineUnavailableError) throw error;
      if (spec.signal.aborted) return cancelledResult();
      return failed((error as Error).message);
    }
    const network = this.network ?? (await this.engine.createRunNetwork(spec.runId));
    if (spec.signal.aborted) return cancelledResult();

    const sink = await openOutputSink({ logFile: spec.logFile, onOutput: spec.onOutput });
    let container: Dockerode.Container | undefined;
    try {
      try {
        container = await this.engine.call(() =>
          this.engine.docker.createContainer({
            Image: spec.image,
            Cmd: spec.command,
            Env: toEnvList(spec.env),
            ...(spec.workdir !== undefined ? { WorkingDir: spec.workdir } : {}),
            Labels: {
              [LABEL_RUN]: spec.runId,
              [LABEL_STEP]: spec.stepId,
              [LABEL_KIND]: 'step',
              'agentfile.attempt': String(spec.attempt),
            },
            AttachStdout: true,
            AttachStderr: true,
            Tty: false,
            HostConfig: { NetworkMode: network },
            NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [spec.stepId] } } },
          }),
        );
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        return failed(`cannot create the container: ${apiMessage(error)}`);
      }
      const created = container;
      const stream = await this.engine.call(() =>
        created.attach({ stream: true, stdout: true, stderr: true }),
      );
      const outputDone = pipeContainerOutput(this.engine, stream, sink);
      if (spec.signal.aborted) return cancelledResult();
      try {
        await this.engine.call(() => created.start());
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        return failed(startFailure(error));
      }
      if (spec.onStarted) {
        try {
          spec.onStarted({ containerId: created.id });
        } catch {
          // The store's bookkeeping failing is not the step's failure.
        }
      }

      let stopping: Promise<void> | undefined;
      const watch = watchAttempt({
        timeoutMs: spec.timeoutMs,
        signal: spec.signal,
        stopping: () => stopping !== undefined,
        stop: () => {
          stopping ??= stopContainer(this.engine, created, this.graceMs).catch(() => undefined);
        },
      });
      let exit: { StatusCode: number };
      try {
        exit = await this.engine.call(() => created.wait());
      } finally {
        watch.dispose();
      }
      const { timedOut, cancelled } = watch;
      await stopping;
      await settlesWithin(outputDone, 2000);
      const state = await this.engine
        .call(() => created.inspect())
        .then((info) => info.State)
        .catch(() => undefined);

      const exitCode = exit.StatusCode;
      const durationMs = elapsed();
      if (timedOut || cancelled) {
        const signal = signalOf(exitCode);
        return {
          exitCode: null,
          ...(signal ? { signal } : {}),
          timedOut,
          cancelled,
          error: timedOut ? `timed out after ${spec.timeoutMs} ms` : 'cancelled',
          durationMs,
        };
      }
      if (state?.OOMKilled) {
        return {
          exitCode,
          timedOut,
          cancelled,
          error: 'killed: out of memory (OOMKilled)',
          durationMs,
        };
      }
      if (exitCode === 0) return { exitCode, timedOut, cancelled, durationMs };
      return { exitCode, timedOut, cancelled, error: `exit code ${exitCode}`, durationMs };
    } finally {
      if (container) await removeContainer(container);
      await sink.close();
    }
  }
}

/** Options of {@link DockerServiceRunner}. */
export interface DockerServiceRunnerOptions {
  engine: DockerEngine;
  /** The run network to join. Default: `createRunNetwork(spec.runId)`. */
  network?: string;
  /** Lines a service keeps for `logTail`. Default 200. */
  logTailLines?: number;
}

/**
 * Starts `runtime: docker` services as containers, the way docker compose
 * would: on the run network with the service name as alias, ports published
 * on all host interfaces (compose's default; a host port of 0 lets the engine
 * pick a free one), bind mounts, CPU and memory limits.
 */
export class DockerServiceRunner implements ServiceRunner {
  private readonly engine: DockerEngine;
  private readonly network: string | undefined;
  private readonly logTailLines: number;

  constructor(options: DockerServiceRunnerOptions) {
    this.engine = options.engine;
    this.network = options.network;
    this.logTailLines = options.logTailLines ?? 200;
  }

  /**
   * Ensures the image (building it when the agent has `build`; the build's
   * output goes to the service's log), creates and starts the container and
   * reads back its published ports.
   *
   * @throws ServiceStartError (or its subclasses ImageBuildError,
   *   ImageNotFoundError) when the image or container cannot be made or
   *   started (e.g. `port is already allocated`); the container is removed.
   * @throws EngineUnavailableError when the engine cannot be reached.
   * @throws the signal's reason when `spec.signal` aborts before the service started.
   */
  async startService(spec: ServiceStartSpec): Promise<ServiceHandle> {
    spec.signal.throwIfAborted();
    const { agent, name } = spec;
    const ring = new RingBuffer(this.logTailLines);
    const sink = await openOutputSink({ logFile: spec.logFile, onOutput: spec.onOutput, ring });
    let container: Dockerode.Container | undefined;
    try {
      const image = await this.engine.ensureImage(agent, {
        signal: spec.signal,
        onOutput: (_stream, line) => sink.line('stdout', line),
      });
      const network = this.network ?? (await this.engine.createRunNetwork(spec.runId));
      spec.signal.throwIfAborted();

      const exposedPorts: Record<string, object> = {};
      const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
      for (const port of agent.ports) {
        const key = `${port.container}/${port.protocol}`;
        exposedPorts[key] = {};
        const bindings = portBindings[key] ?? [];
        bindings.push({ HostIp: '', HostPort: port.host === 0 ? '' : String(port.host) });
        portBindings[key] = bindings;
      }
      const { nanoCpus, memoryBytes } = agent.resources.limits;
      try {
        container = await this.engine.call(() =>
          this.engine.docker.createContainer({
            Image: image,
            ...(agent.command !== undefined ? { Cmd: agent.command } : {}),
            ...(agent.workdir !== undefined ? { WorkingDir: agent.workdir } : {}),
            Env: toEnvList(spec.env),
            Labels: {
              [LABEL_RUN]: spec.runId,
              [LABEL_STEP]: name,
              [LABEL_KIND]: 'service',
              'agentfile.agent': agent.name,
            },
            ExposedPorts: exposedPorts,
            AttachStdout: true,
            AttachStderr: true,
            Tty: false,
            HostConfig: {
              NetworkMode: network,
              PortBindings: portBindings,
              Binds: agent.volumes.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`),
              ...(nanoCpus !== undefined ? { NanoCpus: nanoCpus } : {}),
              ...(memoryBytes !== undefined ? { Memory: memoryBytes } : {}),
            },
            NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [name] } } },
          }),
        );
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        throw new ServiceStartError(
          `service "${name}": cannot create the container: ${apiMessage(error)}`,
        );
      }
      const created = container;
      const stream = await this.engine.call(() =>
        created.attach({ stream: true, stdout: true, stderr: true }),
      );
      const outputDone = pipeContainerOutput(this.engine, stream, sink);
      spec.signal.throwIfAborted();
      try {
        await this.engine.call(() => created.start());
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        throw new ServiceStartError(`service "${name}" could not start: ${startFailure(error)}`);
      }
      const info = await this.engine.call(() => created.inspect());
      const ports: Record<number, number> = {};
      // Keyed by container port alone (the endpoint's shape): tcp wins over udp.
      const published = Object.entries(info.NetworkSettings.Ports ?? {}).sort(
        ([a], [b]) => Number(a.endsWith('/udp')) - Number(b.endsWith('/udp')),
      );
      for (const [key, bindings] of published) {
        const containerPort = Number.parseInt(key, 10);
        const hostPort = bindings?.find((b) => b.HostPort)?.HostPort;
        if (hostPort && !(containerPort in ports)) ports[containerPort] = Number(hostPort);
      }
      const address = info.NetworkSettings.Networks?.[network]?.IPAddress ?? '';
      const handle = new DockerServiceHandle({
        engine: this.engine,
        container: created,
        name,
        endpoint: { host: '127.0.0.1', ports },
        address,
        ring,
        outputDone,
        closeSink: () => sink.close(),
      });
      return handle;
    } catch (error) {
      if (container) await removeContainer(container);
      await sink.close();
      throw error;
    }
  }
}

/** A running service container. */
class DockerServiceHandle implements ServiceHandle {
  readonly name: string;
  readonly id: string;
  readonly endpoint: ServiceEndpoint;
  readonly exited: Promise<{ exitCode: number | null }>;
  private readonly engine: DockerEngine;
  private readonly container: Dockerode.Container;
  private readonly address: string;
  private readonly ring: RingBuffer;
  private readonly outputDone: Promise<void>;
  private readonly closeSink: () => Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(options: {
    engine: DockerEngine;
    container: Dockerode.Container;
    name: string;
    endpoint: ServiceEndpoint;
    address: string;
    ring: RingBuffer;
    outputDone: Promise<void>;
    closeSink: () => Promise<void>;
  }) {
    this.engine = options.engine;
    this.container = options.container;
    this.name = options.name;
    this.id = options.container.id;
    this.endpoint = options.endpoint;
    this.address = options.address;
    this.ring = options.ring;
    this.outputDone = options.outputDone;
    this.closeSink = options.closeSink;
    this.exited = new Promise((resolve) => {
      this.container.wait().then(
        (result: { StatusCode: number }) => {
          if (this.stopping === undefined) resolve({ exitCode: result.StatusCode });
        },
        () => undefined,
      );
    });
  }

  logTail(n: number): string[] {
    return this.ring.tail(n);
  }

  /**
   * `docker exec` of a command probe in the container. Rejects with
   * {@link ExecTimeoutError} after `timeoutMs` (the exec'd process is left
   * to finish, as Docker's own health checks do), and with the engine's
   * error when the exec cannot be made.
   */
  async exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const exec = await this.engine.call(() =>
      this.container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true }),
    );
    const stream = await this.engine.call(() => exec.start({ hijack: true, stdin: false }));
    const chunks: Buffer[] = [];
    const collect = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    this.engine.docker.modem.demuxStream(stream, collect, collect);
    const ended = new Promise<void>((resolve) => {
      stream.once('end', () => resolve());
      stream.once('close', () => resolve());
      stream.on('error', () => resolve());
    });
    if (!(await settlesWithin(ended, timeoutMs))) {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      throw new ExecTimeoutError(timeoutMs);
    }
    let exitCode: number | null = null;
    // The exec's exit code is recorded just after its output ends.
    for (let i = 0; i < 50 && exitCode === null; i++) {
      const info = await this.engine.call(() => exec.inspect());
      if (!info.Running) exitCode = info.ExitCode ?? null;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { exitCode: exitCode ?? 1, output: Buffer.concat(chunks).toString('utf8') };
  }

  /**
   * Where network probes go. The container's own address when it can be
   * reached (a local engine on Linux): Docker's userland port proxy accepts
   * TCP connections even when nothing in the container listens, or after it
   * exited, so a tcp probe through a published port could pass for a dead
   * service. Otherwise the published port, then the container address.
   */
  probeAddress(port: number): { host: string; port: number } {
    if (this.address && this.engine.containersReachable) return { host: this.address, port };
    const published = this.endpoint.ports[port];
    if (published !== undefined) return { host: '127.0.0.1', port: published };
    return { host: this.address || '127.0.0.1', port };
  }

  /** `docker stop -t ceil(graceMs / 1000)`, then removes the container. Idempotent, never throws. */
  stop(graceMs: number = DEFAULT_CONTAINER_SERVICE_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await stopContainer(this.engine, this.container, graceMs);
      } catch {
        // stop() never throws; leftovers are found by label.
      }
      await removeContainer(this.container);
      await settlesWithin(this.outputDone, 2000);
      await this.closeSink();
    })();
    return this.stopping;
  }
}
