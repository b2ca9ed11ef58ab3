/**
 * The services of a run: each one an explicit state machine (wireit's model)
 * whose states carry their own data:
 *
 * ```
 * pending ──start──▶ starting ──healthy──▶ healthy ──stop──▶ stopping ──▶ ended(stopped|cancelled)
 *                     ▲  │                    │
 *                     │  └──fail──▶ ended(failed|unhealthy|cancelled) ◀──exited|unhealthy── (while steps need it)
 *                     └──── restarting ◀──── (restart: on-failure, retries left) ◀──┘
 * ```
 *
 * Starting runs the container or process, then waits for its health check
 * with compose semantics (`health/wait-healthy.ts`). A healthy service stays
 * under watch while steps need it (`health/watch.ts`): its probe keeps
 * running at its interval and its exit is awaited. An attempt that exits with
 * a non-zero code or turns unhealthy, before or after it was healthy, is
 * restarted as a new attempt when its `restart` policy allows it; otherwise
 * the run fails with the probe error and the service's last lines. Steps
 * already running while it restarts go on; new ones wait until it is healthy
 * again. Every transition is an event through the journal; the store and
 * reporters learn of it there.
 */

import { dirname, relative } from 'node:path';
import type { AgentSpec, HealthCheck } from '../config/model.js';
import type { RunEvent } from '../core/events.js';
import {
  EngineUnavailableError,
  type Redactor,
  type ServiceHandle,
  type ServiceRunner,
} from '../executors/types.js';
import { type ProbeResult, type ProbeTarget, probeOnce } from '../health/probe.js';
import { waitHealthy } from '../health/wait-healthy.js';
import { type WatchOutcome, watchHealthy } from '../health/watch.js';
import type { ServiceNode } from '../plan/compile.js';
import type { Clock } from './clock.js';
import { OutputBatcher } from './output-batcher.js';
import { ReplicaSet } from './replicas.js';
import { errorMessage } from './step-attempts.js';

/** A service's lifecycle state, with the data each state needs. */
export type ServiceState =
  | { phase: 'pending' }
  | { phase: 'starting'; attempt: number; startedAt: number; controller: AbortController }
  | {
      phase: 'healthy';
      attempt: number;
      handle: ServiceHandle;
      controller: AbortController;
      /** Aborting ends the watch of the healthy service (it is being stopped). */
      watch: AbortController;
    }
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
  /** Keeps the run going until `task` settles (a restart started by the watch of a healthy service). */
  track: (task: Promise<void>) => void;
  /** Infrastructure broke (engine gone, store unwritable): the run ends. */
  onFatal: (error: unknown) => void;
}

/** The run's services and their states. */
export class Services {
  private readonly states = new Map<string, ServiceState>();
  /** Each service's own `stopGracePeriod`, in ms, when it sets one. */
  private readonly grace = new Map<string, number>();

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
   * failed, or was cancelled; an attempt that exits or turns unhealthy before
   * it is healthy is restarted first when its policy allows. Resolves in
   * every case but infrastructure errors.
   * @param restarts restarts already done in this session (the watch's restart passes its count).
   * @throws EngineUnavailableError / StoreError.
   */
  async start(node: ServiceNode, restarts = 0): Promise<void> {
    for (let n = restarts; ; n += 1) {
      const outcome = await this.startAttempt(node, n);
      if (outcome !== 'restart') return;
    }
  }

  /** One attempt: `restart` when it failed and is to be started again (the event is emitted and the backoff waited). */
  private async startAttempt(node: ServiceNode, restarts: number): Promise<'restart' | 'done'> {
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
        return 'done';
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
      // A `log` probe: any line of this attempt's output (masked) matching the
      // pattern, seen as the executor delivers it, not only the log tail; one
      // flag per replica.
      const probeSpec = agent.healthCheck?.probe;
      const logPattern = probeSpec?.kind === 'log' ? new RegExp(probeSpec.pattern) : undefined;
      const count = agent.replicas ?? 1;
      const logMatched: boolean[] = new Array(count).fill(false);
      const replicas: ServiceHandle[] = [];
      let handle: ServiceHandle;
      try {
        for (let i = 0; i < count; i += 1) {
          const started = await ctx.runnerFor(node).startService({
            runId: ctx.runId,
            name,
            ...(count > 1 ? { aliases: [`${name}-${i + 1}`] } : {}),
            agent,
            env,
            logFile: i === 0 ? logFile : replicaLogFile(logFile, i + 1),
            signal: controller.signal,
            ...(ctx.redact ? { redact: ctx.redact } : {}),
            ...(agent.runtime === 'docker' && Object.keys(ctx.secrets).length > 0
              ? {
                  secretFiles: Object.entries(ctx.secrets).map(([n, value]) => ({
                    name: n,
                    value,
                  })),
                }
              : {}),
            ...(output || logPattern
              ? {
                  onOutput: (stream, line) => {
                    if (logPattern && !logMatched[i] && logPattern.test(line)) logMatched[i] = true;
                    output?.add(stream, line);
                  },
                }
              : {}),
          });
          replicas.push(started);
        }
        handle = count === 1 ? (replicas[0] as ServiceHandle) : new ReplicaSet(replicas);
      } catch (error) {
        // The replicas that did start go with the one that did not.
        await Promise.allSettled(replicas.map((r) => r.stop(0)));
        // Cancellation first: an aborted engine call (a build, a pull) can
        // look like a broken connection.
        if (controller.signal.aborted) {
          await this.end(name, 'cancelled', attempt);
          return 'done';
        }
        if (error instanceof EngineUnavailableError) throw error;
        // Not restarted: a missing image or command does not fix itself.
        await this.fail(
          name,
          'failed',
          attempt,
          `service "${name}" failed to start: ${errorMessage(error)}`,
        );
        return 'done';
      }
      this.states.set(name, { phase: 'starting', attempt, startedAt, controller });
      await ctx.emit({
        type: 'service.started',
        runId: ctx.runId,
        at: ctx.clock.now(),
        service: name,
        attempt,
        endpoint: replicas
          .flatMap((r) =>
            Object.entries(r.endpoint.ports).map(([c, h]) => `${r.endpoint.host}:${h}->${c}`),
          )
          .join(', '),
        handle:
          agent.runtime === 'process' ? { pid: Number(handle.id) } : { containerId: handle.id },
      });
      const targets: ProbeTarget[] = replicas.map((r, i) => ({
        probeAddress: (port) => r.probeAddress(port),
        exec: (command, timeoutMs) => r.exec(command, timeoutMs),
        logMatched: () => logMatched[i] ?? false,
      }));
      // Healthy when every replica passes; the first failing one is named.
      const probeAll = async (check: HealthCheck): Promise<ProbeResult> => {
        for (const [i, t] of targets.entries()) {
          const result = await probeOnce(check.probe, t, check.timeoutMs);
          if (!result.ok)
            return count > 1 ? { ok: false, error: `replica ${i + 1}: ${result.error}` } : result;
        }
        return { ok: true };
      };
      const check = agent.healthCheck;
      if (check) {
        const outcome = await waitHealthy({
          check,
          probe: () => probeAll(check),
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
          case 'unhealthy': {
            await handle.stop(0);
            const error = `service "${name}" is unhealthy after ${outcome.probes} probes: ${outcome.lastError}`;
            if (await this.restarting(node, attempt, restarts, 'unhealthy', error, null, handle)) {
              return (await this.backoff(node, attempt, restarts)) ? 'restart' : 'done';
            }
            await this.fail(name, 'unhealthy', attempt, error, handle.logTail(10));
            return 'done';
          }
          case 'exited': {
            await handle.stop(0);
            const error = `service "${name}" exited with code ${outcome.exitCode} before it became healthy${outcome.lastError ? ` (last probe: ${outcome.lastError})` : ''}`;
            if (
              await this.restarting(
                node,
                attempt,
                restarts,
                'exited',
                error,
                outcome.exitCode,
                handle,
              )
            ) {
              return (await this.backoff(node, attempt, restarts)) ? 'restart' : 'done';
            }
            await this.fail(name, 'failed', attempt, error, handle.logTail(10));
            return 'done';
          }
          case 'cancelled':
            await handle.stop(2000);
            await this.end(name, 'cancelled', attempt);
            return 'done';
        }
      }
      if (controller.signal.aborted) {
        await handle.stop(2000);
        await this.end(name, 'cancelled', attempt);
        return 'done';
      }
      const watch = new AbortController();
      this.states.set(name, { phase: 'healthy', attempt, handle, controller, watch });
      if (node.service.agent.stopGracePeriodMs !== undefined)
        this.grace.set(name, node.service.agent.stopGracePeriodMs);
      await ctx.emit({
        type: 'service.status',
        runId: ctx.runId,
        at: ctx.clock.now(),
        service: name,
        status: 'healthy',
        attempt,
        durationMs: ctx.clock.now() - startedAt,
      });
      this.watch(node, handle, probeAll, attempt, restarts, watch.signal);
      return 'done';
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
    s.watch.abort();
    await s.handle.stop(this.graceMs(mode, this.grace.get(name)));
    await this.end(name, mode === 'cancel' ? 'cancelled' : 'stopped', s.attempt);
  }

  /** Stops every healthy service. Resolves when all are stopped; never rejects on a stop. */
  async stopAll(mode: StopMode): Promise<void> {
    await Promise.allSettled(this.healthy().map((name) => this.stop(name, mode)));
  }

  /**
   * Grace of a stop: none for `kill`, 2 s for a cancellation, otherwise the
   * agent's `stopGracePeriod` (compose's `stop_grace_period`), or the run's
   * default (10 s, `docker stop`'s).
   */
  private graceMs(mode: StopMode, agentGraceMs?: number): number {
    return mode === 'kill' ? 0 : mode === 'cancel' ? 2000 : (agentGraceMs ?? this.ctx.stopGraceMs);
  }

  /**
   * Keeps a healthy service under watch while steps need it
   * (`health/watch.ts`): an exit, or `retries` failed probes in a row at its
   * interval, stops it and either restarts it (its policy allows: a new
   * attempt, tracked by the run) or fails the run with the reason and its
   * last lines of output. `stop()` ends the watch.
   */
  private watch(
    node: ServiceNode,
    handle: ServiceHandle,
    probe: (check: HealthCheck) => Promise<ProbeResult>,
    attempt: number,
    restarts: number,
    signal: AbortSignal,
  ): void {
    const { ctx } = this;
    const name = node.id;
    const check = node.service.agent.healthCheck;
    const onOutcome = async (outcome: WatchOutcome): Promise<void> => {
      const s = this.states.get(name);
      if (outcome.status === 'stopped' || s?.phase !== 'healthy' || s.handle !== handle) return;
      this.states.set(name, { phase: 'stopping', attempt, handle });
      await handle.stop(0);
      const error =
        outcome.status === 'exited'
          ? `service "${name}" exited with code ${outcome.exitCode} while steps still needed it`
          : `service "${name}" became unhealthy while steps still needed it: ${outcome.consecutiveFailures} probes in a row failed: ${outcome.lastError}`;
      const exitCode = outcome.status === 'exited' ? outcome.exitCode : null;
      if (await this.restarting(node, attempt, restarts, outcome.status, error, exitCode, handle)) {
        const next = async (): Promise<void> => {
          if (await this.backoff(node, attempt, restarts)) await this.start(node, restarts + 1);
        };
        ctx.track(next());
        return;
      }
      await this.fail(
        name,
        outcome.status === 'exited' ? 'failed' : 'unhealthy',
        attempt,
        error,
        handle.logTail(10),
      );
    };
    watchHealthy({
      check,
      probe: () => (check ? probe(check) : Promise.resolve({ ok: true })),
      exited: handle.exited,
      signal,
      onProbe: (result, consecutiveFailures) => {
        if (result.ok) return;
        void ctx
          .emit({
            type: 'service.probe_failed',
            runId: ctx.runId,
            at: ctx.clock.now(),
            service: name,
            error: result.error,
            counted: true,
            watching: true,
            consecutiveFailures,
          })
          .catch(() => undefined);
      },
    })
      .then(onOutcome)
      // The runtime itself went away (the Docker engine), or the store broke: the run ends (exit 4).
      .catch((error: unknown) => ctx.onFatal(error));
  }

  /**
   * When the policy allows another attempt (`restart: on-failure`, fewer than
   * `maxRetries` restarts so far, not an exit with code 0, the run neither
   * cancelled nor failing), records `service.restarting` and resolves true;
   * otherwise false and nothing is recorded.
   */
  private async restarting(
    node: ServiceNode,
    attempt: number,
    restarts: number,
    reason: 'exited' | 'unhealthy',
    error: string,
    exitCode: number | null,
    handle: ServiceHandle,
  ): Promise<boolean> {
    const { ctx } = this;
    const policy = node.service.agent.restart;
    if (!mayRestart(policy, restarts, reason, exitCode) || ctx.signal.aborted) return false;
    const logTail = handle.logTail(10);
    this.states.set(node.id, {
      phase: 'starting',
      attempt: attempt + 1,
      startedAt: ctx.clock.now(),
      controller: new AbortController(),
    });
    await ctx.emit({
      type: 'service.restarting',
      runId: ctx.runId,
      at: ctx.clock.now(),
      service: node.id,
      attempt,
      reason,
      error,
      ...(reason === 'exited' ? { exitCode } : {}),
      restart: restarts + 1,
      delayMs: restartDelayMs(restarts + 1),
      ...(logTail.length > 0 ? { logTail } : {}),
    });
    ctx.wake();
    return true;
  }

  /** Waits the restart's backoff; false (and the service recorded `cancelled`) when the run was cancelled meanwhile. */
  private async backoff(node: ServiceNode, attempt: number, restarts: number): Promise<boolean> {
    const { ctx } = this;
    // The placeholder `starting` state's controller: `abortStarting()` (the run failed) ends the wait too.
    const s = this.states.get(node.id);
    const signal =
      s?.phase === 'starting' ? AbortSignal.any([ctx.signal, s.controller.signal]) : ctx.signal;
    await ctx.clock.sleep(restartDelayMs(restarts + 1), signal);
    if (!signal.aborted) return true;
    await this.end(node.id, 'cancelled', attempt);
    return false;
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

/**
 * Whether a failed attempt may be restarted: `restart.policy` is `on-failure`,
 * fewer than `maxRetries` restarts happened, and it did not exit with code 0
 * (Docker's on-failure; a kill by a signal, code null, counts as a failure).
 * Turning unhealthy counts as a failure (Kubernetes' liveness probe).
 */
export function mayRestart(
  policy: AgentSpec['restart'],
  restarts: number,
  reason: 'exited' | 'unhealthy',
  exitCode: number | null,
): boolean {
  if (policy?.policy !== 'on-failure' || restarts >= policy.maxRetries) return false;
  return reason === 'unhealthy' || exitCode !== 0;
}

/** Delay before restart `n` (1-based), in ms: 100 ms doubling, at most 10 s (Docker's restart backoff, capped lower). */
export function restartDelayMs(n: number): number {
  return Math.min(10_000, 100 * 2 ** Math.max(0, n - 1));
}

/** The log file of replica `i` (2 and up): `<attempt>.log` becomes `<attempt>.replica-<i>.log`. */
function replicaLogFile(logFile: string, i: number): string {
  return logFile.endsWith('.log')
    ? `${logFile.slice(0, -4)}.replica-${i}.log`
    : `${logFile}.replica-${i}`;
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
