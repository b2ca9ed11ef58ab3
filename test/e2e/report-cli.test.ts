/**
 * `agent report --html` and `agent run --report` as a user calls them (no
 * browser here; test/e2e/report-html.test.ts opens the pages): which run,
 * exit codes, paths that cannot be written, and that a secret's value never
 * reaches the page while the inputs do.
 */

import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { agent, readState, repoRoot, tempDir } from './cli.js';

describe('agent report --html', () => {
  let dir: string;
  const runIds: string[] = [];
  beforeAll(async () => {
    dir = await tempDir('agentfile-report-cli-');
    await copyFile(join(repoRoot, 'test/fixtures/report/mixed.yaml'), join(dir, 'mixed.yaml'));
    for (let i = 0; i < 2; i++) {
      const r = await agent(['run', 'mixed.yaml'], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(1);
    }
    runIds.push(
      ...readState(dir, (db) =>
        (db.prepare('SELECT id FROM runs ORDER BY created_at').all() as { id: string }[]).map(
          (r) => r.id,
        ),
      ),
    );
    expect(runIds).toHaveLength(2);
  });

  it('writes the newest run by default, or the run named', async () => {
    const newest = await agent(['report', 'mixed.yaml', '--html', 'newest.html'], { cwd: dir });
    expect(newest.exitCode, newest.stderr).toBe(0);
    const html = await readFile(join(dir, 'newest.html'), 'utf8');
    expect(html).toContain(`<code>${runIds[1]}</code>`);
    // The graph's edges come from the needs the run's events recorded.
    expect([...html.matchAll(/data-edge="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual([
      'build-&gt;flaky',
      'build-&gt;slow',
      'build-&gt;test',
      'flaky-&gt;deploy',
      'test-&gt;deploy',
    ]);
    const older = await agent(['report', runIds[0] as string, 'mixed.yaml', '--html', 'old.html'], {
      cwd: dir,
    });
    expect(older.exitCode, older.stderr).toBe(0);
    expect(await readFile(join(dir, 'old.html'), 'utf8')).toContain(`<code>${runIds[0]}</code>`);
  });

  it('exits 2 without --html, for an unknown run, and where there is no store', async () => {
    const noFlag = await agent(['report', 'mixed.yaml'], { cwd: dir });
    expect(noFlag.exitCode).toBe(2);
    expect(noFlag.stderr).toContain('agent: say where to write the report: --html OUT');
    const unknown = await agent(['report', 'nope', 'mixed.yaml', '--html', 'x.html'], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no run "nope"');
    const empty = await tempDir();
    const none = await agent(['report', '--html', 'x.html'], { cwd: empty });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('no state store');
  });

  it('says in one line why a path cannot be written, and exits 4', async () => {
    // A directory inside a file cannot be made.
    const r = await agent(['report', 'mixed.yaml', '--html', 'mixed.yaml/report.html'], {
      cwd: dir,
    });
    expect(r.exitCode).toBe(4);
    const [first, hint, ...rest] = r.stderr.trimEnd().split('\n');
    expect(first).toMatch(/^agent: cannot write the HTML report to .*mixed\.yaml\/report\.html: /);
    expect(hint).toBe('hint: check the --html path');
    expect(rest).toEqual([]);
  });

  it('agent run --report to a path that cannot be written exits 4 after the run is recorded', async () => {
    const r = await agent(['run', 'mixed.yaml', '--report', 'mixed.yaml/r.html'], { cwd: dir });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/agent: cannot write the HTML report to .*mixed\.yaml\/r\.html: /);
    const status = readState(dir, (db) =>
      db.prepare('SELECT status FROM runs ORDER BY created_at DESC LIMIT 1').get(),
    ) as { status: string };
    expect(status.status).toBe('failed');
  });
});

describe('the report and secrets', () => {
  it('shows the inputs, never a secret value', async () => {
    const dir = await tempDir('agentfile-report-secret-');
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: secretive }
spec:
  inputs:
    target: { type: string }
  secrets: [TOKEN]
  steps:
    leak:
      env: { T: "\${{ secrets.TOKEN }}" }
      run: |
        echo "deploying \${{ inputs.target }} with $T"
        echo "token \${{ secrets.TOKEN }}" >&2
        exit 1
`,
    );
    const secret = 'hunter2-very-secret';
    const r = await agent(
      ['run', '-i', 'target=prod-eu', '--secret', `TOKEN=${secret}`, '--report', 'r.html'],
      { cwd: dir },
    );
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    const html = await readFile(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('<code>target</code></th><td><code>prod-eu</code>');
    // The step's output is there, with the value masked.
    expect(html).toContain('deploying prod-eu with ***');
    expect(html).toContain('token ***');
    expect(html).not.toContain(secret);
    expect(html).not.toContain('hunter2');
  });
});
