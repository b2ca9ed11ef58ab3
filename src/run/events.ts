/**
 * Typed events the runner emits. Each is committed to the store's `events`
 * table before any reporter sees it, so what a user saw on screen is always
 * in the audit log too. `at` is epoch ms.
 */

import type { RunStatus, ServiceStatus, StepStatus } from './status.js';

interface Base {
  runId: string;
  at: number;
}

/** Every event of a run, discriminated by `type`. */
export type RunEvent =
  | (Base & {
      type: 'run.started';
      workflow: string;
      file: string;
      /** Steps already succeeded in an earlier attempt of this run, reused on resume. */
      reused: string[];
      resumed: boolean;
      nodes: { id: string; kind: 'step' | 'service' }[];
    })
  | (Base & { type: 'run.finished'; status: RunStatus; durationMs: number; error?: string })
  | (Base & { type: 'service.starting'; service: string; detail: string })
  | (Base & { type: 'service.started'; service: string; endpoint: string })
  | (Base & { type: 'service.probe_failed'; service: string; error: string; counted: boolean })
  | (Base & {
      type: 'service.status';
      service: string;
      status: ServiceStatus;
      durationMs?: number;
      error?: string;
      /** The service's last lines of output, when it failed. */
      logTail?: string[];
    })
  | (Base & { type: 'service.output'; service: string; stream: 'stdout' | 'stderr'; line: string })
  | (Base & { type: 'step.started'; step: string; attempt: number; maxAttempts: number })
  | (Base & { type: 'step.output'; step: string; stream: 'stdout' | 'stderr'; line: string })
  | (Base & {
      type: 'step.retrying';
      step: string;
      attempt: number;
      delayMs: number;
      error: string;
    })
  | (Base & {
      type: 'step.finished';
      step: string;
      status: StepStatus;
      attempt: number;
      durationMs: number;
      exitCode?: number | null;
      error?: string;
    })
  | (Base & { type: 'step.skipped'; step: string; reason: string });

/** The `type` of a {@link RunEvent}. */
export type RunEventType = RunEvent['type'];

/** Receives events in order. Must not throw; a reporter error is not a run error. */
export type EventListener = (event: RunEvent) => void;
