import { describe, expect, it } from 'vitest';
import { findRunProcesses, type ProcReader } from '../../../src/executors/sweep.js';

/** A fake process for the fake /proc: what its stat, environ and cmdline say. */
interface FakeProcess {
  comm?: string;
  state?: string;
  ppid?: number;
  pgid?: number;
  env?: Record<string, string>;
  argv?: string[];
  /** Reading this file throws with this code (EACCES, ENOENT: vanished mid-scan). */
  fail?: { file: 'stat' | 'environ' | 'cmdline'; code: string };
}

/** A fake `/proc` holding `processes` by pid, plus the caller (whose parent is pid 1). */
function fakeProc(processes: Record<number, FakeProcess>): ProcReader {
  const all: Record<number, FakeProcess> = { 1: { comm: 'init' }, ...processes };
  all[process.pid] ??= { comm: 'node', ppid: 1, env: {} };
  return {
    list: () => [...Object.keys(all), 'self', 'meminfo', 'sys'],
    read(pid, file) {
      const p = all[pid];
      if (!p) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      if (p.fail?.file === file) throw Object.assign(new Error(p.fail.code), { code: p.fail.code });
      if (file === 'stat') {
        const comm = p.comm ?? 'sh';
        return Buffer.from(
          `${pid} (${comm}) ${p.state ?? 'S'} ${p.ppid ?? 1} ${p.pgid ?? pid} 0 0`,
        );
      }
      if (file === 'environ') {
        return Buffer.from(
          Object.entries(p.env ?? {})
            .map(([k, v]) => `${k}=${v}\0`)
            .join(''),
        );
      }
      return Buffer.from((p.argv ?? []).map((a) => `${a}\0`).join(''));
    },
  };
}

const run = (id: string, step?: string, attempt?: number): Record<string, string> => ({
  PATH: '/bin',
  AGENT_RUN_ID: id,
  ...(step !== undefined ? { AGENT_STEP_ID: step } : {}),
  ...(attempt !== undefined ? { AGENT_ATTEMPT: String(attempt) } : {}),
});

describe('findRunProcesses', () => {
  it('finds the processes carrying the run id, with their step, attempt and command', () => {
    const reader = fakeProc({
      300: { env: run('r1', 'build', 2), argv: ['sleep', '20'], ppid: 1, pgid: 300 },
      200: { env: run('r1'), argv: ['node', 'server.js'], ppid: 150, pgid: 150 },
      400: { env: run('r2', 'build', 2), argv: ['sleep', '20'] },
      500: { env: { PATH: '/bin' }, argv: ['bash'] },
      // A run id that only starts like ours is another run.
      600: { env: run('r10'), argv: ['sleep', '1'] },
    });
    expect(findRunProcesses({ runId: 'r1' }, reader)).toEqual({
      supported: true,
      processes: [
        { pid: 200, ppid: 150, pgid: 150, command: 'node server.js', runId: 'r1' },
        {
          pid: 300,
          ppid: 1,
          pgid: 300,
          command: 'sleep 20',
          runId: 'r1',
          stepId: 'build',
          attempt: 2,
        },
      ],
    });
  });

  it('narrows by step and attempt', () => {
    const reader = fakeProc({
      10: { env: run('r1', 'a', 1) },
      11: { env: run('r1', 'a', 2) },
      12: { env: run('r1', 'b', 1) },
      13: { env: run('r1') },
    });
    const pids = (q: Parameters<typeof findRunProcesses>[0]) =>
      findRunProcesses(q, reader).processes.map((p) => p.pid);
    expect(pids({ runId: 'r1', stepId: 'a' })).toEqual([10, 11]);
    expect(pids({ runId: 'r1', stepId: 'a', attempt: 2 })).toEqual([11]);
    expect(pids({ runId: 'r1', attempt: 1 })).toEqual([10, 12]);
  });

  it('adds the live members of a process group whatever their environment', () => {
    const reader = fakeProc({
      20: { env: {}, pgid: 20, argv: ['env', '-i', 'sleep'] },
      21: { env: run('r1', 's', 1), pgid: 99 },
      22: { env: {}, pgid: 20, state: 'Z' },
      23: { env: {}, pgid: 7 },
    });
    expect(
      findRunProcesses({ runId: 'r1', stepId: 's', attempt: 1, processGroup: 20 }, reader)
        .processes,
    ).toEqual([
      { pid: 20, ppid: 1, pgid: 20, command: 'env -i sleep' },
      { pid: 21, ppid: 1, pgid: 99, command: '[sh]', runId: 'r1', stepId: 's', attempt: 1 },
    ]);
    expect(findRunProcesses({ processGroup: 20 }, reader).processes.map((p) => p.pid)).toEqual([
      20,
    ]);
  });

  it('skips zombies, processes that vanish or may not be read, and pid 1', () => {
    const reader = fakeProc({
      1: { comm: 'init', env: run('r1') },
      30: { env: run('r1'), state: 'Z' },
      31: { env: run('r1'), fail: { file: 'environ', code: 'EACCES' } },
      32: { env: run('r1'), fail: { file: 'stat', code: 'ENOENT' } },
      33: { env: run('r1'), fail: { file: 'environ', code: 'ESRCH' } },
      34: { env: run('r1'), fail: { file: 'cmdline', code: 'ENOENT' }, comm: 'my (odd) name' },
    });
    expect(findRunProcesses({ runId: 'r1' }, reader).processes).toEqual([
      { pid: 34, ppid: 1, pgid: 34, command: '[my (odd) name]', runId: 'r1' },
    ]);
  });

  it('never lists the caller or its ancestors', () => {
    const reader = fakeProc({
      [process.pid]: { env: run('r1'), ppid: 41 },
      41: { env: run('r1'), ppid: 40 },
      40: { env: run('r1'), ppid: 1 },
      42: { env: run('r1'), ppid: process.pid },
    });
    expect(findRunProcesses({ runId: 'r1' }, reader).processes.map((p) => p.pid)).toEqual([42]);
  });

  it('says when there is no /proc to read', () => {
    const reader: ProcReader = {
      list: () => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
      read: () => Buffer.alloc(0),
    };
    expect(findRunProcesses({ runId: 'r1' }, reader)).toEqual({ supported: false, processes: [] });
  });

  it('refuses queries that would match nothing definite or everything', () => {
    const reader = fakeProc({});
    expect(() => findRunProcesses({}, reader)).toThrow(RangeError);
    expect(() => findRunProcesses({ stepId: 'a' }, reader)).toThrow(RangeError);
    expect(() => findRunProcesses({ runId: '' }, reader)).toThrow(RangeError);
    expect(() => findRunProcesses({ processGroup: 1 }, reader)).toThrow(RangeError);
    expect(() => findRunProcesses({ processGroup: 0 }, reader)).toThrow(RangeError);
  });
});
