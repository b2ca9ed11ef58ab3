/**
 * Synthetic runs for the HTML report's tests: events appended through the
 * store's own API (`StateStore.append`), as a runner would append them, so
 * the report reads them back exactly as it reads a real run.
 */

import type { EventNode, RunEvent } from '../../src/core/events.js';
import type { StateStore } from '../../src/store/types.js';

/** One step of a synthetic run: its needs, its attempts' outcomes and output lines. */
export interface SyntheticStep {
  id: string;
  needs?: string[];
  /** Outcomes of its attempts in order (the last one is the step's); empty: skipped. */
  attempts: ('succeeded' | 'failed' | 'timed_out')[];
  /** Output lines of every attempt (stdout). */
  lines?: string[];
  /** Output lines of every attempt on stderr. */
  errLines?: string[];
}

/**
 * Appends a whole finished run of `steps` (run at `t0`, each attempt 10 ms,
 * one after the other) to `store`, with an optional process service `db`
 * that starts, waits for its health check and is healthy until the end.
 */
export async function appendSyntheticRun(
  store: StateStore,
  options: {
    runId: string;
    steps: SyntheticStep[];
    t0?: number;
    service?: boolean;
    inputs?: Record<string, string | number | boolean | null>;
    /** Omit `needs` from the nodes, as events written before it was added. */
    withoutNeeds?: boolean;
  },
): Promise<void> {
  const { runId, steps } = options;
  let at = options.t0 ?? Date.UTC(2026, 0, 2, 3, 4, 5);
  const later = (ms: number) => {
    at += ms;
    return at;
  };
  const emit = async (e: RunEvent) => {
    await store.append(e);
  };
  const nodes: EventNode[] = [
    ...(options.service
      ? [{ id: 'db', kind: 'service' as const, fingerprint: 'fdb', needs: [] }]
      : []),
    ...steps.map((s) => ({
      id: s.id,
      kind: 'step' as const,
      fingerprint: `f${s.id}`,
      needs: [...(s.needs ?? [])].sort(),
    })),
  ].map((n) => {
    if (!options.withoutNeeds) return n;
    const { needs: _needs, ...rest } = n;
    return rest;
  });
  const base = { runId, workflow: 'synthetic', file: '/project/agent.yaml' };
  await emit({
    type: 'run.created',
    at,
    ...base,
    planFingerprint: 'plan',
    nodes,
    inputs: options.inputs ?? {},
  });
  await emit({
    type: 'run.started',
    at,
    ...base,
    resumed: false,
    nodes,
    reused: [],
    rerun: [],
    runner: '1@host',
    session: 1,
  });
  const start = at;
  if (options.service) {
    await emit({
      type: 'service.starting',
      runId,
      at: later(5),
      service: 'db',
      attempt: 1,
      detail: 'process node db.js',
      logFile: '/project/.agentfile/runs/x/db.1.log',
    });
    await emit({
      type: 'service.started',
      runId,
      at: later(5),
      service: 'db',
      attempt: 1,
      endpoint: '',
      handle: { pid: 1 },
    });
    await emit({
      type: 'service.status',
      runId,
      at: later(20),
      service: 'db',
      status: 'healthy',
      attempt: 1,
      durationMs: 25,
    });
  }
  let failed = false;
  for (const s of steps) {
    if (s.attempts.length === 0) {
      await emit({
        type: 'step.skipped',
        runId,
        at,
        step: s.id,
        status: 'skipped',
        reason: `needs ${(s.needs ?? []).join(', ')}`,
      });
      continue;
    }
    const stepStartedAt = at;
    for (const [i, outcome] of s.attempts.entries()) {
      const attempt = i + 1;
      await emit({
        type: 'step.started',
        runId,
        at,
        step: s.id,
        attempt,
        maxAttempts: s.attempts.length,
        stepStartedAt,
        logFile: `/project/.agentfile/runs/${runId}/${s.id}.${attempt}.log`,
      });
      if (s.lines?.length) {
        await emit({
          type: 'step.output',
          runId,
          at: at + 1,
          step: s.id,
          attempt,
          stream: 'stdout',
          lines: s.lines,
        });
      }
      if (s.errLines?.length) {
        await emit({
          type: 'step.output',
          runId,
          at: at + 2,
          step: s.id,
          attempt,
          stream: 'stderr',
          lines: s.errLines,
        });
      }
      at += 10;
      const exitCode = outcome === 'succeeded' ? 0 : outcome === 'failed' ? 1 : null;
      const error =
        outcome === 'failed'
          ? 'exit code 1'
          : outcome === 'timed_out'
            ? 'timed out after 10ms'
            : undefined;
      if (attempt < s.attempts.length) {
        await emit({
          type: 'step.retrying',
          runId,
          at,
          step: s.id,
          attempt,
          attemptStatus: outcome === 'timed_out' ? 'timed_out' : 'failed',
          exitCode,
          delayMs: 0,
          error: error ?? 'failed',
        });
      } else {
        if (outcome !== 'succeeded') failed = true;
        await emit({
          type: 'step.finished',
          runId,
          at,
          step: s.id,
          status: outcome,
          attempt,
          durationMs: at - stepStartedAt,
          exitCode,
          ...(error ? { error } : {}),
        });
      }
    }
  }
  if (options.service) {
    await emit({
      type: 'service.status',
      runId,
      at: later(5),
      service: 'db',
      status: 'stopped',
      attempt: 1,
    });
  }
  await emit({
    type: 'run.finished',
    runId,
    at: later(1),
    status: failed ? 'failed' : 'succeeded',
    durationMs: at - start,
    ...(failed ? { error: 'a step failed' } : {}),
  });
}
