/**
 * Runs controlled from another terminal: `agent cancel`, `agent pause` then
 * `--resume`, approval steps with `agent approve` / `agent reject`. Real
 * binary, real processes, real SQLite; the second terminal is a second
 * `agent` process.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/processes.js';
import { agent, collectStdout, readState, spawnAgent, tempDir } from './cli.js';

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\n`;

/** The run id from plain output's first line (`run <id>: starting …`). */
function runIdOf(stdout: string): string {
  const id = /^run (\S+):/m.exec(stdout)?.[1];
  if (!id) throw new Error(`no run id in:\n${stdout}`);
  return id;
}

async function ledger(dir: string): Promise<string[]> {
  return (await readFile(join(dir, 'ledger'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

function stepRows(
  dir: string,
): Record<string, { status: string; attempts: number; error: string | null }> {
  return readState(dir, (db) =>
    Object.fromEntries(
      (
        db.prepare("SELECT id, status, attempts, error FROM steps WHERE kind = 'step'").all() as {
          id: string;
          status: string;
          attempts: number;
          error: string | null;
        }[]
      ).map((r) => [r.id, { status: r.status, attempts: r.attempts, error: r.error }]),
    ),
  );
}

describe('agent cancel from a second process', () => {
  it('stops the running workflow within 2 s of the request: exit 130, run cancelled, nothing left', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('long')}spec:\n  steps:\n    wait:\n      run: echo $$ > pid; exec sleep 60\n    after:\n      needs: [wait]\n      run: echo after >> ledger\n`,
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => stdout().includes('step wait: started'), { timeoutMs: 60_000 });
    const id = runIdOf(stdout());
    const sent = Date.now();
    const cancel = await agent(['cancel', id, '--as', 'alice'], { cwd: dir });
    const r = await child;
    const stoppedAfter = Date.now() - sent;
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`run ${id}: cancelled`));
    expect(r.exitCode).toBe(130);
    // A heartbeat tick (500 ms) plus the kill: 2 s; generous for a loaded machine.
    expect(stoppedAfter).toBeLessThan(6_000);
    expect(stdout()).toMatch(/cancel requested by alice/);
    const run = readState(dir, (db) => db.prepare('SELECT status, error FROM runs').get()) as {
      status: string;
      error: string;
    };
    expect(run).toEqual({ status: 'cancelled', error: 'cancelled by alice (agent cancel)' });
    expect(stepRows(dir)).toMatchObject({
      wait: { status: 'cancelled' },
      after: { status: 'cancelled' },
    });
    const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await ledger(dir)).toEqual([]);
  });

  it('a run that has ended cannot be cancelled (exit 2); an unknown run is exit 2', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('short')}spec:\n  steps:\n    a:\n      run: "true"\n`,
    );
    const run = await agent(['run'], { cwd: dir });
    const id = runIdOf(run.stdout);
    const again = await agent(['cancel', id], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/has already ended \(succeeded\)/);
    const unknown = await agent(['cancel', 'nope'], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no run "nope"/);
  });
});

describe('agent pause, then agent run --resume', () => {
  it('lets the running step finish, starts nothing new, exits 5; --resume completes without rerunning', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('pausable')}spec:\n  steps:\n    a:\n      run: until [ -f go ]; do sleep 0.05; done; echo a >> ledger\n    b:\n      needs: [a]\n      run: echo b >> ledger\n    c:\n      needs: [b]\n      run: echo c >> ledger\n`,
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => stdout().includes('step a: started'), { timeoutMs: 60_000 });
    const id = runIdOf(stdout());
    const pause = agent(['pause', id, '--as', 'bob'], { cwd: dir });
    await waitFor(() => stdout().includes('pause requested by bob'), { timeoutMs: 30_000 });
    await writeFile(join(dir, 'go'), '');
    const [paused, r] = [await pause, await child];
    expect(paused.exitCode, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/paused; continue it with `agent run --resume/);
    expect(r.exitCode).toBe(5);
    expect(stdout()).toMatch(/step a: succeeded/);
    expect(stdout()).not.toMatch(/step b: started/);
    expect(readState(dir, (db) => db.prepare('SELECT status FROM runs').get())).toEqual({
      status: 'paused',
    });
    expect(stepRows(dir)).toMatchObject({ a: { status: 'succeeded' }, b: { status: 'pending' } });

    const resumed = await agent(['run', '--resume'], { cwd: dir });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/reusing succeeded steps a/);
    expect(await ledger(dir)).toEqual(['a', 'b', 'c']);
  });
});

describe('approval steps', () => {
  const gated = `${header('release')}spec:
  steps:
    build:
      run: echo build >> ledger
    other:
      run: sleep 0.3; echo other >> ledger
    gate:
      needs: [build]
      approval:
        message: Ship it?
        approvers: [alice]
    deploy:
      needs: [gate]
      run: echo deploy >> ledger
`;

  it('suspends the run (exit 6) while other branches finish; agent approve and --resume complete it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent.yaml'), gated);
    const first = await agent(['run'], { cwd: dir });
    expect(first.exitCode, first.stdout + first.stderr).toBe(6);
    expect(first.stdout).toMatch(/step gate: waiting for approval: Ship it\?/);
    const id = runIdOf(first.stdout);
    expect(readState(dir, (db) => db.prepare('SELECT status FROM runs').get())).toEqual({
      status: 'waiting',
    });
    expect((await ledger(dir)).sort()).toEqual(['build', 'other']);

    const notAllowed = await agent(['approve', id, 'gate', '--as', 'mallory'], { cwd: dir });
    expect(notAllowed.exitCode).toBe(2);
    expect(notAllowed.stderr).toMatch(
      /mallory may not approve step "gate"; its approvers are alice/,
    );
    const approve = await agent(
      ['approve', id, 'gate', '--as', 'alice', '--comment', 'looks good'],
      { cwd: dir },
    );
    expect(approve.exitCode, approve.stderr).toBe(0);
    const decision = readState(dir, (db) =>
      db.prepare("SELECT status, decision FROM steps WHERE id = 'gate'").get(),
    ) as { status: string; decision: string };
    expect(decision.status).toBe('succeeded');
    expect(JSON.parse(decision.decision)).toMatchObject({
      decision: 'approved',
      by: 'alice',
      comment: 'looks good',
    });

    const resumed = await agent(['run', '--resume'], { cwd: dir });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect((await ledger(dir)).sort()).toEqual(['build', 'deploy', 'other']);
  });

  it('a live runner goes on when the step is approved from another terminal', async () => {
    const dir = await tempDir();
    // `other` keeps the runner busy until the file "done" exists.
    await writeFile(
      join(dir, 'agent.yaml'),
      gated.replace('sleep 0.3; echo other', 'until [ -f done ]; do sleep 0.05; done; echo other'),
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => stdout().includes('step gate: waiting for approval'), {
      timeoutMs: 60_000,
    });
    const id = runIdOf(stdout());
    const approve = await agent(['approve', id, 'gate', '--as', 'alice'], { cwd: dir });
    expect(approve.stdout).toMatch(/approved by alice; the run goes on/);
    await waitFor(() => stdout().includes('step deploy: succeeded'), { timeoutMs: 30_000 });
    await writeFile(join(dir, 'done'), '');
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect((await ledger(dir)).sort()).toEqual(['build', 'deploy', 'other']);
  });

  it('agent reject fails the step with the comment, and the run with it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent.yaml'), gated);
    const first = await agent(['run'], { cwd: dir });
    const id = runIdOf(first.stdout);
    const reject = await agent(['reject', id, 'gate', '--as', 'alice', '-m', 'not on a Friday'], {
      cwd: dir,
    });
    expect(reject.exitCode, reject.stderr).toBe(0);
    expect(stepRows(dir).gate).toEqual({
      status: 'failed',
      attempts: 0,
      error: 'rejected by alice: not on a Friday',
    });
    const run = readState(dir, (db) => db.prepare('SELECT status, error FROM runs').get());
    expect(run).toEqual({
      status: 'failed',
      error: 'step "gate" was rejected by alice: not on a Friday',
    });
    const runs = await agent(['runs', '--json'], { cwd: dir });
    expect(JSON.parse(runs.stdout)[0]).toMatchObject({ id, status: 'failed' });
  });
});
