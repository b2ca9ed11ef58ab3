/**
 * Fakes for the runner's unit tests: a clock the test drives, executors
 * that follow a script per step, services that start or fail on command.
 * Pure logic only; the integration and e2e tests use real processes and
 * the real Docker engine.
 */

import type {
  AttemptResult,
  AttemptSpec,
  Executors,
  ServiceHandle,
  ServiceStartSpec,
} from '../../../src/executors/types.js';
import type { Clock } from '../../../src/run/clock.js';

/** A clock whose time moves only when something sleeps or the test advances it. */
export class FakeClock implements Clock {
  private t = Date.UTC(2026, 11, 1);
  private readonly intervals = new Set<() => void>();
  /** Every sleep asked for, in ms. */
  readonly sleeps: number[] = [];

  now(): number {
    return this.t;
  }

  /** Sleeping advances the time at once: backoff costs nothing in tests. */
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }

  every(_ms: number, fn: () => void): () => void {
    this.intervals.add(fn);
    return () => this.intervals.delete(fn);
  }

  /** Runs every interval once (a heartbeat tick), then lets the promises it started settle. */
  async tick(): Promise<void> {
    for (const fn of [...this.intervals]) fn();
    await new Promise((r) => setImmediate(r));
  }

  advance(ms: number): void {
    this.t += ms;
  }
}

/** What one attempt of a fake step does. */
export type FakeAttempt =
  | { exitCode: number; output?: string[] }
  | { timedOut: true }
  | { hang: true }
  | { until: Promise<number> }
  | { throws: Error };

/** Step executor following a script: per step id, one entry per attempt (the last repeats). */
export class FakeSteps {
  readonly calls: AttemptSpec[] = [];
  /** Resolves the n-th call's start, for tests that act mid-step. */
  private readonly started: ((spec: AttemptSpec) => void)[] = [];

  constructor(private readonly script: Record<string, FakeAttempt[]> = {}) {}

  /** Resolves when the next attempt has started. */
  nextStart(): Promise<AttemptSpec> {
    return new Promise((resolve) => this.started.push(resolve));
  }

  async runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
    this.calls.push(spec);
    spec.onStarted?.({ pid: 10_000 + this.calls.length });
    this.started.shift()?.(spec);
    const plan = this.script[spec.stepId] ?? [{ exitCode: 0 }];
    const n = this.calls.filter((c) => c.stepId === spec.stepId).length - 1;
    const step = plan[Math.min(n, plan.length - 1)] ?? { exitCode: 0 };
    if ('throws' in step) throw step.throws;
    if ('hang' in step) {
      await new Promise<void>((resolve) => {
        if (spec.signal.aborted) resolve();
        spec.signal.addEventListener('abort', () => resolve());
      });
      return { exitCode: null, timedOut: false, cancelled: true, durationMs: 1 };
    }
    if ('until' in step) {
      const exitCode = await step.until;
      return { exitCode, timedOut: false, cancelled: false, durationMs: 1 };
    }
    if ('timedOut' in step)
      return { exitCode: null, timedOut: true, cancelled: false, durationMs: 1 };
    for (const line of step.output ?? []) spec.onOutput?.('stdout', line);
    return { exitCode: step.exitCode, timedOut: false, cancelled: false, durationMs: 1 };
  }
}

/** Services that start at once (or fail to), with no health check needed; `crash` makes one exit. */
export class FakeServices {
  readonly started: string[] = [];
  readonly stopped: string[] = [];
  /** The grace (ms) each stop was given, in order. */
  readonly graces: (number | undefined)[] = [];
  /** Resolves the `exited` of the latest handle of each service. */
  private readonly exits = new Map<string, (info: { exitCode: number | null }) => void>();
  /** Called after every start, e.g. to wait for a restart. */
  onStart?: (name: string, count: number) => void;

  constructor(private readonly failing: ReadonlySet<string> = new Set()) {}

  /** The latest started handle of `name` exits on its own with `exitCode`. */
  crash(name: string, exitCode: number | null): void {
    this.exits.get(name)?.({ exitCode });
  }

  async startService(spec: ServiceStartSpec): Promise<ServiceHandle> {
    if (this.failing.has(spec.name)) throw new Error('command not found: nope');
    this.started.push(spec.name);
    const stopped = this.stopped;
    const graces = this.graces;
    const exited = new Promise<{ exitCode: number | null }>((resolve) =>
      this.exits.set(spec.name, resolve),
    );
    const count = this.started.filter((n) => n === spec.name).length;
    queueMicrotask(() => this.onStart?.(spec.name, count));
    return {
      name: spec.name,
      endpoint: { host: '127.0.0.1', ports: { 8080: 49_000 } },
      id: '4242',
      exited,
      logTail: () => [`${spec.name} attempt ${count}: listening`, 'segfault'],
      exec: async () => ({ exitCode: 0, output: '' }),
      probeAddress: (port) => ({ host: '127.0.0.1', port }),
      stop: async (graceMs?: number) => {
        stopped.push(spec.name);
        graces.push(graceMs);
      },
    };
  }
}

/** Executors made of the fakes; no Docker. */
export function fakeExecutors(
  steps: FakeSteps,
  services = new FakeServices(),
): Executors & {
  swept: string[];
} {
  const swept: string[] = [];
  return {
    process: steps,
    processServices: services,
    processes: {
      killGroup: () => {},
      sweep: async (runId) => {
        swept.push(runId);
        return { killed: [] };
      },
    },
    swept,
  };
}
