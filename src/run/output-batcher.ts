/**
 * Turns a step's or service's lines of output into `step.output` /
 * `service.output` events: lines are batched (one event per stream switch,
 * 256 lines, 64 KiB, or 100 ms, whichever comes first), so a chatty step
 * costs one store transaction per batch rather than per line.
 *
 * What the event stream keeps of an attempt's output is capped
 * ({@link OUTPUT_EVENT_CAP_BYTES}, 8 MiB of text per attempt): beyond it,
 * lines are no longer stored as events (nor shown live, since reporters read
 * the stored stream); the final batch says how many bytes were dropped. The
 * log file always has every byte (`agent logs`).
 */

import type { RunEvent } from '../core/events.js';

/** Bytes of output text per attempt kept in the event stream (8 MiB). */
export const OUTPUT_EVENT_CAP_BYTES = 8 * 1024 * 1024;
/** A batch is flushed at this many lines. */
const BATCH_LINES = 256;
/** A batch is flushed at this many bytes of text (64 KiB). */
const BATCH_BYTES = 64 * 1024;
/** A batch waits at most this long, in ms. */
const BATCH_DELAY_MS = 100;

type Stream = 'stdout' | 'stderr';

/** Where batches go: the journal's `emit`; its promise is not awaited here except on {@link OutputBatcher.close}. */
export type EmitFn = (event: RunEvent) => Promise<unknown>;

/** Options of {@link OutputBatcher}. */
export interface OutputBatcherOptions {
  runId: string;
  /** A step's attempt, or a service. */
  node: { kind: 'step'; step: string; attempt: number } | { kind: 'service'; service: string };
  emit: EmitFn;
  now: () => number;
  /** Override of {@link OUTPUT_EVENT_CAP_BYTES}. */
  capBytes?: number;
}

/** Batches one node's (one attempt's) output lines. */
export class OutputBatcher {
  private stream: Stream = 'stdout';
  private lines: string[] = [];
  private bytes = 0;
  private stored = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: OutputBatcherOptions) {}

  /** Adds a line (without its newline). */
  add(stream: Stream, line: string): void {
    if (this.closed) return;
    const size = Buffer.byteLength(line) + 1;
    if (this.stored + size > (this.options.capBytes ?? OUTPUT_EVENT_CAP_BYTES)) {
      this.dropped += size;
      return;
    }
    if (stream !== this.stream && this.lines.length > 0) this.flush();
    this.stream = stream;
    this.lines.push(line);
    this.bytes += size;
    this.stored += size;
    if (this.lines.length >= BATCH_LINES || this.bytes >= BATCH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), BATCH_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Emits what is batched; resolves when every batch so far is stored (errors are the journal's). */
  async close(): Promise<void> {
    this.flush(true);
    this.closed = true;
    await this.pending.catch(() => undefined);
  }

  private flush(last = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const truncated = last && this.dropped > 0 ? { droppedBytes: this.dropped } : undefined;
    if (this.lines.length === 0 && !truncated) return;
    const { runId, node } = this.options;
    const at = this.options.now();
    const lines = this.lines;
    this.lines = [];
    this.bytes = 0;
    const event: RunEvent =
      node.kind === 'step'
        ? {
            type: 'step.output',
            runId,
            at,
            step: node.step,
            attempt: node.attempt,
            stream: this.stream,
            lines,
            ...(truncated ? { truncated } : {}),
          }
        : { type: 'service.output', runId, at, service: node.service, stream: this.stream, lines };
    this.pending = this.options.emit(event).catch(() => undefined);
  }
}
