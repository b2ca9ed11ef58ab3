/**
 * A JUnit XML report of a run (`agent run --junit FILE`), the format CI
 * systems (Jenkins, GitLab, GitHub Actions test reporters) read. It is valid
 * against the Jenkins JUnit XSD (`junit-4.xsd` of Jenkins' dtkit JUnit model,
 * the schema Jenkins' JUnit plugin takes in; the tests validate against it):
 *
 * - one `<testsuites>` (`name="agentfile"`, `tests`, `failures`, `errors`,
 *   `time`) holding one `<testsuite>` for the run (`name` the workflow, `id`
 *   the run id, `tests`, `failures`, `errors`, `skipped`, `time`,
 *   `timestamp` ISO 8601 UTC);
 * - one `<testcase>` per step and service (`classname` `WORKFLOW.step` or
 *   `WORKFLOW.service`, `name` the id, `time` in seconds with three
 *   decimals: a step's from its first attempt's start to its end, backoffs
 *   included; a service's until it was healthy), in plan order;
 * - a failed step (`type="failed"`), a rejected approval (`rejected`) and a
 *   service that failed or turned unhealthy (`failed`, `unhealthy`) get a
 *   `<failure type message>`; a step that timed out an `<error
 *   type="timed_out" message>` (it did not finish, as JUnit counts a test
 *   that ran out of time); the element's text is the message and the last
 *   attempt's stderr lines;
 * - a step that did not run (skipped, cancelled, waiting for approval) gets
 *   `<skipped>reason</skipped>` (the XSD allows text there, no attributes);
 * - `<system-out>`: the output, stdout and stderr in the order they came, the
 *   last {@link MAX_OUTPUT_LINES} lines, without terminal control codes. A
 *   step that was retried has a line `[agentfile] attempt N of M failed
 *   (ERROR); retrying in D` where each retry happened and, when it succeeded,
 *   `[agentfile] succeeded on attempt N of M`: the XSD has no element for
 *   flaky tests (Maven Surefire's `<flakyFailure>` is not in it), so a retried
 *   step that succeeded is a passed test case whose output says so.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoredEvent } from '../core/events.js';
import { formatMs } from '../run/format.js';
import { sanitizeOutputLine } from './sanitize.js';
import type { Reporter } from './types.js';

interface Case {
  name: string;
  kind: 'step' | 'service';
  seconds: number;
  outcome: 'passed' | 'failed' | 'error' | 'skipped';
  /** The `type` of `<failure>` or `<error>`: the status the run recorded. */
  type?: string;
  message?: string;
  output: string[];
  /** Attempts allowed, from the last `step.started`. */
  maxAttempts?: number;
  /** Stderr lines of the latest attempt that wrote any (the last ones). */
  stderr: { attempt: number; lines: string[] };
}

/** Keeps at most this many output lines per test case (the last ones). */
const MAX_OUTPUT_LINES = 200;

/** True for characters XML 1.0 allows (a log line may hold ANSI escapes or NULs). */
function xmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    code >= 0x10000
  );
}

function xml(text: string): string {
  let clean = '';
  for (const ch of text) if (xmlChar(ch.codePointAt(0) ?? 0)) clean += ch;
  return clean
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Keeps the last {@link MAX_OUTPUT_LINES} of `lines`. */
function cap(lines: string[]): void {
  if (lines.length > MAX_OUTPUT_LINES) lines.splice(0, lines.length - MAX_OUTPUT_LINES);
}

/** Collects a run's events and writes the report file when closed. */
export class JunitReporter implements Reporter {
  private readonly cases = new Map<string, Case>();
  private suite = 'agentfile';
  private runId = '';
  private seconds = 0;
  private startedAt = 0;

  /** @param file path of the XML file to write (overwritten). */
  constructor(private readonly file: string) {}

  private get(name: string, kind: 'step' | 'service'): Case {
    let c = this.cases.get(name);
    if (!c) {
      c = {
        name,
        kind,
        seconds: 0,
        outcome: 'skipped',
        output: [],
        stderr: { attempt: 0, lines: [] },
      };
      this.cases.set(name, c);
    }
    return c;
  }

  onEvent(event: StoredEvent): void {
    switch (event.type) {
      case 'run.started':
        this.suite = event.workflow;
        this.runId = event.runId;
        this.startedAt = event.at;
        for (const n of event.nodes) this.get(n.id, n.kind);
        for (const id of event.reused) {
          const c = this.get(id, 'step');
          c.outcome = 'passed';
          c.message = 'reused from an earlier attempt of this run';
        }
        return;
      case 'run.finished':
        this.seconds = event.durationMs / 1000;
        return;
      case 'step.started':
        this.get(event.step, 'step').maxAttempts = event.maxAttempts;
        return;
      case 'step.output': {
        const c = this.get(event.step, 'step');
        const lines = event.lines.map((l) => sanitizeOutputLine(l));
        c.output.push(...lines);
        cap(c.output);
        if (event.stream === 'stderr') {
          if (c.stderr.attempt !== event.attempt) c.stderr = { attempt: event.attempt, lines: [] };
          c.stderr.lines.push(...lines);
          cap(c.stderr.lines);
        }
        return;
      }
      case 'step.retrying': {
        const c = this.get(event.step, 'step');
        const of = c.maxAttempts === undefined ? '' : ` of ${c.maxAttempts}`;
        const how = event.attemptStatus === 'timed_out' ? 'timed out' : 'failed';
        c.output.push(
          `[agentfile] attempt ${event.attempt}${of} ${how} (${event.error}); retrying in ${formatMs(event.delayMs)}`,
        );
        cap(c.output);
        return;
      }
      case 'step.finished': {
        const c = this.get(event.step, 'step');
        c.seconds = event.durationMs / 1000;
        c.outcome =
          event.status === 'succeeded'
            ? 'passed'
            : event.status === 'failed'
              ? 'failed'
              : event.status === 'timed_out'
                ? 'error'
                : 'skipped';
        c.type = event.status;
        c.message = event.error;
        if (event.status === 'succeeded' && event.attempt > 1) {
          const of = c.maxAttempts === undefined ? '' : ` of ${c.maxAttempts}`;
          c.output.push(`[agentfile] succeeded on attempt ${event.attempt}${of}`);
          cap(c.output);
        }
        if (c.stderr.attempt !== event.attempt) c.stderr = { attempt: event.attempt, lines: [] };
        return;
      }
      case 'step.skipped': {
        const c = this.get(event.step, 'step');
        c.outcome = 'skipped';
        c.message = event.reason;
        return;
      }
      case 'service.status': {
        const c = this.get(event.service, 'service');
        if (event.status === 'healthy') {
          c.outcome = 'passed';
          if (event.durationMs !== undefined) c.seconds = event.durationMs / 1000;
        } else if (event.status === 'unhealthy' || event.status === 'failed') {
          c.outcome = 'failed';
          c.type = event.status;
          c.message = event.error;
          c.output.push(...(event.logTail ?? []).map((l) => sanitizeOutputLine(l)));
          cap(c.output);
        }
        return;
      }
      case 'service.output': {
        const c = this.get(event.service, 'service');
        c.output.push(...event.lines.map((l) => sanitizeOutputLine(l)));
        cap(c.output);
        return;
      }
      case 'step.waiting': {
        const c = this.get(event.step, 'step');
        c.outcome = 'skipped';
        c.message = `waiting for approval: ${event.message}`;
        return;
      }
      case 'step.approved':
      case 'step.rejected': {
        const c = this.get(event.step, 'step');
        c.outcome = event.type === 'step.approved' ? 'passed' : 'failed';
        c.type = event.type === 'step.approved' ? undefined : 'rejected';
        c.message = `${event.type === 'step.approved' ? 'approved' : 'rejected'} by ${event.by}${event.comment ? `: ${event.comment}` : ''}`;
        return;
      }
      case 'run.created':
      case 'run.cancel_requested':
      case 'run.pause_requested':
      case 'step.spawned':
      case 'service.starting':
      case 'service.started':
      case 'service.probe_failed':
      case 'service.restarting':
        return;
    }
  }

  /**
   * The report as XML text (the shape in the module comment). Pure with
   * respect to the events seen so far.
   */
  render(): string {
    const cases = [...this.cases.values()];
    const failures = cases.filter((c) => c.outcome === 'failed').length;
    const errors = cases.filter((c) => c.outcome === 'error').length;
    const skipped = cases.filter((c) => c.outcome === 'skipped').length;
    const time = this.seconds.toFixed(3);
    const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}"`;
    const lines = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="agentfile" ${counts} time="${time}">`,
      `  <testsuite name="${xml(this.suite)}" id="${xml(this.runId)}" ${counts} skipped="${skipped}" time="${time}" timestamp="${new Date(this.startedAt || Date.now()).toISOString()}">`,
    ];
    for (const c of cases) {
      const open = `    <testcase classname="${xml(`${this.suite}.${c.kind}`)}" name="${xml(c.name)}" time="${c.seconds.toFixed(3)}"`;
      const inner: string[] = [];
      if (c.outcome === 'failed' || c.outcome === 'error') {
        const element = c.outcome === 'failed' ? 'failure' : 'error';
        const message = c.message ?? c.type ?? 'failed';
        const text = [message, ...c.stderr.lines].join('\n');
        inner.push(
          `      <${element} type="${xml(c.type ?? 'failed')}" message="${xml(message)}">${xml(text)}</${element}>`,
        );
      } else if (c.outcome === 'skipped') {
        inner.push(`      <skipped>${xml(c.message ?? 'not run')}</skipped>`);
      }
      if (c.output.length > 0)
        inner.push(`      <system-out>${xml(c.output.join('\n'))}</system-out>`);
      lines.push(
        inner.length === 0 ? `${open}/>` : `${open}>`,
        ...inner,
        ...(inner.length ? ['    </testcase>'] : []),
      );
    }
    lines.push('  </testsuite>', '</testsuites>', '');
    return lines.join('\n');
  }

  /**
   * Writes the report, creating the file's directory if needed.
   * @throws ReportWriteError when the file cannot be written.
   */
  async close(): Promise<void> {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(this.file, this.render());
    } catch (error) {
      throw new ReportWriteError(
        `cannot write the JUnit report to ${this.file}: ${(error as Error).message}`,
      );
    }
  }
}

/** A report file could not be written. */
export class ReportWriteError extends Error {
  override name = 'ReportWriteError';
}
