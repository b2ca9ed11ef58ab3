/**
 * Faults from outside the run: a reader that goes away (`agent run | head`)
 * and a terminal that closes (SIGHUP). Neither may crash the CLI or leave a
 * run recorded `running` forever.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/processes.js';
import { agent, agentBin, cliEnv, collectStdout, readState, spawnAgent, tempDir } from './cli.js';

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

describe('names and paths a hostile user tries', () => {
  it('a 300-character step id runs: its log file name cannot overflow', async () => {
    const dir = await tempDir();
    const id = `s${'x'.repeat(299)}`;
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: long }\nspec:\n  steps:\n    ${id}:\n      run: echo long\n`,
    );
    const lint = await agent(['lint'], { cwd: dir });
    expect(lint.exitCode).toBe(0);
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`step ${id} | long`);
    const logFile = readState(dir, (db) => db.prepare('SELECT log_file FROM attempts').get()) as {
      log_file: string;
    };
    expect(basename(logFile.log_file).length).toBeLessThanOrEqual(255);
    expect(await readFile(logFile.log_file, 'utf8')).toContain('long');
  });

  it('AGENTFILE_STATE under /proc: exit 4 at once with one line, no spinning', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: p }\nspec:\n  steps:\n    a:\n      run: "true"\n',
    );
    const r = await agent(['run'], {
      cwd: dir,
      env: { AGENTFILE_STATE: '/proc/nope/state.db' },
      timeoutMs: 30_000, // a hang (the old busy loop) fails here instead of blocking the suite
    });
    expect(r.exitCode).toBe(4);
    expect(r.stderr.split('\n')[0]).toMatch(
      /^agent: cannot create the state store at \/proc\/nope\/state\.db: /,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('what steps write', () => {
  it('control bytes never reach the terminal; the log keeps the exact bytes, and agent logs gives them back', async () => {
    const dir = await tempDir();
    // A title-setting OSC, a colour, a bell, and 4 KiB of random bytes on stdout.
    await writeFile(
      join(dir, 'blob'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256)),
    );
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: bytes }
spec:
  steps:
    ansi:
      run: printf '\\033]0;pwned\\007\\033[31mred\\033[0m bell\\007\\n'
    binary:
      run: cat blob
`,
    );
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const controls = [...r.stdout].filter((c) => {
      const code = c.charCodeAt(0);
      return (
        (code < 0x20 && c !== '\n' && c !== '\t') || code === 0x7f || (code >= 0x80 && code < 0xa0)
      );
    });
    expect(controls).toEqual([]);
    expect(r.stdout).toContain('step ansi | red bell');
    const id = /^run (\S+):/m.exec(r.stdout)?.[1] ?? '';
    const out = join(dir, 'out.bin');
    const logs = await execa('sh', ['-c', `node ${agentBin} logs ${id} binary > ${out}`], {
      cwd: dir,
      env: cliEnv(),
      reject: false,
    });
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(Buffer.compare(await readFile(out), await readFile(join(dir, 'blob')))).toBe(0);
  });
});
