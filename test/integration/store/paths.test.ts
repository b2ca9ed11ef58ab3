import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultStatePath,
  logFilePath,
  newRunId,
  resolveStatePath,
  workflowLeaseKey,
} from '../../../src/store/store.js';

describe('state paths', () => {
  it('puts the default state file in .agentfile beside the workflow file', () => {
    expect(defaultStatePath('/repo/app/agent.yaml')).toBe('/repo/app/.agentfile/state.db');
    expect(defaultStatePath('agent.yaml')).toBe(path.resolve('.agentfile/state.db'));
  });

  it('prefers the flag, then AGENTFILE_STATE, then the default', () => {
    const workflowFile = '/repo/agent.yaml';
    const env = { AGENTFILE_STATE: '/var/lib/agentfile/state.db' };
    expect(resolveStatePath({ workflowFile, flag: '/tmp/s.db', env })).toBe('/tmp/s.db');
    expect(resolveStatePath({ workflowFile, env })).toBe('/var/lib/agentfile/state.db');
    expect(resolveStatePath({ workflowFile, env: { AGENTFILE_STATE: '' } })).toBe(
      '/repo/.agentfile/state.db',
    );
    expect(resolveStatePath({ workflowFile, env: {} })).toBe('/repo/.agentfile/state.db');
    expect(resolveStatePath({ workflowFile, flag: 'rel/s.db', env })).toBe(
      path.resolve('rel/s.db'),
    );
    // Relative paths resolve against cwd when given.
    expect(resolveStatePath({ workflowFile, flag: 'rel/s.db', env, cwd: '/home/me' })).toBe(
      '/home/me/rel/s.db',
    );
    expect(resolveStatePath({ workflowFile, env: { AGENTFILE_STATE: 's.db' }, cwd: '/w' })).toBe(
      '/w/s.db',
    );
    expect(resolveStatePath({ workflowFile: 'app/agent.yaml', env: {}, cwd: '/w' })).toBe(
      '/w/app/.agentfile/state.db',
    );
  });

  it('puts log files under runs/<run>/<step>.<attempt>.log beside the state file', () => {
    expect(logFilePath('/repo/.agentfile/state.db', '20260102-030405-abcdef', 'build', 2)).toBe(
      '/repo/.agentfile/runs/20260102-030405-abcdef/build.2.log',
    );
  });

  it('makes sortable run ids from the UTC time and 6 random hex digits', () => {
    const t = Date.UTC(2026, 10, 23, 20, 12, 5);
    const id = newRunId(t);
    expect(id).toMatch(/^20261123-201205-[0-9a-f]{6}$/);
    expect(newRunId(t)).not.toBe(id); // 24 random bits: a collision here is a 1 in 16M event
    const later = newRunId(t + 1000);
    expect([later, id].sort()).toEqual([id, later]);
  });

  it('makes one lease key per workflow file and name', () => {
    expect(workflowLeaseKey({ file: '/repo/agent.yaml', workflow: 'ci' })).toBe(
      'workflow:/repo/agent.yaml#ci',
    );
  });
});
