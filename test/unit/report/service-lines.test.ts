import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events.js';
import { formatEventPlain } from '../../../src/report/plain.js';

const base = { v: 1, seq: 1, runId: 'r1', at: 0 } as const;

describe('plain lines of the service watch', () => {
  it('a failed probe of a healthy service says so, with the count', () => {
    const event: StoredEvent = {
      ...base,
      type: 'service.probe_failed',
      service: 'api',
      error: 'tcp 127.0.0.1:8080: connect ECONNREFUSED 127.0.0.1:8080',
      counted: true,
      watching: true,
      consecutiveFailures: 2,
    };
    expect(formatEventPlain(event, '/')).toEqual([
      'service api: health check failed while healthy (2 in a row): tcp 127.0.0.1:8080: connect ECONNREFUSED 127.0.0.1:8080',
    ]);
  });

  it('a restart names the attempt, the count, the delay and the last lines', () => {
    const event: StoredEvent = {
      ...base,
      type: 'service.restarting',
      service: 'api',
      attempt: 1,
      reason: 'exited',
      error: 'service "api" exited with code 3 while steps still needed it',
      exitCode: 3,
      restart: 1,
      delayMs: 100,
      logTail: ['fatal: out of memory'],
    };
    expect(formatEventPlain(event, '/')).toEqual([
      'service api: attempt 1 exited, restarting (1) in 100ms: service "api" exited with code 3 while steps still needed it',
      'service api | fatal: out of memory',
    ]);
  });
});
