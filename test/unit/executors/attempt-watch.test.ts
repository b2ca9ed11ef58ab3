import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchAttempt } from '../../../src/executors/attempt-watch.js';

describe('watchAttempt', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(timeoutMs?: number, signal = new AbortController().signal) {
    let stopping = false;
    const stop = vi.fn(() => {
      stopping = true;
    });
    const watch = watchAttempt({ timeoutMs, signal, stop, stopping: () => stopping });
    return { watch, stop, setStopping: () => (stopping = true) };
  }

  it('stops once at the deadline and says it timed out', () => {
    const { watch, stop } = setup(1000);
    vi.advanceTimersByTime(999);
    expect(stop).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(watch.timedOut).toBe(true);
    expect(watch.cancelled).toBe(false);
  });

  it('an abort before the deadline cancels, and the deadline then does nothing', () => {
    const controller = new AbortController();
    const { watch, stop } = setup(1000, controller.signal);
    controller.abort();
    vi.advanceTimersByTime(5000);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(watch.cancelled).toBe(true);
    expect(watch.timedOut).toBe(false);
  });

  it('an already-aborted signal cancels at once', () => {
    const controller = new AbortController();
    controller.abort();
    const { watch, stop } = setup(undefined, controller.signal);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(watch.cancelled).toBe(true);
  });

  it('records neither cause when the attempt is already stopping for another reason', () => {
    const { watch, stop, setStopping } = setup(1000);
    setStopping();
    vi.advanceTimersByTime(1000);
    expect(stop).not.toHaveBeenCalled();
    expect(watch.timedOut).toBe(false);
  });

  it('dispose clears the deadline', () => {
    const { watch, stop } = setup(1000);
    watch.dispose();
    vi.advanceTimersByTime(2000);
    expect(stop).not.toHaveBeenCalled();
  });
});
