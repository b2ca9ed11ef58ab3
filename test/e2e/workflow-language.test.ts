/**
 * The workflow language through the real `agent` binary with real processes:
 * inputs, outputs flowing between steps, conditions and status functions,
 * continueOnError, failFast, matrix, resume and --from keeping outputs, and
 * values that look like shell or expressions reaching a step as data.
 */

import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agent, freePort, readState, repoRoot, tempDir } from './cli.js';

async function project(yaml: string): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'agent.yaml'), yaml);
  return dir;
}

function stepRows(
  dir: string,
): Record<string, { status: string; error: string | null; outputs: string | null }> {
  return readState(dir, (db) =>
    Object.fromEntries(
      (
        db.prepare("SELECT id, status, error, outputs FROM steps WHERE kind = 'step'").all() as {
          id: string;
          status: string;
          error: string | null;
          outputs: string | null;
        }[]
      ).map((r) => [r.id, { status: r.status, error: r.error, outputs: r.outputs }]),
    ),
  );
}

const HEADER = 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: lang }\nspec:\n';

describe('inputs', () => {
  const yaml = `${HEADER}  concurrency: 1
  inputs:
    target: { type: choice, options: [dev, prod], default: dev }
    shards: { type: number, default: 2 }
    note: { required: true }
  steps:
    show:
      run: echo "target=\${{ inputs.target }} shards+1=\${{ inputs.shards == 2 }} note=\${{ inputs.note }}"
`;

  it('checks every input before anything runs, and names each problem', async () => {
    const dir = await project(yaml);
    const r = await agent(['run', '-i', 'target=staging', '-i', 'shards=x', '-i', 'tagret=1'], {
      cwd: dir,
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('input "target" must be one of "dev", "prod", got "staging"');
    expect(r.stderr).toContain('input "shards" must be a number, got "x"');
    expect(r.stderr).toContain('missing required input "note"');
    expect(r.stderr).toContain('unknown input "tagret"; did you mean "target"?');
    expect(r.stderr).toContain('4 problems with the inputs; nothing was run');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('types them, records them, shows them in status, and --resume reuses them', async () => {
    const dir = await project(yaml);
    await writeFile(join(dir, 'inputs.json'), JSON.stringify({ note: 'from-file', shards: 2 }));
    const r = await agent(['run', '--inputs', 'inputs.json', '-i', 'target=prod'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('target=prod shards+1=true note=from-file');
    const status = await agent(['status', '--json'], { cwd: dir });
    expect(JSON.parse(status.stdout).run.inputs).toEqual({
      target: 'prod',
      shards: 2,
      note: 'from-file',
    });
    const text = await agent(['status'], { cwd: dir });
    expect(text.stdout).toContain('inputs: note=from-file, shards=2, target=prod');
    const changed = await agent(['run', '--from', 'show', '-i', 'target=dev'], { cwd: dir });
    expect(changed.exitCode).toBe(2);
    expect(changed.stderr).toContain('a resumed run keeps the inputs it started with');
    const again = await agent(['run', '--from', 'show'], { cwd: dir });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('target=prod shards+1=true note=from-file');
  });
});

describe('outputs, conditions and data', () => {
  it('passes outputs (one line, multi-line, hostile) to later steps as literal data', async () => {
    const dir = await project(`${HEADER}  concurrency: 1
  steps:
    make:
      outputs: [version, notes, evil]
      run: |
        echo "version=1.2.3" >> "$AGENT_OUTPUT"
        printf 'notes<<EOF\\nline one\\nline two\\nEOF\\n' >> "$AGENT_OUTPUT"
        printf '%s\\n' 'evil=; touch pwned; $(touch pwned2) \`touch pwned3\` $''{{ inputs.x }} "q"' >> "$AGENT_OUTPUT"
    use:
      needs: [make]
      env: { NOTES: "\${{ steps.make.outputs.notes }}" }
      run: |
        echo "v=\${{ steps.make.outputs.version }}"
        printf '%s\\n' "evil=\${{ steps.make.outputs.evil }}"
        printf 'notes=%s\\n' "$NOTES"
    argv:
      needs: [make]
      command: [printf, "argv=%s\\n", "\${{ steps.make.outputs.evil }}"]
`);
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('v=1.2.3');
    const evil = '; touch pwned; $(touch pwned2) `touch pwned3` ${{ inputs.x }} "q"';
    expect(r.stdout).toContain(`evil=${evil}`);
    expect(r.stdout).toContain(`argv=${evil}`);
    expect(r.stdout).toContain('notes=line one');
    expect(r.stdout).toContain('line two');
    for (const f of ['pwned', 'pwned2', 'pwned3']) {
      await expect(readFile(join(dir, f))).rejects.toThrow(/ENOENT/);
    }
    expect(JSON.parse(stepRows(dir).make?.outputs ?? '{}')).toEqual({
      version: '1.2.3',
      notes: 'line one\nline two',
      evil,
    });
  });

  it('fails a step whose declared output is missing, with a clear message', async () => {
    const dir = await project(`${HEADER}  steps:
    make:
      outputs: [version]
      run: "true"
`);
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(stepRows(dir).make?.error).toBe(
      'declared output "version" not written to $AGENT_OUTPUT',
    );
  });

  it('skips false conditions, runs failure()/always() after a failure, and honours continueOnError', async () => {
    const dir = await project(`${HEADER}  concurrency: 1
  steps:
    flaky:
      continueOnError: true
      run: exit 3
    after-flaky:
      needs: [flaky]
      run: echo "flaky was \${{ steps.flaky.status }}"
    never:
      if: \${{ 1 == 2 }}
      run: echo never
    child-of-never:
      needs: [never]
      run: echo child
    broken:
      needs: [after-flaky]
      run: exit 1
    not-started:
      needs: [after-flaky]
      run: echo should not start
    on-failure:
      needs: [broken]
      if: failure()
      run: echo "cleaning up after \${{ steps.broken.status }}"
    on-success:
      needs: [broken]
      if: success()
      run: echo never
    finally:
      needs: [on-failure, on-success]
      if: always()
      run: echo finally
`);
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('flaky was failed');
    expect(r.stdout).toContain('cleaning up after failed');
    expect(r.stdout).toContain('finally');
    const rows = stepRows(dir);
    expect(rows.flaky?.status).toBe('failed');
    expect(rows['after-flaky']?.status).toBe('succeeded');
    expect(rows.never).toMatchObject({ status: 'skipped', error: 'if: ${{ 1 == 2 }} was false' });
    expect(rows['child-of-never']?.status).toBe('skipped');
    expect(rows.broken?.status).toBe('failed');
    expect(rows['not-started']).toMatchObject({
      status: 'skipped',
      error: 'the run failed before it started',
    });
    expect(rows['on-failure']?.status).toBe('succeeded');
    expect(rows['on-success']?.status).toBe('skipped');
    expect(rows.finally?.status).toBe('succeeded');
  });

  it('failFast: false lets independent branches finish', async () => {
    const dir = await project(`${HEADER}  concurrency: 1
  failFast: false
  steps:
    broken: { run: exit 1 }
    dependant: { needs: [broken], run: echo no }
    independent: { run: echo independent ran }
`);
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const rows = stepRows(dir);
    expect(rows.independent?.status).toBe('succeeded');
    expect(rows.dependant?.status).toBe('skipped');
  });

  it('expands a matrix, addresses outputs per combination, and waits for all of them', async () => {
    const dir = await project(`${HEADER}  concurrency: 2
  steps:
    test:
      matrix: { n: [1, 2], os: [a] , maxParallel: 1 }
      run: echo "sq=\${{ matrix.n }}\${{ matrix.n }}" >> "$AGENT_OUTPUT"
    sum:
      needs: [test]
      run: echo "got \${{ steps.test-1-a.outputs.sq }} and \${{ steps.test-2-a.outputs.sq }}"
`);
    const plan = await agent(['plan'], { cwd: dir });
    expect(plan.stdout).toMatch(/test-1-a .*matrix test: n=1 os=a/);
    expect(plan.stdout).toMatch(/sum .*needs test-1-a, test-2-a/);
    const json = JSON.parse((await agent(['plan', '--format', 'json'], { cwd: dir })).stdout);
    expect(json.nodes[0]).toMatchObject({
      id: 'test-1-a',
      matrix: { group: 'test', values: { n: 1, os: 'a' } },
    });
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('got 11 and 22');
  });

  it('expands a matrix axis given as an expression over the inputs', async () => {
    const dir = await project(`${HEADER}  inputs:
    versions: { default: '["18", "20.x"]' }
  steps:
    t:
      matrix: { v: "\${{ fromJSON(inputs.versions) }}" }
      run: echo "version \${{ matrix.v }}"
`);
    const plan = await agent(['plan', '-i', 'versions=["a", "b", "c"]'], { cwd: dir });
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/t-a .*\n.*t-b .*\n.*t-c /);
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(Object.keys(stepRows(dir)).sort()).toEqual(['t-18', 't-20_x']);
    expect(r.stdout).toContain('version 20.x');
    const bad = await agent(['run', '-i', 'versions="not a list"'], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(
      'matrix "v" of step "t" must be a non-empty list, got "not a list"',
    );
  });

  it('--resume after a failure reuses the outputs of the steps that succeeded', async () => {
    const dir = await project(`${HEADER}  concurrency: 1
  steps:
    make:
      outputs: [token]
      run: echo "token=$$-$(date +%s%N)" >> "$AGENT_OUTPUT"
    use:
      needs: [make]
      run: |
        echo "used=\${{ steps.make.outputs.token }} attempt=\${{ run.attempt }}"
        test -f ok
`);
    const first = await agent(['run'], { cwd: dir });
    expect(first.exitCode).toBe(1);
    const token = JSON.parse(stepRows(dir).make?.outputs ?? '{}').token as string;
    expect(token).toMatch(/^[0-9]+-[0-9]+$/);
    expect(first.stdout).toContain(`used=${token} attempt=1`);
    await writeFile(join(dir, 'ok'), '');
    const resumed = await agent(['run', '--resume'], { cwd: dir });
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`used=${token} attempt=2`);
    const from = await agent(['run', '--from', 'use'], { cwd: dir });
    expect(from.exitCode).toBe(0);
    expect(from.stdout).toContain(`used=${token} attempt=3`);
  });
});

describe('expressions in every field, services and several workflows', () => {
  it('renders service environment, services/run contexts, workdir and timeout; FILE#NAME picks a workflow', async () => {
    const port = await freePort();
    const server = JSON.stringify(join(repoRoot, 'test/fixtures/bin/http-server.mjs'));
    const dir = await project(`${HEADER}  concurrency: 1
  inputs:
    port: { type: number, default: ${port} }
    sub: { default: nested }
    t: { default: 300ms }
    greeting: { default: hello }
  secrets: [PW]
  services:
    web:
      runtime: process
      command: [node, ${server}]
      ports: ["${port}:${port}"]
      environment:
        - { name: PORT, value: "\${{ inputs.port }}" }
      healthCheck: { http: { path: /health, port: ${port} }, interval: 200ms, retries: 5 }
    echoer:
      runtime: process
      command: echo "greeting=$GREETING pw=$PW run=$RUN"; exec sleep 30
      environment:
        - { name: GREETING, value: "\${{ inputs.greeting }} from \${{ env.WHO }}" }
        - { name: PW, from: secret, secretName: PW }
        - { name: RUN, value: "\${{ run.id }}" }
      healthCheck: { command: ["true"], interval: 100ms }
  steps:
    call:
      needs: [web, echoer]
      workdir: "\${{ inputs.sub }}"
      run: |
        test "\${{ services.web.url }}" = "$AGENT_SERVICE_WEB_URL" && echo "url ok \${{ services.web.port }}"
        test "\${{ run.id }}" = "$AGENT_RUN_ID" && echo "run id ok"
        echo "in $(basename "$PWD")"
    slow:
      needs: [call]
      timeout: "\${{ inputs.t }}"
      continueOnError: true
      run: sleep 5
---
apiVersion: agentfile/v1
kind: Workflow
metadata: { name: second }
spec:
  steps:
    only: { run: echo second workflow }
`);
    await mkdir(join(dir, 'nested'));
    const r = await agent(['run', 'agent.yaml#lang', '--secret', 'PW=pw-7c1d2e'], {
      cwd: dir,
      env: { WHO: 'the runner' },
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`url ok ${port}`);
    expect(r.stdout).toContain('run id ok');
    expect(r.stdout).toContain('in nested');
    const rows = stepRows(dir);
    expect(rows.slow).toMatchObject({ status: 'timed_out', error: 'timed out after 300ms' });
    const runDir = join(dir, '.agentfile', 'runs');
    const [runId] = await readdir(runDir);
    const log = await readFile(join(runDir, runId ?? '', 'echoer.1.log'), 'utf8');
    expect(log).toContain(`greeting=hello from the runner pw=*** run=${runId}`);

    const second = await agent(['run', 'agent.yaml#second'], { cwd: dir });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toContain('second workflow');
    const neither = await agent(['run', 'agent.yaml'], { cwd: dir });
    expect(neither.exitCode).toBe(2);
    expect(neither.stderr).toContain('agent.yaml has 2 workflows; choose one with --workflow');
    const unknown = await agent(['run', 'agent.yaml#third'], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no workflow "third" in agent.yaml');
  });
});
