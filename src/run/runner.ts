/**
 * Runs a compiled plan: starts services when first needed and gates their
 * dependents on health, runs ready steps up to `concurrency`, retries with
 * backoff, enforces timeouts, reacts to cancellation, and commits every state
 * change to the store before reporting it.
 *
 * The decisions (what is ready, what to start or stop) are the pure functions
 * of `scheduler.ts`; this module owns the side effects.
 */

import { hostname } from 'node:os';
import { dirname, relative } from 'node:path';
import type { AgentSpec, StepSpec } from '../config/model.js';
import {
  type AttemptResult,
  EngineUnavailableError,
  type ServiceHandle,
  type ServiceRunner,
  type StepExecutor,
} from '../executors/types.js';
import { probeOnce } from '../health/probe.js';
import { waitHealthy } from '../health/wait-healthy.js';
import type { Plan, PlanNode } from '../plan/compile.js';
import { logFilePath, newRunId, workflowLeaseKey } from '../store/paths.js';
import type { Store } from '../store/store.js';
import { type RunRecord, type StepRecord, StoreError } from '../store/types.js';
import { backoffDelay } from './backoff.js';
import type { EventListener, RunEvent } from './events.js';
import { formatMs } from './format.js';
import { blockedSteps, idleServices, readySteps, wantedServices } from './scheduler.js';
import type { RunStatus, ServiceStatus, StepStatus } from './status.js';

/** The runtimes the runner drives. Only what the plan uses needs to be present. */
export interface Executors {
  /** Local process steps. */
  process: StepExecutor;
  /** `runtime: process` services. */
  processServices: ServiceRunner;
  /**
   * The Docker side, created lazily only when the plan has a container step
   * or a docker service. Its `ping` throws {@link EngineUnavailableError}.
   */
  docker?: () => DockerSide | Promise<DockerSide>;
  /**
   * Kills a process group left by a killed runner, if it still belongs to
   * run `runId` (see `killLeftoverGroup`); never throws.
   */
  killProcessGroup: (pgid: number, runId: string) => void;
}

/** What the runner needs from the Docker engine. */
export interface DockerSide {
  ping(): Promise<void>;
  createRunNetwork(runId: string): Promise<string>;
  removeRunLeftovers(runId: string): Promise<number>;
  steps(network: string): StepExecutor;
  services(network: string): ServiceRunner;
}

/** Options of {@link runWorkflow}. */
export interface RunWorkflowOptions {
  plan: Plan;
  store: Store;
  /** Path of the state DB; log files go beside it under `runs/<run>/`. */
  statePath: string;
  executors: Executors;
  /** Resume: `true` for the latest resumable run of this workflow, or a run id. */
  resume?: true | string;
  /** Aborting cancels the run: no new steps, running ones killed, services stopped. */
  signal?: AbortSignal;
  onEvent?: EventListener;
  /** The runner's environment, for `from: env` and process steps. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Lease time-to-live in ms; renewed every third of it. Default 30 000. */
  leaseTtlMs?: number;
  /**
   * Serve mode, for a file of Agent documents and no workflow (`docker compose
   * up`): start every service at once, stream their output, and keep them
   * running until the signal aborts (the run ends `cancelled`) or one of them
   * fails or exits (`failed`).
   */
  serve?: boolean;
  /** Grace in ms for stopping services (SIGTERM, then kill). Default 10 000 (docker stop). */
  serviceStopGraceMs?: number;
}

/** How a run ended. */
export interface RunResult {
  runId: string;
  status: RunStatus;
  /** One-line reason when the run failed or was cancelled. */
  error?: string;
  /** Final records of every step and service, in plan order. */
  steps: StepRecord[];
  resumed: boolean;
}

/** `--resume` found nothing to resume, or the named run belongs to another workflow. Exit code 2. */
export class ResumeError extends Error {
  override name = 'ResumeError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type NodeStatus = StepStatus | ServiceStatus;

/** The lease key of a workflow: one runner at a time per workflow file and name. */
export function leaseKey(plan: Plan): string {
  return workflowLeaseKey({ file: plan.file, workflow: plan.workflow });
}

function needsDocker(plan: Plan): boolean {
  return plan.nodes.some(
    (n) =>
      (n.kind === 'step' && n.step?.kind === 'container') ||
      (n.kind === 'service' && n.service?.agent.runtime === 'docker'),
  );
}

function describeAgent(agent: AgentSpec, baseDir: string): string {
  if (agent.runtime === 'process') return `process ${agent.command?.join(' ') ?? ''}`.trim();
  if (agent.build) return `docker build ./${relative(baseDir, agent.build.context)}`;
  return `docker ${agent.image ?? ''}`;
}

function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * Runs (or resumes) a workflow plan to the end.
 *
 * Resolves with the run's outcome for failed and cancelled runs too; rejects
 * only when the run cannot be carried out at all:
 * - `LockedError` (store/types): another runner holds this workflow's lease (exit 3);
 * - {@link EngineUnavailableError}: the plan needs Docker and the engine is unreachable (exit 4);
 * - `StoreError`: the state store cannot be written (exit 4);
 * - {@link ResumeError}: nothing to resume (exit 2).
 *
 * Guarantees: every state change is committed to the store before `onEvent`
 * sees it; containers and process groups of the run are gone when it
 * returns, whatever happened.
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<RunResult> {
  const run = new Execution(options);
  return run.execute();
}

class Execution {
  private readonly plan: Plan;
  private readonly store: Store;
  private readonly env: NodeJS.ProcessEnv;
  private readonly signal: AbortSignal;
  private readonly states = new Map<string, NodeStatus>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly handles = new Map<string, ServiceHandle>();
  private readonly controllers = new Set<AbortController>();
  private readonly attemptsSoFar = new Map<string, number>();
  private runId = '';
  private docker: DockerSide | undefined;
  private network: string | undefined;
  private failure: string | undefined;
  private fatal: unknown;
  private readonly serviceControllers = new Set<AbortController>();
  private wake: () => void = () => {};
  private releaseHold: () => void = () => {};
  private finishing = false;
  /** Open attempt number of each started service. */
  private readonly serviceAttempts = new Map<string, number>();
  private startedAt = 0;

  constructor(private readonly options: RunWorkflowOptions) {
    this.plan = options.plan;
    this.store = options.store;
    this.env = options.env ?? process.env;
    this.signal = options.signal ?? new AbortController().signal;
  }

  async execute(): Promise<RunResult> {
    const { plan, store } = this;
    const usesDocker = needsDocker(plan);
    if (usesDocker) {
      const factory = this.options.executors.docker;
      if (!factory)
        throw new EngineUnavailableError('this workflow needs Docker, and no engine is configured');
      this.docker = await factory();
      await this.docker.ping();
    }

    // Pick the run (read-only), take the lease, and only then write: a second
    // runner that finds the lease taken leaves no trace in the store.
    const previous = this.findRunToResume();
    this.runId = previous?.id ?? newRunId();
    const key = leaseKey(plan);
    const ttl = this.options.leaseTtlMs ?? 30_000;
    store.acquireLease({
      key,
      runId: this.runId,
      pid: process.pid,
      host: hostname(),
      ttlMs: ttl,
      now: Date.now(),
    });
    const heartbeat = setInterval(
      () => {
        try {
          store.renewLease(key, this.runId, ttl, Date.now());
        } catch (error) {
          // Another runner took the lease (we stalled past its TTL) or the
          // store stopped taking writes: stop before two runners write one run.
          this.fatal ??= error;
          for (const c of this.controllers) c.abort();
          this.releaseHold();
          this.wake();
        }
      },
      Math.max(1000, Math.floor(ttl / 3)),
    );
    heartbeat.unref();
    let resumed = false;
    let reused: string[] = [];
    try {
      ({ resumed, reused } = this.prepareRun(previous));
    } catch (error) {
      clearInterval(heartbeat);
      store.releaseLease(key, this.runId);
      throw error;
    }

    const onAbort = () => {
      for (const c of this.controllers) c.abort();
      this.releaseHold();
      this.wake();
    };
    this.signal.addEventListener('abort', onAbort);
    this.startedAt = Date.now();
    try {
      if (resumed) await this.cleanUpLeftovers();
      if (this.docker) {
        try {
          this.network = await this.docker.createRunNetwork(this.runId);
        } catch (error) {
          if (error instanceof EngineUnavailableError) throw error;
          throw new EngineUnavailableError(
            `cannot create the run's Docker network: ${errorMessage(error)}`,
            'check `docker network ls`; remove unused networks with `docker network prune`',
          );
        }
      }

      this.commit(
        () =>
          store.updateRun(this.runId, {
            status: 'running',
            startedAt: this.startedAt,
            finishedAt: null,
            error: null,
          }),
        {
          type: 'run.started',
          runId: this.runId,
          at: this.startedAt,
          workflow: plan.workflow,
          file: plan.file,
          resumed,
          reused,
          nodes: plan.nodes.map((n) => ({ id: n.id, kind: n.kind })),
        },
      );
      await this.loop();
      this.finishing = true;
      return await this.finish();
    } catch (error) {
      // Infrastructure failure mid-run: record it, clean up, then let the caller map it.
      this.failure ??= errorMessage(error);
      for (const c of this.controllers) c.abort();
      await Promise.allSettled([...this.inflight]);
      if (!this.finishing) {
        try {
          await this.finish();
        } catch {
          // The original error says more.
        }
      }
      throw error;
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      clearInterval(heartbeat);
      try {
        store.releaseLease(key, this.runId);
      } catch {
        // An unreleased lease expires on its own (or is taken over: our pid is gone).
      }
    }
  }

  /** The run `--resume` names or implies; undefined for a new run. Reads only. */
  private findRunToResume(): RunRecord | undefined {
    const { plan, store } = this;
    const resume = this.options.resume;
    if (resume === undefined) return undefined;
    const record =
      resume === true
        ? store.findResumableRun({ file: plan.file, workflow: plan.workflow })
        : store.getRun(resume);
    if (!record) {
      throw new ResumeError(
        resume === true
          ? `no failed, cancelled or interrupted run of workflow "${plan.workflow}" to resume`
          : `no run "${resume}" in the state store`,
        'list runs with `agent runs`; start a new run without --resume',
      );
    }
    if (record.file !== plan.file || record.workflow !== plan.workflow) {
      throw new ResumeError(
        `run "${record.id}" belongs to workflow "${record.workflow}" (${record.file}), not "${plan.workflow}"`,
      );
    }
    if (record.status === 'succeeded') {
      throw new ResumeError(`run "${record.id}" already succeeded; nothing to resume`);
    }
    return record;
  }

  /**
   * Creates the new run's rows, or, resuming, decides which steps to reuse: a
   * step is reused only if it succeeded and neither it nor anything it needs
   * (transitively) changed since; everything else runs again.
   */
  private prepareRun(previous: RunRecord | undefined): { resumed: boolean; reused: string[] } {
    const { plan, store } = this;
    if (!previous) {
      store.createRun({
        id: this.runId,
        workflow: plan.workflow,
        file: plan.file,
        planFingerprint: plan.fingerprint,
        nodes: plan.nodes.map((n) => ({ id: n.id, kind: n.kind, fingerprint: n.fingerprint })),
        createdAt: Date.now(),
      });
      for (const n of plan.nodes) this.states.set(n.id, 'pending');
      return { resumed: false, reused: [] };
    }
    const before = new Map(store.getSteps(previous.id).map((s) => [s.id, s]));
    const reusable = new Set<string>();
    for (const n of plan.nodes) {
      const prev = before.get(n.id);
      this.attemptsSoFar.set(n.id, prev?.attempts ?? 0);
      const ok =
        n.kind === 'step' &&
        prev?.status === 'succeeded' &&
        prev.fingerprint === n.fingerprint &&
        n.needs.every((need) => reusable.has(need) || this.isService(need));
      if (ok) reusable.add(n.id);
    }
    store.transaction(() => {
      for (const n of plan.nodes) {
        if (!before.has(n.id)) {
          store.addStep(previous.id, { id: n.id, kind: n.kind, fingerprint: n.fingerprint });
        }
        if (reusable.has(n.id)) {
          this.states.set(n.id, 'succeeded');
        } else {
          this.states.set(n.id, 'pending');
          store.updateStep(previous.id, n.id, {
            status: 'pending',
            fingerprint: n.fingerprint,
            startedAt: null,
            finishedAt: null,
            error: null,
          });
        }
      }
    });
    return { resumed: true, reused: [...reusable] };
  }

  private isService(id: string): boolean {
    return this.plan.nodes.some((n) => n.id === id && n.kind === 'service');
  }

  /** After `kill -9`: remove the run's containers and network, kill recorded process groups. */
  private async cleanUpLeftovers(): Promise<void> {
    for (const a of this.store.getAttempts(this.runId)) {
      if (a.status === 'running' && a.pid !== null) {
        this.options.executors.killProcessGroup(a.pid, this.runId);
      }
      if (a.status === 'running') {
        this.store.updateAttempt(this.runId, a.stepId, a.attempt, {
          status: 'cancelled',
          finishedAt: Date.now(),
          error: 'the runner stopped during this attempt',
        });
      }
    }
    if (this.docker) await this.docker.removeRunLeftovers(this.runId);
  }

  /** Commits a state change and its event in one transaction, then reports the event. */
  private commit(change: () => void, event: RunEvent): void {
    const { type, runId, at, ...rest } = event;
    const node = 'step' in event ? event.step : 'service' in event ? event.service : null;
    this.store.transaction(() => {
      change();
      this.store.appendEvent({ runId, at, type, node, data: rest as Record<string, unknown> });
    });
    this.report(event);
  }

  private report(event: RunEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A reporter's failure is not the run's failure.
    }
  }

  private get stopping(): boolean {
    return this.failure !== undefined || this.signal.aborted;
  }

  private track(task: Promise<void>): void {
    const p = task
      .catch((error: unknown) => {
        // Infrastructure errors (engine gone, store unwritable) end the run.
        this.fatal ??= error;
        for (const c of this.controllers) c.abort();
      })
      .finally(() => {
        this.inflight.delete(p);
        this.wake();
      });
    this.inflight.add(p);
  }

  /** Serve mode: a task that ends only when the run is cancelled or something failed. */
  private hold(): Promise<void> {
    return new Promise((resolve) => {
      this.releaseHold = resolve;
      if (this.stopping) resolve();
    });
  }

  private async loop(): Promise<void> {
    const { plan } = this;
    if (this.options.serve) this.track(this.hold());
    for (;;) {
      if (this.fatal !== undefined && this.inflight.size === 0) throw this.fatal;
      if (this.failure !== undefined) for (const c of this.serviceControllers) c.abort();
      if (!this.stopping && this.fatal === undefined) {
        const services = this.options.serve
          ? plan.nodes.filter((n) => n.kind === 'service' && this.states.get(n.id) === 'pending')
          : wantedServices(plan, this.states);
        for (const s of services) this.track(this.runService(s));
        for (const s of readySteps(plan, this.states, plan.concurrency))
          this.track(this.runStep(s));
      }
      if (!this.options.serve) {
        const status = this.signal.aborted ? 'cancelled' : 'stopped';
        for (const s of idleServices(plan, this.states)) this.stopService(s.id, status);
      }
      this.skipBlocked();
      if (this.inflight.size === 0) {
        if (this.fatal !== undefined) throw this.fatal;
        break;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        for (const p of this.inflight) p.then(resolve, resolve);
      });
    }
  }

  /** Marks steps that can never run as skipped, propagating down the DAG. */
  private skipBlocked(): void {
    for (;;) {
      const blocked = blockedSteps(this.plan, this.states);
      if (blocked.length === 0) return;
      for (const n of blocked) {
        const reason = `needs ${n.needs.filter((need) => !['succeeded', 'healthy'].includes(this.states.get(need) ?? '')).join(', ')}`;
        this.setStepStatus(n.id, 'skipped', reason);
        this.commit(() => {}, {
          type: 'step.skipped',
          runId: this.runId,
          at: Date.now(),
          step: n.id,
          reason,
        });
      }
    }
  }

  private setStepStatus(id: string, status: StepStatus, error?: string): void {
    this.states.set(id, status);
    this.store.updateStep(this.runId, id, { status, finishedAt: Date.now(), error: error ?? null });
  }

  private link(): AbortController {
    const c = new AbortController();
    if (this.signal.aborted) c.abort();
    this.controllers.add(c);
    return c;
  }

  // ---- steps ----------------------------------------------------------------

  private executorFor(node: PlanNode): StepExecutor {
    if (node.step?.kind === 'container') {
      if (!this.docker || !this.network) throw new Error('internal: container step without Docker');
      return this.docker.steps(this.network);
    }
    return this.options.executors.process;
  }

  private stepEnv(node: PlanNode, attempt: number): Record<string, string> {
    const step = node.step;
    if (!step) throw new Error(`internal: node "${node.id}" is not a step`);
    const env: Record<string, string> = {
      ...step.env,
      AGENT_RUN_ID: this.runId,
      AGENT_STEP_ID: node.id,
      AGENT_ATTEMPT: String(attempt),
    };
    for (const need of node.needs) {
      const handle = this.handles.get(need);
      const service = this.plan.nodes.find((n) => n.id === need)?.service;
      if (!handle || !service) continue;
      const prefix = `AGENT_SERVICE_${envName(need)}`;
      const inContainer = step.kind === 'container';
      const host = inContainer ? need : handle.endpoint.host;
      env[`${prefix}_HOST`] = host;
      const first = service.agent.ports[0];
      for (const p of service.agent.ports) {
        const port = inContainer
          ? p.container
          : (handle.endpoint.ports[p.container] ?? p.container);
        env[`${prefix}_PORT_${p.container}`] = String(port);
      }
      if (first) {
        const port = inContainer
          ? first.container
          : (handle.endpoint.ports[first.container] ?? first.container);
        env[`${prefix}_PORT`] = String(port);
        env[`${prefix}_URL`] = `http://${host}:${port}`;
      }
    }
    return env;
  }

  /**
   * Runs a step to its end: attempts up to `retry.maxAttempts`, backing off
   * between them, each attempt recorded before and after it runs.
   */
  private async runStep(node: PlanNode): Promise<void> {
    const step = node.step;
    if (!step) throw new Error(`internal: node "${node.id}" is not a step`);
    const { store, runId } = this;
    this.states.set(node.id, 'running');
    const controller = this.link();
    const before = this.attemptsSoFar.get(node.id) ?? 0;
    const startedAt = Date.now();
    store.updateStep(runId, node.id, {
      status: 'running',
      startedAt,
      finishedAt: null,
      error: null,
    });
    try {
      for (let i = 1; ; i++) {
        const attempt = before + i;
        const result = await this.runAttempt(node, step, attempt, controller.signal);
        const outcome = attemptOutcome(result, step.timeoutMs);
        const finishedAt = Date.now();
        const retry =
          (outcome.status === 'failed' || outcome.status === 'timed_out') &&
          i < step.retry.maxAttempts &&
          !controller.signal.aborted;
        const attemptRecord = {
          status: outcome.status,
          finishedAt,
          exitCode: result.exitCode,
          error: outcome.error ?? null,
        };
        if (!retry) {
          this.finishStep(node.id, outcome, {
            attempt,
            startedAt,
            finishedAt,
            attemptRecord,
            exitCode: result.exitCode,
          });
          return;
        }
        const delayMs = backoffDelay(i, { ...step.retry.backoff, jitter: true });
        this.commit(() => store.updateAttempt(runId, node.id, attempt, attemptRecord), {
          type: 'step.retrying',
          runId,
          at: finishedAt,
          step: node.id,
          attempt,
          delayMs,
          error: outcome.error ?? '',
        });
        await abortableSleep(delayMs, controller.signal);
        if (controller.signal.aborted) {
          const at = Date.now();
          this.finishStep(
            node.id,
            { status: 'cancelled', error: 'cancelled' },
            { attempt, startedAt, finishedAt: at },
          );
          return;
        }
      }
    } finally {
      this.controllers.delete(controller);
    }
  }

  /**
   * One attempt: recorded as started (with its log file) before it runs, its
   * pid or container id recorded as soon as it has one. Resolves with the
   * executor's result; an executor error that is not infrastructure becomes
   * this attempt's failure. Infrastructure errors (engine, store) are
   * recorded and rethrown: they end the run.
   */
  private async runAttempt(
    node: PlanNode,
    step: StepSpec,
    attempt: number,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const { store, runId } = this;
    const logFile = logFilePath(this.options.statePath, runId, node.id, attempt);
    const at = Date.now();
    this.commit(
      () => {
        store.startAttempt({ runId, stepId: node.id, attempt, startedAt: at, logFile });
        store.updateStep(runId, node.id, { attempts: attempt });
      },
      {
        type: 'step.started',
        runId,
        at,
        step: node.id,
        attempt,
        maxAttempts: step.retry.maxAttempts,
      },
    );
    try {
      return await this.executorFor(node).runAttempt({
        runId,
        stepId: node.id,
        attempt,
        command: step.command,
        env: this.stepEnv(node, attempt),
        workdir: step.workdir,
        image: step.image,
        timeoutMs: step.timeoutMs,
        signal,
        logFile,
        onOutput: (stream, line) =>
          this.report({ type: 'step.output', runId, at: Date.now(), step: node.id, stream, line }),
        onStarted: ({ pid, containerId }) =>
          store.updateAttempt(runId, node.id, attempt, {
            pid: pid ?? null,
            containerId: containerId ?? null,
          }),
      });
    } catch (error) {
      if (signal.aborted && !(error instanceof StoreError)) {
        // Cancelled mid-call: an aborted engine request can look like a broken connection.
        return {
          exitCode: null,
          timedOut: false,
          cancelled: true,
          error: 'cancelled',
          durationMs: Date.now() - at,
        };
      }
      if (error instanceof EngineUnavailableError || error instanceof StoreError) {
        const finishedAt = Date.now();
        const message = errorMessage(error);
        this.states.set(node.id, 'failed');
        try {
          store.updateAttempt(runId, node.id, attempt, {
            status: 'failed',
            finishedAt,
            error: message,
          });
          store.updateStep(runId, node.id, { status: 'failed', finishedAt, error: message });
        } catch {
          // The store itself may be what failed.
        }
        throw error;
      }
      // Anything else (a log file it cannot open, an engine call that failed
      // for this container) is this attempt's failure.
      return {
        exitCode: null,
        timedOut: false,
        cancelled: signal.aborted,
        error: errorMessage(error),
        durationMs: Date.now() - at,
      };
    }
  }

  /** Records a step's final status (and its last attempt's) in one transaction, then reports it. */
  private finishStep(
    id: string,
    outcome: { status: StepStatus; error?: string },
    times: {
      attempt: number;
      startedAt: number;
      finishedAt: number;
      attemptRecord?: Parameters<Store['updateAttempt']>[3];
      exitCode?: number | null;
    },
  ): void {
    const { store, runId } = this;
    const { status, error } = outcome;
    this.states.set(id, status);
    this.commit(
      () => {
        if (times.attemptRecord) store.updateAttempt(runId, id, times.attempt, times.attemptRecord);
        store.updateStep(runId, id, { status, finishedAt: times.finishedAt, error: error ?? null });
      },
      {
        type: 'step.finished',
        runId,
        at: times.finishedAt,
        step: id,
        status,
        attempt: times.attempt,
        durationMs: times.finishedAt - times.startedAt,
        ...(times.exitCode !== undefined ? { exitCode: times.exitCode } : {}),
        ...(error !== undefined ? { error } : {}),
      },
    );
    if (status === 'failed' || status === 'timed_out') {
      this.failure ??= `step "${id}" ${status === 'timed_out' ? 'timed out' : 'failed'}: ${error}`;
    }
  }

  // ---- services -------------------------------------------------------------

  private serviceRunner(node: PlanNode): ServiceRunner {
    if (node.service?.agent.runtime === 'docker') {
      if (!this.docker || !this.network) throw new Error('internal: docker service without Docker');
      return this.docker.services(this.network);
    }
    return this.options.executors.processServices;
  }

  private serviceEnv(agent: AgentSpec): Record<string, string> | string {
    // AGENT_RUN_ID marks the service's processes as this run's (see killLeftoverGroup).
    const env: Record<string, string> = { AGENT_RUN_ID: this.runId };
    for (const v of agent.environment) {
      if ('value' in v) {
        env[v.name] = v.value;
      } else {
        const value = this.env[v.name];
        if (value === undefined) {
          return `environment variable ${v.name} (from: env) is not set in the runner's environment`;
        }
        env[v.name] = value;
      }
    }
    return env;
  }

  private setService(
    name: string,
    status: ServiceStatus,
    extra: { error?: string; durationMs?: number; logTail?: string[] } = {},
  ): void {
    const at = Date.now();
    this.states.set(name, status);
    const terminal = status !== 'starting' && status !== 'healthy';
    const attempt = this.serviceAttempts.get(name);
    if (terminal) this.serviceAttempts.delete(name);
    this.commit(
      () => {
        this.store.updateStep(this.runId, name, {
          status,
          ...(status === 'starting' ? { startedAt: at, finishedAt: null, error: null } : {}),
          ...(terminal ? { finishedAt: at } : {}),
          ...(extra.error !== undefined ? { error: extra.error } : {}),
        });
        // The service's attempt row records its pid / container for cleanup
        // after a crash; it closes when the service does.
        if (terminal && attempt !== undefined) {
          this.store.updateAttempt(this.runId, name, attempt, {
            status:
              status === 'stopped' ? 'succeeded' : status === 'cancelled' ? 'cancelled' : 'failed',
            finishedAt: at,
            error: extra.error ?? null,
          });
        }
      },
      { type: 'service.status', runId: this.runId, at, service: name, status, ...extra },
    );
  }

  private async runService(node: PlanNode): Promise<void> {
    const service = node.service;
    if (!service) throw new Error(`internal: node "${node.id}" is not a service`);
    const { agent } = service;
    const name = node.id;
    const started = Date.now();
    const attempt = (this.attemptsSoFar.get(name) ?? 0) + 1;
    this.attemptsSoFar.set(name, attempt);
    const logFile = logFilePath(this.options.statePath, this.runId, name, attempt);
    this.store.transaction(() => {
      this.store.startAttempt({
        runId: this.runId,
        stepId: name,
        attempt,
        startedAt: started,
        logFile,
      });
      this.store.updateStep(this.runId, name, { attempts: attempt });
    });
    this.serviceAttempts.set(name, attempt);
    this.setService(name, 'starting');
    this.report({
      type: 'service.starting',
      runId: this.runId,
      at: Date.now(),
      service: name,
      detail: describeAgent(agent, dirname(this.plan.file)),
    });
    const controller = this.link();
    this.serviceControllers.add(controller);
    try {
      const env = this.serviceEnv(agent);
      if (typeof env === 'string') {
        this.failService(name, 'failed', `service "${name}": ${env}`);
        return;
      }
      let handle: ServiceHandle;
      try {
        handle = await this.serviceRunner(node).startService({
          runId: this.runId,
          name,
          agent,
          env,
          logFile,
          signal: controller.signal,
          ...(this.options.serve
            ? {
                onOutput: (stream: 'stdout' | 'stderr', line: string) =>
                  this.report({
                    type: 'service.output',
                    runId: this.runId,
                    at: Date.now(),
                    service: name,
                    stream,
                    line,
                  }),
              }
            : {}),
        });
      } catch (error) {
        // Cancellation first: an aborted engine call (a build, a pull) can
        // look like a broken connection.
        if (controller.signal.aborted) {
          this.setService(name, 'cancelled');
          return;
        }
        if (error instanceof EngineUnavailableError) throw error;
        this.failService(
          name,
          'failed',
          `service "${name}" failed to start: ${errorMessage(error)}`,
        );
        return;
      }
      this.handles.set(name, handle);
      this.store.updateAttempt(
        this.runId,
        name,
        attempt,
        agent.runtime === 'process' ? { pid: Number(handle.id) } : { containerId: handle.id },
      );
      const endpoint = Object.entries(handle.endpoint.ports)
        .map(([c, h]) => `${handle.endpoint.host}:${h}->${c}`)
        .join(', ');
      this.report({
        type: 'service.started',
        runId: this.runId,
        at: Date.now(),
        service: name,
        endpoint,
      });

      const check = agent.healthCheck;
      if (check) {
        const outcome = await waitHealthy({
          check,
          probe: () => probeOnce(check.probe, handle, check.timeoutMs),
          exited: handle.exited,
          signal: controller.signal,
          onProbe: (result, info) => {
            if (!result.ok) {
              this.report({
                type: 'service.probe_failed',
                runId: this.runId,
                at: Date.now(),
                service: name,
                error: result.error,
                counted: info.counted,
              });
            }
          },
        });
        switch (outcome.status) {
          case 'healthy':
            break;
          case 'unhealthy':
            this.failService(
              name,
              'unhealthy',
              `service "${name}" is unhealthy after ${outcome.probes} probes: ${outcome.lastError}`,
              handle.logTail(10),
            );
            await this.stopHandle(name, 'kill');
            return;
          case 'exited':
            this.failService(
              name,
              'failed',
              `service "${name}" exited with code ${outcome.exitCode} before it became healthy${outcome.lastError ? ` (last probe: ${outcome.lastError})` : ''}`,
              handle.logTail(10),
            );
            await this.stopHandle(name, 'kill');
            return;
          case 'cancelled':
            await this.stopHandle(name, 'cancel');
            this.setService(name, 'cancelled');
            return;
        }
      }
      if (controller.signal.aborted) {
        await this.stopHandle(name, 'cancel');
        this.setService(name, 'cancelled');
        return;
      }
      this.setService(name, 'healthy', { durationMs: Date.now() - started });
      // Watch for the service dying while steps still need it.
      handle.exited.then(
        ({ exitCode }) => {
          if (this.states.get(name) !== 'healthy') return;
          try {
            this.failService(
              name,
              'failed',
              `service "${name}" exited with code ${exitCode} while steps still needed it`,
              handle.logTail(10),
            );
          } catch (error) {
            this.fatal ??= error;
          }
          this.track(this.stopHandle(name, 'kill'));
          this.wake();
        },
        () => {},
      );
    } finally {
      this.controllers.delete(controller);
      this.serviceControllers.delete(controller);
    }
  }

  private failService(
    name: string,
    status: 'failed' | 'unhealthy',
    error: string,
    logTail?: string[],
  ): void {
    this.failure ??= error;
    this.setService(name, status, { error, ...(logTail && logTail.length > 0 ? { logTail } : {}) });
    this.releaseHold();
  }

  /**
   * Stops a service's container or process. `graceful`: SIGTERM, then kill
   * after `serviceStopGraceMs` (docker stop's 10 s); `cancel`: the same with
   * 2 s, so a cancelled run ends promptly; `kill`: at once, for a service that
   * already failed (nothing of it is worth waiting for).
   */
  private async stopHandle(
    name: string,
    mode: 'graceful' | 'cancel' | 'kill' = 'graceful',
  ): Promise<void> {
    const handle = this.handles.get(name);
    if (!handle) return;
    this.handles.delete(name);
    const graceMs =
      mode === 'kill' ? 0 : mode === 'cancel' ? 2000 : (this.options.serviceStopGraceMs ?? 10_000);
    await handle.stop(graceMs);
  }

  /** Stops a healthy service no remaining step needs (or all at the end). */
  private stopService(name: string, status: 'stopped' | 'cancelled'): void {
    this.states.set(name, status);
    const mode = this.signal.aborted ? 'cancel' : 'graceful';
    this.track(this.stopHandle(name, mode).then(() => this.setService(name, status)));
  }

  // ---- the end ----------------------------------------------------------------

  private async finish(): Promise<RunResult> {
    const { store, runId, plan } = this;
    const cancelled = this.signal.aborted;
    // Cleanup first and unconditionally: even when the store refuses writes
    // (disk full), no container, process or network of the run is left.
    try {
      // Anything still up (a failure or cancellation left it): stop it.
      await Promise.allSettled(
        [...this.handles.keys()].map(async (name) => {
          await this.stopHandle(name, cancelled ? 'cancel' : 'graceful');
          const status: ServiceStatus = cancelled ? 'cancelled' : 'stopped';
          if (this.states.get(name) === 'healthy' || this.states.get(name) === 'starting')
            this.setService(name, status);
        }),
      );
      for (const n of plan.nodes) {
        const s = this.states.get(n.id);
        if (s === 'pending') {
          if (n.kind === 'step') {
            const reason = cancelled ? 'the run was cancelled' : 'the run failed before it started';
            this.setStepStatus(n.id, cancelled ? 'cancelled' : 'skipped', reason);
            this.commit(() => {}, {
              type: 'step.skipped',
              runId,
              at: Date.now(),
              step: n.id,
              reason,
            });
          }
          // A service that never started stays `pending`: true, and resumable.
        } else if (s === 'running' || s === 'starting') {
          // Only after an infrastructure error: the task was abandoned mid-way.
          const reason = cancelled
            ? 'cancelled'
            : `abandoned: ${this.failure ?? 'the run stopped'}`;
          if (n.kind === 'step')
            this.setStepStatus(n.id, cancelled ? 'cancelled' : 'failed', reason);
          else this.setService(n.id, cancelled ? 'cancelled' : 'failed', { error: reason });
        }
      }
    } finally {
      if (this.docker) {
        try {
          await this.docker.removeRunLeftovers(runId);
        } catch {
          // Best effort: a later `--resume` or run removes leftovers by label.
        }
      }
    }
    const status: RunStatus = cancelled ? 'cancelled' : this.failure ? 'failed' : 'succeeded';
    const error = cancelled ? 'cancelled by signal' : this.failure;
    const finishedAt = Date.now();
    this.commit(() => store.updateRun(runId, { status, finishedAt, error: error ?? null }), {
      type: 'run.finished',
      runId,
      at: finishedAt,
      status,
      durationMs: finishedAt - this.startedAt,
      ...(error ? { error } : {}),
    });
    return {
      runId,
      status,
      ...(error ? { error } : {}),
      steps: store.getSteps(runId),
      resumed: this.options.resume !== undefined,
    };
  }
}

/**
 * What an attempt's result means for the step: a status and, unless it
 * succeeded, a one-line reason (`exit code 2`, `timed out after 1.0s`,
 * `command not found: foo`, `cancelled`). Pure.
 */
export function attemptOutcome(
  result: AttemptResult,
  timeoutMs: number | undefined,
): { status: StepStatus; error?: string } {
  if (result.cancelled) return { status: 'cancelled', error: 'cancelled' };
  if (result.timedOut)
    return { status: 'timed_out', error: `timed out after ${formatMs(timeoutMs ?? 0)}` };
  if (result.exitCode === 0) return { status: 'succeeded' };
  return { status: 'failed', error: result.error ?? `exit code ${result.exitCode}` };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
