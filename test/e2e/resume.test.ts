/**
 * `agent run --resume` after an ordinary failure (no Docker needed): which
 * steps are reused, which run again, and what happens when the workflow
 * changed in between.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agent, tempDir } from './cli.js';

function workflow(aCommand: string): string {
  return `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: chain }
spec:
  steps:
    a:
      run: ${aCommand}
    b:
      needs: [a]
      # fails until the file "fixed" exists
      run: echo "b attempt $AGENT_ATTEMPT" >> ledger.txt; test -f fixed
    c:
      needs: [b]
      run: echo c >> ledger.txt
`;
}

async function ledger(dir: string): Promise<string[]> {
  return (await readFile(join(dir, 'ledger.txt'), 'utf8')).split('\n').filter(Boolean);
}

describe('--resume after a failed step', () => {
  it('reuses what succeeded, reruns the failed step and runs what it had blocked, in the same run', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent.yaml'), workflow('echo a >> ledger.txt'));
    const first = await agent(['run'], { cwd: dir });
    expect(first.exitCode).toBe(1);
    expect(first.stdout).toMatch(/step c: skipped/);
    const runId = /run (\S+): starting/.exec(first.stdout)?.[1];

    await writeFile(join(dir, 'fixed'), '');
    const resumed = await agent(['run', '--resume', String(runId)], { cwd: dir });
    expect(resumed.exitCode, resumed.stdout).toBe(0);
    expect(resumed.stdout).toContain(`run ${runId}: resuming`);
    expect(resumed.stdout).toContain('reusing succeeded steps a');
    expect(await ledger(dir)).toEqual(['a', 'b attempt 1', 'b attempt 2', 'c']);

    const runs = await agent(['runs', '--format', 'json'], { cwd: dir });
    const list = JSON.parse(runs.stdout) as { id: string; status: string }[];
    expect(list).toEqual([expect.objectContaining({ id: runId, status: 'succeeded' })]);
  });

  it('reruns a step whose definition changed since, and everything after it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent.yaml'), workflow('echo a >> ledger.txt'));
    expect((await agent(['run'], { cwd: dir })).exitCode).toBe(1);

    await writeFile(join(dir, 'agent.yaml'), workflow('echo a-changed >> ledger.txt'));
    await writeFile(join(dir, 'fixed'), '');
    const resumed = await agent(['run', '--resume'], { cwd: dir });
    expect(resumed.exitCode, resumed.stdout).toBe(0);
    expect(resumed.stdout).not.toContain('reusing succeeded steps');
    expect(await ledger(dir)).toEqual(['a', 'b attempt 1', 'a-changed', 'b attempt 2', 'c']);
  });

  it('refuses to resume a run that succeeded', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'fixed'), '');
    await writeFile(join(dir, 'agent.yaml'), workflow('echo a >> ledger.txt'));
    const ok = await agent(['run'], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    const runId = /run (\S+): starting/.exec(ok.stdout)?.[1];
    const again = await agent(['run', '--resume', String(runId)], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain(`run "${runId}" already succeeded; nothing to resume`);
  });
});
