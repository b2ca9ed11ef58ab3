/**
 * agent.dev/v1 (agent-as-code) files end to end: a `runtime: nodejs` agent
 * without dependencies is built here FROM local/node:20 (the base image
 * override; no registry), run health-gated in serve mode until SIGINT
 * leaves nothing behind, and used unchanged as a workflow's service that a
 * step calls; `agent build` tags NAME:VERSION, prints its Dockerfile, and
 * names the failing step of a broken build.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { isClean, runLeftovers } from '../helpers/leftovers.js';
import { waitFor } from '../helpers/processes.js';
import { agent, collectStdout, spawnAgent, tempDir } from './cli.js';

const SERVER = `const http = require('node:http');
const fs = require('node:fs');
const config = JSON.parse(fs.readFileSync(process.env.AGENT_CONFIG_FILE, 'utf8'));
http
  .createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({
      provider: process.env.MODEL_PROVIDER,
      model: process.env.MODEL_NAME,
      modelConfig: JSON.parse(process.env.MODEL_CONFIG),
      config,
      greeting: process.env.GREETING,
    }));
  })
  .listen(3000, () => console.log('listening on 3000'));
`;

/** A fresh folder holding an agent.dev/v1 nodejs agent named `name` (index.js beside agent.yaml). */
async function agentFolder(name: string, extra = ''): Promise<string> {
  const dir = await tempDir('agentfile-aac-');
  await writeFile(join(dir, 'index.js'), SERVER);
  await writeFile(
    join(dir, 'agent.yaml'),
    `apiVersion: agent.dev/v1
kind: Agent
metadata:
  name: ${name}
  version: 1.0.0
  description: e2e agent
spec:
  runtime: nodejs
  model:
    provider: openai
    name: gpt-4
    config: { temperature: 0.7 }
  capabilities: [conversation]
  dependencies: []
  environment:
    - { name: GREETING, value: hello }
  ports:
    - { container: 3000 }
  healthCheck:
    command: [node, -e, "fetch('http://127.0.0.1:3000/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
    interval: 500ms
    retries: 20
  config:
    style: terse
${extra}`,
  );
  return dir;
}

const env = { AGENTFILE_BASE_IMAGES: 'nodejs=local/node:20' };
const suffix = randomBytes(3).toString('hex');
const images: string[] = [];

describe('agent build --print-dockerfile', () => {
  it('prints the generated Dockerfile with the overridden base image, without an engine', async () => {
    const dir = await agentFolder('printed');
    const r = await agent(['build', '--print-dockerfile'], { cwd: dir, env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('FROM local/node:20\n');
    expect(r.stdout).toContain('CMD ["node","index.js"]');
    expect(r.stdout).toContain('ENV MODEL_NAME="gpt-4"\n');
    expect(r.stdout).not.toContain('npm install');
    const flag = await agent(
      ['build', '--print-dockerfile', '--base-image', 'nodejs=other/node:22'],
      {
        cwd: dir,
        env,
      },
    );
    expect(flag.stdout).toContain('FROM other/node:22\n');
  });
});

describeDocker('agent.dev/v1 agents on Docker', () => {
  afterAll(async () => {
    // NAME:VERSION and the content-hash tags agentfile/NAME:HASH (labelled agentfile.agent=NAME).
    const ids: string[] = [];
    for (const image of images) {
      const name = image.split(':')[0] ?? '';
      const r = await execa(
        'docker',
        ['images', '-q', '--filter', `label=agentfile.agent=${name}`],
        {
          reject: false,
        },
      );
      ids.push(...String(r.stdout).split('\n').filter(Boolean));
    }
    if (images.length > 0) {
      await execa('docker', ['rmi', '-f', ...images, ...new Set(ids)], { reject: false });
    }
  });

  it('agent build builds FROM local/node:20 and tags NAME:VERSION', async () => {
    const name = `aac-build-${suffix}`;
    const dir = await agentFolder(name);
    const r = await agent(['build'], { cwd: dir, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Step 1/');
    expect(r.stderr).toContain(`agent ${name}: built ${name}:1.0.0`);
    images.push(`${name}:1.0.0`);
    const inspect = await execa('docker', ['image', 'inspect', `${name}:1.0.0`], { reject: false });
    expect(inspect.exitCode).toBe(0);
    // Nothing was written into the agent's folder (package.json was generated in memory).
    expect((await readdir(dir)).sort()).toEqual(['agent.yaml', 'index.js']);
    const again = await agent(['build'], { cwd: dir, env });
    expect(again.stderr).toContain('is up to date');
  });

  it('agent run FILE serves the agent health-gated; SIGINT leaves no container', async () => {
    const name = `aac-serve-${suffix}`;
    const dir = await agentFolder(name);
    images.push(`${name}:1.0.0`);
    const child = spawnAgent(['run', 'agent.yaml', '--output', 'plain'], { cwd: dir, env });
    const out = collectStdout(child);
    await waitFor(() => /healthy in/.test(out()), {
      timeoutMs: 120_000,
      message: 'the agent did not become healthy',
    });
    const port = /started \(127\.0\.0\.1:(\d+)->3000\)/.exec(out())?.[1];
    expect(port, out()).toBeDefined();
    const answer = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Record<
      string,
      unknown
    >;
    expect(answer).toEqual({
      provider: 'openai',
      model: 'gpt-4',
      modelConfig: { temperature: 0.7 },
      config: { style: 'terse' },
      greeting: 'hello',
    });
    const runId = /run (\S+): starting/.exec(out())?.[1] ?? '';
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, out()).toBe(130);
    const left = await runLeftovers(runId);
    expect(isClean(left)).toBe(true);
  });

  it('a workflow uses the same file as a service that a step calls', async () => {
    const name = `aac-service-${suffix}`;
    const agentDir = await agentFolder(name);
    images.push(`${name}:1.0.0`);
    const dir = await tempDir('agentfile-aac-wf-');
    await mkdir(join(dir, 'agent'));
    await execa('cp', [
      join(agentDir, 'agent.yaml'),
      join(agentDir, 'index.js'),
      join(dir, 'agent'),
    ]);
    await writeFile(
      join(dir, 'workflow.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: uses-agent-dev }
spec:
  services:
    bot:
      uses: ./agent/agent.yaml
  steps:
    ask:
      needs: [bot]
      run: node -e "fetch(process.env.AGENT_SERVICE_BOT_URL + '/').then(r => r.json()).then(j => console.log('model', j.model, 'style', j.config.style))"
`,
    );
    const r = await agent(['run', 'workflow.yaml'], { cwd: dir, env });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('step ask | model gpt-4 style terse');
    expect(r.stdout).toMatch(/service bot: stopped/);
  });

  it('detached: run -d returns once healthy; ps, logs -f and stop work on it', async () => {
    const name = `aac-detach-${suffix}`;
    images.push(`${name}:1.0.0`);
    const dir = await agentFolder(name);
    const r = await agent(['run', '-d'], { cwd: dir, env, timeoutMs: 180_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = JSON.parse((await agent(['ps', '--json'], { cwd: dir })).stdout) as {
      container: string;
      name: string;
      health: string;
      image: string;
    }[];
    expect(ps.find((row) => id.startsWith(row.container))).toMatchObject({
      name,
      health: 'healthy',
    });
    const follow = spawnAgent(['logs', name, '-f'], { cwd: dir });
    const followed = collectStdout(follow);
    await waitFor(() => followed().includes('listening on 3000'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const stop = await agent(['stop', name], { cwd: dir });
    expect(stop.exitCode, stop.stdout + stop.stderr).toBe(0);
    expect((await follow).exitCode).toBe(0);
    await waitFor(
      async () => (await execa('docker', ['ps', '-aq', '--filter', `id=${id}`])).stdout === '',
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });

  it('a failed build names its Dockerfile line and shows the tail of the output', async () => {
    const name = `aac-broken-${suffix}`;
    images.push(`${name}:latest`);
    const dir = await agentFolder(name, '  # dependencies need npm, which busybox lacks\n');
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agent.dev/v1
kind: Agent
metadata: { name: ${name} }
spec:
  runtime: nodejs
  dependencies: [left-pad@1.3.0]
`,
    );
    const r = await agent(['build', '--base-image', 'nodejs=local/busybox:latest'], {
      cwd: dir,
      env,
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`image build of agent "${name}" failed`);
    expect(r.stderr).toMatch(/at step 4\/\d+ \(Dockerfile line 5\): RUN npm install --omit=dev/);
    expect(r.stderr).toContain('npm: not found');
    expect(r.stderr).toContain('--print-dockerfile');
  });
});
