/**
 * Faults from outside the run: a reader that goes away (`agent run | head`)
 * and a terminal that closes (SIGHUP). Neither may crash the CLI or leave a
 * run recorded `running` forever.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/processes.js';
import { agentBin, cliEnv, collectStdout, readState, spawnAgent, tempDir } from './cli.js';

const chatty = `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: chatty }
spec:
  steps:
    a:
      run: for i in $(seq 1 5000); do echo line $i; done
    b:
      needs: [a]
      run: echo b
`;

describe('a closed stdout', () => {
  it('agent run | head: no EPIPE stack trace, the run goes on to succeed and is recorded', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'agent.yaml'), chatty);
    const r = await execa('sh', ['-c', `node ${agentBin} run | head -n 1`], {
      cwd: dir,
      env: cliEnv(),
      reject: false,
      shell: false,
    });
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.stdout.split('\n')[0]).toMatch(/^run \S+: starting workflow chatty/);
    const runs = readState(dir, (db) => db.prepare('SELECT status FROM runs').all());
    expect(runs).toEqual([{ status: 'succeeded' }]);
    const runsHead = await execa('sh', ['-c', `node ${agentBin} runs | head -n 1`], {
      cwd: dir,
      env: cliEnv(),
      reject: false,
    });
    expect(runsHead.stderr).toBe('');
    expect(runsHead.stdout).toMatch(/^RUN\s+WORKFLOW\s+STATUS/);
  });
});

describe('SIGHUP (a closed terminal)', () => {
  it('cancels the run as SIGTERM does: exit 130, recorded cancelled', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: hup }\nspec:\n  steps:\n    wait:\n      run: sleep 30\n',
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => stdout().includes('step wait: started'), { timeoutMs: 60_000 });
    child.kill('SIGHUP');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toMatch(/SIGHUP received, cancelling the run/);
    const runs = readState(dir, (db) => db.prepare('SELECT status FROM runs').all());
    expect(runs).toEqual([{ status: 'cancelled' }]);
  });
});
