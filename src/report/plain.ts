/**
 * Plain line-per-event output, for CI logs and anything that is not a
 * terminal: no colours, no cursor movement, one line per state change, and
 * step output prefixed with the step id (`step build | ...`).
 */

import { relative } from 'node:path';
import type { StoredEvent } from '../core/events.js';
import { formatMs } from '../run/format.js';
import { sanitizeOutputLine } from './sanitize.js';
import type { Output, Reporter } from './types.js';

/** Options of {@link PlainReporter}. */
export interface PlainReporterOptions {
  out: Output;
  /** Directory file paths are shown relative to. Default `process.cwd()`. */
  cwd?: string;
  /** Print every line steps and services write (default true). */
  showOutput?: boolean;
}

/** Formats one event as zero or more lines (without trailing newline). Pure. */
export function formatEventPlain(event: StoredEvent, cwd: string): string[] {
  switch (event.type) {
    case 'run.started': {
      const steps = event.nodes.filter((n) => n.kind === 'step').length;
      const services = event.nodes.length - steps;
      const lines = [
        `run ${event.runId}: ${event.resumed ? 'resuming' : 'starting'} workflow ${event.workflow} (${relative(cwd, event.file) || event.file}), ${steps} steps, ${services} services`,
      ];
      if (event.reused.length > 0) {
        lines.push(`run ${event.runId}: reusing succeeded steps ${event.reused.join(', ')}`);
      }
      return lines;
    }
    case 'run.finished':
      return [
        `run ${event.runId}: ${event.status} in ${formatMs(event.durationMs)}${event.error ? `: ${event.error}` : ''}`,
      ];
    case 'service.starting':
      return [`service ${event.service}: starting (${event.detail})`];
    case 'service.started':
      return [`service ${event.service}: started${event.endpoint ? ` (${event.endpoint})` : ''}`];
    case 'service.probe_failed':
      return [
        `service ${event.service}: health check failed${event.watching ? ` while healthy (${event.consecutiveFailures ?? 1} in a row)` : event.counted ? '' : ' (start period, not counted)'}: ${event.error}`,
      ];
    case 'service.restarting': {
      const lines = [
        `service ${event.service}: attempt ${event.attempt} ${event.reason === 'exited' ? 'exited' : 'is unhealthy'}, restarting (${event.restart}) in ${formatMs(event.delayMs)}: ${event.error}`,
      ];
      for (const l of event.logTail ?? [])
        lines.push(`service ${event.service} | ${sanitizeOutputLine(l)}`);
      return lines;
    }
    case 'service.status': {
      const lines = [
        `service ${event.service}: ${event.status}${event.durationMs !== undefined ? ` in ${formatMs(event.durationMs)}` : ''}${event.error ? `: ${event.error}` : ''}`,
      ];
      if (event.logTail && event.logTail.length > 0) {
        lines.push(`service ${event.service}: last lines of its output:`);
        for (const l of event.logTail)
          lines.push(`service ${event.service} | ${sanitizeOutputLine(l)}`);
      }
      return lines;
    }
    case 'step.started':
      return [
        `step ${event.step}: started${event.maxAttempts > 1 ? ` (attempt ${event.attempt})` : ''}`,
      ];
    case 'step.output': {
      const lines = event.lines.map((l) => `step ${event.step} | ${sanitizeOutputLine(l)}`);
      if (event.truncated)
        lines.push(
          `step ${event.step}: output truncated (${event.truncated.droppedBytes} more bytes in its log: agent logs ${event.runId} ${event.step})`,
        );
      return lines;
    }
    case 'service.output':
      return event.lines.map((l) => `service ${event.service} | ${sanitizeOutputLine(l)}`);
    case 'step.retrying':
      return [
        `step ${event.step}: attempt ${event.attempt} failed (${event.error}); retrying in ${formatMs(event.delayMs)}`,
      ];
    case 'step.finished':
      return [
        `step ${event.step}: ${event.status.replace('_', ' ')} in ${formatMs(event.durationMs)}${event.status !== 'succeeded' && event.error ? ` (${event.error})` : ''}`,
      ];
    case 'step.skipped':
      return [`step ${event.step}: ${event.status} (${event.reason})`];
    case 'step.waiting':
      return [
        `step ${event.step}: waiting for approval: ${event.message} (agent approve ${event.runId} ${event.step})`,
      ];
    case 'step.approved':
      return [
        `step ${event.step}: approved by ${event.by}${event.comment ? `: ${event.comment}` : ''}`,
      ];
    case 'step.rejected':
      return [
        `step ${event.step}: rejected by ${event.by}${event.comment ? `: ${event.comment}` : ''}`,
      ];
    case 'run.cancel_requested':
      return [`run ${event.runId}: cancel requested by ${event.by}`];
    case 'run.pause_requested':
      return [
        `run ${event.runId}: pause requested by ${event.by}; running steps finish, no new ones start`,
      ];
    case 'run.created':
    case 'step.spawned':
      return [];
  }
}

/** Writes {@link formatEventPlain} lines to `out`. */
export class PlainReporter implements Reporter {
  private readonly cwd: string;
  constructor(private readonly options: PlainReporterOptions) {
    this.cwd = options.cwd ?? process.cwd();
  }

  onEvent(event: StoredEvent): void {
    if (
      (event.type === 'step.output' || event.type === 'service.output') &&
      this.options.showOutput === false
    ) {
      return;
    }
    for (const line of formatEventPlain(event, this.cwd)) this.options.out.write(`${line}\n`);
  }

  async close(): Promise<void> {}
}

/** NDJSON: one JSON object per event (`--output json`). */
export class JsonReporter implements Reporter {
  constructor(private readonly out: Output) {}
  onEvent(event: StoredEvent): void {
    this.out.write(`${JSON.stringify(event)}\n`);
  }
  async close(): Promise<void> {}
}
