import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FILE_NAME_BYTES } from '../../../src/store/paths.js';
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

  it('keeps short lower-case ids as they are in log file names', () => {
    const state = '/repo/.agentfile/state.db';
    const runs = '/repo/.agentfile/runs/r';
    for (const id of ['build', 'unit-tests', 'lint_ts', 'v1.2', '0', '-x']) {
      expect(logFilePath(state, 'r', id, 1)).toBe(`${runs}/${id}.1.log`);
    }
  });

  describe('log file names of awkward step ids', () => {
    const state = '/repo/.agentfile/state.db';
    const runs = '/repo/.agentfile/runs/20260102-030405-abcdef';
    const name = (id: string, attempt = 1) =>
      path.basename(logFilePath(state, '20260102-030405-abcdef', id, attempt));
    const long = `${'x'.repeat(150)}-${'y'.repeat(149)}`;
    const awkward = [
      long,
      `${long}z`,
      'a/b',
      'a_b',
      'a?b',
      '../../etc/passwd',
      '..',
      '.',
      '.hidden',
      '',
      'Build',
      'build',
      'BUILD',
      'déploiement',
      'deploiement',
      '部署'.repeat(100),
      '🚀 launch',
      'with space',
      'tab\there',
      'a\\b',
      'nul\0byte',
      'x~0123456789abcdef',
    ];

    it('a 300-character id gets a name within the file system limit, with a readable prefix', () => {
      expect(long).toHaveLength(300);
      const n = name(long, 12);
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
      expect(n).toMatch(/^x{100}~[0-9a-f]{16}\.12\.log$/);
    });

    it('every name is one safe component directly in the run directory, below 255 bytes', () => {
      for (const id of awkward) {
        const file = logFilePath(state, '20260102-030405-abcdef', id, Number.MAX_SAFE_INTEGER);
        expect(path.dirname(file)).toBe(runs);
        const n = path.basename(file);
        expect(n).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9_.~-]*\.\d+\.log$/);
        expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
      }
      expect(name('a/b')).toMatch(/^a_b~[0-9a-f]{16}\.1\.log$/);
      expect(name('../../etc/passwd')).toMatch(/^_\.\._etc_passwd~[0-9a-f]{16}\.1\.log$/);
      expect(name('..')).toMatch(/^step~[0-9a-f]{16}\.1\.log$/);
      expect(name('Build')).toMatch(/^Build~[0-9a-f]{16}\.1\.log$/);
      expect(name('déploiement')).toMatch(/^d_ploiement~[0-9a-f]{16}\.1\.log$/);
    });

    it('distinct ids get distinct names, even ignoring case; the same id the same name', () => {
      const names = awkward.map((id) => name(id));
      expect(new Set(names).size).toBe(awkward.length);
      expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(awkward.length);
      expect(awkward.map((id) => name(id))).toEqual(names);
      expect(name('a', 1)).not.toBe(name('a', 2));
    });

    it('the names can really be created, one file per id', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'agentfile-log-names-'));
      try {
        const statePath = path.join(dir, 'state.db');
        for (const id of awkward) {
          const file = logFilePath(statePath, 'run', id, 1);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, id);
        }
        expect(readdirSync(path.join(dir, 'runs', 'run'))).toHaveLength(awkward.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('any id: at most 255 bytes, one component, no collisions (property)', () => {
      const id = fc.oneof(
        fc.string({ maxLength: 400 }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
      );
      fc.assert(
        fc.property(id, id, fc.integer({ min: 1, max: 1000 }), (a, b, attempt) => {
          const fa = logFilePath(state, 'r', a, attempt);
          expect(path.dirname(fa)).toBe('/repo/.agentfile/runs/r');
          expect(Buffer.byteLength(path.basename(fa))).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
          if (a !== b) expect(fa).not.toBe(logFilePath(state, 'r', b, attempt));
        }),
      );
    });
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
