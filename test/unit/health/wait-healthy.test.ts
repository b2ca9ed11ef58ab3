import { describe, expect, test } from 'vitest';
import type { HealthCheck } from '../../../src/config/model.js';
import type { ProbeResult } from '../../../src/health/probe.js';
import { type Clock, type ProbeInfo, waitHealthy } from '../../../src/health/wait-healthy.js';

/** A clock whose `sleep` advances time at once; `hold` makes sleeps wait until aborted. */
class FakeClock implements Clock {
  time = 0;
  sleeps: number[] = [];
  hold = false;

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (!this.hold) {
      this.time += ms;
      return Promise.resolve();
    }
    return new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

const check = (overrides: Partial<HealthCheck> = {}): HealthCheck => ({
  probe: { kind: 'tcp', port: 80 },
  intervalMs: 1000,
  timeoutMs: 500,
  retries: 3,
  startPeriodMs: 0,
  ...overrides,
});

/** A probe answering from a script: `true` ok, a string an error; the last entry repeats. */
function scripted(clock: FakeClock, script: (true | string)[]) {
  const calls: number[] = [];
  const probe = async (): Promise<ProbeResult> => {
    calls.push(clock.now());
    const step = script[Math.min(calls.length - 1, script.length - 1)];
    return step === true ? { ok: true } : { ok: false, error: step ?? 'no script' };
  };
  return { probe, calls };
}

describe('waitHealthy', () => {
  test('healthy on the first successful probe, run right after start', async () => {
    const clock = new FakeClock();
    const { probe, calls } = scripted(clock, [true]);
    const outcome = await waitHealthy({
      check: check(),
      probe,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'healthy', probes: 1 });
    expect(calls).toEqual([0]);
    expect(clock.sleeps).toEqual([]);
  });

  test('a service without a health check is healthy once started (compose service_started)', async () => {
    const clock = new FakeClock();
    const { probe, calls } = scripted(clock, ['unused']);
    const outcome = await waitHealthy({
      check: undefined,
      probe,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'healthy', probes: 0 });
    expect(calls).toEqual([]);
  });

  test('probes run every interval until one succeeds', async () => {
    const clock = new FakeClock();
    const { probe, calls } = scripted(clock, ['refused', 'refused', true]);
    const outcome = await waitHealthy({
      check: check({ retries: 5 }),
      probe,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'healthy', probes: 3 });
    expect(calls).toEqual([0, 1000, 2000]);
  });

  test('failures within the start period do not count', async () => {
    const clock = new FakeClock();
    const infos: ProbeInfo[] = [];
    const { probe } = scripted(clock, ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    const outcome = await waitHealthy({
      check: check({ retries: 2, startPeriodMs: 3000 }),
      probe,
      clock,
      signal: new AbortController().signal,
      onProbe: (_result, info) => infos.push(info),
    });
    // Probes at 0, 1000, 2000 are in the start period; 3000 and 4000 count.
    expect(infos.map((i) => i.counted)).toEqual([false, false, false, true, true]);
    expect(infos.map((i) => i.consecutiveFailures)).toEqual([0, 0, 0, 1, 2]);
    expect(outcome).toEqual({ status: 'unhealthy', lastError: 'e5', probes: 5 });
  });

  test('a success within the start period makes it healthy', async () => {
    const clock = new FakeClock();
    const { probe } = scripted(clock, ['starting', true]);
    const outcome = await waitHealthy({
      check: check({ retries: 1, startPeriodMs: 10_000 }),
      probe,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'healthy', probes: 2 });
  });

  test('exactly `retries` consecutive failures make it unhealthy, with the last error', async () => {
    const clock = new FakeClock();
    const { probe, calls } = scripted(clock, ['a', 'b', 'c', 'd']);
    const outcome = await waitHealthy({
      check: check({ retries: 3 }),
      probe,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'unhealthy', lastError: 'c', probes: 3 });
    expect(calls).toHaveLength(3);
  });

  test('retries below 1 are treated as 1', async () => {
    const clock = new FakeClock();
    const { probe } = scripted(clock, ['down']);
    const outcome = await waitHealthy({
      check: check({ retries: 0 }),
      probe,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'unhealthy', lastError: 'down', probes: 1 });
  });

  test('a success resets the count of consecutive failures', async () => {
    const clock = new FakeClock();
    const infos: ProbeInfo[] = [];
    const results: ProbeResult[] = [];
    // A success ends the wait (healthy), so the reset shows in what onProbe is told.
    const { probe } = scripted(clock, ['x', 'y', true]);
    const outcome = await waitHealthy({
      check: check({ retries: 3 }),
      probe,
      clock,
      signal: new AbortController().signal,
      onProbe: (result, info) => {
        results.push(result);
        infos.push(info);
      },
    });
    expect(outcome).toEqual({ status: 'healthy', probes: 3 });
    expect(infos.map((i) => i.consecutiveFailures)).toEqual([1, 2, 0]);
    expect(results.at(-1)).toEqual({ ok: true });
  });

  test('the service exiting while probes fail ends the wait with exited and the last error', async () => {
    const clock = new FakeClock();
    let exit!: (info: { exitCode: number | null }) => void;
    const exited = new Promise<{ exitCode: number | null }>((resolve) => {
      exit = resolve;
    });
    let calls = 0;
    const outcome = await waitHealthy({
      check: check({ retries: 10 }),
      probe: async () => {
        calls += 1;
        if (calls === 2) exit({ exitCode: 2 });
        return { ok: false, error: `refused ${calls}` };
      },
      exited,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'exited', exitCode: 2, lastError: 'refused 1' });
    expect(calls).toBe(2);
  });

  test('an exit during the interval ends the wait at once, not after the next probe', async () => {
    const clock = new FakeClock();
    clock.hold = true;
    let exit!: (info: { exitCode: number | null }) => void;
    const exited = new Promise<{ exitCode: number | null }>((resolve) => {
      exit = resolve;
    });
    let calls = 0;
    const waiting = waitHealthy({
      check: check({ retries: 10, intervalMs: 60_000 }),
      probe: async () => {
        calls += 1;
        return { ok: false, error: 'refused' };
      },
      exited,
      clock,
      signal: new AbortController().signal,
    });
    // Let the loop reach its (held) sleep, then exit.
    while (clock.sleeps.length === 0) await Promise.resolve();
    exit({ exitCode: null });
    expect(await waiting).toEqual({ status: 'exited', exitCode: null, lastError: 'refused' });
    expect(calls).toBe(1);
  });

  test('a service that has already exited is reported without probing', async () => {
    const clock = new FakeClock();
    const { probe, calls } = scripted(clock, [true]);
    const outcome = await waitHealthy({
      check: check(),
      probe,
      exited: Promise.resolve({ exitCode: 1 }),
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'exited', exitCode: 1 });
    expect(calls).toEqual([]);
  });

  test('abort ends the wait with cancelled, during a probe or an interval', async () => {
    const clock = new FakeClock();
    clock.hold = true;
    const controller = new AbortController();
    const waiting = waitHealthy({
      check: check(),
      probe: async () => ({ ok: false, error: 'refused' }),
      clock,
      signal: controller.signal,
    });
    while (clock.sleeps.length === 0) await Promise.resolve();
    controller.abort();
    expect(await waiting).toEqual({ status: 'cancelled' });

    const hung = new AbortController();
    const duringProbe = waitHealthy({
      check: check(),
      probe: () => new Promise<ProbeResult>(() => {}),
      clock: new FakeClock(),
      signal: hung.signal,
    });
    hung.abort();
    expect(await duringProbe).toEqual({ status: 'cancelled' });

    const already = AbortSignal.abort();
    expect(
      await waitHealthy({ check: check(), probe: async () => ({ ok: true }), signal: already }),
    ).toEqual({ status: 'cancelled' });
  });

  test('a probe that rejects counts as a failed probe', async () => {
    const clock = new FakeClock();
    const outcome = await waitHealthy({
      check: check({ retries: 1 }),
      probe: () => Promise.reject(new Error('probe bug')),
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'unhealthy', lastError: 'probe bug', probes: 1 });
  });

  test.each([
    { intervalMs: 1000, startPeriodMs: 0, retries: 3 },
    { intervalMs: 1000, startPeriodMs: 2500, retries: 3 },
    { intervalMs: 500, startPeriodMs: 10_000, retries: 1 },
    { intervalMs: 2000, startPeriodMs: 4000, retries: 5 },
  ])(
    'unhealthy is declared at ceil(startPeriod / interval) × interval + (retries - 1) × interval: %o',
    async (params) => {
      const clock = new FakeClock();
      clock.time = 50_000; // any origin
      const { probe, calls } = scripted(clock, ['down']);
      const outcome = await waitHealthy({
        check: check(params),
        probe,
        clock,
        signal: new AbortController().signal,
      });
      const { intervalMs, startPeriodMs, retries } = params;
      const expected =
        Math.ceil(startPeriodMs / intervalMs) * intervalMs + (retries - 1) * intervalMs;
      expect(outcome.status).toBe('unhealthy');
      expect(clock.now() - 50_000).toBe(expected);
      expect(calls.at(-1)).toBe(50_000 + expected);
    },
  );

  test('probe time counts: the next probe starts an interval after the previous one ended', async () => {
    const clock = new FakeClock();
    const calls: number[] = [];
    const outcome = await waitHealthy({
      check: check({ retries: 2, startPeriodMs: 0, intervalMs: 1000 }),
      probe: async () => {
        calls.push(clock.now());
        clock.time += 300; // the probe takes 300 ms
        return { ok: false, error: 'slow and down' };
      },
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'unhealthy', lastError: 'slow and down', probes: 2 });
    expect(calls).toEqual([0, 1300]);
  });
});
