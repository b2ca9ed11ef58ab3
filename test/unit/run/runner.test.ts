/**
 * The runner with fake executors, a fake clock and the in-memory store:
 * retries, timeouts, cancellation, pause, requests from other terminals,
 * service failure, resume decisions and a store that refuses writes, each
 * in milliseconds and without Docker (wireit's way of testing its executor).
 */

import { describe, expect, it } from 'vitest';
import type { AgentSpec, WorkflowSpec } from '../../../src/config/model.js';
import type { StoredEvent } from '../../../src/core/events.js';
import { compilePlan, type Plan } from '../../../src/plan/compile.js';
import { runWorkflow } from '../../../src/run/runner.js';
import { MemoryStateStore } from '../../../src/store/memory-state-store.js';
import { StoreError } from '../../../src/store/types.js';
import { FakeClock, FakeServices, FakeSteps, fakeExecutors } from './fakes.js';

const source = { file: 'w.yaml', line: 1, column: 1 };

function step(
  id: string,
  extra: {
    needs?: string[];
    maxAttempts?: number;
    approval?: boolean;
    if?: string;
    continueOnError?: boolean;
  } = {},
): WorkflowSpec['steps'][string] {
  return {
    id,
    source,
    kind: extra.approval ? 'approval' : 'process',
    command: ['true'],
    needs: extra.needs ?? [],
    env: {},
    retry: {
      maxAttempts: extra.maxAttempts ?? 1,
      backoff: { initialMs: 1000, factor: 2, maxMs: 30_000 },
    },
    continueOnError: extra.continueOnError ?? false,
    ...(extra.if !== undefined ? { if: extra.if } : {}),
    ...(extra.approval ? { approval: { message: 'ok?', approvers: [] } } : {}),
  };
}

function plan(
  steps: WorkflowSpec['steps'][string][],
  services: string[] = [],
  restart?: AgentSpec['restart'],
): Plan {
  return compilePlan({
    kind: 'Workflow',
    name: 'w',
    path: '/project/w.yaml',
    source,
    concurrency: 2,
    failFast: true,
    inputs: {},
    secrets: [],
    env: {},
    services: Object.fromEntries(
      services.map((name) => [
        name,
        {
          name,
          source,
          agent: {
            kind: 'Agent',
            name,
            path: '/project/w.yaml',
            source,
            runtime: 'process',
            command: ['serve'],
            ports: [{ container: 8080, host: 0, protocol: 'tcp' }],
            environment: [],
            volumes: [],
            resources: { limits: {} },
            ...(restart ? { restart } : {}),
          },
        },
      ]),
    ),
    steps: Object.fromEntries(steps.map((s) => [s.id, s])),
  });
}

function setup(p: Plan, steps = new FakeSteps(), services = new FakeServices()) {
  const store = new MemoryStateStore();
  const clock = new FakeClock();
  const executors = fakeExecutors(steps, services);
  const seen: StoredEvent[] = [];
  const run = (extra: Partial<Parameters<typeof runWorkflow>[0]> = {}) =>
    runWorkflow({
      plan: p,
      store,
      statePath: '/project/.agentfile/state.db',
      executors,
      clock,
      onEvent: (e) => seen.push(e),
      ...extra,
    });
  return { store, clock, executors, seen, run, steps };
}

/** Waits (real time, a few ms at a time) until `check` holds; fails after 2 s. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('the runner, with fakes', () => {
  it('retries a failing step with backoff and records every attempt', async () => {
    const steps = new FakeSteps({ flaky: [{ exitCode: 1 }, { exitCode: 2 }, { exitCode: 0 }] });
    const t = setup(
      plan([step('flaky', { maxAttempts: 3 }), step('next', { needs: ['flaky'] })]),
      steps,
    );
    const result = await t.run();
    expect(result.status).toBe('succeeded');
    const attempts = await t.store.getAttempts(result.runId, 'flaky');
    expect(attempts.map((a) => [a.attempt, a.status, a.exitCode])).toEqual([
      [1, 'failed', 1],
      [2, 'failed', 2],
      [3, 'succeeded', 0],
    ]);
    // Backoff 1 s then 2 s, with jitter (half to full): the fake clock was asked to sleep twice.
    expect(t.clock.sleeps).toHaveLength(2);
    expect(t.clock.sleeps[0]).toBeGreaterThanOrEqual(500);
    expect(t.clock.sleeps[0]).toBeLessThanOrEqual(1000);
    expect(t.seen.filter((e) => e.type === 'step.retrying')).toHaveLength(2);
    expect(t.steps.calls.map((c) => c.stepId)).toEqual(['flaky', 'flaky', 'flaky', 'next']);
  });

  it('a timed-out step fails the run; what needs it is skipped, the rest still runs', async () => {
    const steps = new FakeSteps({ slow: [{ timedOut: true }] });
    const t = setup(plan([step('slow'), step('after', { needs: ['slow'] }), step('free')]), steps);
    const result = await t.run();
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/step "slow" timed out/);
    const byId = Object.fromEntries(result.steps.map((s) => [s.id, s.status]));
    expect(byId).toEqual({ slow: 'timed_out', after: 'skipped', free: 'succeeded' });
  });

  it('cancelling through the signal kills the running step and cancels what did not start', async () => {
    const steps = new FakeSteps({ long: [{ hang: true }] });
    const t = setup(plan([step('long'), step('after', { needs: ['long'] })]), steps);
    const controller = new AbortController();
    const started = steps.nextStart();
    const running = t.run({ signal: controller.signal });
    await started;
    controller.abort();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(Object.fromEntries(result.steps.map((s) => [s.id, s.status]))).toEqual({
      long: 'cancelled',
      after: 'cancelled',
    });
    expect(t.executors.swept).toEqual([result.runId]);
  });

  it('after a cancellation, steps with always() or cancelled() still run; failure() ones are skipped', async () => {
    const steps = new FakeSteps({ long: [{ hang: true }] });
    const t = setup(
      plan([
        step('long'),
        step('after', { needs: ['long'] }),
        step('cleanup', { needs: ['long'], if: 'always()' }),
        step('notice', { needs: ['long'], if: '${{ cancelled() }}' }),
        step('on-failure', { needs: ['long'], if: 'failure()' }),
      ]),
      steps,
    );
    const controller = new AbortController();
    const started = steps.nextStart();
    const running = t.run({ signal: controller.signal });
    await started;
    controller.abort();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(Object.fromEntries(result.steps.map((s) => [s.id, s.status]))).toEqual({
      long: 'cancelled',
      after: 'cancelled',
      cleanup: 'succeeded',
      notice: 'succeeded',
      'on-failure': 'skipped',
    });
    expect(steps.calls.map((s) => s.stepId)).toEqual(['long', 'cleanup', 'notice']);
    // Decided after the cancellation, they run to their end: only a forced stop kills them.
    expect(steps.calls.slice(1).every((c) => !c.signal.aborted)).toBe(true);
  });

  it('a continueOnError failure lets dependants run and the run succeed; a false if skips', async () => {
    const steps = new FakeSteps({ flaky: [{ exitCode: 2 }] });
    const t = setup(
      plan([
        step('flaky', { continueOnError: true }),
        step('next', { needs: ['flaky'] }),
        step('never', { if: "${{ 'a' == 'b' }}" }),
        step('child', { needs: ['never'] }),
      ]),
      steps,
    );
    const result = await t.run();
    expect(result.status).toBe('succeeded');
    expect(Object.fromEntries(result.steps.map((s) => [s.id, [s.status, s.error]]))).toEqual({
      flaky: ['failed', 'exit code 2'],
      next: ['succeeded', null],
      never: ['skipped', "if: ${{ 'a' == 'b' }} was false"],
      child: ['skipped', 'needs never'],
    });
  });

  it('notices `agent cancel` (a request in the store) on its next heartbeat tick', async () => {
    const steps = new FakeSteps({ long: [{ hang: true }] });
    const t = setup(plan([step('long')]), steps);
    let runId = '';
    const started = steps.nextStart();
    const running = t.run({ onRunId: (id) => (runId = id) });
    await started;
    await t.store.append({ type: 'run.cancel_requested', runId, at: t.clock.now(), by: 'alice' });
    await t.clock.tick();
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(result.error).toBe('cancelled by alice (agent cancel)');
    // The request reached the reporters too, from the store.
    expect(t.seen.map((e) => e.type)).toContain('run.cancel_requested');
  });

  it('pause: the running step finishes, nothing new starts; --resume continues without rerunning', async () => {
    let finishA!: (code: number) => void;
    const until = new Promise<number>((resolve) => {
      finishA = resolve;
    });
    const steps = new FakeSteps({ a: [{ until }] });
    const t = setup(plan([step('a'), step('b', { needs: ['a'] })]), steps);
    let runId = '';
    const started = steps.nextStart();
    const running = t.run({ onRunId: (id) => (runId = id) });
    const spec = await started;
    await t.store.append({ type: 'run.pause_requested', runId, at: t.clock.now(), by: 'bob' });
    await t.clock.tick();
    finishA(0);
    const result = await running;
    expect(spec.signal.aborted).toBe(false);
    expect(result.status).toBe('paused');
    expect(Object.fromEntries(result.steps.map((s) => [s.id, s.status]))).toEqual({
      a: 'succeeded',
      b: 'pending',
    });
    expect((await t.store.getRun(runId))?.status).toBe('paused');

    const resumed = await t.run({ resume: true });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.runId).toBe(runId);
    expect(t.steps.calls.map((c) => c.stepId)).toEqual(['a', 'b']);
  });

  it('an approval step: other branches go on, then the run waits; approved, --resume completes it', async () => {
    const t = setup(
      plan([step('gate', { approval: true }), step('deploy', { needs: ['gate'] }), step('other')]),
    );
    const first = await t.run();
    expect(first.status).toBe('waiting');
    expect(Object.fromEntries(first.steps.map((s) => [s.id, s.status]))).toEqual({
      gate: 'waiting',
      deploy: 'pending',
      other: 'succeeded',
    });
    await t.store.append({
      type: 'step.approved',
      runId: first.runId,
      at: t.clock.now(),
      step: 'gate',
      by: 'alice',
    });
    const second = await t.run({ resume: true });
    expect(second.status).toBe('succeeded');
    expect(t.steps.calls.map((c) => c.stepId)).toEqual(['other', 'deploy']);
  });

  it('a service that fails to start fails the run and skips the steps that need it', async () => {
    const t = setup(
      plan([step('uses-db', { needs: ['db'] }), step('free')], ['db']),
      new FakeSteps(),
      new FakeServices(new Set(['db'])),
    );
    const result = await t.run();
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/service "db" failed to start: command not found: nope/);
    expect(Object.fromEntries(result.steps.map((s) => [s.id, s.status]))).toEqual({
      db: 'failed',
      'uses-db': 'skipped',
      free: 'succeeded',
    });
  });

  it('a healthy service is stopped once no remaining step needs it, and its address reaches the step', async () => {
    const services = new FakeServices();
    const t = setup(
      plan([step('uses-api', { needs: ['api'] })], ['api']),
      new FakeSteps(),
      services,
    );
    const result = await t.run();
    expect(result.status).toBe('succeeded');
    expect(services.started).toEqual(['api']);
    expect(services.stopped).toEqual(['api']);
    expect(t.steps.calls[0]?.env).toMatchObject({
      AGENT_SERVICE_API_HOST: '127.0.0.1',
      AGENT_SERVICE_API_PORT: '49000',
      AGENT_SERVICE_API_URL: 'http://127.0.0.1:49000',
    });
  });

  it("a graceful stop gives the service its stopGracePeriod, or the run's default", async () => {
    for (const [own, expected] of [
      [1500, 1500],
      [undefined, 10_000],
    ] as const) {
      const services = new FakeServices();
      const p = plan([step('uses-api', { needs: ['api'] })], ['api']);
      const api = p.nodes.find((n) => n.id === 'api');
      if (api?.kind === 'service' && own !== undefined) api.service.agent.stopGracePeriodMs = own;
      const result = await setup(p, new FakeSteps(), services).run();
      expect(result.status).toBe('succeeded');
      expect(services.graces).toEqual([expected]);
    }
  });

  it('a service that exits after it became healthy fails the run with its last lines, and the running step is cancelled or ends', async () => {
    const services = new FakeServices();
    let finish!: (code: number) => void;
    const steps = new FakeSteps({
      'uses-api': [{ until: new Promise<number>((r) => (finish = r)) }],
    });
    const t = setup(
      plan([step('uses-api', { needs: ['api'] }), step('after', { needs: ['uses-api'] })], ['api']),
      steps,
      services,
    );
    const started = steps.nextStart();
    const running = t.run();
    await started;
    services.crash('api', 139);
    await until(() => t.seen.some((e) => e.type === 'service.status' && e.status === 'failed'));
    finish(0);
    const result = await running;
    expect(result.status).toBe('failed');
    expect(result.error).toBe('service "api" exited with code 139 while steps still needed it');
    const failed = t.seen.find((e) => e.type === 'service.status' && e.status === 'failed');
    expect(failed).toMatchObject({ attempt: 1, logTail: ['api attempt 1: listening', 'segfault'] });
    expect(t.seen.some((e) => e.type === 'service.restarting')).toBe(false);
    expect(services.started).toEqual(['api']);
  });

  it('a service restarted by on-failure is recorded as a second attempt; new steps wait until it is healthy again', async () => {
    const services = new FakeServices();
    let finish!: (code: number) => void;
    const steps = new FakeSteps({
      first: [{ until: new Promise<number>((r) => (finish = r)) }],
    });
    const t = setup(
      plan(
        [step('first', { needs: ['api'] }), step('second', { needs: ['api', 'first'] })],
        ['api'],
        { policy: 'on-failure', maxRetries: 3 },
      ),
      steps,
      services,
    );
    const started = steps.nextStart();
    const running = t.run();
    await started;
    const restarted = new Promise<void>((resolve) => {
      services.onStart = (_n, count) => count === 2 && resolve();
    });
    services.crash('api', 1);
    await restarted;
    finish(0);
    const result = await running;
    expect(result.status).toBe('succeeded');
    expect(services.started).toEqual(['api', 'api']);
    const restarting = t.seen.find((e) => e.type === 'service.restarting');
    expect(restarting).toMatchObject({
      service: 'api',
      attempt: 1,
      reason: 'exited',
      exitCode: 1,
      restart: 1,
      delayMs: 100,
      error: 'service "api" exited with code 1 while steps still needed it',
    });
    const starting = t.seen.filter((e) => e.type === 'service.starting');
    expect(starting.map((e) => e.type === 'service.starting' && e.attempt)).toEqual([1, 2]);
    const attempts = await t.store.getAttempts(result.runId, 'api');
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    // `second` started only after attempt 2 was healthy.
    const order = t.seen
      .filter(
        (e) =>
          (e.type === 'step.started' && e.step === 'second') ||
          (e.type === 'service.status' && e.status === 'healthy'),
      )
      .map((e) => e.type);
    expect(order).toEqual(['service.status', 'service.status', 'step.started']);
  });

  it('on-failure gives up after maxRetries restarts', async () => {
    const services = new FakeServices();
    let finish!: (code: number) => void;
    const steps = new FakeSteps({ s: [{ until: new Promise<number>((r) => (finish = r)) }] });
    const t = setup(
      plan([step('s', { needs: ['api'] })], ['api'], { policy: 'on-failure', maxRetries: 1 }),
      steps,
      services,
    );
    const started = steps.nextStart();
    const running = t.run();
    await started;
    const restarted = new Promise<void>((resolve) => {
      services.onStart = (_n, count) => count === 2 && resolve();
    });
    services.crash('api', 2);
    await restarted;
    await until(() =>
      t.seen.some((e) => e.type === 'service.status' && e.status === 'healthy' && e.attempt === 2),
    );
    services.crash('api', 2);
    await until(() => t.seen.some((e) => e.type === 'service.status' && e.status === 'failed'));
    finish(0);
    const result = await running;
    expect(result.status).toBe('failed');
    expect(services.started).toEqual(['api', 'api']);
    expect(t.seen.filter((e) => e.type === 'service.restarting')).toHaveLength(1);
  });

  it('replicas: 2 starts two handles behind one service; steps get every URL and both are stopped', async () => {
    const services = new FakeServices();
    const p = plan([step('uses-api', { needs: ['api'] })], ['api']);
    const node = p.nodes.find((n) => n.kind === 'service');
    if (node?.kind !== 'service') throw new Error('no service');
    node.service.agent.replicas = 2;
    const t = setup(p, new FakeSteps(), services);
    const result = await t.run();
    expect(result.status).toBe('succeeded');
    expect(services.started).toEqual(['api', 'api']);
    expect(services.stopped).toEqual(['api', 'api']);
    expect(t.steps.calls[0]?.env).toMatchObject({
      AGENT_SERVICE_API_URL: 'http://127.0.0.1:49000',
      AGENT_SERVICE_API_URLS: 'http://127.0.0.1:49000,http://127.0.0.1:49000',
    });
    const starting = t.seen.find((e) => e.type === 'service.starting');
    expect(starting?.type === 'service.starting' && starting.logFile).toMatch(/1\.log$/);
  });

  it('resume reuses what succeeded unchanged and reruns the failed step and what it blocked', async () => {
    const steps = new FakeSteps({ b: [{ exitCode: 1 }, { exitCode: 0 }] });
    const t = setup(
      plan([step('a'), step('b', { needs: ['a'] }), step('c', { needs: ['b'] })]),
      steps,
    );
    const first = await t.run();
    expect(first.status).toBe('failed');
    const second = await t.run({ resume: true });
    expect(second.status).toBe('succeeded');
    expect(t.steps.calls.map((c) => `${c.stepId}.${c.attempt}`)).toEqual([
      'a.1',
      'b.1',
      'b.2',
      'c.1',
    ]);
    const started = t.seen.filter((e) => e.type === 'run.started');
    expect(started[1]).toMatchObject({
      resumed: true,
      reused: ['a'],
      rerun: [
        { id: 'b', reason: 'failed' },
        { id: 'c', reason: 'never ran' },
      ],
    });
  });

  it('--from reruns the step and everything downstream, in the same run', async () => {
    const t = setup(
      plan([step('a'), step('b', { needs: ['a'] }), step('c', { needs: ['b'] }), step('d')]),
    );
    const first = await t.run();
    expect(first.status).toBe('succeeded');
    const again = await t.run({ from: 'b' });
    expect(again.runId).toBe(first.runId);
    expect(again.status).toBe('succeeded');
    expect(t.steps.calls.map((c) => `${c.stepId}.${c.attempt}`)).toEqual([
      'a.1',
      'd.1',
      'b.1',
      'c.1',
      'b.2',
      'c.2',
    ]);
    await expect(t.run({ from: 'nope' })).rejects.toThrow(/has no step "nope"/);
  });

  it('a store that refuses writes stops the run before another step starts', async () => {
    const steps = new FakeSteps();
    const t = setup(plan([step('a'), step('b', { needs: ['a'] })]), steps);
    const running = t.run({
      onEvent: (e) => {
        if (e.type === 'step.finished' && e.step === 'a')
          t.store.failWrites = new StoreError('database or disk is full');
      },
    });
    await expect(running).rejects.toThrow(/disk is full/);
    expect(steps.calls.map((c) => c.stepId)).toEqual(['a']);
  });

  it('every event reporters saw is in the store, in the same order, equal field for field', async () => {
    const steps = new FakeSteps({
      a: [
        { exitCode: 1, output: ['x'] },
        { exitCode: 0, output: ['y', 'z'] },
      ],
    });
    const t = setup(
      plan([step('a', { maxAttempts: 2 }), step('b', { needs: ['a', 'api'] })], ['api']),
      steps,
    );
    const result = await t.run();
    expect(result.status).toBe('succeeded');
    const stored = await t.store.getEvents(result.runId);
    expect(stored.map((e) => JSON.stringify(e))).toEqual(t.seen.map((e) => JSON.stringify(e)));
    expect(new Set(stored.map((e) => e.type))).toEqual(
      new Set([
        'run.created',
        'run.started',
        'step.started',
        'step.spawned',
        'step.output',
        'step.retrying',
        'step.finished',
        'service.starting',
        'service.started',
        'service.status',
        'run.finished',
      ]),
    );
  });
});
