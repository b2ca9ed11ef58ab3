/**
 * The end of a run in CI, with the real binary on
 * test/fixtures/report/mixed.yaml (a success, a retry that succeeds, a
 * failure, a skip and a timeout): the summary text in plain mode, GitHub
 * Actions groups, annotations and job summary, GitLab CI sections; and that
 * none of them shows a secret.
 */

import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/processes.js';
import { type AgentResult, agent, collectStdout, repoRoot, spawnAgent, tempDir } from './cli.js';

const FIXTURE = join(repoRoot, 'test/fixtures/report/mixed.yaml');

/** Run ids and measured durations replaced (configured ones, `after 300ms`, are kept). */
function normalize(text: string): string {
  return text
    .replace(/\d{8}-\d{6}-[0-9a-f]{6}/g, 'RUN')
    .replace(/(?<!after )\b(\d+m\d{2}s|\d+\.\d+s|\d+ms)\b/g, '<dur>');
}

/** What follows the last event line: the summary, and under GitHub the annotations. */
function afterRun(stdout: string): string {
  const at = stdout.indexOf('\nsummary of run ');
  expect(at, stdout).toBeGreaterThan(0);
  return normalize(stdout.slice(at + 1));
}

async function runMixed(
  env: Record<string, string>,
  dir?: string,
): Promise<{ dir: string; r: AgentResult }> {
  const where = dir ?? (await tempDir('agentfile-ci-'));
  await mkdir(where, { recursive: true });
  await copyFile(FIXTURE, join(where, 'mixed.yaml'));
  const r = await agent(['run', 'mixed.yaml'], { cwd: where, env });
  expect(r.exitCode, r.stdout + r.stderr).toBe(1);
  return { dir: where, r };
}

const SUMMARY = `summary of run RUN: failed in <dur>
first failure: step test (mixed.yaml:21) failed: exit code 3
  the 2 lines of its log (agent logs RUN test mixed.yaml):
  | running 12 tests
  | FAIL parser handles empty input
also failed: step slow (mixed.yaml:30) timed out after 300ms
consequences, not causes:
  step deploy (mixed.yaml:27) skipped because step test failed

STEP    STATUS                 ATTEMPTS  DURATION
build   succeeded              1         <dur>
flaky   succeeded after retry  2         <dur>
test    failed                 1         <dur>
deploy  skipped                0         -
slow    timed out              1         <dur>`;

/** Checks that groups open and close in turn, never nested; returns each group's title and lines. */
function githubGroups(stdout: string): { title: string; lines: string[] }[] {
  const groups: { title: string; lines: string[] }[] = [];
  let open: { title: string; lines: string[] } | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('::group::')) {
      expect(open, `nested group at ${line}`).toBeUndefined();
      open = { title: line.slice('::group::'.length), lines: [] };
    } else if (line === '::endgroup::') {
      expect(open, 'endgroup without group').toBeDefined();
      if (open) groups.push(open);
      open = undefined;
    } else if (open) {
      open.lines.push(line);
    }
  }
  expect(open, 'a group is left open').toBeUndefined();
  return groups;
}

describe('the end of a run in CI', () => {
  it('plain mode: names the first failure with its position and log, then consequences and a table', async () => {
    const { r } = await runMixed({ GITHUB_ACTIONS: '', GITLAB_CI: '' });
    expect(afterRun(r.stdout)).toBe(SUMMARY);
    expect(r.stdout).not.toContain('::');
    // Every line before the summary is an event line of a node or the run.
    const events = r.stdout.slice(0, r.stdout.indexOf('\nsummary of run ')).trimEnd().split('\n');
    for (const line of events)
      expect(line).toMatch(/^(run \S+: |step (build|flaky|test|deploy|slow)(: | \| ))/);
  });

  it('GitHub Actions: groups per step, annotations at the YAML lines, a job summary', async () => {
    const dir = await tempDir('agentfile-ci-gh-');
    const stepSummary = join(dir, 'step-summary.md');
    await writeFile(stepSummary, 'earlier step\n');
    // The workflow is in ci/ of the workspace (the checkout).
    const { r } = await runMixed(
      { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary, GITHUB_WORKSPACE: dir },
      join(dir, 'ci'),
    );
    const groups = githubGroups(r.stdout);
    expect(groups.map((g) => normalize(g.title))).toEqual([
      'step build: succeeded in <dur>',
      'step test: failed in <dur> (exit code 3)',
      'step flaky: succeeded in <dur>',
    ]);
    expect(groups.map((g) => normalize(g.lines.join('\n')))).toEqual([
      'step build | compiling 3 modules\nstep build | build ok',
      'step test | running 12 tests\nstep test | FAIL parser handles empty input',
      [
        'step flaky | attempt 1',
        'step flaky | connection reset',
        'step flaky: attempt 1 failed (exit code 1); retrying in <dur>',
        'step flaky: started (attempt 2)',
        'step flaky | attempt 2',
      ].join('\n'),
    ]);
    // The annotations follow the summary text, the file relative to the workspace.
    const text = afterRun(r.stdout);
    expect(text.startsWith(SUMMARY)).toBe(true);
    expect(text.slice(SUMMARY.length + 1).split('\n')).toEqual([
      '::error file=ci/mixed.yaml,line=21,col=5,title=step test failed::first failure: step test failed: exit code 3%0Aits output (agent logs RUN test ci/mixed.yaml):%0Arunning 12 tests%0AFAIL parser handles empty input',
      '::error file=ci/mixed.yaml,line=30,col=5,title=step slow timed out::step slow timed out after 300ms',
      '::warning file=ci/mixed.yaml,line=15,col=5,title=step flaky succeeded on attempt 2::attempt 1 failed: exit code 1',
    ]);

    const md = normalize(await readFile(stepSummary, 'utf8'));
    expect(md.startsWith('earlier step\n## ❌ failed: workflow `mixed`\n')).toBe(true);
    expect(md).toContain(
      '### First failure: step `test`\n\nStep `test` at `ci/mixed.yaml:21` failed: exit code 3.\n',
    );
    expect(md).toContain(
      [
        'The lines of its log (`agent logs RUN test ci/mixed.yaml`):',
        '',
        '```text',
        'running 12 tests',
        'FAIL parser handles empty input',
        '```',
      ].join('\n'),
    );
    expect(md).toContain('- step `slow` at `ci/mixed.yaml:30` timed out after 300ms\n');
    expect(md).toContain('- step `deploy` skipped because step test failed\n');
    expect(md).toContain(
      [
        '| Step | Status | Attempts | Duration |',
        '| --- | --- | --: | --: |',
        '| `build` | ✅ succeeded | 1 | <dur> |',
        '| `flaky` | ✅ succeeded after retry | 2 | <dur> |',
        '| `test` | ❌ failed | 1 | <dur> |',
        '| `deploy` | ⏭️ skipped | 0 | - |',
        '| `slow` | ⏱️ timed out | 1 | <dur> |',
      ].join('\n'),
    );
    expect(md).toMatch(
      /### Plan\n\n```mermaid\n---\ntitle: "mixed"\n---\nflowchart LR\n[\s\S]*n2 --> n3\n```\n$/,
    );
  });

  it('GitHub Actions: without a workspace, the annotation file is relative to the current directory', async () => {
    const { r } = await runMixed({ GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '' });
    expect(r.stdout).toContain('::error file=mixed.yaml,line=21,col=5,title=step test failed::');
    expect(r.stdout).toContain('::error file=mixed.yaml,line=30,col=5,title=step slow timed out::');
    expect(r.stdout).toContain(
      '::warning file=mixed.yaml,line=15,col=5,title=step flaky succeeded on attempt 2::',
    );
  });

  it('GitLab CI: balanced sections with matching names and the steps own times', async () => {
    const { r } = await runMixed({ GITLAB_CI: 'true', GITHUB_ACTIONS: '' });
    // Escapes in a string (the lint rejects control characters in regex literals).
    const E = '\\x1b\\[0K';
    const start = new RegExp(
      `^${E}section_start:(\\d+):([A-Za-z0-9_.-]+)(\\[collapsed=true\\])?\\r${E}(.*)$`,
    );
    const end = new RegExp(`^${E}section_end:(\\d+):([A-Za-z0-9_.-]+)\\r${E}$`);
    const sections: { name: string; title: string; collapsed: boolean; lines: number }[] = [];
    let open:
      | { name: string; title: string; collapsed: boolean; at: number; lines: number }
      | undefined;
    for (const line of r.stdout.split('\n')) {
      const s = start.exec(line);
      const e = end.exec(line);
      if (s) {
        expect(open, `nested section at ${line}`).toBeUndefined();
        open = {
          name: s[2] as string,
          title: s[4] as string,
          collapsed: Boolean(s[3]),
          at: Number(s[1]),
          lines: 0,
        };
      } else if (e) {
        expect(open?.name).toBe(e[2]);
        expect(Number(e[1])).toBeGreaterThanOrEqual(open?.at ?? Infinity);
        if (open)
          sections.push({
            name: open.name,
            title: open.title,
            collapsed: open.collapsed,
            lines: open.lines,
          });
        open = undefined;
      } else {
        expect(line).not.toContain('section_');
        if (open) open.lines++;
      }
    }
    expect(open).toBeUndefined();
    expect(sections.map((s) => ({ ...s, title: normalize(s.title) }))).toEqual([
      { name: 'agent_1_build', title: 'step build: succeeded in <dur>', collapsed: true, lines: 2 },
      {
        name: 'agent_2_test',
        title: 'step test: failed in <dur> (exit code 3)',
        collapsed: false,
        lines: 2,
      },
      { name: 'agent_3_flaky', title: 'step flaky: succeeded in <dur>', collapsed: true, lines: 5 },
    ]);
    expect(afterRun(r.stdout)).toBe(SUMMARY);
  });
});

describe('secrets at the end of a run', () => {
  it('are masked in the log tail, the annotations and the job summary', async () => {
    const dir = await tempDir('agentfile-ci-secret-');
    const value = 'tok-4f9a1c-very-secret';
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: leaky }
spec:
  secrets: [TOKEN]
  steps:
    leak:
      env: { T: "\${{ secrets.TOKEN }}" }
      run: |
        echo "using token $T"
        echo "auth failed for $T" >&2
        exit 7
`,
    );
    const stepSummary = join(dir, 'step-summary.md');
    const r = await agent(['run', '--secret', `TOKEN=${value}`], {
      cwd: dir,
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary, GITHUB_WORKSPACE: dir },
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    const md = await readFile(stepSummary, 'utf8');
    for (const text of [r.stdout, r.stderr, md]) expect(text).not.toContain(value);
    expect(afterRun(r.stdout)).toContain(
      '  the 2 lines of its log (agent logs RUN leak):\n  | using token ***\n  | auth failed for ***\n',
    );
    expect(r.stdout).toMatch(/^::error .*%0Ausing token \*\*\*%0Aauth failed for \*\*\*$/m);
    expect(md).toContain('```text\nusing token ***\nauth failed for ***\n```');
  });
});

describe('plain mode with steps side by side', () => {
  it('prefixes every line with its step and never mixes two steps in a line', async () => {
    const dir = await tempDir('agentfile-ci-parallel-');
    // Each step writes its lines in pieces, with pauses, while the other writes.
    const step = (name: string) => `    ${name}:
      run: |
        for i in 1 2 3; do
          printf '${name}-%s-' "$i"; sleep 0.05; printf 'part2-'; sleep 0.05; printf 'end\\n'
        done
`;
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: side-by-side }
spec:
  concurrency: 2
  steps:
${step('left')}${step('right')}`,
    );
    const r = await agent(['run'], { cwd: dir, env: { GITHUB_ACTIONS: '', GITLAB_CI: '' } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const output = r.stdout.split('\n').filter((l) => l.includes(' | '));
    expect(output.sort()).toEqual(
      ['left', 'right']
        .flatMap((s) => [1, 2, 3].map((i) => `step ${s} | ${s}-${i}-part2-end`))
        .sort(),
    );
    // Both ran at once: their starts come before either finishes.
    const lines = r.stdout.split('\n');
    const firstEnd = lines.findIndex((l) => / succeeded in /.test(l));
    expect(lines.indexOf('step left: started')).toBeLessThan(firstEnd);
    expect(lines.indexOf('step right: started')).toBeLessThan(firstEnd);
  });
});

describe('a cancelled run', () => {
  it('ends with a summary that says it was cancelled and what did not finish', async () => {
    const dir = await tempDir('agentfile-ci-cancel-');
    await writeFile(
      join(dir, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: cancel-me }
spec:
  steps:
    long:
      run: echo waiting; sleep 30
    after:
      needs: long
      run: echo never
`,
    );
    const child = spawnAgent(['run'], { cwd: dir });
    const stdout = collectStdout(child);
    await waitFor(() => stdout().includes('step long | waiting'), {
      timeoutMs: 30_000,
      message: 'the step did not start',
    });
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, stdout()).toBe(130);
    expect(afterRun(stdout())).toBe(
      [
        'summary of run RUN: cancelled in <dur>',
        'cancelled: cancelled by signal',
        'did not finish:',
        '  step long (agent.yaml:6) cancelled',
        '  step after (agent.yaml:8) cancelled',
        '',
        'STEP   STATUS     ATTEMPTS  DURATION',
        'long   cancelled  1         <dur>',
        'after  cancelled  0         -',
        '',
      ].join('\n'),
    );
  });
});
