/**
 * `agent status`: one run as the store has it, built from its records
 * (run, steps and services, attempts) into a stable view, then formatted as
 * text. Pure: the caller reads the store and passes the clock.
 *
 * The view is what `agent status --json` prints; its keys are part of the
 * CLI's interface (docs/cli.md): add keys, never rename them.
 */

import { relative } from 'node:path';
import type { ServiceStatus, StepStatus } from '../core/status.js';
import { formatMs } from '../run/format.js';
import type { AttemptRecord, RunRecord, StepRecord } from '../store/types.js';

/** One attempt, as `agent status` shows it. Times are epoch ms. */
export interface AttemptSummary {
  attempt: number;
  status: StepStatus;
  startedAt: number;
  finishedAt: number | null;
  /** `finishedAt - startedAt`; null while it runs. */
  durationMs: number | null;
  exitCode: number | null;
  error: string | null;
  /** Absolute path of the attempt's log file. */
  logFile: string | null;
}

/** A step or service of the run with its attempts. */
export interface NodeStatus {
  id: string;
  kind: 'step' | 'service';
  status: StepStatus | ServiceStatus;
  /** Attempts so far, across every session of the run. */
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** `finishedAt - startedAt`; null until both are known. */
  durationMs: number | null;
  error: string | null;
  outputs: Record<string, string> | null;
  waitingFor: StepRecord['waitingFor'];
  decision: StepRecord['decision'];
  /** Every attempt, oldest first. */
  history: AttemptSummary[];
}

/** The first step or service that failed: where to look first. */
export interface FirstFailure {
  /** Step id or service name. */
  step: string;
  kind: 'step' | 'service';
  status: StepStatus | ServiceStatus;
  /** Its last attempt, 0 when it never started one. */
  attempt: number;
  error: string | null;
  exitCode: number | null;
  logFile: string | null;
}

/** An approval step the run waits at. */
export interface Waiting {
  step: string;
  message: string;
  /** Who may approve; empty: anyone. */
  approvers: string[];
}

/** What `agent status --json` prints. */
export interface RunStatusView {
  run: RunRecord;
  /** `finishedAt - startedAt` of the run, or until `now` while it runs; null before it started. */
  durationMs: number | null;
  /** Steps and services in plan order. */
  steps: NodeStatus[];
  firstFailure: FirstFailure | null;
  waitingFor: Waiting[];
}

/** Node statuses that count as a failure for {@link FirstFailure}. */
function isFailure(status: StepStatus | ServiceStatus): boolean {
  return status === 'failed' || status === 'timed_out' || status === 'unhealthy';
}

function span(start: number | null, end: number | null): number | null {
  return start !== null && end !== null ? Math.max(0, end - start) : null;
}

/**
 * Builds the status view of a run from its records. `attempts` may hold
 * every attempt of the run, in any order. The first failure is the failed,
 * timed-out or unhealthy node that finished first (plan order breaks ties).
 * `now` (epoch ms) gives the duration of a run that has not finished.
 */
export function buildRunStatus(input: {
  run: RunRecord;
  steps: readonly StepRecord[];
  attempts: readonly AttemptRecord[];
  now: number;
}): RunStatusView {
  const { run, steps, attempts, now } = input;
  const byNode = new Map<string, AttemptSummary[]>();
  for (const a of [...attempts].sort((x, y) => x.attempt - y.attempt)) {
    const list = byNode.get(a.stepId) ?? [];
    list.push({
      attempt: a.attempt,
      status: a.status,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
      durationMs: span(a.startedAt, a.finishedAt),
      exitCode: a.exitCode,
      error: a.error,
      logFile: a.logFile,
    });
    byNode.set(a.stepId, list);
  }
  const nodes: NodeStatus[] = steps.map((s) => ({
    id: s.id,
    kind: s.kind,
    status: s.status,
    attempts: s.attempts,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    durationMs: span(s.startedAt, s.finishedAt),
    error: s.error,
    outputs: s.outputs,
    waitingFor: s.waitingFor,
    decision: s.decision,
    history: byNode.get(s.id) ?? [],
  }));

  let first: NodeStatus | undefined;
  for (const n of nodes) {
    if (!isFailure(n.status)) continue;
    if (!first || (n.finishedAt ?? Infinity) < (first.finishedAt ?? Infinity)) first = n;
  }
  const last = first?.history.at(-1);
  const firstFailure: FirstFailure | null = first
    ? {
        step: first.id,
        kind: first.kind,
        status: first.status,
        attempt: last?.attempt ?? 0,
        error: first.error ?? last?.error ?? null,
        exitCode: last?.exitCode ?? null,
        logFile: last?.logFile ?? null,
      }
    : null;

  const waitingFor: Waiting[] = nodes.flatMap((n) =>
    n.status === 'waiting' && n.waitingFor
      ? [{ step: n.id, message: n.waitingFor.message, approvers: n.waitingFor.approvers }]
      : [],
  );
  return {
    run,
    durationMs:
      run.startedAt === null ? null : Math.max(0, (run.finishedAt ?? now) - run.startedAt),
    steps: nodes,
    firstFailure,
    waitingFor,
  };
}

/** What a run's state means for the reader, and what to do next; empty when nothing needs saying. */
function stateNote(view: RunStatusView): string {
  const id = view.run.id;
  switch (view.run.status) {
    case 'interrupted':
      return `its runner is gone, killed or crashed; continue it with \`agent run --resume ${id}\``;
    case 'paused':
      return `paused; continue it with \`agent run --resume ${id}\``;
    case 'waiting':
      return `waits for an approval; then \`agent run --resume ${id}\` continues it`;
    case 'failed':
    case 'cancelled':
      return `\`agent run --resume ${id}\` reruns what did not succeed`;
    case 'queued':
    case 'running':
    case 'succeeded':
      return '';
  }
}

function time(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** Writes rows as left-aligned columns, two spaces apart, trailing blanks trimmed. */
export function formatTable(header: readonly string[], rows: readonly string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The view as text lines (no trailing newlines): a header with the run's
 * state, a table of steps and services, then the first failure and what the
 * run waits for. Paths are shown relative to `cwd`; `now` (epoch ms) gives
 * the running time of what has not finished.
 */
export function formatRunStatus(
  view: RunStatusView,
  options: { cwd: string; now: number },
): string[] {
  const { run } = view;
  const rel = (p: string) => relative(options.cwd, p) || p;
  const lines = [`run ${run.id}: workflow ${run.workflow} (${rel(run.file)})`];
  const note = stateNote(view);
  lines.push(`status: ${run.status}${note ? ` (${note})` : ''}`);
  if (run.requested) {
    lines.push(
      `requested: ${run.requested.action} by ${run.requested.by} at ${time(run.requested.at)}`,
    );
  }
  lines.push(
    `created: ${time(run.createdAt)}${view.durationMs !== null ? `, ${run.finishedAt === null ? 'running for' : 'took'} ${formatMs(view.durationMs)}` : ''}`,
  );
  const inputs = Object.entries(run.inputs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (inputs.length > 0) {
    lines.push(
      `inputs: ${inputs.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`,
    );
  }
  if (run.error) lines.push(`error: ${run.error}`);
  lines.push('');

  const rows = view.steps.map((n) => {
    const duration =
      n.durationMs !== null
        ? formatMs(n.durationMs)
        : n.startedAt !== null && n.finishedAt === null && run.status === 'running'
          ? `${formatMs(Math.max(0, options.now - n.startedAt))} so far`
          : '-';
    let detail = n.error ?? '';
    if (n.status === 'waiting' && n.waitingFor)
      detail = `waits for approval: ${n.waitingFor.message}`;
    if (n.decision) {
      detail = `${n.decision.decision} by ${n.decision.by}${n.decision.comment ? `: ${n.decision.comment}` : ''}`;
    }
    return [n.id, n.kind, n.status.replace('_', ' '), String(n.attempts), duration, detail];
  });
  lines.push(...formatTable(['STEP', 'KIND', 'STATUS', 'ATTEMPTS', 'DURATION', 'DETAIL'], rows));

  const f = view.firstFailure;
  if (f) {
    lines.push('');
    const what = f.kind === 'service' ? 'service' : 'step';
    lines.push(
      `first failure: ${what} ${f.step}${f.attempt > 0 ? ` (attempt ${f.attempt})` : ''}: ${f.status.replace('_', ' ')}${f.error ? `: ${f.error}` : ''}`,
    );
    if (f.logFile) lines.push(`  log: ${rel(f.logFile)} (agent logs ${run.id} ${f.step})`);
  }
  for (const w of view.waitingFor) {
    lines.push('');
    lines.push(`waiting: step ${w.step}: ${w.message}`);
    lines.push(`  approvers: ${w.approvers.length > 0 ? w.approvers.join(', ') : 'anyone'}`);
    lines.push(
      `  decide with: agent approve ${run.id} ${w.step}   or   agent reject ${run.id} ${w.step}`,
    );
  }
  return lines;
}
