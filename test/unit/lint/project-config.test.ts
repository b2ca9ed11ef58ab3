import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/index.js';
import { findProjectConfig, loadProjectConfig } from '../../../src/lint/project-config.js';
import { runAgent } from './cli-capture.js';

const AGENT = `apiVersion: agentfile/v1
kind: Agent
metadata:
  name: web
spec:
  image: busybox
  command: [sleep, "1"]
`;

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agentfile-lintcfg-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

describe('.agentlint.yaml discovery', () => {
  it('finds the nearest config, and none above the repository root', async () => {
    const dir = await tree({
      '.agentlint.yaml': 'rules: {}\n',
      'repo/.git/HEAD': 'ref: refs/heads/main\n',
      'repo/a/b/agent.yaml': AGENT,
      'other/.agentlint.yaml': 'rules: {}\n',
      'other/sub/agent.yaml': AGENT,
    });
    expect(findProjectConfig(path.join(dir, 'repo/a/b'))).toBeUndefined();
    await writeFile(path.join(dir, 'repo/.agentlint.yaml'), 'rules: {}\n');
    expect(findProjectConfig(path.join(dir, 'repo/a/b'))).toBe(
      path.join(dir, 'repo/.agentlint.yaml'),
    );
    await writeFile(path.join(dir, 'repo/a/.agentlint.yaml'), 'rules: {}\n');
    expect(findProjectConfig(path.join(dir, 'repo/a/b'))).toBe(
      path.join(dir, 'repo/a/.agentlint.yaml'),
    );
  });

  it('validates levels and keys, and accepts false as off', async () => {
    const dir = await tree({
      'c.yaml':
        'rules:\n  policy/latest-tag: false\n  lint/unused-suppression: error\nignore: fixtures/**\n',
    });
    const r = await loadProjectConfig(path.join(dir, 'c.yaml'), 'c.yaml');
    expect(r.config?.rules.get('policy/latest-tag')).toBe('off');
    expect(r.config?.rules.get('lint/unused-suppression')).toBe('error');
    expect(r.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([
      '4:9 "ignore" must be a list of globs, e.g. [fixtures/**]',
    ]);
  });

  it('matches ignore globs relative to the config file', async () => {
    const dir = await tree({ 'c.yaml': 'ignore: ["fixtures/**", "*.gen.yaml"]\n' });
    const r = await loadProjectConfig(path.join(dir, 'c.yaml'), 'c.yaml');
    expect(r.config?.isIgnored(path.join(dir, 'fixtures/x/agent.yaml'))).toBe(true);
    expect(r.config?.isIgnored(path.join(dir, 'a.gen.yaml'))).toBe(true);
    expect(r.config?.isIgnored(path.join(dir, 'src/agent.yaml'))).toBe(false);
    expect(r.config?.isIgnored(path.join(dir, '../fixtures/agent.yaml'))).toBe(false);
  });
});

describe('agent lint --config', () => {
  it('uses the named file instead of the nearest one', async () => {
    const dir = await tree({
      '.git/HEAD': 'x\n',
      '.agentlint.yaml': 'rules:\n  policy/latest-tag: error\n',
      'quiet.yaml':
        'rules:\n  policy/latest-tag: off\n  policy/no-health-check: off\n  policy/no-memory-limit: off\n  policy/run-as-root: off\n  policy/writable-root-filesystem: off\n',
      'agent.yaml': AGENT,
    });
    const nearest = await runAgent(['lint', 'agent.yaml'], dir);
    expect(nearest.stdout).toMatch(
      /^agent\.yaml:6:10: the image "busybox" .* \[policy\/latest-tag\]$/m,
    );
    expect(nearest.code).toBe(1);
    const named = await runAgent(['lint', '--config', 'quiet.yaml', 'agent.yaml'], dir);
    expect(named.stdout).toBe('agent.yaml: no problems found\n');
    expect(named.code).toBe(0);
  });

  it('reports a config file that cannot be read', async () => {
    const dir = await tree({ '.git/HEAD': 'x\n', 'agent.yaml': AGENT });
    const r = await runAgent(['lint', '--config', 'missing.yaml', 'agent.yaml'], dir);
    expect(r.stdout).toMatch(
      /^missing\.yaml:1:1: the lint config "missing\.yaml" cannot be read; .* \[lint\/config\]$/m,
    );
    expect(r.code).toBe(1);
  });
});

describe('policy rules run only in agent lint', () => {
  it('loadProject without the policy option reports none, and plan prints none', async () => {
    const file = 'test/fixtures/lint/policy/privileged.yaml';
    const plain = await loadProject(file);
    expect(plain.diagnostics).toEqual([]);
    const linted = await loadProject(file, { policy: {} });
    expect(linted.diagnostics.map((d) => d.code)).toEqual(['policy/privileged']);
    const strict = await loadProject(file, { policy: { strict: true } });
    expect(strict.diagnostics.map((d) => `${d.code} ${d.severity}`)).toEqual([
      'policy/image-digest error',
      'policy/privileged error',
    ]);
    expect(strict.project).toBeUndefined();
    const plan = await runAgent(['plan', file], process.cwd());
    expect(plan.code).toBe(0);
    expect(plan.stdout + plan.stderr).not.toMatch(/\[policy\//);
  });

  it('skips documents with errors of their own', async () => {
    const dir = await tree({
      'two.yaml': `${AGENT}  imgae: x\n---\n${AGENT.replace('name: web', 'name: other')}`,
    });
    const r = await loadProject('two.yaml', { cwd: dir, policy: {} });
    const lines = r.diagnostics.map((d) => `${d.line} ${d.code}`);
    expect(lines).toContain('8 schema/unknown-key');
    expect(lines.filter((l) => l.endsWith('policy/latest-tag'))).toEqual(['15 policy/latest-tag']);
  });
});

describe('library lint', () => {
  it('runs the policy rules only when asked', async () => {
    const { lint } = await import('../../../src/library.js');
    const file = 'test/fixtures/lint/policy/privileged.yaml';
    expect((await lint([file])).diagnostics).toEqual([]);
    const warned = await lint([file], { policy: {} });
    expect(warned.diagnostics.map((d) => d.code)).toEqual(['policy/privileged']);
    expect(warned.ok).toBe(true);
    const strict = await lint([file], { policy: { strict: true } });
    expect(strict.ok).toBe(false);
  });
});
