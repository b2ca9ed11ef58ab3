/**
 * How each event changes the store's rows, as data: {@link eventEffects}
 * maps one {@link RunEvent} to a list of row operations ({@link Effect}),
 * and every store implementation executes that list, together with
 * appending the event, in one transaction. The mapping is written once here,
 * pure and unit-tested; the stores only know how to insert and patch rows.
 */

import type { EventNode, RunEvent } from '../core/events.js';
import type { RunStatus, ServiceStatus, StepStatus } from '../core/status.js';
import type { AttemptRecord, RunRecord, StepRecord } from './types.js';

/** Fields of a run an event can change. */
export type RunPatch = Partial<{
  status: RunStatus;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  requested: RunRecord['requested'];
  sessions: number;
}>;

/** Fields of a step or service an event can change. */
export type StepPatch = Partial<
  Pick<
    StepRecord,
    | 'fingerprint'
    | 'attempts'
    | 'startedAt'
    | 'finishedAt'
    | 'error'
    | 'outputs'
    | 'waitingFor'
    | 'decision'
  > & { status: StepStatus | ServiceStatus }
>;

/** Fields of an attempt an event can change. */
export type AttemptPatch = Partial<
  Pick<AttemptRecord, 'status' | 'finishedAt' | 'exitCode' | 'error' | 'pid' | 'containerId'>
>;

/** One row operation. Every op names rows that must exist, except the inserts. */
export type Effect =
  | {
      op: 'insertRun';
      run: {
        id: string;
        workflow: string;
        file: string;
        planFingerprint: string;
        createdAt: number;
        inputs: RunRecord['inputs'];
      };
      /** In plan order. */
      nodes: EventNode[];
    }
  | { op: 'updateRun'; runId: string; patch: RunPatch }
  /** Nodes a resumed plan gained are added at the end of the order; existing ones are left. */
  | { op: 'addMissingNodes'; runId: string; nodes: EventNode[] }
  | { op: 'updateStep'; runId: string; stepId: string; patch: StepPatch }
  | {
      op: 'insertAttempt';
      runId: string;
      stepId: string;
      attempt: number;
      startedAt: number;
      logFile: string;
    }
  | { op: 'updateAttempt'; runId: string; stepId: string; attempt: number; patch: AttemptPatch }
  /** Closes every attempt still `running` (a resumed run's, whose runner was killed). */
  | { op: 'closeOpenAttempts'; runId: string; at: number; error: string };

/**
 * The row operations that apply `event`. Pure.
 *
 * Steps and services: `started_at`/`finished_at` are those of the node's
 * current session; `attempts` counts every attempt across sessions.
 */
export function eventEffects(event: RunEvent): Effect[] {
  const { runId, at } = event;
  switch (event.type) {
    case 'run.created':
      return [
        {
          op: 'insertRun',
          run: {
            id: runId,
            workflow: event.workflow,
            file: event.file,
            planFingerprint: event.planFingerprint,
            createdAt: at,
            inputs: event.inputs ?? {},
          },
          nodes: event.nodes,
        },
      ];
    case 'run.started': {
      const reused = new Set(event.reused);
      const effects: Effect[] = [
        {
          op: 'updateRun',
          runId,
          patch: {
            status: 'running',
            startedAt: at,
            finishedAt: null,
            error: null,
            requested: null,
            ...(event.session !== undefined ? { sessions: event.session } : {}),
          },
        },
      ];
      if (event.resumed) {
        effects.push({
          op: 'closeOpenAttempts',
          runId,
          at,
          error: 'the runner stopped during this attempt',
        });
        effects.push({ op: 'addMissingNodes', runId, nodes: event.nodes });
        for (const n of event.nodes) {
          if (reused.has(n.id)) continue;
          effects.push({
            op: 'updateStep',
            runId,
            stepId: n.id,
            patch: {
              status: 'pending',
              fingerprint: n.fingerprint,
              startedAt: null,
              finishedAt: null,
              error: null,
              outputs: null,
              waitingFor: null,
              decision: null,
            },
          });
        }
      }
      return effects;
    }
    case 'run.finished':
      return [
        {
          op: 'updateRun',
          runId,
          patch: {
            status: event.status,
            finishedAt: at,
            error: event.error ?? null,
            requested: null,
          },
        },
      ];
    case 'run.cancel_requested':
      return [
        { op: 'updateRun', runId, patch: { requested: { action: 'cancel', by: event.by, at } } },
      ];
    case 'run.pause_requested':
      return [
        { op: 'updateRun', runId, patch: { requested: { action: 'pause', by: event.by, at } } },
      ];
    case 'service.starting':
      return [
        {
          op: 'insertAttempt',
          runId,
          stepId: event.service,
          attempt: event.attempt,
          startedAt: at,
          logFile: event.logFile,
        },
        {
          op: 'updateStep',
          runId,
          stepId: event.service,
          patch: {
            status: 'starting',
            attempts: event.attempt,
            startedAt: at,
            finishedAt: null,
            error: null,
          },
        },
      ];
    case 'service.started':
      return [
        {
          op: 'updateAttempt',
          runId,
          stepId: event.service,
          attempt: event.attempt,
          patch: handlePatch(event.handle),
        },
      ];
    case 'service.restarting':
      // The ended attempt is closed as failed; the service waits for its next
      // attempt (`service.starting` inserts it).
      return [
        {
          op: 'updateAttempt',
          runId,
          stepId: event.service,
          attempt: event.attempt,
          patch: { status: 'failed', finishedAt: at, error: event.error },
        },
        { op: 'updateStep', runId, stepId: event.service, patch: { status: 'starting' } },
      ];
    case 'service.status': {
      const terminal = event.status !== 'healthy';
      const effects: Effect[] = [
        {
          op: 'updateStep',
          runId,
          stepId: event.service,
          patch: {
            status: event.status,
            ...(terminal ? { finishedAt: at } : {}),
            ...(event.error !== undefined ? { error: event.error } : {}),
          },
        },
      ];
      if (terminal && event.attempt !== undefined) {
        effects.push({
          op: 'updateAttempt',
          runId,
          stepId: event.service,
          attempt: event.attempt,
          patch: {
            status: serviceAttemptStatus(event.status),
            finishedAt: at,
            error: event.error ?? null,
          },
        });
      }
      return effects;
    }
    case 'step.started':
      return [
        {
          op: 'insertAttempt',
          runId,
          stepId: event.step,
          attempt: event.attempt,
          startedAt: at,
          logFile: event.logFile,
        },
        {
          op: 'updateStep',
          runId,
          stepId: event.step,
          patch: {
            status: 'running',
            attempts: event.attempt,
            startedAt: event.stepStartedAt,
            finishedAt: null,
            error: null,
          },
        },
      ];
    case 'step.spawned':
      return [
        {
          op: 'updateAttempt',
          runId,
          stepId: event.step,
          attempt: event.attempt,
          patch: handlePatch(event.handle),
        },
      ];
    case 'step.retrying':
      return [
        {
          op: 'updateAttempt',
          runId,
          stepId: event.step,
          attempt: event.attempt,
          patch: {
            status: event.attemptStatus,
            finishedAt: at,
            exitCode: event.exitCode,
            error: event.error,
          },
        },
      ];
    case 'step.finished': {
      const effects: Effect[] = [];
      if (event.attempt > 0 && event.attemptOpen !== false) {
        effects.push({
          op: 'updateAttempt',
          runId,
          stepId: event.step,
          attempt: event.attempt,
          patch: {
            status: event.status,
            finishedAt: at,
            exitCode: event.exitCode ?? null,
            error: event.error ?? null,
          },
        });
      }
      effects.push({
        op: 'updateStep',
        runId,
        stepId: event.step,
        patch: {
          status: event.status,
          startedAt: at - event.durationMs,
          finishedAt: at,
          error: event.error ?? null,
          ...(event.outputs !== undefined ? { outputs: event.outputs } : {}),
        },
      });
      return effects;
    }
    case 'step.skipped':
      return [
        {
          op: 'updateStep',
          runId,
          stepId: event.step,
          patch: { status: event.status, finishedAt: at, error: event.reason },
        },
      ];
    case 'step.waiting':
      return [
        {
          op: 'updateStep',
          runId,
          stepId: event.step,
          patch: {
            status: 'waiting',
            startedAt: at,
            finishedAt: null,
            error: null,
            waitingFor: { message: event.message, approvers: event.approvers },
          },
        },
      ];
    case 'step.approved':
    case 'step.rejected': {
      const approved = event.type === 'step.approved';
      const decision = {
        decision: approved ? ('approved' as const) : ('rejected' as const),
        by: event.by,
        at,
        ...(event.comment !== undefined ? { comment: event.comment } : {}),
      };
      return [
        {
          op: 'updateStep',
          runId,
          stepId: event.step,
          patch: {
            status: approved ? 'succeeded' : 'failed',
            finishedAt: at,
            error: approved
              ? null
              : `rejected by ${event.by}${event.comment ? `: ${event.comment}` : ''}`,
            waitingFor: null,
            decision,
          },
        },
      ];
    }
    case 'service.probe_failed':
    case 'service.output':
    case 'step.output':
      // The audit log only: no row changes.
      return [];
  }
}

function handlePatch(handle: { pid?: number; containerId?: string }): AttemptPatch {
  return {
    ...(handle.pid !== undefined ? { pid: handle.pid } : {}),
    ...(handle.containerId !== undefined ? { containerId: handle.containerId } : {}),
  };
}

function serviceAttemptStatus(status: Exclude<ServiceStatus, 'pending' | 'starting'>): StepStatus {
  switch (status) {
    case 'stopped':
    case 'healthy':
      return 'succeeded';
    case 'cancelled':
      return 'cancelled';
    case 'unhealthy':
    case 'failed':
      return 'failed';
  }
}
