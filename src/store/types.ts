/**
 * The state store's records and its interface, {@link StateStore}. The
 * runner knows only this interface: the SQLite implementation
 * (`sqlite-state-store.ts`, the default: one file beside the workflow) and
 * the in-memory one (`memory-state-store.ts`, for unit tests) sit behind it,
 * and a Postgres one can join them without touching `run/`.
 *
 * Steps and services share one table of nodes (`kind` tells them apart), one
 * row per node per run. Every change to runs, steps and attempts comes from
 * an event ({@link StateStore.append}); see `effects.ts` for how each event
 * changes them.
 */

import type { RunEvent, RunEventType, StoredEvent } from '../core/events.js';
import type { RunState, ServiceStatus, StepStatus } from '../core/status.js';

/** A run of a workflow. Times are epoch ms. */
export interface RunRecord {
  id: string;
  workflow: string;
  /** Absolute path of the workflow file. */
  file: string;
  /**
   * The recorded status, except that a `queued` or `running` run with no live
   * lease reads as `interrupted` (its runner died).
   */
  status: RunState;
  /** Fingerprint of the whole plan when the run was created. */
  planFingerprint: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** One-line reason for failed / cancelled runs. */
  error: string | null;
  /** A pending request from another terminal, until the runner acts on it. */
  requested: { action: 'cancel' | 'pause'; by: string; at: number } | null;
  /** The run's inputs, coerced to their types; `--resume` and `--from` reuse them. Never secrets. */
  inputs: Record<string, string | number | boolean | null>;
  /** Sessions so far: 1 after the first `agent run`, +1 per `--resume` / `--from` (`${{ run.attempt }}`). */
  sessions: number;
}

/** One step or service of a run. */
export interface StepRecord {
  runId: string;
  id: string;
  kind: 'step' | 'service';
  status: StepStatus | ServiceStatus;
  /** Fingerprint of the node's definition, to tell whether a resumed step changed. */
  fingerprint: string;
  /** Attempts so far, across every session of the run. */
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  /**
   * The step's outputs (`key=value` lines it wrote to `$AGENT_OUTPUT`), saved
   * when it succeeded so a resumed run can reuse them; null until then and for
   * services.
   */
  outputs: Record<string, string> | null;
  /** For a `waiting` approval step: what it waits for. */
  waitingFor: { message: string; approvers: string[] } | null;
  /** For an approval step that was decided: who decided what, when (epoch ms). */
  decision: { decision: 'approved' | 'rejected'; by: string; at: number; comment?: string } | null;
}

/** One attempt of a step (or one start of a service). */
export interface AttemptRecord {
  runId: string;
  stepId: string;
  attempt: number;
  status: StepStatus;
  startedAt: number;
  finishedAt: number | null;
  exitCode: number | null;
  error: string | null;
  /** Process group id of a process step, for cleanup after a crash. */
  pid: number | null;
  /** Container id of a container step, for cleanup after a crash. */
  containerId: string | null;
  logFile: string | null;
}

/** Who holds a lease (a named lock with a heartbeat). Times are epoch ms. */
export interface LeaseRecord {
  key: string;
  runId: string;
  pid: number;
  host: string;
  acquiredAt: number;
  heartbeatAt: number;
  /** The holder is considered gone once `expiresAt < now`. */
  expiresAt: number;
}

/** Input of {@link StateStore.acquireLease}. Times are epoch ms. */
export interface AcquireLeaseInput {
  /** What is locked, e.g. `workflowLeaseKey`'s result. */
  key: string;
  runId: string;
  /** The holder's process id (`process.pid`). */
  pid: number;
  /** The holder's host name (`os.hostname()`). */
  host: string;
  /** The lease expires this many ms after `now` unless renewed. */
  ttlMs: number;
  now: number;
}

/** Identity of a lease holder. */
export interface LeaseHolder {
  pid: number;
  host: string;
}

/** Filter of {@link StateStore.listRuns}. */
export interface RunFilter {
  file?: string;
  workflow?: string;
  /** Only runs in this state (as read: `interrupted` included). */
  status?: RunState;
  /** Only runs created before this epoch ms. */
  createdBefore?: number;
  limit?: number;
}

/** What {@link StateStore.pruneRuns} removed. */
export interface PruneResult {
  runs: string[];
  events: number;
}

/**
 * The state store. Every method is async; implementations may be
 * synchronous inside (SQLite through better-sqlite3 is).
 *
 * Writes go through {@link StateStore.append} (events) and the lease methods;
 * everything else reads. A write is durable when its promise resolves: a
 * runner killed with `kill -9` after that loses nothing it was told about.
 *
 * Errors: `StoreError` (the store cannot be read or written: locked too long,
 * disk full, corrupt, missing rows), `LockedError` (a lease is held by
 * another live holder).
 */
export interface StateStore {
  /** Where the store lives, for messages (`.agentfile/state.db`, a URL without password). */
  readonly location: string;

  /**
   * Applies `event` to the run's rows and appends it to the event log, in one
   * transaction, and returns it as stored (with `seq`). A `run.created` event
   * creates the run; any other event needs an existing run.
   *
   * @throws StoreError when the event names a run, step or attempt that does
   *   not exist (or creates one that does), or the store cannot be written.
   */
  append(event: RunEvent): Promise<StoredEvent>;

  getRun(id: string): Promise<RunRecord | undefined>;
  /** Runs, newest first (by `createdAt`, then insertion order). */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /**
   * The newest run of this file and workflow that `--resume` can continue:
   * `failed`, `cancelled`, `paused`, `waiting` or `interrupted`. `now`
   * (epoch ms) defaults to `Date.now()`.
   */
  findResumableRun(filter: {
    file: string;
    workflow: string;
    now?: number;
  }): Promise<RunRecord | undefined>;
  /** The steps and services of a run, in plan order (nodes added by a resume at the end). */
  getSteps(runId: string): Promise<StepRecord[]>;
  /** Attempts of a run (or of one step), ordered by step plan order, then attempt number. */
  getAttempts(runId: string, stepId?: string): Promise<AttemptRecord[]>;
  /** Events of a run in `seq` order; with `afterSeq`, only later ones (for following); with `types`, only those. */
  getEvents(
    runId: string,
    options?: { afterSeq?: number; limit?: number; types?: readonly RunEventType[] },
  ): Promise<StoredEvent[]>;

  /**
   * Takes the lease `key` for a run, or refreshes it when this same holder
   * has it. A lease held by someone else is taken over when it is stale:
   * expired, or held on `input.host` by a pid that no longer exists.
   * @throws LockedError when another live holder has it.
   */
  acquireLease(input: AcquireLeaseInput): Promise<void>;
  /**
   * Heartbeat: extends the lease to `now + ttlMs`; takes it again when nobody
   * holds it.
   * @throws LockedError when another holder has taken it over meanwhile.
   */
  renewLease(
    key: string,
    runId: string,
    ttlMs: number,
    now: number,
    holder: LeaseHolder,
  ): Promise<void>;
  /** Gives the lease up when this holder has it; does nothing otherwise. */
  releaseLease(key: string, runId: string, holder: LeaseHolder): Promise<void>;
  /** The current holder of `key`, live or stale. */
  getLease(key: string): Promise<LeaseRecord | undefined>;
  /** Every lease row, live or stale (for `agent doctor`). */
  listLeases(): Promise<LeaseRecord[]>;

  /**
   * Deletes these runs with their steps, attempts and events (log files are
   * the caller's), skipping any run a live lease names (checked in the same
   * transaction); `runs` in the result lists those deleted.
   */
  deleteRuns(runIds: string[]): Promise<PruneResult>;

  close(): Promise<void>;
}

/** The store could not be opened or written (missing directory that cannot be made, disk full, corrupt file). Exit code 4. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Another runner holds the lease on this workflow. Exit code 3. */
export class LockedError extends Error {
  override name = 'LockedError';
  constructor(
    message: string,
    readonly holder: { runId: string; pid: number; host: string; heartbeatAt: number },
  ) {
    super(message);
  }
}
