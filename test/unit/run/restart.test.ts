import { describe, expect, it } from 'vitest';
import { mayRestart, restartDelayMs } from '../../../src/run/services.js';

describe('service restart policy', () => {
  const onFailure = { policy: 'on-failure', maxRetries: 2 } as const;

  it('no policy, or policy no, never restarts', () => {
    expect(mayRestart(undefined, 0, 'exited', 1)).toBe(false);
    expect(mayRestart({ policy: 'no', maxRetries: 3 }, 0, 'unhealthy', null)).toBe(false);
  });

  it('on-failure restarts a non-zero exit, a kill by a signal and unhealthy, up to maxRetries', () => {
    expect(mayRestart(onFailure, 0, 'exited', 1)).toBe(true);
    expect(mayRestart(onFailure, 1, 'exited', null)).toBe(true);
    expect(mayRestart(onFailure, 1, 'unhealthy', null)).toBe(true);
    expect(mayRestart(onFailure, 2, 'exited', 1)).toBe(false);
    expect(mayRestart({ policy: 'on-failure', maxRetries: 0 }, 0, 'exited', 1)).toBe(false);
  });

  it('on-failure does not restart an exit with code 0 (Docker)', () => {
    expect(mayRestart(onFailure, 0, 'exited', 0)).toBe(false);
  });

  it('backs off 100 ms, doubling, at most 10 s', () => {
    expect([1, 2, 3, 4, 8, 20].map(restartDelayMs)).toEqual([100, 200, 400, 800, 10_000, 10_000]);
  });
});
