/**
 * A live tree of services and steps on a terminal, rendered by listr2: a
 * spinner per running node, its last line of output under it, retries and
 * durations in the title. Only this module imports listr2.
 *
 * listr2 drives tasks, while our runner drives the run; each node becomes a
 * listr2 task that waits for the runner's events about that node.
 */

import { Listr } from 'listr2';
import type { StoredEvent } from '../core/events.js';
import { formatMs } from '../run/format.js';
import { sanitizeOutputLine } from './sanitize.js';
import type { Output, Reporter } from './types.js';

type Outcome =
  | { kind: 'ok'; title: string }
  | { kind: 'skip'; title: string }
  | { kind: 'fail'; message: string };

/** The part of listr2's task wrapper this reporter uses. */
interface TaskHandle {
  title: string;
  output: string;
  skip(message?: string): void;
}

interface NodeView {
  id: string;
  kind: 'step' | 'service';
  task?: TaskHandle;
  title: string;
  output?: string;
  done: Promise<Outcome>;
  resolve: (o: Outcome) => void;
}

/** Options of {@link ListrReporter}. */
export interface ListrReporterOptions {
  /** The terminal stream for the header and summary lines; listr2 renders the tree on process.stdout. */
  out: Output & NodeJS.WritableStream;
}

/** Renders a run as a listr2 task tree on a TTY. */
export class ListrReporter implements Reporter {
  private readonly nodes = new Map<string, NodeView>();
  private rendering: Promise<unknown> | undefined;
  private header: string | undefined;
  private summary: string | undefined;

  constructor(private readonly options: ListrReporterOptions) {}

  onEvent(event: StoredEvent): void {
    switch (event.type) {
      case 'run.started': {
        this.header = `run ${event.runId} · workflow ${event.workflow}${event.resumed ? ' (resumed)' : ''}`;
        this.options.out.write(`${this.header}\n`);
        for (const n of event.nodes) {
          let resolve!: (o: Outcome) => void;
          const done = new Promise<Outcome>((r) => {
            resolve = r;
          });
          this.nodes.set(n.id, {
            id: n.id,
            kind: n.kind,
            title: `${n.kind} ${n.id} · ${n.kind === 'service' ? 'not started' : 'waiting'}`,
            done,
            resolve,
          });
        }
        for (const id of event.reused)
          this.node(id)?.resolve({
            kind: 'skip',
            title: `step ${id} (reused from the earlier attempt)`,
          });
        this.start();
        return;
      }
      case 'run.finished':
        for (const n of this.nodes.values())
          n.resolve({ kind: 'skip', title: `${n.kind} ${n.id}` });
        this.summary = `run ${event.runId}: ${event.status} in ${formatMs(event.durationMs)}${event.error ? `: ${event.error}` : ''}`;
        return;
      case 'service.starting':
        this.update(event.service, `service ${event.service} · starting (${event.detail})`);
        return;
      case 'service.started':
        this.update(
          event.service,
          `service ${event.service} · waiting for health check`,
          event.endpoint,
        );
        return;
      case 'service.restarting':
        this.update(
          event.service,
          `service ${event.service} · restarting (${event.restart})`,
          event.error,
        );
        return;
      case 'service.probe_failed':
        this.update(
          event.service,
          undefined,
          `health check failed${event.counted ? '' : ' (start period)'}: ${event.error}`,
        );
        return;
      case 'service.status': {
        const n = this.node(event.service);
        if (!n) return;
        switch (event.status) {
          case 'healthy':
            this.update(
              event.service,
              `service ${event.service} · healthy${event.durationMs !== undefined ? ` in ${formatMs(event.durationMs)}` : ''}`,
              '',
            );
            return;
          case 'stopped':
            n.resolve({ kind: 'ok', title: `service ${event.service} · stopped` });
            return;
          case 'cancelled':
            n.resolve({ kind: 'skip', title: `service ${event.service} · ${event.status}` });
            return;
          case 'unhealthy':
          case 'failed':
            n.resolve({
              kind: 'fail',
              message: [
                event.error ?? event.status,
                ...(event.logTail ?? []).map((l) => `  | ${sanitizeOutputLine(l)}`),
              ].join('\n'),
            });
            return;
        }
        return;
      }
      case 'step.started':
        this.update(
          event.step,
          `step ${event.step}${event.maxAttempts > 1 ? ` (attempt ${event.attempt})` : ''}`,
          '',
        );
        return;
      case 'step.output': {
        const last = event.lines[event.lines.length - 1];
        if (last !== undefined) this.update(event.step, undefined, sanitizeOutputLine(last));
        return;
      }
      case 'service.output': {
        const last = event.lines[event.lines.length - 1];
        if (last !== undefined) this.update(event.service, undefined, sanitizeOutputLine(last));
        return;
      }
      case 'step.retrying':
        this.update(
          event.step,
          `step ${event.step} · retrying in ${formatMs(event.delayMs)} (${event.error})`,
        );
        return;
      case 'step.finished': {
        const n = this.node(event.step);
        if (!n) return;
        if (event.status === 'succeeded') {
          n.resolve({
            kind: 'ok',
            title: `step ${event.step} · ${formatMs(event.durationMs)}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`,
          });
        } else if (event.status === 'cancelled') {
          n.resolve({ kind: 'skip', title: `step ${event.step} · cancelled` });
        } else {
          n.resolve({
            kind: 'fail',
            message: `step ${event.step} · ${event.status.replace('_', ' ')}: ${event.error ?? ''}`,
          });
        }
        return;
      }
      case 'step.skipped':
        this.node(event.step)?.resolve({
          kind: 'skip',
          title: `step ${event.step} · ${event.status} (${event.reason})`,
        });
        return;
      case 'step.waiting':
        this.update(event.step, `step ${event.step} · waiting for approval: ${event.message}`);
        return;
      case 'step.approved':
        this.node(event.step)?.resolve({
          kind: 'ok',
          title: `step ${event.step} · approved by ${event.by}`,
        });
        return;
      case 'step.rejected':
        this.node(event.step)?.resolve({
          kind: 'fail',
          message: `step ${event.step} · rejected by ${event.by}${event.comment ? `: ${event.comment}` : ''}`,
        });
        return;
      case 'run.cancel_requested':
      case 'run.pause_requested':
        this.options.out.write(
          `run ${event.runId}: ${event.type === 'run.cancel_requested' ? 'cancel' : 'pause'} requested by ${event.by}\n`,
        );
        return;
      case 'run.created':
      case 'step.spawned':
        return;
    }
  }

  private node(id: string): NodeView | undefined {
    return this.nodes.get(id);
  }

  private update(id: string, title?: string, output?: string): void {
    const n = this.node(id);
    if (!n) return;
    if (title !== undefined) n.title = title;
    if (output !== undefined) n.output = output;
    if (n.task) {
      if (title !== undefined) n.task.title = title;
      if (output !== undefined) n.task.output = output;
    }
  }

  private start(): void {
    const list = new Listr(
      [...this.nodes.values()].map((n) => ({
        title: n.title,
        task: async (_ctx: unknown, task: TaskHandle) => {
          n.task = task;
          task.title = n.title;
          if (n.output) task.output = n.output;
          const outcome = await n.done;
          switch (outcome.kind) {
            case 'ok':
              task.title = outcome.title;
              return;
            case 'skip':
              task.title = `${n.kind} ${n.id}`;
              task.skip(outcome.title);
              return;
            case 'fail':
              task.title = `${n.kind} ${n.id}`;
              throw new Error(outcome.message);
          }
        },
      })),
      {
        concurrent: true,
        exitOnError: false,
        registerSignalListeners: false,
        renderer: 'default',
        rendererOptions: {
          collapseErrors: false,
          collapseSkips: false,
          showErrorMessage: true,
        },
      },
    );
    this.rendering = list.run().catch(() => {});
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) n.resolve({ kind: 'skip', title: `${n.kind} ${n.id}` });
    await this.rendering;
    if (this.summary) this.options.out.write(`${this.summary}\n`);
  }
}
