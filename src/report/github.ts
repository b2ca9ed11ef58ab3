/**
 * GitHub Actions output, used when `GITHUB_ACTIONS=true` (the runner sets
 * it). Syntax from GitHub Docs, "Workflow commands for GitHub Actions":
 *
 * - each step's lines folded in `::group::TITLE` … `::endgroup::`
 *   ({@link githubMarkers}, with the {@link FoldingReporter} of
 *   `grouped.ts`: groups cannot nest, so a step's group is printed when it
 *   ends);
 * - `::error file=F,line=L,title=T::MESSAGE` for each step or service that
 *   failed on its own, at the line of its key in the YAML, and
 *   `::warning file=F,line=L,title=T::MESSAGE` for a step that succeeded
 *   after failed attempts ({@link githubAnnotations});
 * - a Markdown summary appended to the file `$GITHUB_STEP_SUMMARY` names
 *   (GitHub Docs, "Adding a job summary"): the status, the first failure
 *   with its log tail, a table of steps with attempts and durations, and a
 *   Mermaid graph of the plan ({@link renderStepSummary}).
 */

import { relative } from 'node:path';
import { escapeGithubData, escapeGithubProperty } from '../core/workflow-commands.js';
import type { Plan } from '../plan/compile.js';
import { renderPlanMermaid } from '../plan/render.js';
import { formatMs } from '../run/format.js';
import type { FoldMarkers } from './grouped.js';
import {
  type Cause,
  consequenceText,
  logsCommand,
  type RunSummary,
  type SummarySource,
  statusWord,
} from './summary.js';

export { escapeGithubData, escapeGithubProperty };

/** `::group::TITLE` and `::endgroup::`. */
export const githubMarkers: FoldMarkers = {
  open: (fold) => `::group::${escapeGithubData(fold.title)}`,
  close: () => '::endgroup::',
};

/** `file` as GitHub wants it in an annotation: relative to the workspace (the repository checkout) when inside it. */
function annotationFile(file: string, workspace: string): string {
  const rel = relative(workspace, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function command(
  level: 'error' | 'warning',
  source: SummarySource | undefined,
  title: string,
  message: string,
  workspace: string,
): string {
  const props = [
    ...(source
      ? [
          `file=${escapeGithubProperty(annotationFile(source.file, workspace))}`,
          `line=${source.line}`,
          `col=${source.column}`,
        ]
      : []),
    `title=${escapeGithubProperty(title)}`,
  ];
  return `::${level} ${props.join(',')}::${escapeGithubData(message)}`;
}

function causeMessage(summary: RunSummary, c: Cause, first: boolean, workspace: string): string {
  const lines = [`${first ? 'first failure: ' : ''}${c.kind} ${c.id} ${c.description}`];
  if (c.attempt > 1) lines[0] += ` (attempt ${c.attempt})`;
  const tail = c.logTail;
  if (tail && tail.lines.length > 0) {
    lines.push(
      `${tail.more ? `last ${tail.lines.length} lines` : 'its output'} (${logsCommand(summary, c.id, workspace)}):`,
      ...tail.lines,
    );
  }
  return lines.join('\n');
}

/**
 * The workflow commands that annotate the run, one line each (no
 * newlines): an `::error` for the first failure (its message ends with its
 * log tail), then for every other cause in plan order, then a `::warning`
 * for each failure `continueOnError` tolerated and each step that succeeded
 * after a retry. `file` is relative to
 * `workspace` (`$GITHUB_WORKSPACE`), `line` and `col` are the step's key in
 * the YAML.
 */
export function githubAnnotations(summary: RunSummary, options: { workspace: string }): string[] {
  const out: string[] = [];
  const causes = [
    ...(summary.firstFailure ? [{ c: summary.firstFailure, first: true }] : []),
    ...summary.otherFailures.map((c) => ({ c, first: false })),
  ];
  for (const { c, first } of causes) {
    out.push(
      command(
        'error',
        c.source,
        `${c.kind} ${c.id} ${statusWord(c.status)}`,
        causeMessage(summary, c, first, options.workspace),
        options.workspace,
      ),
    );
  }
  for (const c of summary.tolerated) {
    out.push(
      command(
        'warning',
        c.source,
        `${c.kind} ${c.id} ${statusWord(c.status)} (continueOnError)`,
        causeMessage(summary, c, false, options.workspace),
        options.workspace,
      ),
    );
  }
  for (const r of summary.retried) {
    out.push(
      command(
        'warning',
        r.source,
        `step ${r.id} succeeded on attempt ${r.attempts}`,
        r.failed.map((a) => `attempt ${a.attempt} ${a.error}`).join('\n'),
        options.workspace,
      ),
    );
  }
  return out;
}

/** Inline code that is safe in a Markdown table cell. */
function code(text: string): string {
  const ticks = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(ticks + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** A fenced code block whose fence is longer than any backtick run in `lines`. */
function fenced(info: string, lines: readonly string[]): string[] {
  const ticks = Math.max(
    2,
    ...lines.flatMap((l) => [...l.matchAll(/`+/g)].map((m) => m[0].length)),
  );
  const fence = '`'.repeat(ticks + 1);
  return [`${fence}${info}`, ...lines, fence];
}

const ICON: Record<string, string> = {
  succeeded: '✅',
  healthy: '✅',
  stopped: '✅',
  failed: '❌',
  unhealthy: '❌',
  timed_out: '⏱️',
  skipped: '⏭️',
  cancelled: '🚫',
  waiting: '⏸️',
};

function status(s: string): string {
  const icon = ICON[s];
  return `${icon ? `${icon} ` : ''}${statusWord(s)}`;
}

/**
 * The Markdown that `agent run` appends to `$GITHUB_STEP_SUMMARY`, ending
 * with a newline: a heading with the workflow and its status, the first
 * failure with its position, reason and log tail, the other causes and
 * their consequences, a table of every step (status, attempts, duration) in
 * plan order, and the plan as a Mermaid flowchart (`renderPlanMermaid`).
 * Paths are relative to `workspace`.
 */
export function renderStepSummary(
  summary: RunSummary,
  plan: Plan,
  options: { workspace: string },
): string {
  const at = (s: SummarySource | undefined) =>
    s ? ` at ${code(`${annotationFile(s.file, options.workspace)}:${s.line}`)}` : '';
  const took = summary.durationMs !== null ? ` in ${formatMs(summary.durationMs)}` : '';
  const md: string[] = [
    `## ${status(summary.status)}: workflow ${code(summary.workflow)}`,
    '',
    `Run ${code(summary.runId)} of ${code(annotationFile(summary.file, options.workspace))} ${statusWord(summary.status)}${took}.`,
  ];
  const f = summary.firstFailure;
  if (f) {
    md.push(
      '',
      `### First failure: ${f.kind} ${code(f.id)}`,
      '',
      `${f.kind === 'service' ? 'Service' : 'Step'} ${code(f.id)}${at(f.source)} ${f.description}${f.attempt > 1 ? ` (attempt ${f.attempt})` : ''}.`,
    );
    const tail = f.logTail;
    if (tail && tail.lines.length > 0) {
      md.push(
        '',
        `${tail.more ? `The last ${tail.lines.length} lines` : 'The lines'} of its log (${code(logsCommand(summary, f.id, options.workspace))}):`,
        '',
        ...fenced('text', tail.lines),
      );
    }
  } else if (summary.status !== 'succeeded' && summary.error) {
    md.push('', `${statusWord(summary.status)}: ${summary.error}`);
  }
  if (summary.otherFailures.length > 0) {
    md.push('', 'Also failed:', '');
    for (const c of summary.otherFailures)
      md.push(`- ${c.kind} ${code(c.id)}${at(c.source)} ${c.description}`);
  }
  if (summary.tolerated.length > 0) {
    md.push('', 'Failed, tolerated by `continueOnError`:', '');
    for (const c of summary.tolerated)
      md.push(`- ${c.kind} ${code(c.id)}${at(c.source)} ${c.description}`);
  }
  if (summary.consequences.length > 0) {
    md.push('', summary.firstFailure ? 'Consequences, not causes:' : 'Did not finish:', '');
    for (const c of summary.consequences)
      md.push(`- step ${code(c.id)} ${consequenceText(summary, c)}`);
  }
  md.push(
    '',
    '### Steps',
    '',
    '| Step | Status | Attempts | Duration |',
    '| --- | --- | --: | --: |',
  );
  const retried = new Set(summary.retried.map((r) => r.id));
  for (const n of summary.nodes) {
    md.push(
      `| ${code(n.id)}${n.kind === 'service' ? ' (service)' : ''} | ${status(n.status)}${retried.has(n.id) ? ' after retry' : ''} | ${n.attempts} | ${n.durationMs !== null ? formatMs(n.durationMs) : '-'} |`,
    );
  }
  md.push('', '### Plan', '', ...fenced('mermaid', renderPlanMermaid(plan).trimEnd().split('\n')));
  return `${md.join('\n')}\n`;
}
