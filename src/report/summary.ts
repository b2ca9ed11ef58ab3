/**
 * The end-of-run summary: what `agent run` prints after the run, on a
 * terminal and in plain mode, and what the CI outputs (GitHub Actions
 * annotations and step summary, `github.ts`) are built from.
 *
 * A {@link RunSummary} is built from the run's records in the store (through
 * `buildRunStatus`, the view `agent status` prints, so the first failure is
 * chosen the same way) and the plan (for each node's position in the YAML
 * and its needs). It tells causes from consequences: a step or service that
 * failed, timed out or turned unhealthy on its own is a cause; a step that
 * was skipped or cancelled because something it needs failed is a
 * consequence. The first cause (the one that finished first) is named at the
 * top, with the last lines of its log.
 *
 * Every text here comes from the store, where events and log files are
 * already masked (`run/journal.ts`, `executors/output.ts`); the writers
 * (`run-end.ts`) mask once more with the run's redactor before printing.
 */

import { open } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { RunState, ServiceStatus, StepStatus } from '../core/status.js';
import type { Plan, PlanNode } from '../plan/compile.js';
import { formatMs } from '../run/format.js';
import type { StateStore } from '../store/types.js';
import { splitLogRecords } from './log-records.js';
import { sanitizeOutputLine } from './sanitize.js';
import { buildRunStatus, formatTable, type NodeStatus, type RunStatusView } from './status.js';

/** How many lines of the first failure's log the summary shows. */
export const LOG_TAIL_LINES = 20;

/** A node's position in the YAML: the line of its key (`build:` under `steps:`). */
export interface SummarySource {
  /** Absolute path of the file. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** One step or service of the summary's table, in plan order. */
export interface SummaryNode {
  id: string;
  kind: 'step' | 'service';
  status: StepStatus | ServiceStatus;
  /** Attempts across every session of the run (0: it never started). */
  attempts: number;
  /** First start to last end, in ms; null when it did not run (or still runs). */
  durationMs: number | null;
  /** Absent for a node the current plan no longer has. */
  source?: SummarySource;
}

/**
 * Why a cause failed, as a category: `exit code` (a non-zero exit), `timeout`,
 * `unhealthy` (a service's health check), `oom` (killed for its memory
 * limit), `cancelled`, `rejected` (an approval step), `error` (anything
 * else: it could not start, an output file was invalid, …).
 */
export type FailureReason =
  | 'exit code'
  | 'timeout'
  | 'unhealthy'
  | 'oom'
  | 'cancelled'
  | 'rejected'
  | 'error';

/** The last lines of an attempt's log, masked as the log file is, sanitized for printing. */
export interface LogTail {
  lines: string[];
  /** True when the log has more lines than `lines`. */
  more: boolean;
}

/** A step or service that failed on its own. */
export interface Cause {
  id: string;
  kind: 'step' | 'service';
  status: StepStatus | ServiceStatus;
  reason: FailureReason;
  /** One line: `failed: exit code 3`, `timed out after 300ms`. */
  description: string;
  /** Its last attempt (0 when it never started one). */
  attempt: number;
  exitCode: number | null;
  source?: SummarySource;
  /** Absolute path of its last attempt's log file. */
  logFile: string | null;
  /** Only for the first failure. */
  logTail?: LogTail;
}

/** A step that did not run, or was stopped, because of a failure elsewhere. */
export interface Consequence {
  id: string;
  status: 'skipped' | 'cancelled';
  /** The causes it follows from, in plan order: the failed nodes among its needs (transitively), else the first failure. */
  causes: string[];
  source?: SummarySource;
}

/** A step that failed and was retried until it succeeded. */
export interface RetriedStep {
  id: string;
  /** The attempt that succeeded. */
  attempts: number;
  /** The attempts that failed before, oldest first: `{ attempt, error }`. */
  failed: { attempt: number; error: string }[];
  source?: SummarySource;
}

/** Everything the end-of-run outputs show. Durations in ms. */
export interface RunSummary {
  runId: string;
  workflow: string;
  /** Absolute path of the workflow file. */
  file: string;
  status: RunState;
  durationMs: number | null;
  /** The run's one-line reason (failed, cancelled). */
  error: string | null;
  /** Every node in plan order. */
  nodes: SummaryNode[];
  /** The failed node that finished first (as `agent status` names it); null when nothing failed. */
  firstFailure: Cause | null;
  /** The other causes, in plan order. */
  otherFailures: Cause[];
  /** Steps with `continueOnError` that failed: not causes, since the run went on as if they had not. In plan order. */
  tolerated: Cause[];
  /** Skipped or cancelled steps, in plan order. */
  consequences: Consequence[];
  /** Steps that succeeded after failed attempts, in plan order. */
  retried: RetriedStep[];
}

const FAILED: ReadonlySet<string> = new Set(['failed', 'timed_out', 'unhealthy']);

/** A status as a reader says it: `timed_out` → `timed out`. */
export function statusWord(status: string): string {
  return status.replace('_', ' ');
}

function reasonOf(n: NodeStatus, exitCode: number | null, error: string | null): FailureReason {
  if (n.status === 'timed_out') return 'timeout';
  if (n.status === 'unhealthy') return 'unhealthy';
  if (n.status === 'cancelled') return 'cancelled';
  if (n.decision?.decision === 'rejected') return 'rejected';
  if (error && /out of memory/i.test(error)) return 'oom';
  if (exitCode !== null && exitCode !== 0) return 'exit code';
  return 'error';
}

/** `failed: exit code 3`; an error that already says its status (`timed out after 1s`) stands alone. */
function describe(status: string, error: string | null): string {
  const word = statusWord(status);
  if (!error) return word;
  return error.startsWith(word) ? error : `${word}: ${error}`;
}

function sourceOf(node: PlanNode | undefined, cwd: string): SummarySource | undefined {
  if (!node) return undefined;
  const src = node.kind === 'step' ? node.step.source : node.service.source;
  return { file: resolve(cwd, src.file), line: src.line, column: src.column };
}

/**
 * Builds the summary from the status view of the run (`buildRunStatus`) and
 * the plan it ran. Pure. `cwd` is the directory the workflow file was named
 * from (its `SourceRef.file` is relative to it); `logTail` is the first
 * failure's log tail, read by the caller ({@link readLogTail}).
 */
export function buildRunSummary(input: {
  view: RunStatusView;
  plan: Plan;
  cwd: string;
  logTail?: LogTail;
}): RunSummary {
  const { view, plan, cwd } = input;
  const planNodes = new Map(plan.nodes.map((n) => [n.id, n]));
  const src = (id: string) => sourceOf(planNodes.get(id), cwd);
  const nodes: SummaryNode[] = view.steps.map((n) => {
    const source = src(n.id);
    return {
      id: n.id,
      kind: n.kind,
      status: n.status,
      attempts: n.attempts,
      durationMs: n.durationMs,
      ...(source ? { source } : {}),
    };
  });

  const cause = (n: NodeStatus): Cause => {
    const last = n.history.at(-1);
    const error = n.error ?? last?.error ?? null;
    const exitCode = last?.exitCode ?? null;
    const source = src(n.id);
    return {
      id: n.id,
      kind: n.kind,
      status: n.status,
      reason: reasonOf(n, exitCode, error),
      description: describe(n.status, error),
      attempt: last?.attempt ?? 0,
      exitCode,
      ...(source ? { source } : {}),
      logFile: last?.logFile ?? null,
    };
  };
  // A step with `continueOnError` that failed is tolerated: it blocks
  // nothing and fails nothing, so it is no cause.
  const tolerates = (n: NodeStatus) => {
    const p = planNodes.get(n.id);
    return p?.kind === 'step' && p.step.continueOnError;
  };
  const failed = view.steps.filter((n) => FAILED.has(n.status) && !tolerates(n));
  const firstId = view.firstFailure?.step;
  // The first failure as `agent status` names it, unless that one was tolerated.
  const first =
    failed.find((n) => n.id === firstId) ??
    failed.reduce<NodeStatus | undefined>(
      (a, n) => (!a || (n.finishedAt ?? Infinity) < (a.finishedAt ?? Infinity) ? n : a),
      undefined,
    );
  const firstFailure: Cause | null = first
    ? { ...cause(first), ...(input.logTail ? { logTail: input.logTail } : {}) }
    : null;
  const otherFailures = failed.filter((n) => n !== first).map(cause);
  const tolerated = view.steps.filter((n) => FAILED.has(n.status) && tolerates(n)).map(cause);

  const failedIds = new Set(failed.map((n) => n.id));
  const upstreamFailures = (id: string): string[] => {
    const seen = new Set<string>();
    const found = new Set<string>();
    const visit = (at: string) => {
      for (const need of planNodes.get(at)?.needs ?? []) {
        if (seen.has(need)) continue;
        seen.add(need);
        if (failedIds.has(need)) found.add(need);
        else visit(need);
      }
    };
    visit(id);
    return plan.nodes.map((n) => n.id).filter((x) => found.has(x));
  };
  const consequences: Consequence[] = view.steps.flatMap((n) => {
    if (n.status !== 'skipped' && n.status !== 'cancelled') return [];
    const upstream = upstreamFailures(n.id);
    const causes = upstream.length > 0 ? upstream : firstFailure ? [firstFailure.id] : [];
    const source = src(n.id);
    return [{ id: n.id, status: n.status, causes, ...(source ? { source } : {}) }];
  });

  const retried: RetriedStep[] = view.steps.flatMap((n) => {
    if (n.kind !== 'step' || n.status !== 'succeeded') return [];
    const failedAttempts = n.history
      .filter((a) => a.status === 'failed' || a.status === 'timed_out')
      .map((a) => ({ attempt: a.attempt, error: describe(a.status, a.error) }));
    if (failedAttempts.length === 0) return [];
    const source = src(n.id);
    return [
      {
        id: n.id,
        attempts: n.history.at(-1)?.attempt ?? n.attempts,
        failed: failedAttempts,
        ...(source ? { source } : {}),
      },
    ];
  });

  return {
    runId: view.run.id,
    workflow: view.run.workflow,
    file: view.run.file,
    status: view.run.status,
    durationMs: view.durationMs,
    error: view.run.error,
    nodes,
    firstFailure,
    otherFailures,
    tolerated,
    consequences,
    retried,
  };
}

/** Bytes from the end of a log file {@link readLogTail} reads at most (256 KiB). */
const TAIL_BYTES = 256 * 1024;

/**
 * The last `max` lines of a log file (the executors' record format,
 * `log-records.ts`), stdout and stderr in the order they were written, each
 * passed through `sanitizeOutputLine`. Reads at most the last 256 KiB.
 * Null when the file cannot be read.
 */
export async function readLogTail(file: string, max = LOG_TAIL_LINES): Promise<LogTail | null> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const size = (await handle.stat()).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    let data = buffer;
    if (start > 0) {
      // Begin at the first whole record.
      const nl = data.indexOf(0x0a);
      data = nl < 0 ? Buffer.alloc(0) : data.subarray(nl + 1);
    }
    const { records } = splitLogRecords(data, { final: true });
    const lines: string[] = [];
    let pending: Buffer[] = [];
    for (const r of records) {
      pending.push(r.content);
      if (r.newline) {
        lines.push(Buffer.concat(pending).toString('utf8'));
        pending = [];
      }
    }
    if (pending.length > 0) lines.push(Buffer.concat(pending).toString('utf8'));
    const tail = lines.slice(-max).map((l) => sanitizeOutputLine(l));
    return { lines: tail, more: start > 0 || lines.length > max };
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}

/**
 * Reads what the summary needs of run `runId` from the store (run, nodes,
 * attempts, the first failure's log tail) and builds it. `now` (epoch ms)
 * gives the duration of a run that has not finished.
 */
export async function readRunSummary(
  store: StateStore,
  runId: string,
  plan: Plan,
  options: { cwd: string; now?: number },
): Promise<RunSummary | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  const [steps, attempts] = await Promise.all([store.getSteps(runId), store.getAttempts(runId)]);
  const view = buildRunStatus({ run, steps, attempts, now: options.now ?? Date.now() });
  const logFile = view.firstFailure?.logFile;
  const logTail = logFile ? await readLogTail(logFile) : null;
  return buildRunSummary({ view, plan, cwd: options.cwd, ...(logTail ? { logTail } : {}) });
}

/** `mixed.yaml:22`, relative to `cwd`. */
export function formatSource(source: SummarySource | undefined, cwd: string): string {
  if (!source) return '';
  return `${relative(cwd, source.file) || source.file}:${source.line}`;
}

function nodeLabel(
  kind: 'step' | 'service',
  id: string,
  source: SummarySource | undefined,
  cwd: string,
): string {
  const at = formatSource(source, cwd);
  return `${kind} ${id}${at ? ` (${at})` : ''}`;
}

/** `step test` or `steps test and slow` or `steps a, b and c`. */
function listSteps(summary: RunSummary, ids: readonly string[]): string {
  const kinds = new Map(summary.nodes.map((n) => [n.id, n.kind]));
  const allServices = ids.every((id) => kinds.get(id) === 'service');
  const noun = allServices ? 'service' : 'step';
  const names =
    ids.length <= 1 ? (ids[0] ?? '') : `${ids.slice(0, -1).join(', ')} and ${ids.at(-1)}`;
  return `${noun}${ids.length > 1 ? 's' : ''} ${names}`;
}

/**
 * The command that prints a node's whole log: `agent logs RUN STEP`, with
 * the workflow file (relative to `cwd`) when it is not `agent.yaml` in `cwd`,
 * since the store is found beside the file.
 */
export function logsCommand(summary: RunSummary, id: string, cwd: string): string {
  const file = relative(cwd, summary.file) || summary.file;
  return `agent logs ${summary.runId} ${id}${file === 'agent.yaml' ? '' : ` ${file}`}`;
}

/** `because step test failed` for a consequence. */
export function consequenceText(summary: RunSummary, c: Consequence): string {
  if (c.causes.length === 0) return statusWord(c.status);
  return `${c.status} because ${listSteps(summary, c.causes)} failed`;
}

/**
 * The summary as text lines (no trailing newlines), paths relative to `cwd`:
 *
 * ```
 * summary of run 20261202-025322-c01128: failed in 435ms
 * first failure: step test (mixed.yaml:21) failed: exit code 3
 *   the 2 lines of its log (agent logs 20261202-025322-c01128 test mixed.yaml):
 *   | running 12 tests
 *   | FAIL parser handles empty input
 * also failed: step slow (mixed.yaml:30) timed out after 300ms
 * consequences, not causes:
 *   step deploy (mixed.yaml:27) skipped because step test failed
 *
 * STEP    STATUS     ATTEMPTS  DURATION
 * build   succeeded  1         80ms
 * ```
 *
 * The first failure comes first, then the other causes, then failures
 * `continueOnError` tolerated, then what only followed from the causes, then every node in plan order (services marked
 * `(service)`). A step that succeeded on a retry says so in the table.
 */
export function formatRunSummary(summary: RunSummary, options: { cwd: string }): string[] {
  const { cwd } = options;
  const lines: string[] = [];
  const took = summary.durationMs !== null ? ` in ${formatMs(summary.durationMs)}` : '';
  lines.push(`summary of run ${summary.runId}: ${statusWord(summary.status)}${took}`);
  const f = summary.firstFailure;
  if (f) {
    lines.push(
      `first failure: ${nodeLabel(f.kind, f.id, f.source, cwd)} ${f.description}${f.attempt > 1 ? ` (attempt ${f.attempt})` : ''}`,
    );
    const tail = f.logTail;
    const logs = logsCommand(summary, f.id, cwd);
    if (tail && tail.lines.length > 0) {
      lines.push(
        `  ${tail.more ? `last ${tail.lines.length} lines` : tail.lines.length === 1 ? 'the line' : `the ${tail.lines.length} lines`} of its log (${logs}):`,
      );
      for (const l of tail.lines) lines.push(`  | ${l}`);
    } else if (f.logFile) {
      lines.push(`  its log is empty (${logs})`);
    }
  } else if (summary.status !== 'succeeded' && summary.error) {
    lines.push(`${statusWord(summary.status)}: ${summary.error}`);
  }
  for (const c of summary.otherFailures) {
    lines.push(`also failed: ${nodeLabel(c.kind, c.id, c.source, cwd)} ${c.description}`);
  }
  for (const c of summary.tolerated) {
    lines.push(
      `failed, continueOnError: ${nodeLabel(c.kind, c.id, c.source, cwd)} ${c.description}`,
    );
  }
  if (summary.consequences.length > 0) {
    // Without a failure (a cancelled run) they follow from the cancel.
    lines.push(summary.firstFailure ? 'consequences, not causes:' : 'did not finish:');
    for (const c of summary.consequences) {
      lines.push(`  ${nodeLabel('step', c.id, c.source, cwd)} ${consequenceText(summary, c)}`);
    }
  }
  lines.push('');
  const retried = new Set(summary.retried.map((r) => r.id));
  const rows = summary.nodes.map((n) => [
    n.kind === 'service' ? `${n.id} (service)` : n.id,
    `${statusWord(n.status)}${retried.has(n.id) ? ' after retry' : ''}`,
    String(n.attempts),
    n.durationMs !== null ? formatMs(n.durationMs) : '-',
  ]);
  lines.push(...formatTable(['STEP', 'STATUS', 'ATTEMPTS', 'DURATION'], rows));
  return lines;
}
