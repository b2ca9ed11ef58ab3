import { describe, expect, it } from 'vitest';
import { formatMs } from '../../../src/run/format.js';

describe('formatMs', () => {
  it('uses ms below a second, tenths of seconds below a minute, then m and s', () => {
    expect([0, 999, 1000, 1549, 59_940, 60_000, 119_600, 3_723_000].map(formatMs)).toEqual([
      '0ms',
      '999ms',
      '1.0s',
      '1.5s',
      '59.9s',
      '1m00s',
      '2m00s',
      '62m03s',
    ]);
  });
});
