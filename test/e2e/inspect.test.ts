/**
 * The reading commands (`agent status`, `logs`, `events`, `runs`) against
 * real runs of the built binary, real processes and a real SQLite store,
 * including following a run from another process and a runner killed with
 * kill -9. Steps that must block wait for a file the test creates, so
 * nothing depends on timing.
 */

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive, waitFor } from '../helpers/processes.js';
import {
  agent,
  agentBin,
  cliEnv,
  collectStdout,
  freePort,
  readState,
  repoRoot,
  spawnAgent,
  tempDir,
} from './cli.js';

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\n`;

/** A shell loop that waits until `file` exists (the test creates it when the step may go on). */
const waitForFile = (file: string) => `while [ ! -f '${file}' ]; do sleep 0.05; done`;

/** The id of the newest run of the store in `dir`. */
async function newestRun(dir: string): Promise<string> {
  const r = await agent(['runs', '--json'], { cwd: dir });
  const runs = JSON.parse(r.stdout) as { id: string }[];
  const id = runs[0]?.id;
  if (!id) throw new Error(`no run in ${dir}: ${r.stdout}${r.stderr}`);
  return id;
}

/** Pids of processes left running by tests, killed at the end whatever happens. */
const strays: number[] = [];
afterAll(() => {
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

describe('agent status', () => {
  it('shows steps, attempts, durations and the first failure; --json has the same facts', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('failing')}spec:
  concurrency: 1
  steps:
    ok:
      run: echo fine
    flaky:
      needs: [ok]
      run: echo "try $AGENT_ATTEMPT"; exit 3
      retry: { maxAttempts: 2, backoff: { initial: 10ms } }
    after:
      needs: [flaky]
      run: echo never
`,
    );
    const run = await agent(['run'], { cwd: dir });
    expect(run.exitCode).toBe(1);
    const id = await newestRun(dir);

    const text = await agent(['status', id], { cwd: dir });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain(`run ${id}: workflow failing (agent.yaml)`);
    expect(text.stdout).toContain(`status: failed (\`agent run --resume ${id}\``);
    expect(text.stdout).toMatch(/^ok +step +succeeded +1 +\d/m);
    expect(text.stdout).toMatch(/^flaky +step +failed +2 +\S+ +exit code 3$/m);
    expect(text.stdout).toMatch(/^after +step +skipped +0 +/m);
    expect(text.stdout).toContain('first failure: step flaky (attempt 2): failed: exit code 3');
    expect(text.stdout).toContain(`  log: .agentfile/runs/${id}/flaky.2.log`);

    // RUN defaults to the newest run.
    const newest = await agent(['status'], { cwd: dir });
    expect(newest.stdout.split('\n')[0]).toBe(text.stdout.split('\n')[0]);

    const json = await agent(['status', id, '--json'], { cwd: dir });
    expect(json.exitCode).toBe(0);
    const view = JSON.parse(json.stdout);
    expect(view.run).toMatchObject({ id, workflow: 'failing', status: 'failed' });
    expect(view.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['ok', 'succeeded'],
      ['flaky', 'failed'],
      ['after', 'skipped'],
    ]);
    const flaky = view.steps[1];
    expect(flaky.attempts).toBe(2);
    expect(flaky.history.map((a: { attempt: number; exitCode: number }) => a.exitCode)).toEqual([
      3, 3,
    ]);
    expect(flaky.history[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(view.firstFailure).toMatchObject({
      step: 'flaky',
      kind: 'step',
      attempt: 2,
      exitCode: 3,
      error: 'exit code 3',
      logFile: join(dir, '.agentfile/runs', id, 'flaky.2.log'),
    });
    expect(view.waitingFor).toEqual([]);
  });

  it('says what an approval step waits for and who may approve', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('gated')}spec:
  steps:
    build:
      run: echo built
    ship:
      needs: [build]
      approval: { message: "Ship build 42?", approvers: [alice, bob] }
`,
    );
    const run = await agent(['run'], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(6);
    const id = await newestRun(dir);
    const text = await agent(['status'], { cwd: dir });
    expect(text.stdout).toContain('status: waiting');
    expect(text.stdout).toMatch(
      /^ship +step +waiting +0 +- +waits for approval: Ship build 42\?$/m,
    );
    expect(text.stdout).toContain('waiting: step ship: Ship build 42?');
    expect(text.stdout).toContain('  approvers: alice, bob');
    expect(text.stdout).toContain(`agent approve ${id} ship`);
    const view = JSON.parse((await agent(['status', '--json'], { cwd: dir })).stdout);
    expect(view.waitingFor).toEqual([
      { step: 'ship', message: 'Ship build 42?', approvers: ['alice', 'bob'] },
    ]);
    expect(view.firstFailure).toBeNull();
  });

  it('exits 2 without creating a store where there is none, and for an unknown run', async () => {
    const dir = await tempDir();
    for (const args of [['status'], ['logs', 'R1'], ['events', 'R1']]) {
      const r = await agent(args, { cwd: dir });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('agent: no state store at .agentfile/state.db');
      expect(r.stderr).not.toContain('    at ');
    }
    expect(existsSync(join(dir, '.agentfile'))).toBe(false);

    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('one')}spec:\n  steps:\n    a:\n      run: 'true'\n`,
    );
    expect((await agent(['run'], { cwd: dir })).exitCode).toBe(0);
    const unknown = await agent(['status', 'no-such-run'], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('agent: no run "no-such-run" in the state store');
  });
});

describe('agent logs', () => {
  it("prints a step's stdout and stderr apart, every attempt with a header, --attempt N alone", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('logs')}spec:
  concurrency: 1
  steps:
    both:
      run: printf 'line one\\nline two\\n'; echo 'to stderr' >&2
    retried:
      needs: [both]
      run: echo "attempt $AGENT_ATTEMPT says hi"; test "$AGENT_ATTEMPT" = 2
      retry: { maxAttempts: 2, backoff: { initial: 10ms } }
`,
    );
    expect((await agent(['run'], { cwd: dir })).exitCode).toBe(0);
    const id = await newestRun(dir);

    // One attempt, not a terminal: the step's bytes, nothing added.
    const one = await agent(['logs', id, 'both'], { cwd: dir });
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toBe('line one\nline two');
    expect(one.stderr).toBe('to stderr');
    // (execa strips the final newline of each stream.)

    const retried = await agent(['logs', id, 'retried'], { cwd: dir });
    expect(retried.stdout.split('\n')).toEqual([
      expect.stringMatching(/^==> step retried, attempt 1: failed \(exit code 1\) in \S+ <==$/),
      'attempt 1 says hi',
      expect.stringMatching(/^==> step retried, attempt 2: succeeded in \S+ <==$/),
      'attempt 2 says hi',
    ]);
    const second = await agent(['logs', id, 'retried', '--attempt', '2'], { cwd: dir });
    expect(second.stdout).toBe('attempt 2 says hi');

    // Without STEP: every attempt of every step, in plan order.
    const all = await agent(['logs', id], { cwd: dir });
    expect(all.stdout.split('\n').filter((l) => l.startsWith('==> '))).toEqual([
      expect.stringMatching(/^==> step both, attempt 1: succeeded/),
      expect.stringMatching(/^==> step retried, attempt 1: failed/),
      expect.stringMatching(/^==> step retried, attempt 2: succeeded/),
    ]);
    expect(all.stdout).toContain('line one\nline two\n==> step retried');

    const noStep = await agent(['logs', id, 'nope'], { cwd: dir });
    expect(noStep.exitCode).toBe(2);
    expect(noStep.stderr).toContain(`run ${id} has no step or service "nope"`);
    expect(noStep.stderr).toContain('hint: it has: both, retried');
    const noAttempt = await agent(['logs', id, 'both', '--attempt', '3'], { cwd: dir });
    expect(noAttempt.exitCode).toBe(2);
    expect(noAttempt.stderr).toContain('step both has no attempt 3 (it has 1)');
  });

  it("prints a service's output and shows the service in agent status", async () => {
    const dir = await tempDir();
    const port = await freePort();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('served')}spec:
  services:
    web:
      runtime: process
      command: [node, ${JSON.stringify(join(repoRoot, 'test/fixtures/bin/http-server.mjs'))}]
      ports: ["${port}:${port}"]
      environment:
        - { name: PORT, value: "${port}" }
      healthCheck:
        http: { path: /health, port: ${port} }
        interval: 200ms
        retries: 5
  steps:
    call:
      needs: [web]
      run: echo called
`,
    );
    const run = await agent(['run'], { cwd: dir });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const id = await newestRun(dir);
    const logs = await agent(['logs', id, 'web'], { cwd: dir });
    expect(logs.stdout).toBe(`listening on ${port}`);
    const all = await agent(['logs', id], { cwd: dir });
    expect(all.stdout).toMatch(
      new RegExp(
        `^==> service web, attempt 1: succeeded in \\S+ <==\nlistening on ${port}\n==> step call, attempt 1: `,
      ),
    );
    const status = await agent(['status', id], { cwd: dir });
    expect(status.stdout).toMatch(/^web +service +stopped +1 +\S+/m);
    expect(status.stdout).toMatch(/^call +step +succeeded +1 /m);
  });

  it('--follow streams a running step until it ends, across its attempts', async () => {
    const dir = await tempDir();
    const go = join(dir, 'go');
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('follow')}spec:
  steps:
    slow:
      run: |
        echo "start $AGENT_ATTEMPT"
        if [ "$AGENT_ATTEMPT" = 1 ]; then exit 1; fi
        ${waitForFile(go)}
        echo "end $AGENT_ATTEMPT"
      retry: { maxAttempts: 2, backoff: { initial: 10ms } }
`,
    );
    const runner = spawnAgent(['run', '--output', 'json'], { cwd: dir });
    const runOut = collectStdout(runner);
    await waitFor(() => runOut().includes('"type":"step.started"'), { timeoutMs: 60_000 });
    const id = (JSON.parse(runOut().split('\n')[0] ?? '{}') as { runId: string }).runId;

    const follower = spawnAgent(['logs', id, 'slow', '--follow'], { cwd: dir });
    const followed = collectStdout(follower);
    await waitFor(() => followed().includes('start 2'), { timeoutMs: 60_000 });
    expect(followed()).not.toContain('end 2');
    await writeFile(go, '');
    const result = await follower;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout).split('\n')).toEqual([
      '==> step slow, attempt 1 <==',
      'start 1',
      '==> step slow, attempt 2 <==',
      'start 2',
      'end 2',
    ]);
    expect((await runner).exitCode).toBe(0);
  });
});

describe('agent events', () => {
  it('--json rebuilds from the store exactly what `agent run --output json` streamed', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('stream')}spec:
  steps:
    a:
      run: echo "a says hi"; echo "a warns" >&2
    b:
      needs: [a]
      run: for i in 1 2 3; do echo "b line $i"; done
    c:
      needs: [a]
      run: exit 4
      retry: { maxAttempts: 2, backoff: { initial: 10ms } }
`,
    );
    const live = await agent(['run', '--output', 'json'], { cwd: dir });
    expect(live.exitCode, live.stderr).toBe(1);
    const id = (JSON.parse(live.stdout.split('\n')[0] ?? '{}') as { runId: string }).runId;
    const stored = await agent(['events', id, '--json'], { cwd: dir });
    expect(stored.exitCode).toBe(0);
    const liveLines = live.stdout.split('\n');
    expect(liveLines.length).toBeGreaterThan(10);
    expect(stored.stdout.split('\n')).toEqual(liveLines);
    expect(liveLines.at(-1)).toContain('"type":"run.finished"');

    // Plain: the lines of `agent run --output plain`.
    const plain = await agent(['events', id], { cwd: dir });
    expect(plain.stdout).toContain(`run ${id}: starting workflow stream (agent.yaml), 3 steps`);
    expect(plain.stdout).toContain('step a | a says hi');
    expect(plain.stdout).toContain('step b | b line 3');
  });

  it('--follow prints events as they are stored and ends with the run', async () => {
    const dir = await tempDir();
    const go = join(dir, 'go');
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('live')}spec:
  steps:
    wait:
      run: echo waiting; ${waitForFile(go)}; echo released
`,
    );
    const runner = spawnAgent(['run', '--output', 'json'], { cwd: dir });
    const runOut = collectStdout(runner);
    await waitFor(() => runOut().includes('waiting'), { timeoutMs: 60_000 });
    const id = (JSON.parse(runOut().split('\n')[0] ?? '{}') as { runId: string }).runId;

    const follower = spawnAgent(['events', id, '--follow', '--json'], { cwd: dir });
    const followed = collectStdout(follower);
    // Without STEP, `logs --follow` follows every step, each line prefixed with its step.
    const logFollower = spawnAgent(['logs', id, '--follow'], { cwd: dir });
    const logged = collectStdout(logFollower);
    await waitFor(() => followed().includes('waiting') && logged().includes('waiting'), {
      timeoutMs: 60_000,
    });
    expect(followed()).not.toContain('run.finished');
    await writeFile(go, '');
    const [run, follow, logs] = await Promise.all([runner, follower, logFollower]);
    expect(run.exitCode).toBe(0);
    expect(follow.exitCode, String(follow.stderr)).toBe(0);
    expect(String(follow.stdout)).toBe(String(run.stdout));
    expect(logs.exitCode, String(logs.stderr)).toBe(0);
    expect(String(logs.stdout).split('\n')).toEqual([
      '==> step wait, attempt 1 <==',
      'wait | waiting',
      'wait | released',
    ]);
  });

  it('a closed stdout ends the command quietly (agent events | head)', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('noisy')}spec:
  steps:
    noisy:
      run: i=0; while [ $i -lt 5000 ]; do echo "line $i of many, long enough to fill a pipe"; i=$((i+1)); done
`,
    );
    expect((await agent(['run'], { cwd: dir, env: {} })).exitCode).toBe(0);
    const id = await newestRun(dir);
    for (const args of [`events ${id}`, `events ${id} --json`, `logs ${id} noisy`, 'runs']) {
      const r = await execa(
        'bash',
        [
          '-c',
          `node '${agentBin}' ${args} 2>err.txt | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"; cat err.txt`,
        ],
        { cwd: dir, env: cliEnv() },
      );
      expect(r.stdout, args).toBe('0');
    }
  });
});

describe('agent runs', () => {
  it('filters by --workflow and --status, interrupted included, as a table or --json', async () => {
    const dir = await tempDir();
    const go = join(dir, 'go');
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('good')}spec:
  steps:
    a:
      run: 'true'
---
${header('bad')}spec:
  steps:
    a:
      run: exit 1
---
${header('hang')}spec:
  steps:
    a:
      run: ${waitForFile(go)}
`,
    );
    expect((await agent(['run', '-w', 'good'], { cwd: dir })).exitCode).toBe(0);
    expect((await agent(['run', '-w', 'bad'], { cwd: dir })).exitCode).toBe(1);
    const runner = spawnAgent(['run', '-w', 'hang'], { cwd: dir });
    const out = collectStdout(runner);
    await waitFor(() => out().includes('step a: started'), { timeoutMs: 60_000 });
    const hangId = /run (\S+): starting/.exec(out())?.[1] ?? '';

    const running = JSON.parse(
      (await agent(['runs', '--json', '--status', 'running'], { cwd: dir })).stdout,
    );
    expect(running.map((r: { id: string }) => r.id)).toEqual([hangId]);

    runner.kill('SIGKILL');
    await runner;
    // The step's shell outlives its runner; it must not outlive the test.
    const pid = readState(dir, (db) =>
      db.prepare('SELECT pid FROM attempts WHERE run_id = ?').get(hangId),
    ) as { pid: number } | undefined;
    if (pid?.pid) strays.push(-pid.pid);

    const all = JSON.parse((await agent(['runs', '--json'], { cwd: dir })).stdout);
    expect(all.map((r: { workflow: string; status: string }) => [r.workflow, r.status])).toEqual([
      ['hang', 'interrupted'],
      ['bad', 'failed'],
      ['good', 'succeeded'],
    ]);
    const byWorkflow = JSON.parse(
      (await agent(['runs', '--json', '-w', 'bad'], { cwd: dir })).stdout,
    );
    expect(byWorkflow.map((r: { workflow: string }) => r.workflow)).toEqual(['bad']);
    const interrupted = await agent(['runs', '--status', 'interrupted'], { cwd: dir });
    expect(interrupted.stdout.split('\n')).toEqual([
      expect.stringMatching(/^RUN +WORKFLOW +STATUS +CREATED \(UTC\) +DURATION +ERROR$/),
      expect.stringMatching(new RegExp(`^${hangId} +hang +interrupted `)),
    ]);
    const none = JSON.parse(
      (await agent(['runs', '--json', '--status', 'running'], { cwd: dir })).stdout,
    );
    expect(none).toEqual([]);

    const status = await agent(['status', hangId], { cwd: dir });
    expect(status.stdout).toContain('status: interrupted (its runner is gone, killed or crashed');

    // Following a run whose runner is gone ends at once.
    const follow = await agent(['events', hangId, '--follow'], { cwd: dir, timeoutMs: 30_000 });
    expect(follow.exitCode).toBe(0);
    expect(follow.stdout).toContain('step a: started');
    const logs = await agent(['logs', hangId, 'a', '--follow'], { cwd: dir, timeoutMs: 30_000 });
    expect(logs.exitCode).toBe(0);

    await writeFile(go, '');
    if (pid?.pid) await waitFor(() => !processAlive(pid.pid), { timeoutMs: 10_000 });
  });
});
