/**
 * The library API against real processes and a real SQLite file: the
 * documented example runs as written; a run handle's events, cancel() and
 * pause().
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { listRuns, plan, SqliteStateStore, startRun } from '../../../src/index.js';

async function workflowIn(yaml: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'agentfile-lib-'));
  const file = join(dir, 'agent.yaml');
  await writeFile(file, yaml);
  return { dir, file };
}

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\nspec:\n  steps:\n`;

describe('the library API', () => {
  it('runs examples/library/run.mjs, the example docs/library.md shows', async () => {
    const state = await mkdtemp(join(tmpdir(), 'agentfile-lib-state-'));
    const r = await execa('node', ['examples/library/run.mjs'], {
      env: { AGENTFILE_STATE: join(state, 'state.db') },
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^plan: greet -> count$/m);
    expect(r.stdout).toMatch(/^ {2}greet \| hello from greet$/m);
    expect(r.stdout).toMatch(/^step count: succeeded$/m);
    const id = /^run (\S+): succeeded$/m.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(r.stdout).toContain(`latest recorded run: ${id} succeeded`);
  });

  it('takes inputs and secrets: typed, checked, masked, recorded', async () => {
    const { file } = await workflowIn(
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: lang }\nspec:\n' +
        '  inputs:\n    n: { type: number, default: 1 }\n  secrets: [KEY]\n  steps:\n' +
        '    show:\n      run: echo "n+=${{ inputs.n }} key=${{ secrets.KEY }}"\n',
    );
    const p = await plan(file, { inputs: { n: '4' } });
    await expect(plan(file, { inputs: { n: 'four' } })).rejects.toThrow(
      'input "n" must be a number, got "four"',
    );
    const refused = startRun({ plan: p, inputs: { n: 4 } });
    await expect(refused.result).rejects.toThrow('missing secret "KEY"');
    await expect(refused.runId).rejects.toThrow('missing secret "KEY"');
    const handle = startRun({ plan: p, inputs: { n: '4' }, secrets: { KEY: 'k-31337-x' } });
    const lines: string[] = [];
    for await (const e of handle.events()) if (e.type === 'step.output') lines.push(...e.lines);
    expect((await handle.result).status).toBe('succeeded');
    expect(lines).toEqual(['n+=4 key=***']);
    const [run] = await listRuns({ file });
    expect(run?.inputs).toEqual({ n: 4 });
  });

  it("a handle's events are the stored stream; cancel() ends the run cancelled", async () => {
    const { file, dir } = await workflowIn(
      `${header('cancel-me')}    wait:\n      run: sleep 30\n`,
    );
    const handle = startRun({ plan: await plan(file) });
    const types: string[] = [];
    for await (const e of handle.events()) {
      types.push(e.type);
      if (e.type === 'step.spawned') handle.cancel();
    }
    const result = await handle.result;
    expect(result.status).toBe('cancelled');
    expect(types[0]).toBe('run.created');
    expect(types.at(-1)).toBe('run.finished');
    const store = SqliteStateStore.open({ path: join(dir, '.agentfile/state.db') });
    try {
      const stored = await store.getEvents(await handle.runId);
      expect(stored.map((e) => e.type)).toEqual(types);
    } finally {
      await store.close();
    }
  });

  it('pause() lets the running step finish and starts nothing new; resume: true completes it', async () => {
    const { file } = await workflowIn(
      `${header('pause-me')}    a:\n      run: sleep 0.5\n    b:\n      needs: [a]\n      run: "true"\n`,
    );
    const workflow = await plan(file);
    const handle = startRun({ plan: workflow });
    for await (const e of handle.events()) if (e.type === 'step.started') handle.pause();
    const paused = await handle.result;
    expect(paused.status).toBe('paused');
    expect(Object.fromEntries(paused.steps.map((s) => [s.id, s.status]))).toEqual({
      a: 'succeeded',
      b: 'pending',
    });
    const resumed = await startRun({ plan: workflow, resume: true }).result;
    expect(resumed).toMatchObject({ runId: paused.runId, status: 'succeeded', resumed: true });
    expect((await listRuns({ file })).map((r) => r.status)).toEqual(['succeeded']);
  });
});
