/**
 * `agent run` behaviours beyond the happy path, with the real binary: the
 * repository's own pipeline, retries, the lease (exit 3), an unreachable
 * engine and an unusable store (exit 4), and --resume with nothing to resume.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/processes.js';
import { agent, collectStdout, repoRoot, spawnAgent, tempDir } from './cli.js';

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\n`;

describe('agent run', () => {
  it("runs this repository's own pipeline (agent.yaml) to success", async () => {
    // On a copy of the repository, so its build step never rewrites the dist/
    // that other test files are running.
    const dir = await tempDir();
    for (const f of [
      'src',
      'docs',
      'test',
      'schemas',
      'scripts',
      'examples',
      'bin',
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'biome.json',
      'agent.yaml',
      'vitest.config.ts',
      '.gitignore',
    ]) {
      await cp(join(repoRoot, f), join(dir, f), { recursive: true });
    }
    await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    // A repository, as a checkout is: the policy rules about host paths and
    // .agentlint.yaml discovery stop at its root.
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const r = await agent(['run', 'agent.yaml'], { cwd: dir, timeoutMs: 600_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    for (const step of ['build', 'typecheck', 'lint', 'lint-examples', 'unit']) {
      expect(r.stdout).toMatch(new RegExp(`step ${step}: succeeded`));
    }
  }, 600_000);

  it('retries a failing step with backoff and keeps every attempt', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('flaky')}spec:
  steps:
    flaky:
      # fails twice, then succeeds
      run: echo "attempt $AGENT_ATTEMPT" >> attempts.txt; [ "$AGENT_ATTEMPT" -ge 3 ]
      retry:
        maxAttempts: 3
        backoff: { initial: 100ms, factor: 2, max: 1s }
`,
    );
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/step flaky: attempt 1 failed \(exit code 1\); retrying in \d+ms/);
    expect(r.stdout).toMatch(/step flaky: attempt 2 failed/);
    expect(r.stdout).toMatch(/step flaky: succeeded/);
    expect(await readFile(join(dir, 'attempts.txt'), 'utf8')).toBe(
      'attempt 1\nattempt 2\nattempt 3\n',
    );
    const db = new Database(join(dir, '.agentfile/state.db'), { readonly: true });
    try {
      const rows = db
        .prepare('SELECT attempt, status, exit_code FROM attempts ORDER BY attempt')
        .all() as { attempt: number; status: string; exit_code: number }[];
      expect(rows).toEqual([
        { attempt: 1, status: 'failed', exit_code: 1 },
        { attempt: 2, status: 'failed', exit_code: 1 },
        { attempt: 3, status: 'succeeded', exit_code: 0 },
      ]);
    } finally {
      db.close();
    }
  });

  it('a failed step stops the run: exit 1, dependents skipped, independent running steps finish', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('fails')}spec:
  concurrency: 2
  steps:
    bad:
      run: exit 3
    slow:
      run: sleep 0.5; echo slow done
    after:
      needs: [bad]
      run: echo never
    later:
      needs: [slow]
      run: echo never either
`,
    );
    const r = await agent(['run'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/step bad: failed in \S+ \(exit code 3\)/);
    expect(r.stdout).toContain('step slow | slow done');
    expect(r.stdout).toMatch(/step after: skipped/);
    expect(r.stdout).toMatch(/step later: skipped/);
    expect(r.stdout).not.toContain('never');
    expect(r.stdout).toMatch(/run \S+: failed in .*step "bad" failed: exit code 3/);
  });

  it('a second run of the same workflow on the same store exits 3 and leaves the first alone', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('held')}spec:
  steps:
    wait:
      run: sleep 30
`,
    );
    const first = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(first);
    await waitFor(() => stdout().includes('step wait: started'), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const second = await agent(['run'], { cwd: dir });
    expect(second.exitCode).toBe(3);
    expect(second.stderr).toMatch(
      /^agent: workflow "held" \(agent\.yaml\) is already being run by run \S+ \(pid \d+/m,
    );
    expect(second.stderr).toMatch(/^hint: wait for that run to finish/m);
    first.kill('SIGINT');
    const r = await first;
    expect(r.exitCode).toBe(130);
    const db = new Database(join(dir, '.agentfile/state.db'), { readonly: true });
    try {
      const runs = db.prepare('SELECT status FROM runs').all() as { status: string }[];
      expect(runs).toEqual([{ status: 'cancelled' }]);
    } finally {
      db.close();
    }
  });

  it('an unreachable Docker engine exits 4 with one line and a hint; no step runs', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('needs-docker')}spec:
  steps:
    local:
      run: echo ran > ran.txt
    boxed:
      image: busybox:1.36
      run: echo hi
`,
    );
    const r = await agent(['run'], {
      cwd: dir,
      env: { DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}` },
    });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/^agent: .*Docker engine/m);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    await expect(readFile(join(dir, 'ran.txt'))).rejects.toThrow();
  });

  it('a state store that cannot be created exits 4', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('w')}spec:\n  steps:\n    a:\n      run: echo a\n`,
    );
    await writeFile(join(dir, 'blocker'), 'a file where a directory should be');
    const r = await agent(['run', '--state', 'blocker/state.db'], { cwd: dir });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toMatch(/^agent: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--resume with nothing to resume exits 2', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('w')}spec:\n  steps:\n    a:\n      run: echo a\n`,
    );
    const ok = await agent(['run'], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    const r = await agent(['run', '--resume'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /no failed, cancelled, paused, waiting or interrupted run of workflow "w" to resume/,
    );
  });
});

describe('agent run --output json', () => {
  it('prints one JSON event per line, from run.created to run.finished, each with its seq', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('json')}spec:\n  steps:\n    a:\n      run: echo hello\n    b:\n      needs: [a]\n      run: echo world\n`,
    );
    const r = await agent(['run', '--output', 'json'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; seq: number; step?: string; lines?: string[] });
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['run.created', 'run.started']);
    expect(events.at(-1)?.type).toBe('run.finished');
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.filter((e) => e.type === 'step.output').flatMap((e) => e.lines)).toEqual([
      'hello',
      'world',
    ]);
    expect(events.filter((e) => e.type === 'step.finished').map((e) => e.step)).toEqual(['a', 'b']);
  });
});

describe('agent run --junit', () => {
  it('writes a JUnit report: a testcase per step, failures and skips marked, output escaped', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'agent.yaml'),
      `${header('report')}spec:
  concurrency: 2
  steps:
    bad:
      run: echo "oops <&>" >&2; exit 3
    good:
      run: echo fine
    after:
      needs: [bad]
      run: echo never
`,
    );
    const r = await agent(['run', '--junit', 'out/report.xml'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const xml = await readFile(join(dir, 'out/report.xml'), 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml).toMatch(
      /<testsuite name="report" id="\S+" tests="3" failures="1" errors="0" skipped="1"/,
    );
    expect(xml).toMatch(
      /<testcase classname="report\.step" name="bad" time="[\d.]+">\s*<failure type="failed" message="exit code 3">exit code 3\noops &lt;&amp;&gt;<\/failure>\s*<system-out>oops &lt;&amp;&gt;<\/system-out>/,
    );
    expect(xml).toMatch(
      /<testcase classname="report\.step" name="good" time="[\d.]+">\s*<system-out>fine<\/system-out>/,
    );
    expect(xml).toMatch(
      /<testcase classname="report\.step" name="after" time="0\.000">\s*<skipped>needs bad<\/skipped>/,
    );
  });
});

describe('agent runs', () => {
  it('reads without creating a store where there is none', async () => {
    const dir = await tempDir();
    const r = await agent(['runs'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('no runs: no state store at .agentfile/state.db');
    const json = await agent(['runs', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toEqual([]);
    expect(existsSync(join(dir, '.agentfile'))).toBe(false);
  });
});
