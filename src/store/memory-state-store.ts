/**
 * An in-memory {@link StateStore}, for the runner's unit tests: the same
 * event-to-row mapping as every store (`effects.ts`), plain maps instead of
 * tables, no I/O. An effect that fails leaves nothing applied (the whole
 * event is applied to a copy first), as a transaction would.
 */

import {
  EVENT_VERSION,
  type RunEvent,
  type RunEventType,
  type StoredEvent,
} from '../core/events.js';
import { RESUMABLE_RUN_STATES } from '../core/status.js';
import type { Effect } from './effects.js';
import { eventEffects } from './effects.js';
import {
  type AcquireLeaseInput,
  type AttemptRecord,
  type LeaseHolder,
  type LeaseRecord,
  LockedError,
  type PruneResult,
  type RunFilter,
  type RunRecord,
  type StateStore,
  type StepRecord,
  StoreError,
} from './types.js';

interface Tables {
  runs: Map<string, RunRecord & { order: number }>;
  steps: Map<string, StepRecord[]>;
  attempts: Map<string, AttemptRecord[]>;
}

/** Options of {@link MemoryStateStore}. */
export interface MemoryStateStoreOptions {
  /**
   * Whether the holder of a lease is alive, for `interrupted` and takeover
   * (default: every holder is alive until its lease expires).
   */
  holderAlive?: (lease: LeaseRecord) => boolean;
  /** The clock for lease expiry (epoch ms). Default `Date.now`. */
  now?: () => number;
}

/** A state store in memory. */
export class MemoryStateStore implements StateStore {
  readonly location = 'memory';
  private tables: Tables = { runs: new Map(), steps: new Map(), attempts: new Map() };
  private readonly events: StoredEvent[] = [];
  private readonly leases = new Map<string, LeaseRecord>();
  private seq = 0;
  private order = 0;
  /** When set, every write fails with this error (a store that refuses writes). */
  failWrites: Error | undefined;

  constructor(private readonly options: MemoryStateStoreOptions = {}) {}

  async append(event: RunEvent): Promise<StoredEvent> {
    if (this.failWrites) throw this.failWrites;
    const next = cloneTables(this.tables);
    for (const e of eventEffects(event)) this.apply(next, e);
    this.tables = next;
    const { runId, at, type, ...rest } = event;
    const stored = JSON.parse(
      JSON.stringify({ v: EVENT_VERSION, seq: ++this.seq, runId, at, type, ...rest }),
    ) as StoredEvent;
    this.events.push(stored);
    return structuredClone(stored);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const run = this.tables.runs.get(id);
    return run && this.view(run);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const all = [...this.tables.runs.values()]
      .filter((r) => filter.file === undefined || r.file === filter.file)
      .filter((r) => filter.workflow === undefined || r.workflow === filter.workflow)
      .filter((r) => filter.createdBefore === undefined || r.createdAt < filter.createdBefore)
      .sort((a, b) => b.createdAt - a.createdAt || b.order - a.order)
      .map((r) => this.view(r))
      .filter((r) => filter.status === undefined || r.status === filter.status);
    return filter.limit === undefined ? all : all.slice(0, filter.limit);
  }

  async findResumableRun(filter: {
    file: string;
    workflow: string;
    now?: number;
  }): Promise<RunRecord | undefined> {
    const runs = await this.listRuns({ file: filter.file, workflow: filter.workflow });
    return runs.find((r) => RESUMABLE_RUN_STATES.includes(r.status));
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return structuredClone(this.tables.steps.get(runId) ?? []);
  }

  async getAttempts(runId: string, stepId?: string): Promise<AttemptRecord[]> {
    const steps = this.tables.steps.get(runId) ?? [];
    const position = new Map(steps.map((s, i) => [s.id, i]));
    return structuredClone(
      (this.tables.attempts.get(runId) ?? [])
        .filter((a) => stepId === undefined || a.stepId === stepId)
        .sort(
          (a, b) =>
            (position.get(a.stepId) ?? 0) - (position.get(b.stepId) ?? 0) || a.attempt - b.attempt,
        ),
    );
  }

  async getEvents(
    runId: string,
    options: { afterSeq?: number; limit?: number; types?: readonly RunEventType[] } = {},
  ): Promise<StoredEvent[]> {
    const types = options.types;
    const out = this.events.filter(
      (e) =>
        e.runId === runId &&
        e.seq > (options.afterSeq ?? 0) &&
        (types === undefined || types.length === 0 || types.includes(e.type)),
    );
    return structuredClone(options.limit === undefined ? out : out.slice(0, options.limit));
  }

  async acquireLease(input: AcquireLeaseInput): Promise<void> {
    if (this.failWrites) throw this.failWrites;
    const held = this.leases.get(input.key);
    const same =
      held && held.runId === input.runId && held.pid === input.pid && held.host === input.host;
    if (held && !same && this.live(held, input.now)) throw locked(held);
    this.leases.set(input.key, {
      key: input.key,
      runId: input.runId,
      pid: input.pid,
      host: input.host,
      acquiredAt: same && held ? held.acquiredAt : input.now,
      heartbeatAt: input.now,
      expiresAt: input.now + input.ttlMs,
    });
  }

  async renewLease(
    key: string,
    runId: string,
    ttlMs: number,
    now: number,
    holder: LeaseHolder,
  ): Promise<void> {
    if (this.failWrites) throw this.failWrites;
    const held = this.leases.get(key);
    if (!held) return this.acquireLease({ key, runId, ...holder, ttlMs, now });
    if (held.runId !== runId || held.pid !== holder.pid || held.host !== holder.host)
      throw locked(held);
    held.heartbeatAt = now;
    held.expiresAt = now + ttlMs;
  }

  async releaseLease(key: string, runId: string, holder: LeaseHolder): Promise<void> {
    const held = this.leases.get(key);
    if (held && held.runId === runId && held.pid === holder.pid && held.host === holder.host)
      this.leases.delete(key);
  }

  async getLease(key: string): Promise<LeaseRecord | undefined> {
    const l = this.leases.get(key);
    return l && { ...l };
  }

  async listLeases(): Promise<LeaseRecord[]> {
    return [...this.leases.values()].map((l) => ({ ...l }));
  }

  /** Takes a lease away from its holder, as another runner taking over would. */
  stealLease(key: string, runId: string): void {
    const held = this.leases.get(key);
    if (held) this.leases.set(key, { ...held, runId, pid: held.pid + 1 });
  }

  async deleteRuns(runIds: string[]): Promise<PruneResult> {
    const runs: string[] = [];
    let events = 0;
    const now = this.options.now?.() ?? Date.now();
    for (const id of runIds) {
      if ([...this.leases.values()].some((l) => l.runId === id && this.live(l, now))) continue;
      if (!this.tables.runs.delete(id)) continue;
      runs.push(id);
      this.tables.steps.delete(id);
      this.tables.attempts.delete(id);
      for (let i = this.events.length - 1; i >= 0; i--) {
        if (this.events[i]?.runId === id) {
          this.events.splice(i, 1);
          events++;
        }
      }
    }
    return { runs, events };
  }

  async close(): Promise<void> {}

  private live(lease: LeaseRecord, now: number): boolean {
    if (lease.expiresAt < now) return false;
    return this.options.holderAlive?.(lease) ?? true;
  }

  private view(run: RunRecord & { order: number }): RunRecord {
    const { order: _order, ...record } = structuredClone(run);
    if (record.status === 'running') {
      const now = this.options.now?.() ?? Date.now();
      const live = [...this.leases.values()].some((l) => l.runId === run.id && this.live(l, now));
      if (!live) record.status = 'interrupted';
    }
    return record;
  }

  private apply(t: Tables, e: Effect): void {
    switch (e.op) {
      case 'insertRun': {
        if (t.runs.has(e.run.id)) throw new StoreError(`run "${e.run.id}" already exists`);
        t.runs.set(e.run.id, {
          ...e.run,
          status: 'queued',
          startedAt: null,
          finishedAt: null,
          error: null,
          requested: null,
          sessions: 0,
          order: this.order++,
        });
        t.steps.set(
          e.run.id,
          e.nodes.map((n) => newStep(e.run.id, n)),
        );
        t.attempts.set(e.run.id, []);
        return;
      }
      case 'updateRun': {
        const run = t.runs.get(e.runId);
        if (!run) throw new StoreError(`no run "${e.runId}" in the store`);
        Object.assign(run, definedOnly(e.patch));
        return;
      }
      case 'addMissingNodes': {
        const steps = t.steps.get(e.runId);
        if (!steps) throw new StoreError(`no run "${e.runId}" in the store`);
        for (const n of e.nodes)
          if (!steps.some((s) => s.id === n.id)) steps.push(newStep(e.runId, n));
        return;
      }
      case 'updateStep': {
        const step = t.steps.get(e.runId)?.find((s) => s.id === e.stepId);
        if (!step) throw new StoreError(`no step "${e.stepId}" in run "${e.runId}"`);
        Object.assign(step, definedOnly(e.patch));
        return;
      }
      case 'insertAttempt': {
        const attempts = t.attempts.get(e.runId);
        if (!attempts || !t.steps.get(e.runId)?.some((s) => s.id === e.stepId))
          throw new StoreError(`no step "${e.stepId}" in run "${e.runId}"`);
        if (attempts.some((a) => a.stepId === e.stepId && a.attempt === e.attempt))
          throw new StoreError(
            `attempt ${e.attempt} of step "${e.stepId}" in run "${e.runId}" already exists`,
          );
        attempts.push({
          runId: e.runId,
          stepId: e.stepId,
          attempt: e.attempt,
          status: 'running',
          startedAt: e.startedAt,
          finishedAt: null,
          exitCode: null,
          error: null,
          pid: null,
          containerId: null,
          logFile: e.logFile,
        });
        return;
      }
      case 'updateAttempt': {
        const a = t.attempts
          .get(e.runId)
          ?.find((x) => x.stepId === e.stepId && x.attempt === e.attempt);
        if (!a)
          throw new StoreError(`no attempt ${e.attempt} of step "${e.stepId}" in run "${e.runId}"`);
        Object.assign(a, definedOnly(e.patch));
        return;
      }
      case 'closeOpenAttempts':
        for (const a of t.attempts.get(e.runId) ?? []) {
          if (a.status !== 'running') continue;
          Object.assign(a, { status: 'cancelled', finishedAt: e.at, error: e.error });
        }
        return;
    }
  }
}

function newStep(
  runId: string,
  n: { id: string; kind: 'step' | 'service'; fingerprint: string },
): StepRecord {
  return {
    runId,
    id: n.id,
    kind: n.kind,
    status: 'pending',
    fingerprint: n.fingerprint,
    attempts: 0,
    startedAt: null,
    finishedAt: null,
    error: null,
    outputs: null,
    waitingFor: null,
    decision: null,
  };
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function cloneTables(t: Tables): Tables {
  return structuredClone(t);
}

function locked(l: LeaseRecord): LockedError {
  return new LockedError(`the workflow is locked by run ${l.runId} (pid ${l.pid} on ${l.host})`, {
    runId: l.runId,
    pid: l.pid,
    host: l.host,
    heartbeatAt: l.heartbeatAt,
  });
}
