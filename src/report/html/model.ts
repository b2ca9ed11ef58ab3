/**
 * The HTML run report's model: what the page shows, built from what the
 * state store holds for one run (its records and its stored events) and
 * nothing else, so it can be built for any run, finished or interrupted,
 * long after it ran. Pure: the caller reads the store
 * ({@link readReportInput}) and passes the clock.
 *
 * Statuses, attempts and durations come from {@link buildRunStatus} (as
 * `agent status` shows them); the dependency edges come from the nodes of
 * `run.created` / `run.started` (their `needs`); service phases and logs come
 * from the events. Times are epoch ms, durations ms, sizes bytes.
 */

import type { StoredEvent } from '../../core/events.js';
import type { ServiceStatus, StepStatus } from '../../core/status.js';
import type { AttemptRecord, RunRecord, StateStore, StepRecord } from '../../store/types.js';
import { type AttemptSummary, buildRunStatus } from '../status.js';

/** Caps on the log text the report carries, so a report of thousands of steps stays small. */
export interface LogLimits {
  /** Lines kept per attempt: its last ones. */
  linesPerAttempt: number;
  /** Size of the text kept per attempt, its last lines, counted in UTF-16 code units (bytes, for ASCII logs). */
  bytesPerAttempt: number;
  /** Size of all log text in the report, counted as above; attempts past it carry no text, only a pointer to `agent logs`. */
  bytesTotal: number;
}

/** Default {@link LogLimits}: the last 200 lines / 16 KiB of each attempt, 4 MiB in all. */
export const DEFAULT_LOG_LIMITS: LogLimits = {
  linesPerAttempt: 200,
  bytesPerAttempt: 16 * 1024,
  bytesTotal: 4 * 1024 * 1024,
};

/** A run of consecutive lines of one stream. */
export interface LogSegment {
  stream: 'stdout' | 'stderr';
  /** The lines, joined with `\n`. */
  text: string;
}

/** The log text of one attempt as the report carries it: its last lines, within the limits. */
export interface LogExcerpt {
  segments: LogSegment[];
  /** Lines of the stored stream left out (the earliest ones, or all of them past the report's budget). */
  omittedLines: number;
  /** Bytes the event stream itself dropped (past its 8 MiB cap); only the log file has them. */
  droppedBytes: number;
}

/**
 * One attempt of a step, a bar of the timeline: `agent status`'s view of it
 * ({@link AttemptSummary}; `finishedAt` null while it runs, or when its runner
 * died during it) with its log excerpt instead of the log file's path.
 */
export interface ReportAttempt extends Omit<AttemptSummary, 'logFile'> {
  log: LogExcerpt;
}

/** What a service was doing in a span of time. */
export type ServicePhaseName = 'starting' | 'waiting' | 'healthy';

/** A span of a service's timeline: `starting` (until its process or container is up), `waiting` (for its health check), `healthy`. */
export interface ServicePhase {
  phase: ServicePhaseName;
  /** The service's attempt (each start or restart is one). */
  attempt: number;
  startedAt: number;
  /** Null when the phase was still open at the last stored event (a run whose runner died). */
  finishedAt: number | null;
}

/** A step or service of the run. */
export interface ReportNode {
  id: string;
  kind: 'step' | 'service';
  status: StepStatus | ServiceStatus;
  /** Ids of the nodes it needs, as recorded when the run started (empty when the events predate `needs`). */
  needs: string[];
  error: string | null;
  durationMs: number | null;
  /** Attempts, oldest first (steps; services have {@link phases} instead). */
  attempts: ReportAttempt[];
  /** Services only: their phases, in time order. */
  phases: ServicePhase[];
  /** A service's output: its last lines as the events hold them (serve mode, or the tail of a failure). */
  serviceLog: LogExcerpt | null;
}

/** Everything the HTML report shows. */
export interface ReportModel {
  run: RunRecord;
  /** As `agent status` gives it: the run's duration, or until `now` while it runs. */
  durationMs: number | null;
  /** Steps and services in plan order. */
  nodes: ReportNode[];
  /** False when the run's events carry no `needs` (recorded by an older agentfile): the graph has no edges. */
  edgesKnown: boolean;
  /** The timeline's window: the run's creation to its last event (or `now` while it runs). */
  timeline: { start: number; end: number };
  /** When the report was built. */
  generatedAt: number;
  /** The command that prints a step's whole log, with RUN filled in: `agent logs RUN`. */
  logsCommand: string;
}

/** What {@link buildReportModel} reads: a run's records and events as the store returns them. */
export interface ReportInput {
  run: RunRecord;
  steps: readonly StepRecord[];
  attempts: readonly AttemptRecord[];
  events: readonly StoredEvent[];
  /** Epoch ms: the clock for a run that has not finished. */
  now: number;
}

/** Reads what {@link buildReportModel} needs for `run` from `store` (its steps, attempts and every event); `now` is epoch ms. */
export async function readReportInput(
  store: StateStore,
  run: RunRecord,
  now: number = Date.now(),
): Promise<ReportInput> {
  const [steps, attempts, events] = await Promise.all([
    store.getSteps(run.id),
    store.getAttempts(run.id),
    store.getEvents(run.id),
  ]);
  return { run, steps, attempts, events, now };
}

/** Collects an attempt's lines, keeping only the last ones within the per-attempt limits. */
class TailBuffer {
  private lines: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  private bytes = 0;
  omitted = 0;
  dropped = 0;
  constructor(private readonly limits: LogLimits) {}

  push(stream: 'stdout' | 'stderr', lines: readonly string[]): void {
    for (const text of lines) {
      this.lines.push({ stream, text });
      this.bytes += text.length + 1;
    }
    // Trim in batches so that a long log costs linear time.
    if (
      this.lines.length > 2 * this.limits.linesPerAttempt ||
      this.bytes > 2 * this.limits.bytesPerAttempt
    ) {
      this.trim();
    }
  }

  private trim(): void {
    while (
      this.lines.length > 0 &&
      (this.lines.length > this.limits.linesPerAttempt || this.bytes > this.limits.bytesPerAttempt)
    ) {
      const cut = Math.max(1, this.lines.length - this.limits.linesPerAttempt);
      let n = 0;
      let freed = 0;
      // Drop lines until both limits hold.
      while (
        n < this.lines.length &&
        (n < cut || this.bytes - freed > this.limits.bytesPerAttempt)
      ) {
        freed += (this.lines[n]?.text.length ?? 0) + 1;
        n++;
      }
      this.lines.splice(0, n);
      this.bytes -= freed;
      this.omitted += n;
    }
  }

  /** Size in bytes of the kept text after trimming. */
  size(): number {
    this.trim();
    return this.bytes;
  }

  excerpt(include: boolean): LogExcerpt {
    this.trim();
    if (!include) {
      return {
        segments: [],
        omittedLines: this.omitted + this.lines.length,
        droppedBytes: this.dropped,
      };
    }
    const segments: LogSegment[] = [];
    let current: { stream: 'stdout' | 'stderr'; lines: string[] } | undefined;
    for (const l of this.lines) {
      if (!current || current.stream !== l.stream) {
        if (current) segments.push({ stream: current.stream, text: current.lines.join('\n') });
        current = { stream: l.stream, lines: [] };
      }
      current.lines.push(l.text);
    }
    if (current) segments.push({ stream: current.stream, text: current.lines.join('\n') });
    return { segments, omittedLines: this.omitted, droppedBytes: this.dropped };
  }
}

const emptyLog = (): LogExcerpt => ({ segments: [], omittedLines: 0, droppedBytes: 0 });

/**
 * Builds the report's model of one run. Logs are the attempts' `step.output`
 * (and a service's `service.output` and failure `logTail`) lines, each cut to
 * its last lines by `limits`; the report's total budget goes first to failed
 * and timed-out attempts, then to the rest in plan order.
 */
export function buildReportModel(
  input: ReportInput,
  limits: LogLimits = DEFAULT_LOG_LIMITS,
): ReportModel {
  const { run, events, now } = input;
  const view = buildRunStatus(input);

  const needs = new Map<string, string[]>();
  let edgesKnown = false;
  const logs = new Map<string, TailBuffer>();
  const buffer = (key: string) => {
    let b = logs.get(key);
    if (!b) {
      b = new TailBuffer(limits);
      logs.set(key, b);
    }
    return b;
  };
  const phases = new Map<string, ServicePhase[]>();
  const openPhase = new Map<string, ServicePhase>();
  const close = (service: string, at: number) => {
    const p = openPhase.get(service);
    if (p) {
      p.finishedAt = Math.max(p.startedAt, at);
      openPhase.delete(service);
    }
  };
  const open = (service: string, phase: ServicePhaseName, attempt: number, at: number) => {
    close(service, at);
    const p: ServicePhase = { phase, attempt, startedAt: at, finishedAt: null };
    openPhase.set(service, p);
    const list = phases.get(service) ?? [];
    list.push(p);
    phases.set(service, list);
  };
  const serviceAttempt = new Map<string, number>();
  let lastAt = run.createdAt;

  for (const e of events) {
    lastAt = Math.max(lastAt, e.at);
    switch (e.type) {
      case 'run.created':
      case 'run.started':
        for (const n of e.nodes) {
          if (n.needs !== undefined) {
            edgesKnown = true;
            needs.set(n.id, [...n.needs]);
          }
        }
        break;
      case 'run.finished':
        for (const s of [...openPhase.keys()]) close(s, e.at);
        break;
      case 'step.output': {
        const b = buffer(`${e.step}\u0000${e.attempt}`);
        b.push(e.stream, e.lines);
        if (e.truncated) b.dropped += e.truncated.droppedBytes;
        break;
      }
      case 'service.output':
        buffer(`${e.service}\u0000service`).push(e.stream, e.lines);
        break;
      case 'service.starting':
        serviceAttempt.set(e.service, e.attempt);
        open(e.service, 'starting', e.attempt, e.at);
        break;
      case 'service.started':
        open(e.service, 'waiting', e.attempt, e.at);
        break;
      case 'service.restarting':
        close(e.service, e.at);
        if (e.logTail) buffer(`${e.service}\u0000service`).push('stderr', e.logTail);
        break;
      case 'service.status':
        if (e.status === 'healthy') {
          open(e.service, 'healthy', e.attempt ?? serviceAttempt.get(e.service) ?? 1, e.at);
        } else {
          close(e.service, e.at);
          if (e.logTail) buffer(`${e.service}\u0000service`).push('stderr', e.logTail);
        }
        break;
      default:
        break;
    }
  }
  // A run that goes on ends now; any other (finished, or interrupted) at its last event.
  const end = run.status === 'running' || run.status === 'queued' ? Math.max(lastAt, now) : lastAt;

  // The report's log budget: failures first, then the rest in plan order.
  const keys: { key: string; failed: boolean }[] = [];
  for (const n of view.steps) {
    if (n.kind === 'service') keys.push({ key: `${n.id}\u0000service`, failed: true });
    for (const a of n.history) {
      keys.push({
        key: `${n.id}\u0000${a.attempt}`,
        failed: a.status === 'failed' || a.status === 'timed_out',
      });
    }
  }
  const included = new Set<string>();
  let budget = limits.bytesTotal;
  for (const pass of [true, false]) {
    for (const k of keys) {
      if (k.failed !== pass) continue;
      const b = logs.get(k.key);
      if (!b) continue;
      const size = b.size();
      if (size <= budget) {
        included.add(k.key);
        budget -= size;
      }
    }
  }
  const excerpt = (key: string) => logs.get(key)?.excerpt(included.has(key)) ?? emptyLog();

  const nodes: ReportNode[] = view.steps.map((n) => ({
    id: n.id,
    kind: n.kind,
    status: n.status,
    needs: needs.get(n.id) ?? [],
    error: n.error,
    durationMs: n.durationMs,
    attempts:
      n.kind === 'service'
        ? []
        : n.history.map((a) => ({
            attempt: a.attempt,
            status: a.status,
            startedAt: a.startedAt,
            finishedAt: a.finishedAt,
            durationMs: a.durationMs,
            exitCode: a.exitCode,
            error: a.error,
            log: excerpt(`${n.id}\u0000${a.attempt}`),
          })),
    phases: phases.get(n.id) ?? [],
    serviceLog: n.kind === 'service' ? excerpt(`${n.id}\u0000service`) : null,
  }));

  let start = run.createdAt;
  for (const n of nodes) {
    for (const a of n.attempts) start = Math.min(start, a.startedAt);
    for (const p of n.phases) start = Math.min(start, p.startedAt);
  }
  return {
    run,
    durationMs: view.durationMs,
    nodes,
    edgesKnown,
    timeline: { start, end: Math.max(end, start + 1) },
    generatedAt: now,
    logsCommand: `agent logs ${run.id}`,
  };
}
