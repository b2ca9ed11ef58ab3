/**
 * The SQLite database under the state store: one file (through
 * better-sqlite3) holding runs, their steps and services, attempts, the
 * append-only event log and leases. Internal to `src/store/`: the runner and
 * the CLI see it only through `SqliteStateStore` (the async `StateStore`).
 *
 * Every method is synchronous and every write is committed when it returns,
 * so a runner killed with `kill -9` loses nothing it was told about. The file
 * is in WAL mode with `synchronous = NORMAL`: readers (`agent status`) never
 * block the runner, a process crash never loses a committed write, and an OS
 * crash or power loss can lose at most the last few commits, which looks to
 * `--resume` exactly like a runner killed a moment earlier (see docs/state.md).
 *
 * Errors from SQLite and the file system surface as {@link StoreError} with a
 * one-line message and a hint; a held lease surfaces as {@link LockedError}.
 */

import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunState } from '../core/status.js';
import type { AttemptPatch, Effect, RunPatch, StepPatch } from './effects.js';
import { toStoreError } from './errors.js';
import { leaseIsLive } from './lease.js';
import { migrate } from './migrations.js';
import { prepareStateDir } from './paths.js';
import type {
  AcquireLeaseInput,
  AttemptRecord,
  LeaseRecord,
  RunRecord,
  StepRecord,
} from './types.js';
import { LockedError, StoreError } from './types.js';

/** One row of the append-only event log, as stored. */
export interface EventRecord {
  seq: number;
  runId: string;
  at: number;
  /** e.g. `run.started`, `step.finished`. */
  type: string;
  /** Step id or service name, or null for run-level events. */
  node: string | null;
  /** The event's own fields (without `runId`, `at`, `type`), JSON. */
  data: Record<string, unknown>;
}

export {
  defaultStatePath,
  logFilePath,
  newRunId,
  resolveStatePath,
  STATE_DIR_NAME,
  STATE_ENV_VAR,
  workflowLeaseKey,
} from './paths.js';

/** Options of {@link Store.open}. */
export interface StoreOpenOptions {
  /** Path of the SQLite file; created (with its parent directories) when missing. */
  path: string;
  /**
   * How long a write waits for another connection's write transaction to end
   * before failing with "the state store is locked by another process", in ms.
   * Default 5000 (better-sqlite3's default).
   */
  busyTimeoutMs?: number;
}

/** A step or service of a plan, as the store records it. */
export interface StoreNodeInput {
  id: string;
  kind: 'step' | 'service';
  fingerprint: string;
}

/** Input of {@link Store.createRun}. Times are epoch ms. */
export interface CreateRunInput {
  id: string;
  workflow: string;
  /** Absolute path of the workflow file. */
  file: string;
  planFingerprint: string;
  /** In plan order; `getSteps` returns them in this order. */
  nodes: StoreNodeInput[];
  createdAt: number;
  /** The run's inputs (default none). */
  inputs?: RunRecord['inputs'];
}

/** Identity of a lease holder; defaults to this process (`process.pid`, `os.hostname()`). */
export interface LeaseHolder {
  pid?: number;
  host?: string;
}

interface RunRow {
  id: string;
  workflow: string;
  file: string;
  status: string;
  plan_fingerprint: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  requested: string | null;
  inputs: string | null;
  sessions: number;
}

interface StepRow {
  run_id: string;
  id: string;
  kind: string;
  status: string;
  fingerprint: string;
  attempts: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  outputs: string | null;
  waiting_for: string | null;
  decision: string | null;
}

interface AttemptRow {
  run_id: string;
  step_id: string;
  attempt: number;
  status: string;
  started_at: number;
  finished_at: number | null;
  exit_code: number | null;
  error: string | null;
  pid: number | null;
  container_id: string | null;
  log_file: string | null;
}

interface EventRow {
  seq: number;
  run_id: string;
  at: number;
  type: string;
  node: string | null;
  data: string;
}

interface LeaseRow {
  key: string;
  run_id: string;
  pid: number;
  host: string;
  acquired_at: number;
  heartbeat_at: number;
  expires_at: number;
}

const RUN_COLUMNS = {
  status: 'status',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  error: 'error',
  requested: 'requested',
  sessions: 'sessions',
} as const satisfies Record<keyof RunPatch, string>;

const STEP_COLUMNS = {
  status: 'status',
  fingerprint: 'fingerprint',
  attempts: 'attempts',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  error: 'error',
  outputs: 'outputs',
  waitingFor: 'waiting_for',
  decision: 'decision',
} as const satisfies Record<keyof StepPatch, string>;

const ATTEMPT_COLUMNS = {
  status: 'status',
  finishedAt: 'finished_at',
  exitCode: 'exit_code',
  error: 'error',
  pid: 'pid',
  containerId: 'container_id',
} as const satisfies Record<keyof AttemptPatch, string>;

/** The SQLite state store. Open with {@link Store.open}; close with {@link Store.close}. */
export class Store {
  /** Absolute path of the SQLite file. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly updates = new Map<string, Database.Statement<unknown[]>>();
  private tx: Database.Transaction<(body: () => unknown) => unknown> | undefined;

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.path = file;
  }

  /**
   * Opens (creating when missing) the store at `options.path`: makes the
   * parent directory, sets `journal_mode = WAL`, `synchronous = NORMAL`,
   * `foreign_keys = ON` and the busy timeout, and applies pending migrations.
   *
   * @throws StoreError when the directory cannot be created (permission
   *   denied, a file in the way, read-only file system), the file is not a
   *   SQLite database or is corrupt, the disk is full, the file is read-only,
   *   another process holds the write lock for longer than `busyTimeoutMs`, or
   *   the file was written by a newer agentfile (schema version too new).
   */
  static open(options: StoreOpenOptions): Store {
    const file = path.resolve(options.path);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    // Not mkdirSync({ recursive: true }): it loops forever on paths under
    // pseudo file systems such as /proc (see prepareStateDir).
    prepareStateDir(file);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: busyTimeoutMs });
      // The production settings of the SQLite runtime guide this project
      // learns from (docs/state.md): WAL, NORMAL sync, a 64 MB page cache,
      // 256 MB of memory-mapped I/O, temp tables in memory.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('cache_size = -65536');
      db.pragma('mmap_size = 268435456');
      db.pragma('temp_store = MEMORY');
      migrate(db);
      return new Store(db, file);
    } catch (err) {
      if (db?.open) db.close();
      throw toStoreError(err, file);
    }
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Runs `fn` in one write transaction (`BEGIN IMMEDIATE`): everything it
   * writes is committed together when it returns, or rolled back when it
   * throws (the error is rethrown). Nested calls join the outer transaction
   * as a savepoint. `fn` must be synchronous.
   *
   * @throws StoreError for SQLite failures, mapped as in {@link Store.open}.
   */
  transaction<T>(fn: () => T): T {
    // One transaction function for every call (better-sqlite3 passes the
    // arguments through), not a new one per call: this is the runner's hot path.
    this.tx ??= this.db.transaction((body: () => unknown) => body());
    return this.guard(() => this.tx?.immediate(fn) as T);
  }

  // ---------------------------------------------------------------- runs

  /**
   * Records a new run (status `queued`) and one `pending` row per node, in
   * the given (plan) order, in one transaction. Returns the run.
   *
   * @throws StoreError when a run with this id exists, or for SQLite failures.
   */
  createRun(input: CreateRunInput): RunRecord {
    return this.transaction(() => {
      if (this.getRun(input.id)) throw new StoreError(`run "${input.id}" already exists`);
      this.db
        .prepare(
          `INSERT INTO runs (id, workflow, file, status, plan_fingerprint, created_at, inputs)
           VALUES (?, ?, ?, 'queued', ?, ?, ?)`,
        )
        .run(
          input.id,
          input.workflow,
          input.file,
          input.planFingerprint,
          input.createdAt,
          JSON.stringify(input.inputs ?? {}),
        );
      const insert = this.db.prepare(
        `INSERT INTO steps (run_id, id, position, kind, status, fingerprint)
         VALUES (?, ?, ?, ?, 'pending', ?)`,
      );
      input.nodes.forEach((n, i) => {
        insert.run(input.id, n.id, i, n.kind, n.fingerprint);
      });
      const run = this.getRun(input.id);
      if (!run) throw new Error(`internal: run "${input.id}" vanished after insert`);
      return run;
    });
  }

  /** The run with this id, or undefined; a `running` run with no live lease reads `interrupted`. */
  getRun(id: string, now: number = Date.now()): RunRecord | undefined {
    return this.guard(() => {
      const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
      return row && this.toRunView(row, now);
    });
  }

  /**
   * Runs, newest first (by `createdAt`, then insertion), optionally of one
   * file and/or workflow, in one state (as read), created before a time.
   */
  listRuns(
    filter: {
      file?: string;
      workflow?: string;
      status?: RunState;
      createdBefore?: number;
      limit?: number;
    } = {},
    now: number = Date.now(),
  ): RunRecord[] {
    return this.guard(() => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.file !== undefined) {
        where.push('file = ?');
        params.push(filter.file);
      }
      if (filter.workflow !== undefined) {
        where.push('workflow = ?');
        params.push(filter.workflow);
      }
      if (filter.createdBefore !== undefined) {
        where.push('created_at < ?');
        params.push(filter.createdBefore);
      }
      // `interrupted` and `running` are both stored as `running`; told apart by the lease.
      const wanted = filter.status;
      if (wanted !== undefined) {
        where.push('status = ?');
        params.push(wanted === 'interrupted' ? 'running' : wanted);
      }
      let sql = 'SELECT * FROM runs';
      if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
      sql += ' ORDER BY created_at DESC, rowid DESC';
      const rows = this.db.prepare(sql).all(...params) as RunRow[];
      const out: RunRecord[] = [];
      for (const row of rows) {
        const run = this.toRunView(row, now);
        if (wanted !== undefined && run.status !== wanted) continue;
        out.push(run);
        if (filter.limit !== undefined && out.length >= filter.limit) break;
      }
      return out;
    });
  }

  /**
   * The newest run of this file and workflow that `--resume` can continue:
   * `failed`, `cancelled`, `paused` or `waiting`, or `queued` / `running`
   * with no live lease (its runner was killed: no lease row names the run, or
   * every such lease expired, or its holder is on this host and its pid is
   * gone). Succeeded runs are never returned. `now` (epoch ms) defaults to
   * `Date.now()`.
   */
  findResumableRun(filter: {
    file: string;
    workflow: string;
    now?: number;
  }): RunRecord | undefined {
    return this.guard(() => {
      const now = filter.now ?? Date.now();
      const rows = this.db
        .prepare(
          `SELECT * FROM runs
           WHERE file = ? AND workflow = ?
             AND status IN ('failed', 'cancelled', 'paused', 'waiting', 'queued', 'running')
           ORDER BY created_at DESC, rowid DESC`,
        )
        .all(filter.file, filter.workflow) as RunRow[];
      for (const row of rows) {
        if (row.status !== 'queued' && row.status !== 'running') return toRun(row);
        if (!this.runHasLiveLease(row.id, now)) return { ...toRun(row), status: 'interrupted' };
      }
      return undefined;
    });
  }

  /**
   * Changes some fields of a run.
   * @throws StoreError when there is no such run.
   */
  updateRun(id: string, patch: RunPatch): void {
    this.guard(() => {
      const values: Record<string, unknown> = { ...patch };
      if ('requested' in patch) values.requested = jsonOrNull(patch.requested);
      const changed = this.update('runs', RUN_COLUMNS, values, 'id = ?', [id]);
      if (changed === 0 && !this.getRun(id)) throw new StoreError(`no run "${id}" in the store`);
    });
  }

  // --------------------------------------------------------------- steps

  /** The steps and services of a run, in plan order (then order of {@link Store.addStep}). */
  getSteps(runId: string): StepRecord[] {
    return this.guard(() =>
      (
        this.db
          .prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY position')
          .all(runId) as StepRow[]
      ).map(toStep),
    );
  }

  /**
   * Changes some fields of a step or service of a run. `outputs` is stored as JSON.
   * @throws StoreError when there is no such step.
   */
  updateStep(runId: string, id: string, patch: StepPatch): void {
    this.guard(() => {
      const values: Record<string, unknown> = { ...patch };
      if ('outputs' in patch) values.outputs = jsonOrNull(patch.outputs);
      if ('waitingFor' in patch) values.waitingFor = jsonOrNull(patch.waitingFor);
      if ('decision' in patch) values.decision = jsonOrNull(patch.decision);
      const changed = this.update('steps', STEP_COLUMNS, values, 'run_id = ? AND id = ?', [
        runId,
        id,
      ]);
      if (changed === 0 && !this.hasStep(runId, id)) {
        throw new StoreError(`no step "${id}" in run "${runId}"`);
      }
    });
  }

  /**
   * Adds a `pending` node at the end of a run's order, for a resumed run whose
   * plan gained a node.
   * @throws StoreError when the run does not exist or already has this node.
   */
  addStep(runId: string, node: StoreNodeInput): void {
    this.transaction(() => {
      if (!this.getRun(runId)) throw new StoreError(`no run "${runId}" in the store`);
      if (this.hasStep(runId, node.id)) {
        throw new StoreError(`run "${runId}" already has a step "${node.id}"`);
      }
      this.db
        .prepare(
          `INSERT INTO steps (run_id, id, position, kind, status, fingerprint)
           VALUES (?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM steps WHERE run_id = ?),
                   ?, 'pending', ?)`,
        )
        .run(runId, node.id, runId, node.kind, node.fingerprint);
    });
  }

  // ------------------------------------------------------------ attempts

  /**
   * Records the start of an attempt (status `running`). `attempt` is 1-based.
   * @throws StoreError when the step does not exist or the attempt is already recorded.
   */
  startAttempt(input: {
    runId: string;
    stepId: string;
    attempt: number;
    startedAt: number;
    logFile: string | null;
  }): void {
    this.transaction(() => {
      if (!this.hasStep(input.runId, input.stepId)) {
        throw new StoreError(`no step "${input.stepId}" in run "${input.runId}"`);
      }
      const exists = this.stmt(
        'SELECT 1 FROM attempts WHERE run_id = ? AND step_id = ? AND attempt = ?',
      ).get(input.runId, input.stepId, input.attempt);
      if (exists) {
        throw new StoreError(
          `attempt ${input.attempt} of step "${input.stepId}" in run "${input.runId}" already exists`,
        );
      }
      this.stmt(
        `INSERT INTO attempts (run_id, step_id, attempt, status, started_at, log_file)
         VALUES (?, ?, ?, 'running', ?, ?)`,
      ).run(input.runId, input.stepId, input.attempt, input.startedAt, input.logFile);
    });
  }

  /**
   * Changes some fields of an attempt.
   * @throws StoreError when there is no such attempt.
   */
  updateAttempt(runId: string, stepId: string, attempt: number, patch: AttemptPatch): void {
    this.guard(() => {
      const changed = this.update(
        'attempts',
        ATTEMPT_COLUMNS,
        patch,
        'run_id = ? AND step_id = ? AND attempt = ?',
        [runId, stepId, attempt],
      );
      if (changed > 0) return;
      const exists = this.db
        .prepare('SELECT 1 FROM attempts WHERE run_id = ? AND step_id = ? AND attempt = ?')
        .get(runId, stepId, attempt);
      if (!exists) {
        throw new StoreError(`no attempt ${attempt} of step "${stepId}" in run "${runId}"`);
      }
    });
  }

  /** Attempts of a run (or of one step of it), ordered by step plan order, then attempt number. */
  getAttempts(runId: string, stepId?: string): AttemptRecord[] {
    return this.guard(() => {
      const base = `SELECT a.* FROM attempts a JOIN steps s ON s.run_id = a.run_id AND s.id = a.step_id
                    WHERE a.run_id = ?`;
      const order = ' ORDER BY s.position, a.attempt';
      const rows =
        stepId === undefined
          ? this.db.prepare(base + order).all(runId)
          : this.db.prepare(`${base} AND a.step_id = ?${order}`).all(runId, stepId);
      return (rows as AttemptRow[]).map(toAttempt);
    });
  }

  // -------------------------------------------------------------- events

  /**
   * Appends an event to the run's audit log and returns its `seq`, which
   * increases strictly across the whole store (never reused, even after
   * deletes). `data` must be JSON-serialisable and must not hold secret values.
   */
  appendEvent(input: {
    runId: string;
    at: number;
    type: string;
    node: string | null;
    data?: Record<string, unknown>;
    /** `data` already serialised (the caller has it), instead of `data`. */
    dataJson?: string;
  }): number {
    return this.guard(() => {
      const info = this.stmt(
        'INSERT INTO events (run_id, at, type, node, data) VALUES (?, ?, ?, ?, ?)',
      ).run(
        input.runId,
        input.at,
        input.type,
        input.node,
        input.dataJson ?? JSON.stringify(input.data ?? {}),
      );
      return Number(info.lastInsertRowid);
    });
  }

  /** Events of a run in `seq` order; with `afterSeq`, only those with a greater `seq` (for tailing). */
  getEvents(
    runId: string,
    options: { afterSeq?: number; limit?: number; types?: readonly string[] } = {},
  ): EventRecord[] {
    return this.guard(() => {
      const types = options.types ?? [];
      const byType = types.length > 0 ? ` AND type IN (${types.map(() => '?').join(', ')})` : '';
      return (
        this.stmt(
          `SELECT * FROM events WHERE run_id = ? AND seq > ?${byType} ORDER BY seq LIMIT ?`,
        ).all(runId, options.afterSeq ?? 0, ...types, options.limit ?? -1) as EventRow[]
      ).map(toEvent);
    });
  }

  // -------------------------------------------------------------- leases

  /**
   * Takes the lease `key` for a run, or refreshes it when this same holder
   * (run id, pid and host) has it already. A lease held by someone else is
   * taken over when it is stale: expired (`expiresAt < now`), or held on
   * `input.host` by a pid that no longer exists (`kill(pid, 0)` → ESRCH).
   *
   * @throws LockedError when another live holder has it (with the holder).
   */
  acquireLease(input: AcquireLeaseInput): void {
    this.transaction(() => {
      const row = this.leaseRow(input.key);
      if (
        row &&
        !(row.run_id === input.runId && row.pid === input.pid && row.host === input.host) &&
        rowIsLive(row, input.now, input.host)
      ) {
        throw lockedError(row);
      }
      this.db
        .prepare(
          `INSERT INTO leases (key, run_id, pid, host, acquired_at, heartbeat_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET
             acquired_at = CASE
               WHEN leases.run_id = excluded.run_id AND leases.pid = excluded.pid
                    AND leases.host = excluded.host THEN leases.acquired_at
               ELSE excluded.acquired_at END,
             run_id = excluded.run_id, pid = excluded.pid, host = excluded.host,
             heartbeat_at = excluded.heartbeat_at,
             expires_at = excluded.expires_at`,
        )
        .run(
          input.key,
          input.runId,
          input.pid,
          input.host,
          input.now,
          input.now,
          input.now + input.ttlMs,
        );
    });
  }

  /**
   * Heartbeat: extends the lease to `now + ttlMs` (epoch ms, ms). The holder
   * is identified by `runId` and `holder` (default: this process's pid and
   * host name). When nobody holds the key any more, it is taken again.
   *
   * @throws LockedError when another holder has taken it over meanwhile.
   */
  renewLease(
    key: string,
    runId: string,
    ttlMs: number,
    now: number,
    holder: LeaseHolder = {},
  ): void {
    const pid = holder.pid ?? process.pid;
    const host = holder.host ?? os.hostname();
    this.transaction(() => {
      const row = this.leaseRow(key);
      if (!row) {
        this.acquireLease({ key, runId, pid, host, ttlMs, now });
        return;
      }
      if (row.run_id !== runId || row.pid !== pid || row.host !== host) throw lockedError(row);
      this.db
        .prepare('UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE key = ?')
        .run(now, now + ttlMs, key);
    });
  }

  /**
   * Gives the lease up when this holder (run id, and `holder`, default this
   * process) has it; does nothing when someone else has taken it over.
   */
  releaseLease(key: string, runId: string, holder: LeaseHolder = {}): void {
    this.guard(() => {
      this.db
        .prepare('DELETE FROM leases WHERE key = ? AND run_id = ? AND pid = ? AND host = ?')
        .run(key, runId, holder.pid ?? process.pid, holder.host ?? os.hostname());
    });
  }

  /** The current holder of `key`, live or stale, or undefined. */
  getLease(key: string): LeaseRecord | undefined {
    return this.guard(() => {
      const row = this.leaseRow(key);
      return row && toLease(row);
    });
  }

  /** Every lease row, live or stale. */
  listLeases(): LeaseRecord[] {
    return this.guard(() =>
      (this.db.prepare('SELECT * FROM leases ORDER BY key').all() as LeaseRow[]).map(toLease),
    );
  }

  // ------------------------------------------------------------ effects

  /**
   * Executes the row operations of one event (see `effects.ts`). Call inside
   * {@link Store.transaction} together with {@link Store.appendEvent}.
   * @throws StoreError when an op names a row that does not exist (or inserts one that does).
   */
  applyEffects(effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.op) {
        case 'insertRun':
          this.createRun({ ...e.run, nodes: e.nodes });
          break;
        case 'updateRun':
          this.updateRun(e.runId, e.patch);
          break;
        case 'addMissingNodes':
          for (const n of e.nodes) if (!this.hasStep(e.runId, n.id)) this.addStep(e.runId, n);
          break;
        case 'updateStep':
          this.updateStep(e.runId, e.stepId, e.patch);
          break;
        case 'insertAttempt':
          this.startAttempt({
            runId: e.runId,
            stepId: e.stepId,
            attempt: e.attempt,
            startedAt: e.startedAt,
            logFile: e.logFile,
          });
          break;
        case 'updateAttempt':
          this.updateAttempt(e.runId, e.stepId, e.attempt, e.patch);
          break;
        case 'closeOpenAttempts':
          this.stmt(
            `UPDATE attempts SET status = 'cancelled', finished_at = ?, error = ?
             WHERE run_id = ? AND status = 'running'`,
          ).run(e.at, e.error, e.runId);
          break;
      }
    }
  }

  /**
   * Deletes runs with their steps, attempts and events (by cascade), except
   * runs a live lease names; returns the runs deleted and how many events went.
   */
  deleteRuns(runIds: readonly string[]): { runs: string[]; events: number } {
    return this.transaction(() => {
      const deleted: string[] = [];
      let events = 0;
      const countEvents = this.db.prepare('SELECT COUNT(*) AS n FROM events WHERE run_id = ?');
      const del = this.db.prepare('DELETE FROM runs WHERE id = ?');
      const now = Date.now();
      for (const id of runIds) {
        // Checked inside the write transaction: a run a runner took up since
        // the caller looked is never deleted under it.
        if (this.runHasLiveLease(id, now)) continue;
        events += (countEvents.get(id) as { n: number }).n;
        if (del.run(id).changes > 0) deleted.push(id);
        this.db.prepare('DELETE FROM leases WHERE run_id = ?').run(id);
      }
      return { runs: deleted, events };
    });
  }

  // -------------------------------------------------------- maintenance

  /** SQLite's `PRAGMA integrity_check`: `['ok']` for a sound file, else one line per problem. */
  integrityCheck(): string[] {
    return this.guard(() =>
      (this.db.pragma('integrity_check') as { integrity_check: string }[]).map(
        (r) => r.integrity_check,
      ),
    );
  }

  /** `VACUUM` then `ANALYZE`: gives freed pages back to the file system, refreshes the planner's statistics. */
  vacuum(): void {
    this.guard(() => {
      this.db.exec('VACUUM');
      this.db.exec('ANALYZE');
    });
  }

  /**
   * A consistent copy of the live database at `destination`, through
   * SQLite's online backup API (better-sqlite3's `backup`): writers go on
   * while it copies. Resolves with the number of pages copied.
   * @throws StoreError when the destination cannot be written.
   */
  async backup(destination: string): Promise<number> {
    try {
      // In one step: SQLite restarts a backup whenever another connection
      // writes between two steps, so a large store copied 100 pages a step
      // (the default) is never done while a runner writes. One step holds a
      // read transaction for the copy; in WAL mode writers go on meanwhile.
      const result = await this.db.backup(destination, { progress: () => 0x7fffffff });
      return result.totalPages;
    } catch (err) {
      throw toStoreError(err, destination);
    }
  }

  // ------------------------------------------------------------ internals

  private runHasLiveLease(runId: string, now: number): boolean {
    const host = os.hostname();
    const leases = this.db
      .prepare('SELECT * FROM leases WHERE run_id = ?')
      .all(runId) as LeaseRow[];
    return leases.some((l) => rowIsLive(l, now, host));
  }

  private toRunView(row: RunRow, now: number): RunRecord {
    const run = toRun(row);
    if (run.status === 'running' && !this.runHasLiveLease(row.id, now)) run.status = 'interrupted';
    return run;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, this.path);
    }
  }

  private hasStep(runId: string, id: string): boolean {
    return !!this.stmt('SELECT 1 FROM steps WHERE run_id = ? AND id = ?').get(runId, id);
  }

  /** A prepared statement, cached by its SQL. */
  private stmt(sql: string): Database.Statement<unknown[]> {
    let stmt = this.updates.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.updates.set(sql, stmt);
    }
    return stmt;
  }

  private leaseRow(key: string): LeaseRow | undefined {
    return this.db.prepare('SELECT * FROM leases WHERE key = ?').get(key) as LeaseRow | undefined;
  }

  /** `UPDATE table SET <patched columns> WHERE ...`; returns the number of rows changed. */
  private update(
    table: string,
    columns: Record<string, string>,
    patch: Record<string, unknown>,
    where: string,
    whereParams: unknown[],
  ): number {
    const keys = Object.keys(columns).filter((k) => k in patch && patch[k] !== undefined);
    if (keys.length === 0) {
      const exists = this.db.prepare(`SELECT 1 FROM ${table} WHERE ${where}`).get(...whereParams);
      return exists ? 1 : 0;
    }
    const sql = `UPDATE ${table} SET ${keys.map((k) => `${columns[k]} = ?`).join(', ')} WHERE ${where}`;
    let stmt = this.updates.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.updates.set(sql, stmt);
    }
    return stmt.run(...keys.map((k) => patch[k]), ...whereParams).changes;
  }
}

/** The store's rule (`lease.ts`) on a row. */
function rowIsLive(row: LeaseRow, now: number, localHost: string): boolean {
  return leaseIsLive(
    { expiresAt: row.expires_at, host: row.host, pid: row.pid },
    { now, host: localHost },
  );
}

function lockedError(row: LeaseRow): LockedError {
  return new LockedError(
    `the workflow is locked by run ${row.run_id} (pid ${row.pid} on ${row.host}, last heartbeat ${new Date(row.heartbeat_at).toISOString()})`,
    { runId: row.run_id, pid: row.pid, host: row.host, heartbeatAt: row.heartbeat_at },
  );
}

function toRun(r: RunRow): RunRecord {
  return {
    id: r.id,
    workflow: r.workflow,
    file: r.file,
    status: r.status as RunRecord['status'],
    planFingerprint: r.plan_fingerprint,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    requested: r.requested === null ? null : (JSON.parse(r.requested) as RunRecord['requested']),
    inputs: r.inputs === null ? {} : (JSON.parse(r.inputs) as RunRecord['inputs']),
    sessions: r.sessions,
  };
}

function jsonOrNull(value: unknown): string | null {
  return value == null ? null : JSON.stringify(value);
}

function toStep(r: StepRow): StepRecord {
  return {
    runId: r.run_id,
    id: r.id,
    kind: r.kind as StepRecord['kind'],
    status: r.status as StepRecord['status'],
    fingerprint: r.fingerprint,
    attempts: r.attempts,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    outputs: r.outputs === null ? null : (JSON.parse(r.outputs) as Record<string, string>),
    waitingFor:
      r.waiting_for === null ? null : (JSON.parse(r.waiting_for) as StepRecord['waitingFor']),
    decision: r.decision === null ? null : (JSON.parse(r.decision) as StepRecord['decision']),
  };
}

function toAttempt(r: AttemptRow): AttemptRecord {
  return {
    runId: r.run_id,
    stepId: r.step_id,
    attempt: r.attempt,
    status: r.status as AttemptRecord['status'],
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    exitCode: r.exit_code,
    error: r.error,
    pid: r.pid,
    containerId: r.container_id,
    logFile: r.log_file,
  };
}

function toEvent(r: EventRow): EventRecord {
  return {
    seq: r.seq,
    runId: r.run_id,
    at: r.at,
    type: r.type,
    node: r.node,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

function toLease(r: LeaseRow): LeaseRecord {
  return {
    key: r.key,
    runId: r.run_id,
    pid: r.pid,
    host: r.host,
    acquiredAt: r.acquired_at,
    heartbeatAt: r.heartbeat_at,
    expiresAt: r.expires_at,
  };
}
