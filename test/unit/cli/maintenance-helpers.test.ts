import { describe, expect, it } from 'vitest';
import { parseAge, runLogDir } from '../../../src/cli/prune-command.js';
import { leaseIsLive, splitFileArgument } from '../../../src/cli/read-store.js';
import {
  findRunProcesses,
  type ProcFiles,
  runIdOfEnviron,
} from '../../../src/cli/run-processes.js';
import {
  type DoctorFindings,
  formatDoctor,
  remainingProblems,
} from '../../../src/report/doctor.js';
import type { LeaseRecord } from '../../../src/store/types.js';

describe('parseAge', () => {
  it('reads weeks and days in front of the file format durations', () => {
    expect(parseAge('30d')).toBe(30 * 86_400_000);
    expect(parseAge('2w')).toBe(14 * 86_400_000);
    expect(parseAge('1d12h')).toBe(36 * 3_600_000);
    expect(parseAge('1w2d3h4m5s')).toBe(((9 * 24 + 3) * 60 + 4) * 60_000 + 5000);
    expect(parseAge('90m')).toBe(90 * 60_000);
    expect(parseAge('0s')).toBe(0);
  });

  it('refuses what is not an age', () => {
    for (const bad of ['', '30', 'd', '30 days', '-1d', '1d-', 'd1', '3y', '1.5d']) {
      expect(parseAge(bad), bad).toBeUndefined();
    }
  });
});

describe('runLogDir', () => {
  it('is the directory logFilePath uses, and nothing for an id that is a path', () => {
    expect(runLogDir('/p/.agentfile/state.db', '20260101-000000-abcdef')).toBe(
      '/p/.agentfile/runs/20260101-000000-abcdef',
    );
    expect(runLogDir('/p/.agentfile/state.db', '../x')).toBeUndefined();
    expect(runLogDir('/p/.agentfile/state.db', '..')).toBeUndefined();
    expect(runLogDir('/p/.agentfile/state.db', 'a/b')).toBeUndefined();
  });
});

describe('splitFileArgument', () => {
  it('tells a workflow file from a run or step id', () => {
    expect(splitFileArgument(['R1', undefined], 1, 'u')).toEqual({
      names: ['R1'],
      file: 'agent.yaml',
    });
    expect(splitFileArgument(['ci.yaml', undefined], 1, 'u')).toEqual({
      names: [],
      file: 'ci.yaml',
    });
    expect(splitFileArgument(['build', 'dir/ci.yml'], 1, 'u')).toEqual({
      names: ['build'],
      file: 'dir/ci.yml',
    });
    // A file with another extension, recognised by its place.
    expect(splitFileArgument(['build', 'Agentfile'], 1, 'u')).toEqual({
      names: ['build'],
      file: 'Agentfile',
    });
    expect(splitFileArgument([undefined], 0, 'u')).toEqual({ names: [], file: 'agent.yaml' });
  });

  it('refuses more arguments than the command takes', () => {
    expect(() => splitFileArgument(['a', 'b', 'c.yaml'], 1, 'agent x')).toThrow(
      /too many arguments: a b c.yaml/,
    );
  });
});

describe('leaseIsLive', () => {
  const lease: LeaseRecord = {
    key: 'k',
    runId: 'r',
    pid: 1234,
    host: 'here',
    acquiredAt: 0,
    heartbeatAt: 0,
    expiresAt: 10_000,
  };
  it('is live until it expires while its local pid exists', () => {
    const alive = () => true;
    expect(leaseIsLive(lease, { now: 9_999, host: 'here', pidAlive: alive })).toBe(true);
    expect(leaseIsLive(lease, { now: 10_001, host: 'here', pidAlive: alive })).toBe(false);
  });
  it('is dead at once when its holder on this host is gone; trusted on another host', () => {
    const dead = () => false;
    expect(leaseIsLive(lease, { now: 0, host: 'here', pidAlive: dead })).toBe(false);
    expect(leaseIsLive(lease, { now: 0, host: 'elsewhere', pidAlive: dead })).toBe(true);
  });
});

describe('findRunProcesses', () => {
  const fake = (procs: Record<number, { stat: string; environ: string; cmdline: string }>) =>
    ({
      list: () => ['self', 'cpuinfo', ...Object.keys(procs)],
      read: (pid, file) => {
        const p = procs[pid];
        if (!p) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
        return Buffer.from(p[file]);
      },
    }) satisfies ProcFiles;

  it('lists live processes carrying AGENT_RUN_ID, not zombies, not others', () => {
    const scan = findRunProcesses(
      fake({
        100: {
          stat: '100 (sleep) S 1 100 100',
          environ: 'PATH=/bin\0AGENT_RUN_ID=run-a\0AGENT_STEP_ID=s\0',
          cmdline: 'sleep\u0000300\u0000',
        },
        101: {
          stat: '101 (my (odd) name) S 1 101 101',
          environ: 'AGENT_RUN_ID=run-b\0',
          cmdline: '',
        },
        102: { stat: '102 (sh) Z 1 102 102', environ: 'AGENT_RUN_ID=run-a\0', cmdline: '' },
        103: { stat: '103 (bash) S 1 103 103', environ: 'HOME=/root\0', cmdline: 'bash\0' },
        104: { stat: '104 (x) S 1 104 104', environ: 'NOT_AGENT_RUN_ID=run-c\0', cmdline: 'x\0' },
      }),
    );
    expect(scan).toEqual({
      supported: true,
      processes: [
        { pid: 100, runId: 'run-a', command: 'sleep 300' },
        { pid: 101, runId: 'run-b', command: '[my (odd) name]' },
      ],
    });
  });

  it('says unsupported where /proc cannot be listed', () => {
    const none: ProcFiles = {
      list: () => {
        throw new Error('ENOENT');
      },
      read: () => Buffer.alloc(0),
    };
    expect(findRunProcesses(none)).toEqual({ supported: false, processes: [] });
  });

  it('reads the run id from an environment block', () => {
    expect(runIdOfEnviron(Buffer.from('A=1\0AGENT_RUN_ID=r-1\0B=2'))).toBe('r-1');
    expect(runIdOfEnviron(Buffer.from('AGENT_RUN_ID=\0'))).toBeUndefined();
  });
});

describe('formatDoctor', () => {
  const healthy = (): DoctorFindings => ({
    store: '/p/.agentfile/state.db',
    integrity: ['ok'],
    staleLeases: [],
    interrupted: [],
    docker: { reachable: true, leftovers: [], otherStores: 0 },
    processes: { supported: true, leftovers: [] },
  });

  it('says healthy when nothing was found; unreachable Docker is a note, not a problem', () => {
    const f = { ...healthy(), docker: { reachable: false as const, error: 'connect ENOENT' } };
    expect(remainingProblems(f)).toBe(0);
    const text = formatDoctor(f, { fix: false });
    expect(text).toContain('docker: not checked (note: connect ENOENT)');
    expect(text.at(-1)).toBe('healthy: no problems found');
  });

  it('counts integrity, leases and leftovers; --fix results decide what remains', () => {
    const f = healthy();
    f.integrity = ['*** in database main ***', 'Page 5 is never used'];
    f.staleLeases = [
      {
        lease: {
          key: 'workflow:/p/agent.yaml#ci',
          runId: 'r1',
          pid: 9,
          host: 'h',
          acquiredAt: 0,
          heartbeatAt: 0,
          expiresAt: 0,
        },
        why: 'its process is gone',
      },
    ];
    f.processes.leftovers = [{ pid: 77, runId: 'r1', command: 'sleep 300' }];
    f.docker = {
      reachable: true,
      otherStores: 3,
      leftovers: [
        {
          runId: 'r1',
          containers: [{ id: 'abc', name: 'agentfile-r1-s' }],
          networks: [{ id: 'n', name: 'agentfile-r1' }],
        },
      ],
    };
    expect(remainingProblems(f)).toBe(4);
    const before = formatDoctor(f, { fix: false });
    expect(before).toContain("integrity: PROBLEM: SQLite's integrity check failed:");
    expect(before).toContain('  r1: container agentfile-r1-s, network agentfile-r1');
    expect(before).toContain('  r1: pid 77 sleep 300');
    expect(before.at(-1)).toBe(
      '4 problems found; `agent doctor --fix` removes stale leases and leftovers',
    );

    const [stale] = f.staleLeases;
    if (stale) stale.fixed = true;
    const [proc] = f.processes.leftovers;
    if (proc) proc.fixed = 'killed';
    const [left] = f.docker.leftovers;
    if (left) left.fixed = { removed: 2 };
    expect(remainingProblems(f)).toBe(1); // the integrity problem stays
    const after = formatDoctor(f, { fix: true });
    expect(after).toContain('  r1: pid 77 sleep 300 (killed)');
    expect(after.at(-1)).toBe('1 problem left that --fix could not remove');
  });
});
