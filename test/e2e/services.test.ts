/**
 * Services in real runs: a process service gated on its health check, a
 * container service that dies before it is healthy, and the live terminal
 * view (listr2) under a real pseudo-terminal.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { waitFor } from '../helpers/processes.js';
import {
  agent,
  agentBin,
  collectStdout,
  copyExample,
  freePort,
  portInUse,
  repoRoot,
  spawnAgent,
  tempDir,
} from './cli.js';

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\n`;

describe('a process service', () => {
  it('is started, health-gated, reachable by its published port, and stopped', async () => {
    const dir = await tempDir();
    const port = await freePort();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('local-service')}spec:
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
      run: node -e "fetch(process.env.AGENT_SERVICE_WEB_URL + '/health').then(r => r.text()).then(t => console.log('answer', t.trim()))"
`,
    );
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/service web: healthy/);
    expect(r.stdout).toContain('step call | answer ok');
    expect(r.stdout).toMatch(/service web: stopped/);
    // Stopped means gone: the port is free again.
    expect(await portInUse(port)).toBe(false);
  });
});

describeDocker('a container service that exits before it is healthy', () => {
  it('fails the run promptly with its exit code and its last lines of output', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('crash')}spec:
  services:
    crashy:
      image: busybox:1.36
      command: "echo loading model; echo 'fatal: no model found' >&2; exit 3"
      ports: ["8080"]
      healthCheck:
        tcp: { port: 8080 }
        interval: 1s
        retries: 3
        startPeriod: 30s
  steps:
    use:
      needs: [crashy]
      run: echo should not run
`,
    );
    const r = await agent(['run'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.exitCode).toBe(1);
    // Well inside the 30 s start period: the exit is noticed, not waited out.
    expect(r.durationMs).toBeLessThan(15_000);
    expect(r.stdout).toMatch(/service crashy: failed.*exited with code 3 before it became healthy/);
    expect(r.stdout).toContain('service crashy | fatal: no model found');
    expect(r.stdout).not.toContain('should not run');
  });
});

describeDocker('the live view on a terminal', () => {
  it('renders the listr2 tree under a pseudo-terminal and ends with the summary', async () => {
    const dir = await copyExample('hello-agent');
    // util-linux `script` gives the command a real pty; CI must be unset for the live view.
    const r = await execa(
      'script',
      ['-qec', `stty cols 120 rows 40; node ${agentBin} run workflow.yaml`, '/dev/null'],
      {
        cwd: dir,
        env: { CI: '', FORCE_COLOR: '0', TERM: 'xterm' },
        reject: false,
        timeout: 120_000,
      },
    );
    expect(r.exitCode, String(r.stdout)).toBe(0);
    const screen = stripVTControlCharacters(String(r.stdout)).replaceAll('\r', '');
    expect(screen).toMatch(/✔ step in-network · \d/);
    expect(screen).toMatch(/✔ service api · stopped/);
    expect(screen).toMatch(/run \S+: succeeded in/);
    expect(screen).not.toMatch(/^step prepare: started$/m); // not the plain renderer
  });
});

describeDocker('agent run on a file of Agent documents (serve mode)', () => {
  it('starts the agent, health-gates it, streams its output, serves until SIGINT, then removes it', async () => {
    const dir = await copyExample('hello-agent');
    const child = spawnAgent(['run', 'agent.yaml'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => /service hello-agent: healthy/.test(stdout()), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const port = /service hello-agent: started \(127\.0\.0\.1:(\d+)->8080\)/.exec(stdout())?.[1];
    const res = await fetch(`http://127.0.0.1:${port}/hello?name=serve`);
    expect(await res.json()).toMatchObject({ message: 'Hello, serve!' });
    await waitFor(() => stdout().includes('service hello-agent | greeted serve'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const runId = /run (\S+): starting/.exec(stdout())?.[1];
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(stdout()).toMatch(/run \S+: cancelled/);
    const left = await execa('docker', ['ps', '-aq', '--filter', `label=agentfile.run=${runId}`]);
    expect(left.stdout).toBe('');
  });
});

describeDocker('a tcp health check on a published port', () => {
  it('does not pass for a container that never listens (the port proxy accepts anyway)', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('deaf')}spec:
  services:
    deaf:
      image: busybox:1.36
      command: [sleep, "300"]
      ports: ["8080"]
      healthCheck:
        tcp: { port: 8080 }
        interval: 300ms
        timeout: 1s
        retries: 2
  steps:
    use:
      needs: [deaf]
      run: echo should not run
`,
    );
    const r = await agent(['run'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.exitCode, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/service deaf: unhealthy: .*tcp .*ECONNREFUSED/);
    expect(r.stdout).not.toContain('should not run');
  });
});
