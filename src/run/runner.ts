/**
 * Runs a compiled plan: starts services when first needed and gates their
 * dependents on health, runs ready steps up to `concurrency`, waits at
 * approval steps, reacts to cancellation and to requests from other
 * terminals, and ends every session with a recorded status.
 *
 * The parts, each its own module:
 * - decisions: `scheduler.ts` (what is ready, what to start or stop) and
 *   `resume.ts` (what a resumed or `--from` session reuses), both pure;
 * - `journal.ts`: the one way into the store; the in-memory view of node
 *   states here is a projection of the stored events;
 * - `lease-keeper.ts`: the lease, its heartbeat, and requests;
 * - `step-attempts.ts`: a step's attempts, retries and timeouts;
 * - `services.ts`: each service's lifecycle;
 * - `runtimes.ts`: processes vs. containers, and leftovers.
 */

import path from 'node:path';
import type { EventListener, EventNode, RunEvent, StoredEvent } from '../core/events.js';
import type { RunStatus, ServiceStatus, StepStatus } from '../core/status.js';
import type { Executors, Redactor, ServiceHandle } from '../executors/types.js';
import { type ExprValue, renderTemplate } from '../expr/index.js';
import type { Plan, PlanNode, ServiceNode, StepNode } from '../plan/compile.js';
import type { InputValue } from '../plan/inputs.js';
import { logFilePath, newRunId, workflowLeaseKey } from '../store/paths.js';
import {
  type LeaseHolder,
  LockedError,
  type RunRecord,
  type StateStore,
  type StepRecord,
} from '../store/types.js';
import { type Clock, systemClock } from './clock.js';
import { Journal } from './journal.js';
import { LeaseKeeper } from './lease-keeper.js';
import { ReplicaSet } from './replicas.js';
import { decideCondition, ResolveError, resolveStep } from './resolve.js';
import { decideSession, type SessionDecision } from './resume.js';
import { RunRuntimes } from './runtimes.js';
import { blockedSteps, idleServices, nodeById, readySteps, wantedServices } from './scheduler.js';
import { Services } from './services.js';
import { errorMessage, runStep } from './step-attempts.js';

export { attemptOutcome } from './step-attempts.js';

/** Options of {@link runWorkflow}. */
export interface RunWorkflowOptions {
  plan: Plan;
  store: StateStore;
  /** Path of the state store file; log files go beside it under `runs/<run>/`. */
  statePath: string;
  executors: Executors;
  /** Resume: `true` for the latest resumable run of this workflow, or a run id. */
  resume?: true | string;
  /**
   * `--from STEP`: rerun STEP and everything downstream of it in the run
   * `resume` names (default: the workflow's latest run, whatever its status).
   */
  from?: string;
  /** Aborting cancels the run: no new steps, running ones killed, services stopped. */
  signal?: AbortSignal;
  /** Aborting pauses the run, as `agent pause` does: no new step starts, running ones finish. */
  pauseSignal?: AbortSignal;
  /** Receives every event once it is stored. */
  onEvent?: EventListener;
  /** The runner's environment, for `from: env` and process steps. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Lease time-to-live in ms; renewed every third of it. Default 30 000. */
  leaseTtlMs?: number;
  /** How often the runner looks for requests from other terminals, in ms. Default 500. */
  tickMs?: number;
  /**
   * Serve mode, for a file of Agent documents and no workflow (`docker compose
   * up`): start every service at once, stream their output, and keep them
   * running until the signal aborts (the run ends `cancelled`) or one of them
   * fails or exits (`failed`).
   */
  serve?: boolean;
  /** Grace in ms for stopping services (SIGTERM, then kill). Default 10 000 (docker stop). */
  serviceStopGraceMs?: number;
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** This runner's identity for the lease. Default this process (pid, host name). */
  holder?: LeaseHolder;
  /** Called with the run id as soon as it is known (before anything runs). */
  onRunId?: (runId: string) => void;
  /**
   * Inputs of a new run, checked and coerced (`plan/inputs.ts`). A resumed
   * run (`resume`, `from`) keeps the inputs recorded with it.
   */
  inputs?: Record<string, InputValue>;
  /**
   * The run's secrets (docs/secrets.md): values by name, for `${{ secrets.X }}`
   * and `from: secret`, and the masking applied to every event before it is
   * stored and to every output line. Never written to the store.
   */
  secrets?: RunSecrets;
}

/** The secrets of a run and how they are masked (`secrets/` builds one from the command line). */
export interface RunSecrets {
  values: Record<string, string>;
  /** Masks values in text; also handed to executors for output lines. */
  redactor: Redactor;
  /** A deep copy of a JSON-like value with every string masked. */
  redactValue(value: unknown): unknown;
}

/** How a session of a run ended. */
export interface RunResult {
  runId: string;
  /** `paused` and `waiting` end the session; `agent run --resume` continues. */
  status: Exclude<RunStatus, 'queued' | 'running'>;
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

/** The lease key of a workflow: one runner at a time per workflow file and name. */
export function leaseKey(plan: Plan): string {
  return workflowLeaseKey({ file: plan.file, workflow: plan.workflow });
}

/**
 * Runs (or resumes) a workflow plan to the end of a session.
 *
 * Resolves with the outcome for failed, cancelled, paused and waiting runs
 * too; rejects only when the run cannot be carried out at all:
 * - `LockedError`: another runner holds this workflow's lease (exit 3), or
 *   took it over mid-run;
 * - `EngineUnavailableError`: the plan needs Docker and the engine is
 *   unreachable or went away (exit 4; the run is resumable);
 * - `StoreError`: the state store cannot be written (exit 4);
 * - {@link ResumeError}, `FromError`: nothing to resume, bad `--from` (exit 2).
 *
 * Guarantees: every event is stored before `onEvent` sees it; containers
 * and processes of the run are gone when it settles, whatever happened.
 */
export async function runWorkflow(options: RunWorkflowOptions): Promise<RunResult> {
  return new Execution(options).execute();
}

/**
 * The run id `--resume` / `--from` names or implies, with its recorded steps;
 * undefined for a new run. Reads only.
 * @throws ResumeError
 */
export async function findRunToResume(
  store: StateStore,
  plan: Pick<Plan, 'file' | 'workflow'>,
  resume: true | string | undefined,
  from: string | undefined,
): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
  if (resume === undefined && from === undefined) return undefined;
  let record: RunRecord | undefined;
  if (typeof resume === 'string') record = await store.getRun(resume);
  else if (from !== undefined)
    [record] = await store.listRuns({ file: plan.file, workflow: plan.workflow, limit: 1 });
  else record = await store.findResumableRun({ file: plan.file, workflow: plan.workflow });
  if (!record) {
    throw new ResumeError(
      typeof resume === 'string'
        ? `no run "${resume}" in the state store`
        : from !== undefined
          ? `--from ${from}: workflow "${plan.workflow}" has no recorded run`
          : `no failed, cancelled, paused, waiting or interrupted run of workflow "${plan.workflow}" to resume`,
      'list runs with `agent runs`; start a new run without --resume',
    );
  }
  if (record.file !== plan.file || record.workflow !== plan.workflow) {
    throw new ResumeError(
      `run "${record.id}" belongs to workflow "${record.workflow}" (${record.file}), not "${plan.workflow}"`,
    );
  }
  if (record.status === 'succeeded' && from === undefined) {
    throw new ResumeError(
      `run "${record.id}" already succeeded; nothing to resume`,
      'rerun chosen steps with `agent run --from STEP`',
    );
  }
  if (record.status === 'running') {
    throw new ResumeError(
      `run "${record.id}" is running; it cannot be resumed while its runner works on it`,
      `see \`agent status ${record.id}\`; stop it with \`agent cancel ${record.id}\``,
    );
  }
  return { run: record, steps: await store.getSteps(record.id) };
}

type NodeStatus = StepStatus | ServiceStatus;

class Execution {
  private readonly plan: Plan;
  private readonly store: StateStore;
  private readonly clock: Clock;
  private readonly journal: Journal;
  /** Node states: a projection of the stored events, plus this runner's claims of what it launched. */
  private readonly states = new Map<string, NodeStatus>();
  private readonly attempts = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  /** Cancels the run (a signal, `agent cancel`): its steps are killed, it ends `cancelled`. */
  private readonly cancel = new AbortController();
  /** Halts everything after an infrastructure failure, without calling it a cancellation. */
  private readonly halt = new AbortController();
  private readonly stepSignal: AbortSignal;
  private runId = '';
  private holder: LeaseHolder = { pid: process.pid, host: 'unknown' };
  private runtimes!: RunRuntimes;
  private services!: Services;
  private failure: string | undefined;
  private cancelReason = 'cancelled by signal';
  private pauseRequested = false;
  private fatal: unknown;
  private startedAt = 0;
  private wake: () => void = () => {};
  private releaseHold: () => void = () => {};
  /** The run's inputs: given to a new run, recorded with a resumed one. */
  private inputs: Record<string, InputValue> = {};
  /** Which session of the run this is (`${{ run.attempt }}`). */
  private session = 1;
  /** Outputs of succeeded steps, this session's and reused ones. */
  private readonly outputs = new Map<string, Record<string, string>>();
  /** The workflow env, rendered once per session (the `env` context, over the runner's environment). */
  private workflowEnv: Record<string, string> = {};

  constructor(private readonly options: RunWorkflowOptions) {
    this.plan = options.plan;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    const secrets = options.secrets;
    this.journal = new Journal(
      options.store,
      secrets && Object.keys(secrets.values).length > 0
        ? (e) => secrets.redactValue(e) as RunEvent
        : undefined,
    );
    this.stepSignal = AbortSignal.any([this.cancel.signal, this.halt.signal]);
    this.journal.listen((e) => this.project(e));
    if (options.onEvent) this.journal.listen(options.onEvent);
  }

  async execute(): Promise<RunResult> {
    const { plan, store, options } = this;
    this.runtimes = await RunRuntimes.open(plan, options.executors);

    // Pick the run and decide (read-only), take the lease, and only then
    // write: a second runner that finds the lease taken leaves no trace.
    const previous = await findRunToResume(store, plan, options.resume, options.from);
    const decision = decideSession(plan, previous?.steps, {
      ...(options.from !== undefined ? { from: options.from } : {}),
    });
    this.runId = previous?.run.id ?? newRunId();
    this.inputs = previous ? previous.run.inputs : (options.inputs ?? {});
    this.session = (previous?.run.sessions ?? 0) + 1;
    for (const s of previous?.steps ?? []) if (s.outputs) this.outputs.set(s.id, s.outputs);
    options.onRunId?.(this.runId);
    const lease = new LeaseKeeper({
      store,
      clock: this.clock,
      key: leaseKey(plan),
      runId: this.runId,
      ...(options.leaseTtlMs !== undefined ? { ttlMs: options.leaseTtlMs } : {}),
      ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
      ...(options.holder !== undefined ? { holder: options.holder } : {}),
      onRequests: (events) => this.onRequests(events),
      onLost: (error) => this.onFatal(error),
    });
    await lease.acquire();
    this.holder = lease.holder;

    const onAbort = () => this.requestCancel('cancelled by signal');
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort);
    const onPause = () => {
      this.pauseRequested = true;
      this.wake();
    };
    if (options.pauseSignal?.aborted) onPause();
    options.pauseSignal?.addEventListener('abort', onPause);
    this.services = new Services({
      runId: this.runId,
      file: plan.file,
      clock: this.clock,
      emit: (e) => this.journal.emit(e),
      runnerFor: (node) => this.runtimes.serviceRunner(node),
      env: options.env ?? process.env,
      secrets: options.secrets?.values ?? {},
      render: (text) =>
        renderTemplate(text, { contexts: { ...this.baseContexts(), env: this.envContext() } }),
      ...(options.secrets ? { redact: options.secrets.redactor } : {}),
      logFile: (name, attempt) => logFilePath(options.statePath, this.runId, name, attempt),
      attemptsBefore: (name) => this.attempts.get(name) ?? 0,
      stopGraceMs: options.serviceStopGraceMs ?? 10_000,
      serve: options.serve ?? false,
      signal: this.stepSignal,
      onFailure: (error) => this.fail(error),
      wake: () => this.wake(),
      track: (task) => this.track(task),
      onFatal: (error) => this.onFatal(error),
    });
    let began = false;
    try {
      this.startedAt = this.clock.now();
      if (!previous) {
        await this.journal.emit({
          type: 'run.created',
          runId: this.runId,
          at: this.startedAt,
          workflow: plan.workflow,
          file: plan.file,
          planFingerprint: plan.fingerprint,
          nodes: eventNodes(plan),
          inputs: this.inputs,
        });
      } else {
        for (const s of previous.steps) this.attempts.set(s.id, s.attempts);
        const open = (await store.getAttempts(this.runId)).filter((a) => a.status === 'running');
        await this.runtimes.removeLeftovers(this.runId, open);
      }
      await this.runtimes.createNetwork(this.runId);
      await this.begin(previous !== undefined, decision);
      began = true;
      lease.start(this.journal.lastSeq);
      await this.loop();
      if (this.fatal !== undefined) throw this.fatal;
      return await this.finish();
    } catch (error) {
      this.onFatal(error);
      await Promise.allSettled([...this.inflight]);
      if (began && !(this.fatal instanceof LockedError)) {
        // Record what can be recorded; the original error says more.
        await this.finish().catch(() => undefined);
      } else if (!(this.fatal instanceof LockedError)) {
        await this.runtimes.sweep(this.runId);
      }
      throw this.fatal;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      options.pauseSignal?.removeEventListener('abort', onPause);
      await lease.release();
    }
  }

  private async begin(resumed: boolean, decision: SessionDecision): Promise<void> {
    const { plan } = this;
    this.workflowEnv = this.renderWorkflowEnv();
    const reused = new Set(decision.reused);
    for (const n of plan.nodes) this.states.set(n.id, reused.has(n.id) ? 'succeeded' : 'pending');
    await this.journal.emit({
      type: 'run.started',
      runId: this.runId,
      at: this.startedAt,
      workflow: plan.workflow,
      file: plan.file,
      resumed,
      nodes: eventNodes(plan),
      reused: decision.reused,
      rerun: resumed ? decision.rerun : [],
      ...(this.options.from !== undefined ? { from: this.options.from } : {}),
      runner: `${this.holder.pid}@${this.holder.host}`,
      session: this.session,
    });
  }

  /** Keeps {@link states} in step with the stored stream. */
  private project(e: StoredEvent): void {
    switch (e.type) {
      case 'service.starting':
        this.states.set(e.service, 'starting');
        this.attempts.set(e.service, e.attempt);
        return;
      case 'service.status':
        this.states.set(e.service, e.status);
        return;
      case 'service.restarting':
        // Steps already running go on; new ones wait until it is healthy again.
        this.states.set(e.service, 'starting');
        return;
      case 'step.started':
        this.states.set(e.step, 'running');
        this.attempts.set(e.step, e.attempt);
        return;
      case 'step.finished':
      case 'step.skipped':
        this.states.set(e.step, e.status);
        return;
      case 'step.waiting':
        this.states.set(e.step, 'waiting');
        return;
      case 'step.approved':
        if (this.states.get(e.step) === 'waiting') this.states.set(e.step, 'succeeded');
        return;
      case 'step.rejected':
        if (this.states.get(e.step) === 'waiting') this.states.set(e.step, 'failed');
        return;
      default:
        return;
    }
  }

  // ---- requests, failures ---------------------------------------------------

  private onRequests(events: StoredEvent[]): void {
    for (const e of events) {
      this.journal.deliver(e);
      switch (e.type) {
        case 'run.cancel_requested':
          this.requestCancel(`cancelled by ${e.by} (agent cancel)`);
          break;
        case 'run.pause_requested':
          this.pauseRequested = true;
          break;
        case 'step.rejected':
          if (this.states.get(e.step) === 'failed')
            this.fail(
              `step "${e.step}" was rejected by ${e.by}${e.comment ? `: ${e.comment}` : ''}`,
            );
          break;
        default:
          break;
      }
    }
    this.wake();
  }

  private requestCancel(reason: string): void {
    if (this.cancel.signal.aborted) return;
    this.cancelReason = reason;
    this.cancel.abort();
    this.releaseHold();
    this.wake();
  }

  private fail(error: string): void {
    this.failure ??= error;
    this.releaseHold();
    this.wake();
  }

  private onFatal(error: unknown): void {
    if (error instanceof LockedError) this.journal.fence(error);
    this.fatal ??= error;
    this.failure ??= errorMessage(error);
    this.halt.abort();
    this.releaseHold();
    this.wake();
  }

  private get stopping(): boolean {
    return (
      (this.failure !== undefined && this.plan.failFast) ||
      this.cancel.signal.aborted ||
      this.fatal !== undefined ||
      this.pauseRequested
    );
  }

  /**
   * After a failure (with `failFast`) or a cancellation, steps whose `if:`
   * calls a status check function are still decided, as GitHub Actions
   * decides `if: failure()` and `if: always()` jobs; nothing starts after an
   * infrastructure error or a pause.
   */
  private get onlyStatusChecks(): boolean {
    return this.stopping && this.fatal === undefined && !this.pauseRequested;
  }

  // ---- the loop -------------------------------------------------------------

  private track(task: Promise<void>): void {
    const p = task
      .catch((error: unknown) => this.onFatal(error))
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
    const serve = this.options.serve ?? false;
    if (serve) this.track(this.hold());
    for (;;) {
      if ((this.failure !== undefined && plan.failFast) || this.cancel.signal.aborted)
        this.services.abortStarting();
      if (!this.stopping) {
        const services = serve
          ? plan.nodes.filter((n) => n.kind === 'service' && this.states.get(n.id) === 'pending')
          : wantedServices(plan, this.states);
        for (const s of services) {
          if (s.kind !== 'service') continue;
          this.states.set(s.id, 'starting');
          this.track(this.services.start(s));
        }
      }
      if (!this.stopping || this.onlyStatusChecks) {
        const only = this.stopping
          ? (n: PlanNode) => n.kind === 'step' && n.statusCheck
          : undefined;
        for (const s of readySteps(plan, this.states, plan.concurrency, only)) {
          if (s.kind !== 'step') continue;
          if (s.step.approval) {
            this.states.set(s.id, 'waiting');
            this.track(this.awaitApproval(s));
          } else {
            this.states.set(s.id, 'running');
            this.track(this.runStep(s));
          }
        }
      }
      if (!serve) {
        const mode = this.cancel.signal.aborted ? 'cancel' : 'graceful';
        for (const s of idleServices(plan, this.states)) {
          if (this.services.state(s.id).phase === 'healthy')
            this.track(this.services.stop(s.id, mode));
        }
      }
      this.skipBlocked();
      if (this.inflight.size === 0) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        for (const p of this.inflight) p.then(resolve, resolve);
      });
    }
  }

  /**
   * A step, from its decision to its end: its `if:` (false: recorded
   * `skipped`), its fields rendered (`resolve.ts`), its attempts, and its
   * outputs kept for the steps after it. A condition or expression that
   * cannot be evaluated fails the step before any attempt, as GitHub fails a
   * job whose expression errors.
   */
  private async runStep(node: StepNode): Promise<void> {
    const contexts = this.contextsFor(node);
    const { step } = node;
    // A step decided after a cancellation runs to its end unless the runner is forced.
    const signal = this.cancel.signal.aborted ? this.halt.signal : this.stepSignal;
    let resolved: ReturnType<typeof resolveStep>;
    try {
      if (step.if !== undefined) {
        const run = decideCondition(step.if, { contexts, status: this.statusFor(node) });
        if (!run) {
          await this.emitSkipped(node.id, 'skipped', `if: ${step.if.trim()} was false`);
          return;
        }
      }
      resolved = resolveStep(step, { contexts }, path.dirname(this.plan.file));
    } catch (error) {
      if (!(error instanceof ResolveError)) throw error;
      await this.journal.emit({
        type: 'step.finished',
        runId: this.runId,
        at: this.clock.now(),
        step: node.id,
        status: 'failed',
        attempt: this.attempts.get(node.id) ?? 0,
        durationMs: 0,
        error: error.message,
        attemptOpen: false,
      });
      if (!step.continueOnError) this.fail(`step "${node.id}" failed: ${error.message}`);
      return;
    }
    const secrets = this.options.secrets;
    const outcome = await runStep(node, {
      runId: this.runId,
      clock: this.clock,
      emit: (e) => this.journal.emit(e),
      executor: this.runtimes.stepExecutor(node),
      env: (attempt) => this.stepEnv(node, attempt),
      logFile: (attempt) => logFilePath(this.options.statePath, this.runId, node.id, attempt),
      outputFile: (attempt) =>
        logFilePath(this.options.statePath, this.runId, node.id, attempt).replace(
          /\.log$/,
          '.output',
        ),
      attemptsBefore: this.attempts.get(node.id) ?? 0,
      signal,
      resolved,
      ...(secrets ? { redact: secrets.redactor } : {}),
      ...(step.kind === 'container' && secrets ? { secretFiles: this.secretFiles() } : {}),
    });
    if (outcome.status === 'succeeded' && outcome.outputs) {
      const masked = secrets
        ? (secrets.redactValue(outcome.outputs) as Record<string, string>)
        : outcome.outputs;
      this.outputs.set(node.id, masked);
    }
    if ((outcome.status === 'failed' || outcome.status === 'timed_out') && !step.continueOnError) {
      this.fail(
        `step "${node.id}" ${outcome.status === 'timed_out' ? 'timed out' : 'failed'}: ${outcome.error}`,
      );
    }
  }

  /**
   * The status check functions' view for a step (GitHub Actions' meaning,
   * over the steps it needs, directly or not): `success()` every one
   * succeeded (a `continueOnError` failure counts) and the run is not
   * cancelled; `failure()` one of them failed or timed out; `cancelled()`
   * the run is being cancelled.
   */
  private statusFor(node: StepNode): { success: boolean; failure: boolean; cancelled: boolean } {
    let success = true;
    let failure = false;
    for (const id of this.ancestors(node)) {
      const n = nodeById(this.plan, id);
      if (n.kind !== 'step') continue;
      const s = this.states.get(id);
      const failed = s === 'failed' || s === 'timed_out';
      if (failed && n.step.continueOnError) continue;
      if (failed) failure = true;
      if (s !== 'succeeded') success = false;
    }
    const cancelled = this.cancel.signal.aborted;
    return { success: success && !cancelled, failure, cancelled };
  }

  /** Every node a node needs, directly or through other nodes. */
  private ancestors(node: PlanNode): Set<string> {
    const seen = new Set<string>();
    const stack = [...node.needs];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...nodeById(this.plan, id).needs);
    }
    return seen;
  }

  /** The runner's environment with the workflow env over it: the `env` context. */
  private envContext(): Record<string, string> {
    return Object.assign(this.runnerEnv(), this.workflowEnv);
  }

  /** The runner's environment without unset entries. */
  private runnerEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.options.env ?? process.env))
      if (v !== undefined) env[k] = v;
    return env;
  }

  /** Contexts every expression of the run may read (docs/expressions.md). */
  private baseContexts(): Record<string, ExprValue> {
    return {
      inputs: this.inputs,
      run: { id: this.runId, attempt: this.session },
      secrets: { ...(this.options.secrets?.values ?? {}) },
    };
  }

  /** The workflow env rendered with the run's contexts (no steps, services or matrix). */
  private renderWorkflowEnv(): Record<string, string> {
    const contexts = { ...this.baseContexts(), env: this.runnerEnv() };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.plan.env)) {
      try {
        out[k] = v.includes('${{') ? renderTemplate(v, { contexts }) : v;
      } catch {
        out[k] = v; // Reported by the step that renders it, with the field named.
      }
    }
    return out;
  }

  /**
   * The contexts of one step's expressions: the run's, `env`, its matrix
   * combination, `steps.<id>.outputs|status` for every step it needs
   * (directly or not), and `services.<name>.host|port|url` for the services
   * it needs, as the step reaches them (the service name and container port
   * from a container; the published port from a process).
   */
  private contextsFor(node: StepNode): Record<string, ExprValue> {
    const steps: Record<string, ExprValue> = {};
    const services: Record<string, ExprValue> = {};
    for (const id of this.ancestors(node)) {
      const n = nodeById(this.plan, id);
      if (n.kind === 'step') {
        steps[id] = {
          outputs: this.outputs.get(id) ?? {},
          status: this.states.get(id) ?? 'pending',
        };
      }
    }
    for (const need of node.needs) {
      const n = nodeById(this.plan, need);
      const handle = this.services.handle(need);
      if (n.kind !== 'service' || !handle) continue;
      const vars = serviceVariables(need, n, handle, node.step.kind === 'container');
      const prefix = serviceVariablePrefix(need);
      services[need] = {
        host: vars[`${prefix}_HOST`] ?? '',
        port: vars[`${prefix}_PORT`] ?? '',
        url: vars[`${prefix}_URL`] ?? '',
      };
    }
    return {
      ...this.baseContexts(),
      env: this.envContext(),
      steps,
      services,
      matrix: node.step.combination?.values ?? {},
    };
  }

  /** Container steps get every secret of the run as `/run/secrets/NAME` (compose's convention). */
  private secretFiles(): { name: string; value: string }[] {
    const values = this.options.secrets?.values ?? {};
    return Object.entries(values).map(([name, value]) => ({ name, value }));
  }

  /** An approval step: recorded `waiting`; a decision arrives as a request (see {@link onRequests}). */
  private async awaitApproval(node: StepNode): Promise<void> {
    const approval = node.step.approval;
    if (!approval) return;
    await this.journal.emit({
      type: 'step.waiting',
      runId: this.runId,
      at: this.clock.now(),
      step: node.id,
      message: approval.message,
      approvers: approval.approvers,
    });
  }

  /**
   * Marks steps that can never run as skipped, propagating down the DAG;
   * then, once only steps with status checks may start (after a failure with
   * failFast, or a cancellation), records every other pending step, so the
   * steps with status checks that need them can be decided.
   */
  private skipBlocked(): void {
    this.skipUnsatisfiable();
    if (!this.onlyStatusChecks) return;
    const cancelled = this.cancel.signal.aborted;
    for (const n of this.plan.nodes) {
      if (n.kind !== 'step' || n.statusCheck || this.states.get(n.id) !== 'pending') continue;
      this.states.set(n.id, cancelled ? 'cancelled' : 'skipped');
      this.track(
        this.emitSkipped(
          n.id,
          cancelled ? 'cancelled' : 'skipped',
          cancelled ? 'the run was cancelled' : 'the run failed before it started',
        ),
      );
    }
    this.skipUnsatisfiable();
  }

  /** Steps that a broken need makes unrunnable, skipped (or cancelled), level by level. */
  private skipUnsatisfiable(): void {
    for (;;) {
      const blocked = blockedSteps(this.plan, this.states);
      if (blocked.length === 0) return;
      const cancelled = this.cancel.signal.aborted;
      for (const n of blocked) {
        // A step that can never run because the run was cancelled is cancelled too.
        const reason = cancelled
          ? 'the run was cancelled'
          : `needs ${n.needs.filter((need) => !['succeeded', 'healthy'].includes(this.states.get(need) ?? '')).join(', ')}`;
        this.states.set(n.id, cancelled ? 'cancelled' : 'skipped');
        this.track(this.emitSkipped(n.id, cancelled ? 'cancelled' : 'skipped', reason));
      }
    }
  }

  private async emitSkipped(
    step: string,
    status: 'skipped' | 'cancelled',
    reason: string,
  ): Promise<void> {
    await this.journal.emit({
      type: 'step.skipped',
      runId: this.runId,
      at: this.clock.now(),
      step,
      status,
      reason,
    });
  }

  /** The variables the runner adds to a step's rendered env: AGENT_* and the services it needs. */
  private stepEnv(node: StepNode, attempt: number): Record<string, string> {
    const { step } = node;
    const env: Record<string, string> = {
      AGENT_RUN_ID: this.runId,
      AGENT_STEP_ID: node.id,
      AGENT_ATTEMPT: String(attempt),
    };
    for (const need of node.needs) {
      const handle = this.services.handle(need);
      const service = this.plan.nodes.find(
        (n): n is ServiceNode => n.id === need && n.kind === 'service',
      );
      if (handle && service)
        Object.assign(env, serviceVariables(need, service, handle, step.kind === 'container'));
    }
    return env;
  }

  // ---- the end ----------------------------------------------------------------

  private async finish(): Promise<RunResult> {
    const { runId, plan } = this;
    const cancelled = this.cancel.signal.aborted;
    // Cleanup first and unconditionally: even when the store refuses writes
    // (disk full), no container, process or network of the run is left.
    try {
      await this.services.stopAll(cancelled ? 'cancel' : 'graceful');
      for (const n of plan.nodes) await this.closeNode(n, cancelled);
    } finally {
      await this.journal.drain();
      await this.runtimes.sweep(runId);
    }
    const waiting = plan.nodes.some((n) => this.states.get(n.id) === 'waiting');
    const status: RunResult['status'] = cancelled
      ? 'cancelled'
      : this.failure !== undefined
        ? 'failed'
        : this.pauseRequested && plan.nodes.some((n) => this.states.get(n.id) === 'pending')
          ? 'paused'
          : waiting
            ? 'waiting'
            : 'succeeded';
    const error = cancelled ? this.cancelReason : this.failure;
    const finishedAt = this.clock.now();
    await this.journal.emit({
      type: 'run.finished',
      runId,
      at: finishedAt,
      status,
      durationMs: finishedAt - this.startedAt,
      ...(error !== undefined ? { error } : {}),
    });
    return {
      runId,
      status,
      ...(error !== undefined ? { error } : {}),
      steps: await this.store.getSteps(runId),
      resumed: this.options.resume !== undefined || this.options.from !== undefined,
    };
  }

  /** Records the end of a node that did not end on its own (cancelled, failed run, infrastructure). */
  private async closeNode(n: PlanNode, cancelled: boolean): Promise<void> {
    const s = this.states.get(n.id);
    const at = this.clock.now();
    if (n.kind === 'service') {
      if (s === 'starting' || s === 'healthy') {
        this.states.set(n.id, cancelled ? 'cancelled' : 'failed');
        await this.journal.emit({
          type: 'service.status',
          runId: this.runId,
          at,
          service: n.id,
          status: cancelled ? 'cancelled' : 'failed',
          ...(this.attempts.has(n.id) ? { attempt: this.attempts.get(n.id) ?? 0 } : {}),
          error: cancelled ? 'cancelled' : `abandoned: ${this.failure ?? 'the run stopped'}`,
        });
      }
      // A service that never started stays `pending`: true, and resumable.
      return;
    }
    if (s === 'pending' || s === 'waiting') {
      if (cancelled) await this.emitSkipped(n.id, 'cancelled', 'the run was cancelled');
      else if (this.failure !== undefined)
        await this.emitSkipped(n.id, 'skipped', 'the run failed before it started');
      // Paused or waiting: left as it is, for --resume.
    } else if (s === 'running') {
      // Only after an infrastructure error: the step was abandoned mid-way.
      const attempt = this.attempts.get(n.id) ?? 0;
      await this.journal.emit({
        type: 'step.finished',
        runId: this.runId,
        at,
        step: n.id,
        status: cancelled ? 'cancelled' : 'failed',
        attempt,
        durationMs: 0,
        error: cancelled ? 'cancelled' : `abandoned: ${this.failure ?? 'the run stopped'}`,
      });
    }
  }
}

/** `AGENT_SERVICE_<NAME>`: the service name upper-cased, every other character `_`. */
function serviceVariablePrefix(name: string): string {
  return `AGENT_SERVICE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * `AGENT_SERVICE_<NAME>_HOST / _PORT / _URL / _PORT_<n>` for a step that
 * needs a service: the service name and container ports for container steps
 * (they share the run network), the published host ports for process steps.
 * `_URLS` lists every replica's URL, comma-separated (the first is `_URL`'s
 * replica): `http://<name>-<i>:<port>` in containers, the published ports
 * from the host.
 */
function serviceVariables(
  name: string,
  service: ServiceNode,
  handle: ServiceHandle,
  inContainer: boolean,
): Record<string, string> {
  const env: Record<string, string> = {};
  const prefix = serviceVariablePrefix(name);
  const host = inContainer ? name : handle.endpoint.host;
  env[`${prefix}_HOST`] = host;
  const portOf = (container: number) =>
    inContainer ? container : (handle.endpoint.ports[container] ?? container);
  for (const p of service.service.agent.ports)
    env[`${prefix}_PORT_${p.container}`] = String(portOf(p.container));
  const first = service.service.agent.ports[0];
  if (first) {
    env[`${prefix}_PORT`] = String(portOf(first.container));
    env[`${prefix}_URL`] = `http://${host}:${portOf(first.container)}`;
    // Every replica's address: its own alias `<name>-<i>` on the run network,
    // or its published port.
    const replicas = handle instanceof ReplicaSet ? handle.replicas : [handle];
    env[`${prefix}_URLS`] = replicas
      .map((r, i) =>
        inContainer
          ? `http://${replicas.length > 1 ? `${name}-${i + 1}` : name}:${first.container}`
          : `http://${r.endpoint.host}:${r.endpoint.ports[first.container] ?? first.container}`,
      )
      .join(',');
  }
  return env;
}

/** The plan's nodes as `run.created` and `run.started` record them, with their `needs` for reports. */
function eventNodes(plan: Plan): EventNode[] {
  return plan.nodes.map((n) => ({
    id: n.id,
    kind: n.kind,
    fingerprint: n.fingerprint,
    needs: n.needs,
  }));
}
