/** `agent inspect`: the resolved agents, environment and build-argument names but never their values. */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { agent, tempDir } from './cli.js';

it('shows the resolved agent with environment names and sources, never values', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'app'));
  await writeFile(
    join(dir, 'agent.yaml'),
    `apiVersion: agentfile/v1
kind: Agent
metadata: { name: api }
spec:
  build: { context: ./app, args: { NPM_TOKEN: build-arg-value-123 } }
  ports: ["9090:8080"]
  environment:
    - { name: LOG_LEVEL, value: literal-value-456 }
    - { name: HOME_DIR, from: env }
    - { name: DB_PASSWORD, from: secret, secretName: db }
  healthCheck: { tcp: { port: 8080 }, interval: 2s }
`,
  );
  const text = await agent(['inspect'], { cwd: dir });
  expect(text.exitCode, text.stderr).toBe(0);
  expect(text.stdout).toContain('agent api (agent.yaml)');
  expect(text.stdout).toContain('build        app (Dockerfile, args NPM_TOKEN)');
  expect(text.stdout).toContain('port         9090 -> 8080/tcp');
  expect(text.stdout).toContain('env          LOG_LEVEL (set in the file)');
  expect(text.stdout).toContain("env          HOME_DIR (from the runner's environment)");
  expect(text.stdout).toContain('env          DB_PASSWORD (from secret db)');
  expect(text.stdout).toContain('health       tcp :8080 every 2s');
  const json = await agent(['inspect', '--json'], { cwd: dir });
  expect(JSON.parse(json.stdout)[0].environment).toEqual([
    { name: 'LOG_LEVEL', from: 'value' },
    { name: 'HOME_DIR', from: 'env' },
    { name: 'DB_PASSWORD', from: 'secret', secretName: 'db' },
  ]);
  for (const out of [text.stdout, json.stdout]) {
    expect(out).not.toContain('literal-value-456');
    expect(out).not.toContain('build-arg-value-123');
  }
});
