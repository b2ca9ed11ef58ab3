/**
 * The services of a run: each one an explicit state machine (wireit's model)
 * whose states carry their own data:
 *
 * ```
 * pending ──start──▶ starting ──healthy──▶ healthy ──stop──▶ stopping ──▶ ended(stopped|cancelled)
 *                      │                      │
 *                      └──fail──▶ ended(failed|unhealthy|cancelled) ◀──exited── (while steps need it)
 * ```
 *
 * Starting runs the container or process, then waits for its health check
 * with compose semantics (`health/wait-healthy.ts`). Every transition is an
 * event through the journal; the store and reporters learn of it there.
 */

import { dirname, relative } from 'node:path';
import type { AgentSpec } from '../config/model.js';
import type { RunEvent } from '../core/events.js';
import {
  EngineUnavailableError,
  type Redactor,
  type ServiceHandle,
  type ServiceRunner,
} from '../executors/types.js';
import { probeOnce } from '../health/probe.js';
import { waitHealthy } from '../health/wait-healthy.js';
import type { ServiceNode } from '../plan/compile.js';
import type { Clock } from './clock.js';
import { OutputBatcher } from './output-batcher.js';
import { errorMessage } from './step-attempts.js';

/** A service's lifecycle state, with the data each state needs. */
export type ServiceState =
  | { phase: 'pending' }
  | { phase: 'starting'; attempt: number; startedAt: number; controller: AbortController }
  | { phase: 'healthy'; attempt: number; handle: ServiceHandle; controller: AbortController }
  | { phase: 'stopping'; attempt: number; handle: ServiceHandle }
  | { phase: 'ended'; status: 'stopped' | 'failed' | 'unhealthy' | 'cancelled' };

/** How to stop: `graceful` (SIGTERM, then kill after the grace), `cancel` (2 s grace), `kill` (at once). */
export type StopMode = 'graceful' | 'cancel' | 'kill';

/** What {@link Services} needs from the run. */
export interface ServicesContext {
  runId: string;
  /** Absolute path of the workflow file (for `detail` paths). */
  file: string;
  clock: Clock;
  emit: (event: RunEvent) => Promise<unknown>;
  runnerFor: (node: ServiceNode) => ServiceRunner;
  /** The runner's environment, for `from: env`. */
  env: NodeJS.ProcessEnv;
  /** The run's secrets by name, for `from: secret`. */
  secrets: Record<string, string>;
  /**
   * Renders an `environment` value's `${{ }}` expressions (contexts `inputs`,
   * `env`, `run`, `secrets`).
   * @throws Error with a one-line message when an expression fails.
   */
  render: (text: string) => string;
  /** Masks secret values in the service's output lines. */
  redact?: Redactor;
  logFile: (service: string, attempt: number) => string;
  /** Attempts recorded before this session. */
  attemptsBefore: (service: string) => number;
  /** Grace for `graceful` stops, in ms. Default 10 000 (docker stop). */
  stopGraceMs: number;
  /** Serve mode: stream the services' output as events. */
  serve: boolean;
  /** The run's cancellation. */
  signal: AbortSignal;
  /** A service failed: the run fails with this one-line reason. */
  onFailure: (error: string) => void;
  /** Something changed that the scheduler should look at. */
  wake: () => void;
  /** Infrastructure broke (engine gone, store unwritable): the run ends. */
  onFatal: (error: unknown) => void;
}

/** The run's services and their states. */
export class Services {
  private readonly states = new Map<string, ServiceState>();

  constructor(private readonly ctx: ServicesContext) {}

  /** The state of `name` (`pending` until started). */
  state(name: string): ServiceState {
    return this.states.get(name) ?? { phase: 'pending' };
  }

  /** The running handle of a healthy service, for the environment of the steps that need it. */
  handle(name: string): ServiceHandle | undefined {
    const s = this.states.get(name);
    return s?.phase === 'healthy' ? s.handle : undefined;
  }

  /** Names of healthy services. */
  healthy(): string[] {
    return [...this.states].filter(([, s]) => s.phase === 'healthy').map(([n]) => n);
  }

  /** Aborts every service that is still starting (the run failed or was cancelled). */
  abortStarting(): void {
    for (const s of this.states.values()) if (s.phase === 'starting') s.controller.abort();
  }

  /**
   * Starts `node` and waits until it is healthy (or has no health check),
   * failed, or was cancelled. Resolves in every case but infrastructure errors.
   * @throws EngineUnavailableError / StoreError.
   */
  async start(node: ServiceNode): Promise<void> {
    const { ctx } = this;
    const name = node.id;
    const { agent } = node.service;
    const attempt = ctx.attemptsBefore(name) + 1;
    const startedAt = ctx.clock.now();
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (ctx.signal.aborted) controller.abort();
    ctx.signal.addEventListener('abort', abort);
    this.states.set(name, { phase: 'starting', attempt, startedAt, controller });
    const logFile = ctx.logFile(name, attempt);
    try {
      await ctx.emit({
        type: 'service.starting',
        runId: ctx.runId,
        at: startedAt,
        service: name,
        attempt,
        detail: describeAgent(agent, dirname(ctx.file)),
        logFile,
      });
      const env = serviceEnv(agent, ctx);
      if (typeof env === 'string') {
        await this.fail(name, 'failed', attempt, `service "${name}": ${env}`);
        return;
      }
      const output = ctx.serve
        ? new OutputBatcher({
            runId: ctx.runId,
            node: { kind: 'service', service: name },
            emit: ctx.emit,
            now: () => ctx.clock.now(),
            capBytes: Number.POSITIVE_INFINITY,
          })
        : undefined;
      let handle: ServiceHandle;
      try {
        handle = await ctx.runnerFor(node).startService({
          runId: ctx.runId,
          name,
          agent,
          env,
          logFile,
          signal: controller.signal,
          ...(ctx.redact ? { redact: ctx.redact } : {}),
          ...(agent.runtime === 'docker' && Object.keys(ctx.secrets).length > 0
            ? {
                secretFiles: Object.entries(ctx.secrets).map(([n, value]) => ({ name: n, value })),
              }
            : {}),
          ...(output ? { onOutput: (stream, line) => output.add(stream, line) } : {}),
        });
      } catch (error) {
        // Cancellation first: an aborted engine call (a build, a pull) can
        // look like a broken connection.
        if (controller.signal.aborted) {
          await this.end(name, 'cancelled', attempt);
          return;
        }
        if (error instanceof EngineUnavailableError) throw error;
        await this.fail(
          name,
          'failed',
          attempt,
          `service "${name}" failed to start: ${errorMessage(error)}`,
        );
        return;
      }
      this.states.set(name, { phase: 'starting', attempt, startedAt, controller });
      await ctx.emit({
        type: 'service.started',
        runId: ctx.runId,
        at: ctx.clock.now(),
        service: name,
        attempt,
        endpoint: Object.entries(handle.endpoint.ports)
          .map(([c, h]) => `${handle.endpoint.host}:${h}->${c}`)
          .join(', '),
        handle:
          agent.runtime === 'process' ? { pid: Number(handle.id) } : { containerId: handle.id },
      });
      const check = agent.healthCheck;
      if (check) {
        const outcome = await waitHealthy({
          check,
          probe: () => probeOnce(check.probe, handle, check.timeoutMs),
          exited: handle.exited,
          signal: controller.signal,
          onProbe: (result, info) => {
            if (result.ok) return;
            void ctx
              .emit({
                type: 'service.probe_failed',
                runId: ctx.runId,
                at: ctx.clock.now(),
                service: name,
                error: result.error,
                counted: info.counted,
              })
              .catch(() => undefined);
          },
        });
        switch (outcome.status) {
          case 'healthy':
            break;
          case 'unhealthy':
            await handle.stop(0);
            await this.fail(
              name,
              'unhealthy',
              attempt,
              `service "${name}" is unhealthy after ${outcome.probes} probes: ${outcome.lastError}`,
              handle.logTail(10),
            );
            return;
          case 'exited':
            await handle.stop(0);
            await this.fail(
              name,
              'failed',
              attempt,
              `service "${name}" exited with code ${outcome.exitCode} before it became healthy${outcome.lastError ? ` (last probe: ${outcome.lastError})` : ''}`,
              handle.logTail(10),
            );
            return;
          case 'cancelled':
            await handle.stop(2000);
            await this.end(name, 'cancelled', attempt);
            return;
        }
      }
      if (controller.signal.aborted) {
        await handle.stop(2000);
        await this.end(name, 'cancelled', attempt);
        return;
      }
      this.states.set(name, { phase: 'healthy', attempt, handle, controller });
      await ctx.emit({
        type: 'service.status',
        runId: ctx.runId,
        at: ctx.clock.now(),
        service: name,
        status: 'healthy',
        attempt,
        durationMs: ctx.clock.now() - startedAt,
      });
      this.watchExit(name, handle);
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
  }

  /**
   * Stops a healthy service (idle, or at the end) and records it `stopped`
   * or `cancelled`. Does nothing for a service in any other state.
   */
  async stop(name: string, mode: StopMode): Promise<void> {
    const s = this.states.get(name);
    if (s?.phase !== 'healthy') return;
    this.states.set(name, { phase: 'stopping', attempt: s.attempt, handle: s.handle });
    await s.handle.stop(this.graceMs(mode));
    await this.end(name, mode === 'cancel' ? 'cancelled' : 'stopped', s.attempt);
  }

  /** Stops every healthy service. Resolves when all are stopped; never rejects on a stop. */
  async stopAll(mode: StopMode): Promise<void> {
    await Promise.allSettled(this.healthy().map((name) => this.stop(name, mode)));
  }

  private graceMs(mode: StopMode): number {
    return mode === 'kill' ? 0 : mode === 'cancel' ? 2000 : this.ctx.stopGraceMs;
  }

  /** A service that dies while steps still need it fails the run. */
  private watchExit(name: string, handle: ServiceHandle): void {
    handle.exited.then(
      async ({ exitCode }) => {
        const s = this.states.get(name);
        if (s?.phase !== 'healthy' || s.handle !== handle) return;
        this.states.set(name, { phase: 'stopping', attempt: s.attempt, handle });
        try {
          await handle.stop(0);
          await this.fail(
            name,
            'failed',
            s.attempt,
            `service "${name}" exited with code ${exitCode} while steps still needed it`,
            handle.logTail(10),
          );
        } catch (error) {
          this.ctx.onFatal(error);
        }
      },
      // The runtime itself went away (the Docker engine): the run ends (exit 4).
      (error: unknown) => this.ctx.onFatal(error),
    );
  }

  private async fail(
    name: string,
    status: 'failed' | 'unhealthy',
    attempt: number,
    error: string,
    logTail?: string[],
  ): Promise<void> {
    this.ctx.onFailure(error);
    await this.end(name, status, attempt, {
      error,
      ...(logTail && logTail.length > 0 ? { logTail } : {}),
    });
  }

  private async end(
    name: string,
    status: 'stopped' | 'failed' | 'unhealthy' | 'cancelled',
    attempt: number,
    extra: { error?: string; logTail?: string[] } = {},
  ): Promise<void> {
    this.states.set(name, { phase: 'ended', status });
    try {
      await this.ctx.emit({
        type: 'service.status',
        runId: this.ctx.runId,
        at: this.ctx.clock.now(),
        service: name,
        status,
        attempt,
        ...extra,
      });
    } finally {
      this.ctx.wake();
    }
  }
}

function describeAgent(agent: AgentSpec, baseDir: string): string {
  if (agent.runtime === 'process') return `process ${agent.command?.join(' ') ?? ''}`.trim();
  if (agent.build) return `docker build ./${relative(baseDir, agent.build.context)}`;
  return `docker ${agent.image ?? ''}`;
}

/** The service's environment, or a one-line reason it cannot have one. */
function serviceEnv(
  agent: AgentSpec,
  ctx: Pick<ServicesContext, 'runId' | 'env' | 'secrets' | 'render'>,
): Record<string, string> | string {
  const runnerEnv = ctx.env;
  // AGENT_RUN_ID marks the service's processes as this run's (the sweep finds them by it).
  const env: Record<string, string> = { AGENT_RUN_ID: ctx.runId };
  for (const v of agent.environment) {
    if ('value' in v) {
      try {
        env[v.name] = v.value.includes('${{') ? ctx.render(v.value) : v.value;
      } catch (error) {
        return `environment variable ${v.name}: ${error instanceof Error ? error.message : String(error)}`;
      }
    } else if (v.from === 'secret') {
      const value = ctx.secrets[v.secretName];
      if (value === undefined) {
        return `environment variable ${v.name} (from: secret) needs secret "${v.secretName}", which the run was not given`;
      }
      env[v.name] = value;
    } else {
      const value = runnerEnv[v.name];
      if (value === undefined) {
        return `environment variable ${v.name} (from: env) is not set in the runner's environment`;
      }
      env[v.name] = value;
    }
  }
  return env;
}
