import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/run/backoff.js';

const policy = { initialMs: 1000, factor: 2, maxMs: 30_000 };

describe('backoffDelay', () => {
  it('grows exponentially from the initial delay without jitter', () => {
    const delays = [1, 2, 3, 4, 5].map((a) => backoffDelay(a, { ...policy, jitter: false }));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('is capped at max', () => {
    expect(backoffDelay(6, { ...policy, jitter: false })).toBe(30_000);
    expect(backoffDelay(40, { ...policy, jitter: false })).toBe(30_000);
  });

  it('jitters within [nominal/2, nominal]', () => {
    expect(backoffDelay(3, policy, 0)).toBe(2000);
    expect(backoffDelay(3, policy, 0.999999)).toBe(4000);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, initialMs, factor, maxMs, random) => {
          const nominal = Math.min(maxMs, initialMs * factor ** (attempt - 1));
          const d = backoffDelay(attempt, { initialMs, factor, maxMs }, random);
          return d >= Math.floor(nominal / 2) && d <= Math.ceil(nominal) && d <= maxMs;
        },
      ),
    );
  });

  it('rejects attempt numbers below 1', () => {
    expect(() => backoffDelay(0, policy)).toThrow(RangeError);
  });
});
