/**
 * The run's promises under stress, with the real binary, real processes, the
 * real Docker engine and a real SQLite store: kill -9 then --resume, SIGINT,
 * a service that never becomes healthy, a step timeout.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { waitFor } from '../helpers/processes.js';
import { agent, collectStdout, readState, spawnAgent, tempDir } from './cli.js';

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\n`;

async function containersOf(label: string): Promise<string[]> {
  const r = await execa('docker', ['ps', '-aq', '--filter', `label=${label}`]);
  return r.stdout.split('\n').filter(Boolean);
}

/** Processes whose command line contains `marker`, other than the ps/grep looking for them. */
async function processesMatching(marker: string): Promise<string[]> {
  const r = await execa('ps', ['-eo', 'pid,args'], { reject: false });
  return String(r.stdout)
    .split('\n')
    .filter((l) => l.includes(marker));
}

describeDocker('kill -9 and --resume', () => {
  it('resumes after kill -9 during step 3 of 5: steps 1-2 not rerun, run succeeds, no container left', async () => {
    const dir = await tempDir();
    const ledger = join(dir, 'ledger.txt');
    await writeFile(ledger, '');
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('five')}spec:
  concurrency: 1
  steps:
    s1:
      run: echo s1 >> ledger.txt
    s2:
      needs: [s1]
      run: echo s2 >> ledger.txt
    s3:
      needs: [s2]
      image: busybox:1.36
      # The first attempt hangs (the runner is killed meanwhile); a resumed one finishes.
      run: if [ "$AGENT_ATTEMPT" = 1 ]; then sleep 300; fi; echo "s3 attempt $AGENT_ATTEMPT"
    s4:
      needs: [s3]
      run: echo s4 >> ledger.txt
    s5:
      needs: [s4]
      run: echo s5 >> ledger.txt
`,
    );
    const first = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(first);
    await waitFor(() => /step s3: started/.test(stdout()), { timeoutMs: 60_000, intervalMs: 100 });
    const runId = /run (\S+): starting/.exec(stdout())?.[1];
    expect(runId).toBeTruthy();
    // Wait until the s3 container exists, then kill the runner without warning.
    await waitFor(async () => (await containersOf(`agentfile.step=s3`)).length > 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    first.kill('SIGKILL');
    const killed = await first;
    expect(killed.signal).toBe('SIGKILL');
    expect(await containersOf(`agentfile.run=${runId}`)).not.toHaveLength(0); // left behind, for now

    const resumed = await agent(['run', '--resume'], { cwd: dir, timeoutMs: 120_000 });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`run ${runId}: resuming`);
    expect(resumed.stdout).toContain('reusing succeeded steps s1, s2');
    expect(resumed.stdout).toContain('s3 attempt 2');
    expect((await readFile(ledger, 'utf8')).split('\n').filter(Boolean)).toEqual([
      's1',
      's2',
      's4',
      's5',
    ]);
    expect(await containersOf(`agentfile.run=${runId}`)).toEqual([]);
    const status = readState(dir, (db) =>
      db.prepare('SELECT status FROM runs WHERE id = ?').get(runId),
    ) as {
      status: string;
    };
    expect(status.status).toBe('succeeded');
  });
});

describeDocker('SIGINT', () => {
  it('during a long container step: exit 130 within 10 s, nothing left, run cancelled', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('long')}spec:
  steps:
    long:
      image: busybox:1.36
      run: sleep 300
`,
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(
      async () =>
        (await containersOf('agentfile.step=long')).length > 0 &&
        /step long: started/.test(stdout()),
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    );
    const runId = /run (\S+): starting/.exec(stdout())?.[1];
    const sent = Date.now();
    child.kill('SIGINT');
    const result = await child;
    const elapsed = Date.now() - sent;
    expect(result.exitCode).toBe(130);
    expect(elapsed).toBeLessThan(10_000);
    expect(await containersOf(`agentfile.run=${runId}`)).toEqual([]);
    const row = readState(dir, (db) =>
      db.prepare('SELECT status FROM runs WHERE id = ?').get(runId),
    ) as {
      status: string;
    };
    expect(row.status).toBe('cancelled');
  });
});

describeDocker('a service that never becomes healthy', () => {
  it('fails the run within startPeriod + retries x interval + 5 s, with the last probe error', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('sick')}spec:
  services:
    sick:
      image: busybox:1.36
      command: [sleep, "300"]
      ports: ["8080"]
      healthCheck:
        http: { path: /health, port: 8080 }
        interval: 500ms
        timeout: 1s
        retries: 3
        startPeriod: 2s
  steps:
    never:
      needs: [sick]
      run: echo should not run
`,
    );
    const r = await agent(['run'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.exitCode).toBe(1);
    // From the container's start to the verdict, by the run's own stored
    // events (not the CLI's wall time, which a loaded machine stretches):
    // startPeriod 2 s + 3 probes x (500 ms interval + up to 1 s timeout) + 5 s.
    const times = readState(dir, (db) =>
      db
        .prepare(
          "SELECT type, at, data FROM events WHERE type IN ('service.started', 'service.status') ORDER BY seq",
        )
        .all(),
    ) as { type: string; at: number; data: string }[];
    const started = times.find((e) => e.type === 'service.started')?.at ?? 0;
    const verdict = times.find(
      (e) => e.type === 'service.status' && JSON.parse(e.data).status === 'unhealthy',
    )?.at;
    expect(verdict).toBeDefined();
    expect((verdict ?? 0) - started).toBeGreaterThanOrEqual(2000); // the start period is not counted
    expect((verdict ?? 0) - started).toBeLessThan(2000 + 3 * (500 + 1000) + 5000);
    expect(r.stdout).toMatch(/service sick: unhealthy.*GET http:\/\/[\d.]+:\d+\/health/);
    expect(r.stdout).not.toContain('should not run');
    expect(r.stdout).toMatch(/step never: skipped/);
    const runId = /run (\S+): starting/.exec(r.stdout)?.[1];
    expect(await containersOf(`agentfile.run=${runId}`)).toEqual([]);
  });
});

describe('step timeout', () => {
  it('timeout: 1s on sleep 30 ends timed_out within 3 s and leaves no sleep behind', async () => {
    const dir = await tempDir();
    const marker = `30.${process.pid}${Date.now() % 1000}`;
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('slow')}spec:
  steps:
    slow:
      run: sleep ${marker}
      timeout: 1s
`,
    );
    const r = await agent(['run'], { cwd: dir, timeoutMs: 30_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/step slow: timed out in (\d+(\.\d+)?)s/);
    const took = Number(/step slow: timed out in (\d+(?:\.\d+)?)s/.exec(r.stdout)?.[1]);
    expect(took).toBeLessThan(3);
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
    const row = readState(dir, (db) =>
      db.prepare("SELECT status FROM steps WHERE id = 'slow'").get(),
    ) as {
      status: string;
    };
    expect(row.status).toBe('timed_out');
  });
});

describe('SIGTERM', () => {
  it('during a process step that started children: exit 130, the whole process group is gone, run cancelled', async () => {
    const dir = await tempDir();
    const marker = `31.${process.pid}${Date.now() % 1000}`;
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('term')}spec:
  steps:
    busy:
      # a child in the background and one in the foreground
      run: sleep ${marker} & sleep ${marker}; wait
`,
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(async () => (await processesMatching(`sleep ${marker}`)).length >= 2, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
    const runId = /run (\S+): starting/.exec(stdout())?.[1];
    const row = readState(dir, (db) =>
      db.prepare('SELECT status FROM runs WHERE id = ?').get(runId),
    ) as {
      status: string;
    };
    expect(row.status).toBe('cancelled');
    expect(stdout()).toMatch(/step busy: cancelled/);
  });
});

describeDocker('SIGINT while a service image builds', () => {
  it('cancels the build: exit 130, the service cancelled, not an engine error', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'ctx'));
    const marker = `sleep 3${process.pid % 10}.${Date.now() % 1000}`;
    await writeFile(join(dir, 'ctx/Dockerfile'), `FROM busybox:1.36\nRUN ${marker}\n`);
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('slowbuild')}spec:
  services:
    svc:
      build: { context: ./ctx }
      command: [sleep, "300"]
  steps:
    a:
      needs: [svc]
      run: echo a
`,
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    // The build is under way once its RUN step's container runs the marker.
    await waitFor(
      async () => {
        const r = await execa('docker', ['ps', '--no-trunc', '--format', '{{.Command}}']);
        return r.stdout.includes(marker);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(stdout()).toMatch(/service svc: cancelled/);
    expect(String(result.stderr)).not.toContain('cannot reach the Docker engine');
  });
});
