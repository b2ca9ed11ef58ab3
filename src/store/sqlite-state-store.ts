/**
 * The default {@link StateStore}: one SQLite file through better-sqlite3
 * (`store.ts`), embedded, nothing to set up. better-sqlite3 is synchronous;
 * this class gives it the async interface the runner knows, and applies each
 * event's row operations (`effects.ts`) and the event itself in one
 * `BEGIN IMMEDIATE` transaction.
 */

import {
  EVENT_VERSION,
  eventNode,
  type RunEvent,
  type RunEventType,
  type StoredEvent,
} from '../core/events.js';
import { eventEffects } from './effects.js';
import { type EventRecord, Store } from './store.js';
import type {
  AcquireLeaseInput,
  AttemptRecord,
  LeaseHolder,
  LeaseRecord,
  PruneResult,
  RunFilter,
  RunRecord,
  StateStore,
  StepRecord,
} from './types.js';

/** Options of {@link SqliteStateStore.open}. */
export interface SqliteStateStoreOptions {
  /** Path of the SQLite file; created (with its parent directories) when missing. */
  path: string;
  /** How long a write waits for another process's write transaction, in ms. Default 5000. */
  busyTimeoutMs?: number;
}

/** The SQLite state store. */
export class SqliteStateStore implements StateStore {
  readonly location: string;

  private constructor(private readonly db: Store) {
    this.location = db.path;
  }

  /**
   * Opens (creating when missing) the store file and applies pending
   * migrations.
   * @throws StoreError as `Store.open` does (directory, permissions, corrupt
   *   file, newer schema, locked).
   */
  static open(options: SqliteStateStoreOptions): SqliteStateStore {
    return new SqliteStateStore(
      Store.open({
        path: options.path,
        ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
      }),
    );
  }

  async append(event: RunEvent): Promise<StoredEvent> {
    const { runId, at, type, ...rest } = event;
    // Through JSON once, so what reporters see now is exactly what a reader
    // of the store sees later (no `undefined` keys, no shared arrays).
    const dataJson = JSON.stringify({ v: EVENT_VERSION, ...rest });
    const data = JSON.parse(dataJson) as Record<string, unknown>;
    const effects = eventEffects(event);
    const node = eventNode(event);
    const seq = this.db.transaction(() => {
      this.db.applyEffects(effects);
      return this.db.appendEvent({ runId, at, type, node, dataJson });
    });
    return storedEvent({ seq, runId, at, type, node, data });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return this.db.getRun(id);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.db.listRuns(filter);
  }

  async findResumableRun(filter: {
    file: string;
    workflow: string;
    now?: number;
  }): Promise<RunRecord | undefined> {
    return this.db.findResumableRun(filter);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    return this.db.getSteps(runId);
  }

  async getAttempts(runId: string, stepId?: string): Promise<AttemptRecord[]> {
    return this.db.getAttempts(runId, stepId);
  }

  async getEvents(
    runId: string,
    options: { afterSeq?: number; limit?: number; types?: readonly RunEventType[] } = {},
  ): Promise<StoredEvent[]> {
    return this.db.getEvents(runId, options).map(storedEvent);
  }

  async acquireLease(input: AcquireLeaseInput): Promise<void> {
    this.db.acquireLease(input);
  }

  async renewLease(
    key: string,
    runId: string,
    ttlMs: number,
    now: number,
    holder: LeaseHolder,
  ): Promise<void> {
    this.db.renewLease(key, runId, ttlMs, now, holder);
  }

  async releaseLease(key: string, runId: string, holder: LeaseHolder): Promise<void> {
    this.db.releaseLease(key, runId, holder);
  }

  async getLease(key: string): Promise<LeaseRecord | undefined> {
    return this.db.getLease(key);
  }

  async listLeases(): Promise<LeaseRecord[]> {
    return this.db.listLeases();
  }

  async deleteRuns(runIds: string[]): Promise<PruneResult> {
    return this.db.deleteRuns(runIds);
  }

  /** SQLite's `PRAGMA integrity_check`: `['ok']` for a sound file. */
  async integrityCheck(): Promise<string[]> {
    return this.db.integrityCheck();
  }

  /** `VACUUM` and `ANALYZE` (after `agent prune`). */
  async vacuum(): Promise<void> {
    this.db.vacuum();
  }

  /** A consistent online copy at `destination` (SQLite's backup API); resolves with pages copied. */
  async backup(destination: string): Promise<number> {
    return this.db.backup(destination);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** A stored row as the event reporters receive: `v`, `seq`, then the event's fields. */
export function storedEvent(r: EventRecord): StoredEvent {
  const { v, ...fields } = r.data;
  return {
    v: typeof v === 'number' ? v : EVENT_VERSION,
    seq: r.seq,
    runId: r.runId,
    at: r.at,
    type: r.type,
    ...fields,
  } as StoredEvent;
}
