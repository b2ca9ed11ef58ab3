import { describe, expect, it } from 'vitest';
import type { AttemptResult } from '../../../src/executors/types.js';
import { attemptOutcome } from '../../../src/run/runner.js';

const base: AttemptResult = { exitCode: 0, timedOut: false, cancelled: false, durationMs: 5 };

describe('attemptOutcome', () => {
  it('maps results to step states with a one-line reason', () => {
    expect(attemptOutcome(base, undefined)).toEqual({ status: 'succeeded' });
    expect(attemptOutcome({ ...base, exitCode: 2 }, undefined)).toEqual({
      status: 'failed',
      error: 'exit code 2',
    });
    expect(
      attemptOutcome({ ...base, exitCode: null, error: 'command not found: nope' }, undefined),
    ).toEqual({ status: 'failed', error: 'command not found: nope' });
    expect(attemptOutcome({ ...base, exitCode: null, timedOut: true }, 1000)).toEqual({
      status: 'timed_out',
      error: 'timed out after 1.0s',
    });
  });

  it('cancellation wins over a timeout or an exit code', () => {
    expect(
      attemptOutcome({ ...base, exitCode: 143, cancelled: true, timedOut: true }, 1000),
    ).toEqual({ status: 'cancelled', error: 'cancelled' });
  });
});
