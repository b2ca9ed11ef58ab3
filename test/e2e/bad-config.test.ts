import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agent, repoRoot, tempDir } from './cli.js';

const cases: { name: string; yaml: string; expect: RegExp }[] = [
  {
    name: 'syntax',
    yaml: 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w\nspec:\n  steps: {}\n',
    expect: /^bad\.yaml:\d+:\d+: .+ \[yaml\/syntax\]$/m,
  },
  {
    name: 'unknown key',
    yaml: 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  steps:\n    a:\n      runn: echo hi\n',
    expect: /^bad\.yaml:7:7: .*"runn".* \[schema\/unknown-key\]$/m,
  },
  {
    name: 'wrong type',
    yaml: 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  concurrency: four\n  steps:\n    a:\n      run: echo hi\n',
    expect: /^bad\.yaml:5:16: .*concurrency.* \[schema\/type\]$/m,
  },
  {
    name: 'unknown need',
    yaml: 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  steps:\n    a:\n      run: echo hi\n    b:\n      needs: [a, nope]\n      run: echo hi\n',
    expect: /^bad\.yaml:9:18: .*"nope".* \[workflow\/unknown-need\]$/m,
  },
  {
    name: 'cycle',
    yaml: 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  steps:\n    a:\n      needs: [b]\n      run: echo a\n    b:\n      needs: [a]\n      run: echo b\n',
    expect: /^bad\.yaml:\d+:\d+: .*a -> b -> a.* \[workflow\/cycle\]$/m,
  },
];

describe('bad configuration', () => {
  for (const c of cases) {
    it(`${c.name}: lint exits 1 with file:line:col, run exits 2 and starts nothing`, async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'bad.yaml'), c.yaml);
      const lint = await agent(['lint', 'bad.yaml'], { cwd: dir });
      expect(lint.stdout).toMatch(c.expect);
      expect(lint.exitCode).toBe(1);
      expect(lint.stdout + lint.stderr).not.toMatch(/\n\s+at /);

      const run = await agent(['run', 'bad.yaml'], { cwd: dir });
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toMatch(c.expect);
      expect(run.stderr).toContain('nothing was run');
      expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, '.agentfile'))).toBe(false);
    });
  }

  it('reports every problem of a file with several, sorted by position', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'bad.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  concurrency: four\n  steps:\n    a:\n      runn: echo hi\n    b:\n      needs: [nope]\n      run: echo b\n',
    );
    const lint = await agent(['lint', 'bad.yaml'], { cwd: dir });
    expect(lint.exitCode).toBe(1);
    const heads = lint.stdout.split('\n').filter((l) => /^bad\.yaml:\d+:\d+: /.test(l));
    expect(heads.length).toBeGreaterThanOrEqual(3);
    const positions = heads.map((l) => l.split(':').slice(1, 3).map(Number) as [number, number]);
    const sorted = [...positions].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(positions).toEqual(sorted);
  });

  it('a missing file: lint exits 1, run exits 2, one line, no stack trace', async () => {
    const dir = await tempDir();
    const lint = await agent(['lint', 'missing.yaml'], { cwd: dir });
    expect(lint.exitCode).toBe(1);
    expect(lint.stdout).toMatch(/^missing\.yaml:1:1: /m);
    const run = await agent(['run', 'missing.yaml'], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('an invalid invocation exits 2', async () => {
    const r = await agent(['run', '--output', 'sideways'], { cwd: repoRoot });
    expect(r.exitCode).toBe(2);
    const unknown = await agent(['frobnicate'], { cwd: repoRoot });
    expect(unknown.exitCode).toBe(2);
  });

  it('the bundled examples lint clean', async () => {
    const r = await agent(
      [
        'lint',
        'examples/hello-agent/agent.yaml',
        'examples/hello-agent/workflow.yaml',
        'agent.yaml',
      ],
      {
        cwd: repoRoot,
      },
    );
    expect(r.exitCode, r.stdout).toBe(0);
  });
});

describe('lint of several files', () => {
  it('reports a problem once, whether its file is named twice or also reached through uses:', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'bad-agent.yaml'),
      'apiVersion: agentfile/v1\nkind: Agent\nmetadata: { name: a }\nspec:\n  imgae: busybox:1.36\n  command: [sleep, "1"]\n',
    );
    await writeFile(
      join(dir, 'uses.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  services:\n    a: { uses: ./bad-agent.yaml }\n  steps:\n    s:\n      needs: [a]\n      run: echo s\n',
    );
    const r = await agent(['lint', 'uses.yaml', 'bad-agent.yaml', './uses.yaml'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const heads = r.stdout.split('\n').filter((l) => /^\S+\.yaml:\d+:\d+: /.test(l));
    expect(heads).toHaveLength(1);
    expect(heads[0]).toMatch(/^bad-agent\.yaml:5:3: unknown key "imgae"/);
    expect(r.stdout).toContain('1 error(s), 0 warning(s)');
  });
});

describe('agent schema', () => {
  it('prints the JSON Schema of a kind: the shipped file when self-contained, the bundle for Workflow', async () => {
    for (const [kind, file] of [
      ['Agent', 'agent.schema.json'],
      ['agent.dev/v1', 'agent-dev-v1.schema.json'],
    ] as const) {
      const r = await agent(['schema', kind], { cwd: repoRoot });
      expect(r.exitCode).toBe(0);
      // (execa strips the final newline of what it captures)
      expect(r.stdout).toBe((await readFile(join(repoRoot, 'schemas', file), 'utf8')).trimEnd());
      expect((JSON.parse(r.stdout) as { $id: string }).$id).toMatch(new RegExp(`/${file}$`));
    }
    const workflow = await agent(['schema', 'workflow'], { cwd: repoRoot });
    expect(workflow.exitCode).toBe(0);
    const schema = JSON.parse(workflow.stdout) as { $id: string };
    expect(schema.$id).toMatch(/\/workflow\.schema\.json$/);
    // Self-contained: every $ref is local (test/unit/config/schema-bundle.test.ts checks it validates the same).
    const refs = [...workflow.stdout.matchAll(/"\$ref": "([^"]*)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((r) => !r?.startsWith('#/'))).toEqual([]);
    expect(workflow.stdout).toContain('"agentSpec"');
    const bad = await agent(['schema', 'Pipeline'], { cwd: repoRoot });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('unknown kind "Pipeline"; expected Agent or Workflow');
  });

  it('--output DIR writes every schema, as printed, for editors to point at', async () => {
    const dir = await tempDir();
    const r = await agent(['schema', '--output', '.agentfile'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      join('.agentfile', 'agent.schema.json'),
      join('.agentfile', 'workflow.schema.json'),
      join('.agentfile', 'agent-dev-v1.schema.json'),
    ]);
    for (const [kind, file] of [
      ['Agent', 'agent.schema.json'],
      ['Workflow', 'workflow.schema.json'],
      ['agent.dev/v1', 'agent-dev-v1.schema.json'],
    ] as const) {
      const printed = await agent(['schema', kind], { cwd: dir });
      expect(await readFile(join(dir, '.agentfile', file), 'utf8')).toBe(`${printed.stdout}\n`);
    }
  });
});
