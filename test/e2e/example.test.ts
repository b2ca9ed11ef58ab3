import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { agent, copyExample } from './cli.js';

describeDocker('the hello-agent example, end to end', () => {
  it('runs: agent built, health-gated, called from a container and from the host; exit 0', async () => {
    const dir = await copyExample('hello-agent');
    const lint = await agent(['lint', 'agent.yaml', 'workflow.yaml'], { cwd: dir });
    expect(lint.stdout).toContain('no problems found');
    expect(lint.exitCode).toBe(0);

    const plan = await agent(['plan', 'workflow.yaml'], { cwd: dir });
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain('api');
    expect(plan.stdout).toContain('in-network');

    const run = await agent(['run', 'workflow.yaml'], { cwd: dir, timeoutMs: 180_000 });
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/service api: healthy/);
    expect(run.stdout).toContain('step in-network | {"message":"Hello, agentfile-in-network!"');
    expect(run.stdout).toContain('step from-host | Hello, agentfile-from-host!');
    expect(run.stdout).toMatch(/run \S+: succeeded/);

    const dbPath = join(dir, '.agentfile/state.db');
    expect(existsSync(dbPath)).toBe(true);
    const db = new Database(dbPath, { readonly: true });
    try {
      const runs = db.prepare('SELECT id, status, workflow FROM runs').all() as {
        id: string;
        status: string;
        workflow: string;
      }[];
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: 'succeeded', workflow: 'hello' });
      const rows = db
        .prepare('SELECT id, kind, status FROM steps WHERE run_id = ? ORDER BY position')
        .all(runs[0]?.id) as { id: string; kind: string; status: string }[];
      expect(rows.map((r) => r.id).sort()).toEqual(
        ['api', 'from-host', 'in-network', 'prepare', 'report'].sort(),
      );
      for (const r of rows) {
        expect(r.status, r.id).toBe(r.kind === 'service' ? 'stopped' : 'succeeded');
      }
      const events = db.prepare('SELECT type FROM events WHERE run_id = ?').all(runs[0]?.id) as {
        type: string;
      }[];
      expect(events.map((e) => e.type)).toContain('run.finished');
    } finally {
      db.close();
    }

    const runId = /run (\S+): succeeded/.exec(run.stdout)?.[1];
    const left = await execa('docker', ['ps', '-aq', '--filter', `label=agentfile.run=${runId}`]);
    expect(left.stdout).toBe('');

    const listed = await agent(['runs', 'workflow.yaml'], { cwd: dir });
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout).toMatch(/hello\s+succeeded/);
  });
});
