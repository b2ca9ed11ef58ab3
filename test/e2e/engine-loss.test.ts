/**
 * The Docker engine disappearing mid-run, end to end: `agent run` talks to
 * the engine through a proxy socket that the test makes vanish while a
 * container step runs. The run must end with exit 4 and one line, stay
 * resumable, and `--resume` against the real engine must finish it and
 * leave nothing of the first session behind.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { describeDocker, startEngineProxy } from '../helpers/docker.js';
import { waitFor } from '../helpers/processes.js';
import { agent, collectStdout, readState, spawnAgent, tempDir } from './cli.js';

async function labelled(kind: 'ps' | 'network', runId: string): Promise<string[]> {
  const args =
    kind === 'ps'
      ? ['ps', '-aq', '--filter', `label=agentfile.run=${runId}`]
      : ['network', 'ls', '-q', '--filter', `label=agentfile.run=${runId}`];
  const r = await execa('docker', args);
  return r.stdout.split('\n').filter(Boolean);
}

describeDocker('the Docker engine goes away mid-run', () => {
  it('exit 4 with one line, the run resumable; --resume finishes it and removes the leftovers', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: engine-loss }
spec:
  steps:
    first:
      run: echo first >> ledger
    box:
      needs: [first]
      image: busybox:1.36
      run: if [ "$AGENT_ATTEMPT" = 1 ]; then sleep 30; fi; echo boxed
    after:
      needs: [box]
      run: echo after >> ledger
`,
    );
    const proxy = await startEngineProxy();
    const child = spawnAgent(['run'], { cwd: dir, env: { DOCKER_HOST: proxy.dockerHost } });
    const stdout = collectStdout(child);
    await waitFor(() => stdout().includes('step box: started'), { timeoutMs: 60_000 }).catch(
      (e) => {
        throw new Error(`${e.message}; stdout so far:\n${stdout()}`);
      },
    );
    // Give the container a moment to be created and started, then pull the plug.
    await waitFor(() => proxy.requests.some((r) => /\/containers\/\S+\/wait/.test(r)), {
      timeoutMs: 30_000,
    });
    await proxy.vanish();
    const r = await child;
    expect(r.exitCode, r.stdout + r.stderr).toBe(4);
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('agent: '));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/Docker engine/);
    expect(r.stderr).toMatch(/hint: .*agent run --resume/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const runId = /^run (\S+):/m.exec(stdout())?.[1] ?? '';
    const run = readState(dir, (db) => db.prepare('SELECT status FROM runs').get()) as {
      status: string;
    };
    expect(['failed', 'running']).toContain(run.status); // failed, or interrupted as read
    const listed = await agent(['runs', '--json'], { cwd: dir });
    expect(['failed', 'interrupted']).toContain(JSON.parse(listed.stdout)[0].status);

    const resumed = await agent(['run', '--resume'], { cwd: dir, timeoutMs: 120_000 });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/reusing succeeded steps first/);
    expect(resumed.stdout).toContain('step box | boxed');
    expect(await labelled('ps', runId)).toEqual([]);
    expect(await labelled('network', runId)).toEqual([]);
  });
});
