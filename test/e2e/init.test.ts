/**
 * `agent init`: the templates lint clean (also with --strict), nothing is overwritten without
 * --force, and the Node template runs here, health-gated, until SIGINT
 * removes it (real Docker engine, images built offline from node:20).
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { waitFor } from '../helpers/processes.js';
import { agent, collectStdout, freePort, spawnAgent, tempDir } from './cli.js';

describe('agent init', () => {
  it('writes templates that lint clean, and never overwrites without --force', async () => {
    const dir = await tempDir();
    for (const template of ['node', 'python']) {
      const r = await agent(['init', template, '--dir', template, '--name', `hi-${template}`], {
        cwd: dir,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain(`wrote ${join(template, 'agent.yaml')}`);
      // Clean even as a deploy gate: no policy warning either.
      const lint = await agent(['lint', '--strict', join(template, 'agent.yaml')], { cwd: dir });
      expect(lint.exitCode, lint.stdout).toBe(0);
      expect(lint.stdout).toContain('no problems found');
    }
    const before = await readFile(join(dir, 'node', 'agent.yaml'), 'utf8');
    const again = await agent(['init', '--dir', 'node'], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('already exist');
    expect(await readFile(join(dir, 'node', 'agent.yaml'), 'utf8')).toBe(before);
    const forced = await agent(['init', '--dir', 'node', '--force', '--name', 'other'], {
      cwd: dir,
    });
    expect(forced.exitCode).toBe(0);
    expect(await readFile(join(dir, 'node', 'agent.yaml'), 'utf8')).toContain('name: other');
    const unknown = await agent(['init', 'cobol'], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown template "cobol"; expected one of node, python');
  });
});

describeDocker('the Node template', () => {
  it('runs health-gated; ps, logs NAME -f and stop NAME work on it; SIGINT leaves nothing behind', async () => {
    const dir = await tempDir();
    expect((await agent(['init', '--name', 'fresh'], { cwd: dir })).exitCode).toBe(0);
    const child = spawnAgent(['run', 'agent.yaml'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => /service fresh: healthy/.test(stdout()), {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    const port = /service fresh: started \(127\.0\.0\.1:(\d+)->8080\)/.exec(stdout())?.[1];
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.json()).toEqual({ message: 'hello from fresh' });
    const runId = /run (\S+): starting/.exec(stdout())?.[1];
    // `agent logs NAME -f` follows the agent of the newest run until it stops.
    const follow = spawnAgent(['logs', 'fresh', '-f'], { cwd: dir });
    const followed = collectStdout(follow);
    await waitFor(() => followed().includes('fresh listening on :8080'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const ps = await agent(['ps', '--json'], { cwd: dir });
    expect(ps.exitCode, ps.stderr).toBe(0);
    const rows = (
      JSON.parse(ps.stdout) as { name: string; run: string; health: string; ports: string }[]
    ).filter((r) => r.run === runId);
    expect(rows).toEqual([
      expect.objectContaining({
        name: 'fresh',
        health: 'healthy',
        ports: expect.stringContaining(`${port}->8080/tcp`),
      }),
    ]);
    expect((await agent(['ps'], { cwd: dir })).stdout).toMatch(/CONTAINER\s+NAME\s+KIND/);
    // `agent stop NAME` ends it from another terminal, as Ctrl-C would.
    const stop = await agent(['stop', 'fresh'], { cwd: dir });
    expect(stop.exitCode, stop.stdout + stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`stopping fresh: cancelling run ${runId}`);
    expect((await child).exitCode).toBe(130);
    expect((await follow).exitCode).toBe(0);
    const logs = await agent(['logs', 'fresh'], { cwd: dir });
    expect(logs.stdout).toContain('fresh listening on :8080');
    const again = await agent(['stop', 'fresh'], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('no running run has an agent or step "fresh"');
    const left = await execa('docker', ['ps', '-aq', '--filter', `label=agentfile.run=${runId}`]);
    expect(left.stdout).toBe('');

    // In the foreground, SIGINT stops it and leaves nothing behind.
    const second = spawnAgent(['run', 'agent.yaml'], { cwd: dir });
    const out = collectStdout(second);
    await waitFor(() => /service fresh: healthy/.test(out()), {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    const secondRun = /run (\S+): starting/.exec(out())?.[1];
    second.kill('SIGINT');
    expect((await second).exitCode).toBe(130);
    const none = await execa('docker', [
      'ps',
      '-aq',
      '--filter',
      `label=agentfile.run=${secondRun}`,
    ]);
    expect(none.stdout).toBe('');
  });
});

describeDocker('agent run -d', () => {
  it('starts the agent in the background, returns once healthy with its container id, and stop removes it', async () => {
    const dir = await tempDir();
    expect((await agent(['init', '--name', 'bg'], { cwd: dir })).exitCode).toBe(0);
    const r = await agent(['run', '-d'], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toMatch(/serves bg in the background; `agent stop bg` stops it/);
    const inspect = await execa('docker', ['inspect', '-f', '{{.State.Running}}', id]);
    expect(inspect.stdout).toBe('true');
    const ps = JSON.parse((await agent(['ps', '--json'], { cwd: dir })).stdout) as {
      container: string;
      health: string;
    }[];
    expect(ps.find((row) => id.startsWith(row.container))?.health).toBe('healthy');
    const stop = await agent(['stop', 'bg'], { cwd: dir });
    expect(stop.exitCode, stop.stderr).toBe(0);
    await waitFor(
      async () => (await execa('docker', ['ps', '-aq', '--filter', `id=${id}`])).stdout === '',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const runs = await agent(['runs'], { cwd: dir });
    expect(runs.stdout).toMatch(/bg\s+cancelled/);
  });

  it('takes -p and --name as docker run does', async () => {
    const dir = await tempDir();
    expect((await agent(['init', '--name', 'orig'], { cwd: dir })).exitCode).toBe(0);
    const port = await freePort();
    const r = await agent(['run', '-d', '-p', `${port}:8080`, '--name', 'renamed', '-e', 'X=1'], {
      cwd: dir,
      timeoutMs: 180_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(await res.json()).toEqual({ status: 'ok' });
    const ps = JSON.parse((await agent(['ps', '--json'], { cwd: dir })).stdout) as {
      name: string;
    }[];
    expect(ps.map((row) => row.name)).toContain('renamed');
    expect((await agent(['stop', 'renamed'], { cwd: dir })).exitCode).toBe(0);
  });

  it('refuses a workflow file', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  steps:\n    a: { run: "true" }\n',
    );
    const r = await agent(['run', '-d'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('-d starts the agents of a file of Agent documents');
  });
});
