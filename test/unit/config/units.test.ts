import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  parseCpu,
  parseDuration,
  parseMemory,
  parsePortString,
} from '../../../src/config/units.js';

describe('parseDuration', () => {
  it('reads Go/compose durations in ms', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1m30s250ms')).toBe(90_250);
    expect(parseDuration('0s')).toBe(0);
  });

  it('rejects bare numbers, unknown units and spaces', () => {
    for (const bad of ['30', '', '2d', '5 minutes', '1.s', 's', '-1s', '1S', '10sec', ' 1s']) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });

  it('round-trips through formatDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * 3_600_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('adds up the parts in any order', () => {
    const unit = fc.constantFrom(['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(1000), unit), { minLength: 1, maxLength: 5 }),
        (parts) => {
          const text = parts.map(([n, [u]]) => `${n}${u}`).join('');
          const ms = parts.reduce((sum, [n, [, size]]) => sum + n * size, 0);
          expect(parseDuration(text)).toBe(ms);
        },
      ),
    );
  });
});

describe('parseCpu', () => {
  it('reads Kubernetes CPU quantities as nano-CPUs', () => {
    expect(parseCpu('500m')).toBe(500_000_000);
    expect(parseCpu('1')).toBe(1_000_000_000);
    expect(parseCpu('1.5')).toBe(1_500_000_000);
    expect(parseCpu(2)).toBe(2_000_000_000);
    expect(parseCpu(0.25)).toBe(250_000_000);
  });

  it('rejects zero and garbage', () => {
    for (const bad of ['0', '0m', 0, -1, 'half', '1.5m', '', '1 ']) {
      expect(parseCpu(bad), String(bad)).toBeUndefined();
    }
  });

  it('agrees between milli-CPUs and CPUs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (milli) => {
        expect(parseCpu(`${milli}m`)).toBe(milli * 1_000_000);
        if (milli % 1000 === 0) expect(parseCpu(String(milli / 1000))).toBe(milli * 1_000_000);
      }),
    );
  });
});

describe('parseMemory', () => {
  it('reads Kubernetes memory quantities as bytes', () => {
    expect(parseMemory('512Mi')).toBe(536_870_912);
    expect(parseMemory('2Gi')).toBe(2_147_483_648);
    expect(parseMemory('1G')).toBe(1_000_000_000);
    expect(parseMemory('1000k')).toBe(1_000_000);
    expect(parseMemory('1.5Gi')).toBe(1_610_612_736);
    expect(parseMemory('4096')).toBe(4096);
    expect(parseMemory(4096)).toBe(4096);
  });

  it('rejects zero, lower-case or byte suffixes and garbage', () => {
    for (const bad of ['0', 0, '512MB', '512mi', '1K', '1Zi', 'lots', '', '-1', '1e3']) {
      expect(parseMemory(bad), String(bad)).toBeUndefined();
    }
  });

  it('scales binary suffixes by 1024 and decimal ones by 1000', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), (n) => {
        expect(parseMemory(`${n}Ki`)).toBe(n * 1024);
        expect(parseMemory(`${n}Mi`)).toBe(n * 1024 ** 2);
        expect(parseMemory(`${n}k`)).toBe(n * 1000);
        expect(parseMemory(`${n}M`)).toBe(n * 1000 ** 2);
      }),
    );
  });
});

describe('parsePortString', () => {
  it('follows compose short syntax', () => {
    expect(parsePortString('8080')).toEqual({ container: 8080, host: 0, protocol: 'tcp' });
    expect(parsePortString('8080:80')).toEqual({ container: 80, host: 8080, protocol: 'tcp' });
    expect(parsePortString('0:80/udp')).toEqual({ container: 80, host: 0, protocol: 'udp' });
    expect(parsePortString('53/udp')).toEqual({ container: 53, host: 0, protocol: 'udp' });
  });

  it('rejects out-of-range ports and other shapes', () => {
    for (const bad of [
      '0',
      '70000',
      '70000:80',
      '80:0',
      'http',
      '127.0.0.1:8080:80',
      '80/sctp',
      '',
    ]) {
      expect(parsePortString(bad), bad).toBeUndefined();
    }
  });

  it('round-trips HOST:CONTAINER/PROTO', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom('tcp' as const, 'udp' as const),
        (host, container, protocol) => {
          expect(parsePortString(`${host}:${container}/${protocol}`)).toEqual({
            host,
            container,
            protocol,
          });
        },
      ),
    );
  });
});
