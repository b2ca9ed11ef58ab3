/**
 * One connection to a Docker engine through dockerode: where it is, mapping
 * "cannot connect" errors to {@link EngineUnavailableError}, the run's
 * network, leftovers of a run, and the entry points to images, container
 * steps and services.
 */

import Dockerode from 'dockerode';
import type { AgentSpec } from '../../config/model.js';
import { EngineUnavailableError, LABEL_RUN } from '../types.js';
import { DEFAULT_ENGINE_CALL_TIMEOUT_MS, ignoreGone, isConnectionError, statusOf } from './api.js';
import { ensureImage, ensureStepImage, type ImageOptions, imageExists } from './images.js';
import { DockerServiceRunner } from './service-runner.js';
import { DockerExecutor } from './step-executor.js';

/** The name of a run's network: `agentfile-<runId>`. */
export function runNetworkName(runId: string): string {
  return `agentfile-${runId}`;
}

/** Options of {@link DockerEngine.call}. */
export interface EngineCallOptions {
  /**
   * ms before the call counts as unanswered; `null` for calls with no bound
   * of their own (a wait, a build's upload). Default
   * {@link DEFAULT_ENGINE_CALL_TIMEOUT_MS}.
   */
  timeoutMs?: number | null;
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

  /**
   * Runs an engine call, mapping connection failures to
   * {@link EngineUnavailableError}, and a call that has not answered after
   * `options.timeoutMs` (default {@link DEFAULT_ENGINE_CALL_TIMEOUT_MS}) to one
   * too (`the Docker engine at <address> did not answer within 60 s`): a
   * connection lost after the engine started answering can leave
   * docker-modem's promise pending forever. The call itself is not aborted.
   */
  async call<T>(fn: () => Promise<T>, options: EngineCallOptions = {}): Promise<T> {
    const timeoutMs =
      options.timeoutMs === undefined ? DEFAULT_ENGINE_CALL_TIMEOUT_MS : options.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      const pending = fn();
      if (timeoutMs === null) return await pending;
      return await new Promise<T>((resolve, reject) => {
        timer = setTimeout(() => {
          const seconds = Math.round(timeoutMs / 100) / 10;
          const error = new EngineUnavailableError(
            `the Docker engine at ${this.address} did not answer within ${seconds} s`,
          );
          error.cause = new Error(`no answer within ${seconds} s`);
          reject(error);
        }, timeoutMs);
        pending.then(resolve, reject);
      });
    } catch (error) {
      throw this.engineError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The error to throw for an engine call's failure: an
   * {@link EngineUnavailableError} (`cannot reach the Docker engine at
   * <address>: <error>`, with the original error as `cause`) for a
   * connection failure (ENOENT or ECONNREFUSED on connect, ECONNRESET,
   * `socket hang up`, EPIPE, ...), else `error` unchanged.
   */
  engineError(error: unknown): unknown {
    if (error instanceof EngineUnavailableError) return error;
    if (isConnectionError(error)) {
      const unavailable = new EngineUnavailableError(
        `cannot reach the Docker engine at ${this.address}: ${(error as Error).message}`,
      );
      unavailable.cause = error;
      return unavailable;
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
  imageExists(reference: string): Promise<boolean> {
    return imageExists(this, reference);
  }

  /**
   * Makes an image available: uses it when present locally, otherwise pulls it.
   *
   * @returns the image reference.
   * @throws ImageNotFoundError (a {@link ServiceStartError}) `image "x" not found locally and could not be pulled: <reason>`.
   * @throws EngineUnavailableError when the engine cannot be reached.
   */
  ensureStepImage(image: string, options: ImageOptions = {}): Promise<string> {
    return ensureStepImage(this, image, options);
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
  ensureImage(agent: AgentSpec, options: ImageOptions = {}): Promise<string> {
    return ensureImage(this, agent, options);
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
