/**
 * Plain lines with each step's output folded, for CI logs that can collapse
 * a range of lines (GitHub Actions groups, GitLab CI sections).
 *
 * Folds cannot nest or interleave (GitHub has one open group at a time), and
 * steps run side by side, so a step's lines are not printed as they come:
 * `step X: started` is printed at once (so the log shows what is running),
 * then the step's output, its retries and its later attempts are held until
 * it ends, and printed in one fold titled with how it ended (`step test:
 * failed in 17ms (exit code 3)`). A service is folded the same way per
 * phase: its start until healthy (or failed), then its output until it
 * stops. Run-level lines and nodes that end without output (a skipped step)
 * are printed as they come, outside any fold. A node that holds many lines
 * (`maxHeldLines`) has them printed in a fold of their own before it ends. What is still held when the
 * run ends (a step cut off by a second signal) is printed when the reporter
 * closes. The lines are exactly {@link formatEventPlain}'s, so every output
 * line keeps its `step X | ` prefix: a line a step prints can never start
 * with `::` and be taken as a workflow command.
 */

import type { StoredEvent } from '../core/events.js';
import { formatEventPlain } from './plain.js';
import type { Output, Reporter } from './types.js';

/** One fold: a node's held lines, printed when it ends. */
export interface Fold {
  /** The line shown collapsed: how the node ended (`step test: failed in 17ms (exit code 3)`). */
  title: string;
  /** Identifies the fold, unique within the run: `N_ID`, N counting folds from 1. */
  key: string;
  /** Epoch ms of the fold's first event (the node's start). */
  startedAt: number;
  /** Epoch ms of the event that ended it. */
  endedAt: number;
  /** False when the node failed, timed out, turned unhealthy or was rejected. */
  ok: boolean;
}

/** How a CI system marks a fold; each function returns one line without newline. */
export interface FoldMarkers {
  /** The line that opens a fold. */
  open(fold: Fold): string;
  /** The line that closes the fold `open` opened. */
  close(fold: Fold): string;
}

/** Options of {@link FoldingReporter}. */
export interface FoldingReporterOptions {
  out: Output;
  markers: FoldMarkers;
  /** Directory file paths are shown relative to. Default `process.cwd()`. */
  cwd?: string;
  /**
   * A node holding this many lines has them printed at once, in a fold
   * titled `step X: output so far`, so a long-running node (a service in
   * serve mode) neither grows without bound nor stays silent. Default
   * {@link MAX_HELD_LINES}.
   */
  maxHeldLines?: number;
}

/** Default of {@link FoldingReporterOptions.maxHeldLines}. */
export const MAX_HELD_LINES = 5000;

interface Held {
  /** `step build`, `service api`. */
  label: string;
  lines: string[];
  startedAt: number;
}

/** Events that end a node's fold, and give its title. */
function closes(event: StoredEvent): boolean {
  switch (event.type) {
    case 'step.finished':
    case 'step.skipped':
    case 'step.waiting':
    case 'step.approved':
    case 'step.rejected':
    case 'service.restarting':
    case 'service.status':
      return true;
    default:
      return false;
  }
}

/** False for an event that says its node failed. */
function endedWell(event: StoredEvent): boolean {
  switch (event.type) {
    case 'step.finished':
      return event.status === 'succeeded' || event.status === 'cancelled';
    case 'step.rejected':
    case 'service.restarting':
      return false;
    case 'service.status':
      return event.status !== 'failed' && event.status !== 'unhealthy';
    default:
      return true;
  }
}

/** Plain lines, each node's lines folded when it ends (see the module comment). */
export class FoldingReporter implements Reporter {
  private readonly held = new Map<string, Held>();
  private readonly cwd: string;
  private folds = 0;

  constructor(private readonly options: FoldingReporterOptions) {
    this.cwd = options.cwd ?? process.cwd();
  }

  private write(lines: readonly string[]): void {
    for (const l of lines) this.options.out.write(`${l}\n`);
  }

  private fold(
    id: string,
    title: string,
    rest: readonly string[],
    endedAt: number,
    ok: boolean,
  ): void {
    const held = this.held.get(id);
    this.held.delete(id);
    const body = [...(held?.lines ?? []), ...rest];
    if (body.length === 0) {
      this.write([title]);
      return;
    }
    this.folds++;
    const fold: Fold = {
      title,
      ok,
      key: `${this.folds}_${id}`,
      startedAt: held?.startedAt ?? endedAt,
      endedAt,
    };
    this.write([this.options.markers.open(fold), ...body, this.options.markers.close(fold)]);
  }

  onEvent(event: StoredEvent): void {
    const lines = formatEventPlain(event, this.cwd);
    const id = 'step' in event ? event.step : 'service' in event ? event.service : undefined;
    const label = 'step' in event ? `step ${id}` : `service ${id}`;
    if (id === undefined) {
      if (event.type === 'run.finished') this.flush(event.at);
      this.write(lines);
      return;
    }
    if (closes(event)) {
      const [title, ...rest] = lines;
      if (title !== undefined) this.fold(id, title, rest, event.at, endedWell(event));
      return;
    }
    if (lines.length === 0) return;
    const held = this.held.get(id);
    if (!held) {
      if (event.type === 'step.started' || event.type === 'service.starting') {
        // Say at once what started; hold what follows.
        this.write(lines);
        this.held.set(id, { label, lines: [], startedAt: event.at });
        return;
      }
      this.held.set(id, { label, lines: [...lines], startedAt: event.at });
      return;
    }
    held.lines.push(...lines);
    if (held.lines.length >= (this.options.maxHeldLines ?? MAX_HELD_LINES)) {
      this.fold(id, `${held.label}: output so far`, [], event.at, true);
      this.held.set(id, { label, lines: [], startedAt: event.at });
    }
  }

  /** Prints what is still held, each node in a fold titled `step X: output so far`. */
  private flush(at: number): void {
    for (const [id, held] of [...this.held]) {
      if (held.lines.length === 0) {
        this.held.delete(id);
        continue;
      }
      this.fold(id, `${held.label}: output so far`, [], at, false);
    }
  }

  async close(): Promise<void> {
    this.flush(Date.now());
  }
}
