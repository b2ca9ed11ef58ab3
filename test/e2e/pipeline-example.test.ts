/**
 * The bundled release pipeline (examples/pipeline): inputs, outputs, a
 * matrix, a container step, a condition on `inputs.target` and a secret,
 * run as the README shows, on the real Docker engine.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { agent, copyExample, readState, repoRoot } from './cli.js';

function statuses(dir: string): Record<string, string> {
  return readState(dir, (db) =>
    Object.fromEntries(
      (
        db.prepare("SELECT id, status FROM steps WHERE kind = 'step'").all() as {
          id: string;
          status: string;
        }[]
      ).map((r) => [r.id, r.status]),
    ),
  );
}

it("the README shows the pipeline's plan as `agent plan` prints it", async () => {
  const r = await agent(['plan', 'examples/pipeline/workflow.yaml', '-i', 'target=prod'], {
    cwd: repoRoot,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
  expect(readme).toContain(
    `$ agent plan examples/pipeline/workflow.yaml -i target=prod\n${r.stdout}\n\`\`\``,
  );
});

describeDocker('the pipeline example', () => {
  it('deploys only to prod, with outputs flowing through the matrix and the container step', async () => {
    const dir = await copyExample('pipeline');
    const env = { AGENT_SECRET_DEPLOY_TOKEN: 'tok-9f8e7d6c5b' };
    const staging = await agent(['run', 'workflow.yaml'], { cwd: dir, env, timeoutMs: 180_000 });
    expect(staging.exitCode, staging.stdout + staging.stderr).toBe(0);
    expect(statuses(dir)).toEqual({
      build: 'succeeded',
      'test-20-unit': 'succeeded',
      'test-22-unit': 'succeeded',
      'test-22-e2e': 'succeeded',
      package: 'succeeded',
      deploy: 'skipped',
      report: 'succeeded',
    });
    expect(staging.stdout).toContain('testing demo-1.0.0.tgz on node 22 (e2e)');
    expect(staging.stdout).toMatch(/deploy skipped; package sha256:[0-9a-f]{12}/);

    const prod = await agent(['run', 'workflow.yaml', '-i', 'target=prod', '-i', 'version=2.1.0'], {
      cwd: dir,
      env,
      timeoutMs: 180_000,
    });
    expect(prod.exitCode, prod.stdout + prod.stderr).toBe(0);
    expect(prod.stdout).toMatch(/deploying sha256:[0-9a-f]{12} to prod/);
    expect(prod.stdout).toContain('with token ***');
    expect(prod.stdout).not.toContain('tok-9f8e7d6c5b');
    expect(prod.stdout).toMatch(/deploy succeeded; package sha256:[0-9a-f]{12}/);

    const missing = await agent(['run', 'workflow.yaml'], { cwd: dir });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('missing secret "DEPLOY_TOKEN"');
  });
});
