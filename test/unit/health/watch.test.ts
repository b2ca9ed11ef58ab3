import { describe, expect, test } from 'vitest';
import type { HealthCheck } from '../../../src/config/model.js';
import { EngineUnavailableError } from '../../../src/executors/types.js';
import type { ProbeResult } from '../../../src/health/probe.js';
import type { Clock } from '../../../src/health/wait-healthy.js';
import { watchHealthy } from '../../../src/health/watch.js';

/** A clock whose `sleep` advances time at once. */
class FakeClock implements Clock {
  time = 0;
  sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  }
}

const check = (overrides: Partial<HealthCheck> = {}): HealthCheck => ({
  probe: { kind: 'tcp', port: 80 },
  intervalMs: 1000,
  timeoutMs: 500,
  retries: 3,
  startPeriodMs: 60_000,
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

const never = new Promise<{ exitCode: number | null }>(() => {});

describe('watchHealthy', () => {
  test('probes every interval after healthy; retries failures in a row make it unhealthy, start period ignored', async () => {
    const clock = new FakeClock();
    const { probe, calls } = scripted(clock, [true, 'refused', true, 'refused', 'refused', 'gone']);
    const seen: number[] = [];
    const outcome = await watchHealthy({
      check: check(),
      probe,
      exited: never,
      clock,
      signal: new AbortController().signal,
      onProbe: (_r, n) => seen.push(n),
    });
    expect(outcome).toEqual({
      status: 'unhealthy',
      lastError: 'gone',
      probes: 6,
      consecutiveFailures: 3,
    });
    // The first probe one interval after healthy, then one per interval.
    expect(calls).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
    // A success resets the count.
    expect(seen).toEqual([0, 1, 0, 1, 2, 3]);
  });

  test('retries below 1 count as 1', async () => {
    const clock = new FakeClock();
    const { probe } = scripted(clock, ['down']);
    const outcome = await watchHealthy({
      check: check({ retries: 0 }),
      probe,
      exited: never,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toMatchObject({ status: 'unhealthy', probes: 1 });
  });

  test('an exit ends the watch at once, mid-probe', async () => {
    let exit!: (v: { exitCode: number | null }) => void;
    const exited = new Promise<{ exitCode: number | null }>((r) => {
      exit = r;
    });
    const clock = new FakeClock();
    const probe = (): Promise<ProbeResult> => {
      exit({ exitCode: 137 });
      return new Promise(() => {});
    };
    const outcome = await watchHealthy({
      check: check(),
      probe,
      exited,
      clock,
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'exited', exitCode: 137 });
  });

  test('without a health check only the exit is watched', async () => {
    const outcome = await watchHealthy({
      check: undefined,
      probe: async () => ({ ok: true }),
      exited: Promise.resolve({ exitCode: 1 }),
      signal: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: 'exited', exitCode: 1 });
  });

  test('aborting stops the watch, and wins over an exit', async () => {
    const stop = new AbortController();
    const pending = watchHealthy({
      check: undefined,
      probe: async () => ({ ok: true }),
      exited: never,
      signal: stop.signal,
    });
    stop.abort();
    expect(await pending).toEqual({ status: 'stopped' });
    const aborted = new AbortController();
    aborted.abort();
    expect(
      await watchHealthy({
        check: check(),
        probe: async () => ({ ok: true }),
        exited: Promise.resolve({ exitCode: 0 }),
        signal: aborted.signal,
      }),
    ).toEqual({ status: 'stopped' });
  });

  test('the engine going away rejects', async () => {
    const outcome = watchHealthy({
      check: undefined,
      probe: async () => ({ ok: true }),
      exited: Promise.reject(new EngineUnavailableError('engine gone')),
      signal: new AbortController().signal,
    });
    await expect(outcome).rejects.toBeInstanceOf(EngineUnavailableError);
  });
});
