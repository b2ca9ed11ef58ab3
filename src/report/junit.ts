/**
 * A JUnit XML report of a run (`agent run --junit FILE`), the format CI
 * systems (GitHub Actions test reporters, GitLab, Jenkins) read: one
 * `<testsuite>` for the run, one `<testcase>` per step and service, with
 * `<failure>` for failed or timed-out steps and unhealthy services,
 * `<skipped>` for skipped or cancelled ones. Times are in seconds.
 * Shape: the de-facto JUnit schema as used by Maven Surefire and Ant.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoredEvent } from '../core/events.js';
import type { Reporter } from './types.js';

interface Case {
  name: string;
  kind: 'step' | 'service';
  seconds: number;
  outcome: 'passed' | 'failed' | 'skipped';
  message?: string;
  output: string[];
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
      c = { name, kind, seconds: 0, outcome: 'skipped', output: [] };
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
      case 'step.output': {
        const c = this.get(event.step, 'step');
        c.output.push(...event.lines);
        if (c.output.length > MAX_OUTPUT_LINES)
          c.output.splice(0, c.output.length - MAX_OUTPUT_LINES);
        return;
      }
      case 'step.finished': {
        const c = this.get(event.step, 'step');
        c.seconds = event.durationMs / 1000;
        c.outcome =
          event.status === 'succeeded'
            ? 'passed'
            : event.status === 'failed' || event.status === 'timed_out'
              ? 'failed'
              : 'skipped';
        c.message = event.error;
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
          c.message = event.error;
          c.output.push(...(event.logTail ?? []));
        }
        return;
      }
      case 'service.output': {
        const c = this.get(event.service, 'service');
        c.output.push(...event.lines);
        if (c.output.length > MAX_OUTPUT_LINES)
          c.output.splice(0, c.output.length - MAX_OUTPUT_LINES);
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
      case 'step.started':
      case 'step.retrying':
        return;
    }
  }

  /** The report as XML text. Pure with respect to the events seen so far. */
  render(): string {
    const cases = [...this.cases.values()];
    const failures = cases.filter((c) => c.outcome === 'failed').length;
    const skipped = cases.filter((c) => c.outcome === 'skipped').length;
    const lines = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites name="agentfile" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${this.seconds.toFixed(3)}">`,
      `  <testsuite name="${xml(this.suite)}" id="${xml(this.runId)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${this.seconds.toFixed(3)}" timestamp="${new Date(this.startedAt || Date.now()).toISOString()}">`,
    ];
    for (const c of cases) {
      const open = `    <testcase classname="${xml(`${this.suite}.${c.kind}`)}" name="${xml(c.name)}" time="${c.seconds.toFixed(3)}"`;
      const inner: string[] = [];
      if (c.outcome === 'failed') {
        inner.push(`      <failure message="${xml(c.message ?? 'failed')}"/>`);
      } else if (c.outcome === 'skipped') {
        inner.push(`      <skipped message="${xml(c.message ?? 'not run')}"/>`);
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
