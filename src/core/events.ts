/**
 * The run's event stream: a versioned, documented union (docs/events.md).
 *
 * The runner produces these; the state store applies each one to its rows
 * (runs, steps, attempts) and appends it to the `events` table in one
 * transaction, and only the stored event (with its `seq`) reaches reporters.
 * So every report, live or rebuilt later from the store, reads the same
 * stream. Control commands from other terminals (`agent cancel`, `pause`,
 * `approve`, `reject`) append their requests to the same stream.
 *
 * Times (`at`) are epoch ms; durations are ms. Events never hold secret
 * values.
 */

import type { RunStatus, ServiceStatus, StepStatus } from './status.js';

/** Version of the event shapes below; stored with every event as `v`. Bumped on any incompatible change. */
export const EVENT_VERSION = 1;

interface Base {
  runId: string;
  /** Epoch ms. */
  at: number;
}

/** A node of the plan as the store records it. */
export interface EventNode {
  id: string;
  kind: 'step' | 'service';
  /** sha256 hex of the node's definition (plan/compile.ts `nodeFingerprint`). */
  fingerprint: string;
  /**
   * Ids of the nodes it needs, sorted (services: none). Absent in events
   * written before it was added; reports then draw no edges.
   */
  needs?: string[];
}

/** Why a node runs in this session of a run (see run/resume.ts). */
export type RunReason =
  | 'new'
  | 'never ran'
  | 'failed'
  | 'not finished'
  | 'changed'
  | 'needs a step that reruns'
  | 'chosen by --from'
  | 'downstream of --from';

/** An OS-level identity of a running attempt, recorded so `--resume` can clean up after kill -9. */
export interface AttemptHandle {
  /** Process group id of a process step or service. */
  pid?: number;
  /** Container id of a container step or service. */
  containerId?: string;
}

/** Every event of a run, discriminated by `type`. */
export type RunEvent =
  // ---- the run
  | (Base & {
      type: 'run.created';
      workflow: string;
      /** Absolute path of the workflow file. */
      file: string;
      planFingerprint: string;
      /** Every node, in plan order. */
      nodes: EventNode[];
      /** The run's inputs, coerced to their declared types (never secrets). */
      inputs?: Record<string, string | number | boolean | null>;
    })
  | (Base & {
      type: 'run.started';
      workflow: string;
      file: string;
      resumed: boolean;
      /** Every node of the plan as it is now, in plan order (a resumed run may have gained nodes). */
      nodes: EventNode[];
      /** Steps whose recorded success is reused: they do not run again. */
      reused: string[];
      /** Steps that run in this session, with why (`--resume`, `--from`). */
      rerun: { id: string; reason: RunReason }[];
      /** `--from STEP`, when given. */
      from?: string;
      /** 1 for the run's first session, +1 for each resumed one (`${{ run.attempt }}`). */
      session?: number;
      /** Who runs it: `pid@host`. */
      runner: string;
    })
  | (Base & {
      type: 'run.finished';
      /** `paused` and `waiting` end a session, not the run: `--resume` continues. */
      status: Exclude<RunStatus, 'queued' | 'running'>;
      durationMs: number;
      error?: string;
    })
  | (Base & { type: 'run.cancel_requested'; by: string })
  | (Base & { type: 'run.pause_requested'; by: string })
  // ---- services
  | (Base & {
      type: 'service.starting';
      service: string;
      attempt: number;
      /** What starts: `docker build ./agent`, `docker node:20`, `process node server.js`. */
      detail: string;
      logFile: string;
    })
  | (Base & {
      type: 'service.started';
      service: string;
      attempt: number;
      /** `host:port->containerPort, …`; empty when nothing is published. */
      endpoint: string;
      handle: AttemptHandle;
    })
  | (Base & {
      type: 'service.probe_failed';
      service: string;
      error: string;
      counted: boolean;
      /**
       * True for a probe of a service that was already healthy (the watch
       * that runs while steps need it); absent while it is starting.
       */
      watching?: boolean;
      /** Counted failures in a row, this one included (`retries` of them make it unhealthy). */
      consecutiveFailures?: number;
    })
  | (Base & {
      /**
       * The attempt `attempt` of a service with `restart: { policy: on-failure }`
       * exited with a non-zero code or turned unhealthy and is stopped; a
       * `service.starting` with `attempt + 1` follows after `delayMs`.
       */
      type: 'service.restarting';
      service: string;
      /** The attempt that ended. */
      attempt: number;
      reason: 'exited' | 'unhealthy';
      /** One line: the exit code or the last probe error. */
      error: string;
      /** The exit code, for `reason: exited` (null when killed by a signal). */
      exitCode?: number | null;
      /** 1-based number of this restart in the session (at most `maxRetries`). */
      restart: number;
      /** Wait before the next start, in ms (Docker's backoff: 100 ms, doubling). */
      delayMs: number;
      /** The ended attempt's last lines of output. */
      logTail?: string[];
    })
  | (Base & {
      type: 'service.status';
      service: string;
      status: Exclude<ServiceStatus, 'pending' | 'starting'>;
      /** The service's attempt this closes or concerns; absent when it never started. */
      attempt?: number;
      /** Time from `service.starting`, for `healthy`. */
      durationMs?: number;
      error?: string;
      /** The service's last lines of output, when it failed. */
      logTail?: string[];
    })
  | (Base & {
      type: 'service.output';
      service: string;
      stream: 'stdout' | 'stderr';
      /** Lines without their newline, decoded as UTF-8 (invalid bytes as U+FFFD); the log file has the exact bytes. */
      lines: string[];
    })
  // ---- steps
  | (Base & {
      type: 'step.started';
      step: string;
      /** 1-based, counting every session of the run. */
      attempt: number;
      /** Attempts allowed in this session (`retry.maxAttempts`). */
      maxAttempts: number;
      /** When the step's first attempt of this session started (epoch ms): `at` for that attempt. */
      stepStartedAt: number;
      logFile: string;
    })
  | (Base & { type: 'step.spawned'; step: string; attempt: number; handle: AttemptHandle })
  | (Base & {
      type: 'step.output';
      step: string;
      attempt: number;
      stream: 'stdout' | 'stderr';
      /** Lines without their newline, decoded as UTF-8 (invalid bytes as U+FFFD); the log file has the exact bytes. */
      lines: string[];
      /** Set on the last output event of an attempt whose output passed the stored cap; the log file has it all. */
      truncated?: { droppedBytes: number };
    })
  | (Base & {
      type: 'step.retrying';
      step: string;
      attempt: number;
      /** How the attempt that is retried ended. */
      attemptStatus: 'failed' | 'timed_out';
      exitCode: number | null;
      delayMs: number;
      error: string;
    })
  | (Base & {
      type: 'step.finished';
      step: string;
      status: Extract<StepStatus, 'succeeded' | 'failed' | 'timed_out' | 'cancelled'>;
      /** The last attempt; 0 when the step never started an attempt. */
      attempt: number;
      durationMs: number;
      exitCode?: number | null;
      error?: string;
      /** False when the step ended between attempts (cancelled during a backoff). */
      attemptOpen?: boolean;
      /** What a succeeded step wrote to `$AGENT_OUTPUT` (secrets masked). */
      outputs?: Record<string, string>;
    })
  | (Base & {
      type: 'step.skipped';
      step: string;
      /** `skipped` (a need failed, the run failed first) or `cancelled` (the run was cancelled first). */
      status: 'skipped' | 'cancelled';
      reason: string;
    })
  | (Base & {
      type: 'step.waiting';
      step: string;
      /** The approval step's message. */
      message: string;
      /** Who may approve; empty: anyone. */
      approvers: string[];
    })
  | (Base & { type: 'step.approved'; step: string; by: string; comment?: string })
  | (Base & { type: 'step.rejected'; step: string; by: string; comment?: string });

/** The `type` of a {@link RunEvent}. */
export type RunEventType = RunEvent['type'];

/** Every event type, for exhaustiveness checks and docs (docs/events.md lists the same). */
export const RUN_EVENT_TYPES: readonly RunEventType[] = [
  'run.created',
  'run.started',
  'run.finished',
  'run.cancel_requested',
  'run.pause_requested',
  'service.starting',
  'service.started',
  'service.probe_failed',
  'service.restarting',
  'service.status',
  'service.output',
  'step.started',
  'step.spawned',
  'step.output',
  'step.retrying',
  'step.finished',
  'step.skipped',
  'step.waiting',
  'step.approved',
  'step.rejected',
];

/**
 * An event as the store holds it and reporters receive it: the event plus
 * its `seq` (strictly increasing across the store, never reused) and the
 * shape version `v`. Key order is fixed (`v`, `seq`, then the event's own
 * fields as stored), so NDJSON written live and NDJSON rebuilt from the store
 * are byte-identical.
 */
export type StoredEvent = RunEvent & { v: number; seq: number };

/** The step or service an event concerns, or null for run-level events. */
export function eventNode(event: RunEvent): string | null {
  if ('step' in event) return event.step;
  if ('service' in event) return event.service;
  return null;
}

/** Receives stored events in order. Must not throw; a reporter error is not a run error. */
export type EventListener = (event: StoredEvent) => void;
