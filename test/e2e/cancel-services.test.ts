/**
 * Regressions around services and infrastructure failures: cancelling a run
 * whose step needs a (stubborn) service, a killed runner's process service
 * cleaned up by --resume, and an executor that cannot write its log file.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRunProcesses } from '../../src/executors/sweep.js';
import { waitFor } from '../helpers/processes.js';
import {
  agent,
  collectStdout,
  freePort,
  portInUse,
  readState,
  repoRoot,
  spawnAgent,
  tempDir,
} from './cli.js';

const fixture = (name: string) => JSON.stringify(join(repoRoot, 'test/fixtures/bin', name));

function status(dir: string, sql: string): unknown {
  return readState(dir, (db) => db.prepare(sql).get());
}

describe('cancelling a run that uses services', () => {
  it('SIGTERM while a step needs a service that ignores SIGTERM: exit 130 promptly, service killed', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: stubborn }
spec:
  services:
    stubborn:
      runtime: process
      # ignores SIGTERM, and says when it has started to (healthy from then on)
      command: [node, -e, "process.on('SIGTERM', () => {}); require('fs').writeFileSync('ready.flag', ''); setInterval(() => {}, 1000)"]
      healthCheck:
        command: [test, -f, ready.flag]
        interval: 100ms
  steps:
    wait:
      needs: [stubborn]
      run: sleep 30
`,
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => stdout().includes('step wait: started'), {
      timeoutMs: 30_000,
      intervalMs: 50,
    }).catch((e) => {
      throw new Error(`${e.message}; stdout so far:\n${stdout()}`);
    });
    const sent = Date.now();
    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(130);
    // The cancel grace for services is 2 s; well inside 10 s.
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(stdout()).toMatch(/service stubborn: cancelled/);
    const pid = (
      status(dir, "SELECT pid FROM attempts WHERE step_id = 'stubborn'") as { pid: number }
    ).pid;
    expect(pid).toBeGreaterThan(1);
    expect(() => process.kill(pid, 0)).toThrow(); // gone
  });
});

describe('kill -9 with a process service running', () => {
  it('--resume kills the old service process group first, so the service can start again', async () => {
    const dir = await tempDir();
    const port = await freePort();
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: crashy-runner }
spec:
  services:
    web:
      runtime: process
      command: [node, ${fixture('http-server.mjs')}]
      ports: ["${port}:${port}"]
      environment: [{ name: PORT, value: "${port}" }]
      healthCheck:
        http: { path: /health, port: ${port} }
        interval: 200ms
  steps:
    use:
      needs: [web]
      run: if [ "$AGENT_ATTEMPT" = 1 ]; then sleep 300; fi; echo used
`,
    );
    const first = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(first);
    await waitFor(() => stdout().includes('step use: started'), {
      timeoutMs: 30_000,
      intervalMs: 50,
    }).catch((e) => {
      throw new Error(`${e.message}; stdout so far:\n${stdout()}`);
    });
    const runId = /^run (\S+):/m.exec(stdout())?.[1] ?? '';
    first.kill('SIGKILL');
    await first;
    expect(await portInUse(port)).toBe(true); // the orphaned service still holds it
    // Its runner is gone: the run reads `interrupted`, not `running`.
    const listed = await agent(['runs', '--json'], { cwd: dir });
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ id: runId, status: 'interrupted' });
    expect(findRunProcesses({ runId }).processes.length).toBeGreaterThan(0);

    const resumed = await agent(['run', '--resume'], { cwd: dir });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('step use | used');
    expect(await portInUse(port)).toBe(false);
    // No process of the first session survives: found by AGENT_RUN_ID, not only by the port.
    expect(findRunProcesses({ runId }).processes).toEqual([]);
  });
});

describe('an executor that cannot write its log file', () => {
  it('fails the step with a one-line reason, not a stack trace', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: nolog }\nspec:\n  steps:\n    a:\n      run: echo a\n',
    );
    // A file where the log directory should be.
    await mkdir(join(dir, '.agentfile'), { recursive: true });
    await writeFile(join(dir, '.agentfile/runs'), 'not a directory');
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/step a: failed in \S+ \(.*(ENOTDIR|EEXIST|not a directory).*\)/i);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    expect(
      (status(dir, "SELECT status FROM steps WHERE id = 'a'") as { status: string }).status,
    ).toBe('failed');
    expect(await readFile(join(dir, '.agentfile/runs'), 'utf8')).toBe('not a directory');
  });
});
