/**
 * `runtime: docker` services: long-running containers on the run network,
 * started the way docker compose would, with handles to probe and stop them.
 */

import { Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { ExecTimeoutError } from '../errors.js';
import { maskText, openOutputSink, RingBuffer } from '../output.js';
import {
  EngineUnavailableError,
  type Redactor,
  type ServiceEndpoint,
  type ServiceHandle,
  type ServiceRunner,
  ServiceStartError,
  type ServiceStartSpec,
} from '../types.js';
import { apiMessage, engineLostError, settlesWithin } from './api.js';
import {
  DEFAULT_CONTAINER_SERVICE_GRACE_MS,
  destroyStream,
  LOST_ENGINE_CLEANUP_MS,
  pipeContainerOutput,
  removeContainer,
  startFailure,
  stopContainer,
} from './containers.js';
import { DEFAULT_STOP_GRACE_PERIOD_MS, serviceCreateOptions } from './create-options.js';
import type { DockerEngine } from './engine.js';
import { waitForExit } from './exit-watch.js';
import { checkHostPorts, createNamedContainer, ensureRunVolumes } from './prepare.js';
import { putSecretFiles, secretFilesArchive } from './secrets.js';

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
 * would: options from {@link serviceCreateOptions} (the run network with the
 * service name as alias, ports published on all host interfaces, a host
 * port of 0 letting the engine pick a free one, volumes, limits and
 * requests, security, init, stop timeout), named volumes created on demand
 * ({@link ensureRunVolumes}), fixed host ports checked free first
 * ({@link checkHostPorts}), and secret files in `/run/secrets/`.
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
   * output goes to the service's log), creates the container, copies
   * `spec.secretFiles` into it as `/run/secrets/<name>` (mode 0444, owner
   * root), starts it and reads back its published ports. `spec.redact`
   * masks its output (log, listener, `logTail`), the output of its command
   * probes and the build output in an ImageBuildError.
   *
   * @throws ServiceStartError (or its subclasses ImageBuildError,
   *   ImageNotFoundError) when the image or container cannot be made or
   *   started, a fixed host port is already in use (`service "web": host
   *   port 8080/tcp is already in use`, before the container is created), a
   *   secret file name is
   *   invalid or the engine refuses the secret files; the container is
   *   removed.
   * @throws EngineUnavailableError when the engine cannot be reached.
   * @throws the signal's reason when `spec.signal` aborts before the service started.
   */
  async startService(spec: ServiceStartSpec): Promise<ServiceHandle> {
    spec.signal.throwIfAborted();
    const { agent, name } = spec;
    let secrets: Buffer | undefined;
    try {
      secrets = await secretFilesArchive(spec.secretFiles);
    } catch (error) {
      throw new ServiceStartError(`service "${name}": ${(error as Error).message}`);
    }
    const ring = new RingBuffer(this.logTailLines);
    const sink = await openOutputSink({
      logFile: spec.logFile,
      onOutput: spec.onOutput,
      ring,
      redact: spec.redact,
    });
    let container: Dockerode.Container | undefined;
    let attached: NodeJS.ReadableStream | undefined;
    try {
      const image = await this.engine.ensureImage(agent, {
        signal: spec.signal,
        onOutput: (_stream, line) => sink.line('stdout', line),
        ...(spec.redact !== undefined ? { redact: spec.redact } : {}),
      });
      const network = this.network ?? (await this.engine.createRunNetwork(spec.runId));
      spec.signal.throwIfAborted();

      await ensureRunVolumes(this.engine, spec.runId, agent.volumes);
      await checkHostPorts(this.engine, name, agent);
      const options = serviceCreateOptions(agent, {
        runId: spec.runId,
        name,
        image,
        network,
        env: spec.env,
        ...(spec.aliases !== undefined ? { aliases: spec.aliases } : {}),
      });
      try {
        container = await createNamedContainer(this.engine, options);
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        throw new ServiceStartError(
          `service "${name}": cannot create the container: ${apiMessage(error)}`,
        );
      }
      const created = container;
      try {
        await putSecretFiles(this.engine, created, secrets);
      } catch (error) {
        if (error instanceof EngineUnavailableError) throw error;
        throw new ServiceStartError(
          `service "${name}": cannot copy the secret files into the container: ${apiMessage(error)}`,
        );
      }
      const stream = await this.engine.call(() =>
        created.attach({ stream: true, stdout: true, stderr: true }),
      );
      attached = stream;
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
        redact: spec.redact,
        stopGracePeriodMs: agent.stopGracePeriodMs ?? DEFAULT_STOP_GRACE_PERIOD_MS,
      });
      return handle;
    } catch (error) {
      // An attach to a container removed before it started is never closed
      // by the engine (Docker 20.10): close it here, or it keeps the runner
      // alive after the run has ended.
      destroyStream(attached);
      if (container) {
        const lost = error instanceof EngineUnavailableError;
        await removeContainer(this.engine, container, lost ? LOST_ENGINE_CLEANUP_MS : undefined);
      }
      await sink.close();
      throw error;
    }
  }
}

/**
 * A running service container. Its `exited` resolves when the container
 * exits on its own, and rejects with {@link EngineUnavailableError} when the
 * engine goes away while it runs (see {@link waitForExit}); a rejection
 * nobody listens to is not reported as unhandled.
 */
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
  private readonly redact: Redactor | undefined;
  private readonly stopGracePeriodMs: number;
  private stopping: Promise<void> | undefined;
  /** Aborted by `stop()`: the exit watch ends. */
  private readonly watch = new AbortController();

  constructor(options: {
    engine: DockerEngine;
    container: Dockerode.Container;
    name: string;
    endpoint: ServiceEndpoint;
    address: string;
    ring: RingBuffer;
    outputDone: Promise<void>;
    closeSink: () => Promise<void>;
    redact?: Redactor;
    stopGracePeriodMs: number;
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
    this.redact = options.redact;
    this.stopGracePeriodMs = options.stopGracePeriodMs;
    this.exited = new Promise((resolve, reject) => {
      waitForExit({
        engine: this.engine,
        container: this.container,
        what: `service "${this.name}"`,
        outputEnded: this.outputDone,
        signal: this.watch.signal,
      }).then(
        ({ exitCode }) => {
          if (this.stopping === undefined) resolve({ exitCode });
        },
        (error: unknown) => {
          // Other failures (the watch aborted by stop()) leave it pending, as a stopped service does.
          if (this.stopping === undefined && error instanceof EngineUnavailableError) reject(error);
        },
      );
    });
    this.exited.catch(() => undefined);
  }

  logTail(n: number): string[] {
    return this.ring.tail(n);
  }

  /**
   * `docker exec` of a command probe in the container; `output` is its
   * stdout and stderr, masked by the service's redactor. Rejects with
   * {@link ExecTimeoutError} after `timeoutMs` (the exec'd process is left
   * to finish, as Docker's own health checks do), with
   * {@link EngineUnavailableError} when the engine cannot be reached or goes
   * away during the probe, and with the engine's error when the exec cannot
   * be made.
   */
  async exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    try {
      return await this.execOnce(command, timeoutMs);
    } catch (error) {
      if (error instanceof EngineUnavailableError) {
        throw engineLostError(
          this.engine,
          `a command probe of service "${this.name}" was running`,
          error,
        );
      }
      throw error;
    }
  }

  private async execOnce(
    command: string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number; output: string }> {
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
    const output = Buffer.concat(chunks).toString('utf8');
    return { exitCode: exitCode ?? 1, output: maskText(this.redact, output) };
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

  /**
   * `docker stop -t ceil(grace / 1000)`, then removes the container; the
   * grace is the smaller of `graceMs` (the runner's: 0 for a kill, 2 s for
   * a cancel, its stop grace otherwise) and the agent's `stopGracePeriod`
   * (default {@link DEFAULT_STOP_GRACE_PERIOD_MS}, 10 s). Idempotent, never
   * throws; when the engine is gone it gives up after
   * {@link LOST_ENGINE_CLEANUP_MS} (leftovers are found by label).
   */
  stop(graceMs: number = DEFAULT_CONTAINER_SERVICE_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      this.watch.abort();
      let lost = false;
      try {
        await stopContainer(this.engine, this.container, Math.min(graceMs, this.stopGracePeriodMs));
      } catch (error) {
        // stop() never throws; leftovers are found by label.
        lost = error instanceof EngineUnavailableError;
      }
      await removeContainer(this.engine, this.container, lost ? LOST_ENGINE_CLEANUP_MS : undefined);
      await settlesWithin(this.outputDone, 2000);
      await this.closeSink();
    })();
    return this.stopping;
  }
}
