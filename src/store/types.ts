/**
 * The store's records. One SQLite file (`.agentfile/state.db` beside the
 * workflow file by default) holds every run of every workflow in that
 * directory. Steps and services share the `steps` table (`kind` tells them
 * apart), one row per node per run.
 */

import type { RunStatus, ServiceStatus, StepStatus } from '../run/status.js';

/** A run of a workflow. Times are epoch ms. */
export interface RunRecord {
  id: string;
  workflow: string;
  /** Absolute path of the workflow file. */
  file: string;
  status: RunStatus;
  /** Fingerprint of the whole plan when the run was created. */
  planFingerprint: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** One-line reason for failed / cancelled runs. */
  error: string | null;
}

/** One step or service of a run. */
export interface StepRecord {
  runId: string;
  id: string;
  kind: 'step' | 'service';
  status: StepStatus | ServiceStatus;
  /** Fingerprint of the node's definition, to tell whether a resumed step changed. */
  fingerprint: string;
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
}

/** One attempt of a step. */
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

/** One event of the append-only audit log. */
export interface EventRecord {
  seq: number;
  runId: string;
  at: number;
  /** e.g. `run.started`, `step.finished`, `service.healthy`. */
  type: string;
  /** Step id or service name, or null for run-level events. */
  node: string | null;
  /** JSON-serialisable details. */
  data: Record<string, unknown>;
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
