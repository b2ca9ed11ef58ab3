/**
 * Every complete agentfile document in the README and docs/ is checked by the
 * real loader, so the docs cannot drift from what `agent lint` accepts.
 * Snippets whose first line names a file (`# examples/hello-agent/agent.yaml`)
 * are written under that name, beside a copy of the example they belong to.
 */

import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { formatDiagnostic, loadProject } from '../../src/config/index.js';

const root = join(import.meta.dirname, '../..');

/** A writable that collects what the CLI writes. */
function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    write: (t: string) => {
      chunks.push(t);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, text: () => chunks.join('') };
}

interface Snippet {
  source: string;
  index: number;
  text: string;
  /** For an invalid-on-purpose snippet: the file name and the `agent lint` output the doc shows after it. */
  lint?: { file: string; output: string };
}

async function snippets(): Promise<Snippet[]> {
  const files = ['README.md', ...(await readdir(join(root, 'docs'))).map((f) => `docs/${f}`)];
  const out: Snippet[] = [];
  for (const file of files.filter((f) => f.endsWith('.md'))) {
    const md = await readFile(join(root, file), 'utf8');
    let index = 0;
    for (const m of md.matchAll(/```yaml\n([\s\S]*?)```\n/g)) {
      index++;
      const text = m[1] ?? '';
      if (!/^apiVersion: agentfile\/v1/m.test(text)) continue; // a fragment, not a document
      if (/^spec: \.\.\./m.test(text)) continue; // the envelope illustration
      // A snippet followed by the output of `agent lint FILE` is invalid on purpose.
      const after = md.slice((m.index ?? 0) + m[0].length);
      const shown = /^\s*```\n\$ agent lint (\S+)\n([\s\S]*?)```/.exec(after);
      const lint =
        shown?.[1] && shown[2] !== undefined ? { file: shown[1], output: shown[2] } : undefined;
      out.push({ source: file, index, text, ...(lint ? { lint } : {}) });
    }
  }
  return out;
}

describe('documentation snippets', async () => {
  const all = await snippets();

  it('finds the documents to check', () => {
    expect(all.filter((x) => !x.lint).length).toBeGreaterThanOrEqual(4);
    expect(all.filter((x) => x.lint).length).toBeGreaterThanOrEqual(1);
  });

  for (const s of all.filter((x) => x.lint)) {
    it(`${s.source} yaml block #${s.index}: agent lint prints what the doc shows`, async () => {
      const lint = s.lint;
      if (!lint) throw new Error('unreachable');
      const dir = await mkdtemp(join(tmpdir(), 'agentfile-docs-'));
      await writeFile(join(dir, lint.file), s.text);
      const out = capture();
      const code = await main(['lint', lint.file], {
        stdout: out.stream,
        stderr: out.stream,
        env: {},
        cwd: dir,
      });
      expect(out.text()).toBe(lint.output);
      expect(code).toBe(1);
    });
  }

  for (const s of all.filter((x) => !x.lint)) {
    it(`${s.source} yaml block #${s.index} lints clean`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'agentfile-docs-'));
      await cp(join(root, 'examples/hello-agent'), dir, { recursive: true });
      const named = /^# (examples\/[\w./-]+\.ya?ml)\s*$/m.exec(s.text.split('\n')[0] ?? '')?.[1];
      const file = named ? basename(named) : 'snippet.yaml';
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await writeFile(join(dir, file), s.text);
      const result = await loadProject(file, { cwd: dir });
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      expect(errors.map((d) => formatDiagnostic(d)).join('\n')).toBe('');
      expect(result.project).toBeDefined();
    });
  }
});

describe('README output', () => {
  it('shows what `agent plan examples/hello-agent/workflow.yaml` prints', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const shown = /```\n(workflow hello \(examples\/hello-agent\/workflow\.yaml\)[\s\S]*?)```/.exec(
      readme,
    )?.[1];
    expect(shown).toBeDefined();
    const out = capture();
    const code = await main(['plan', 'examples/hello-agent/workflow.yaml'], {
      stdout: out.stream,
      stderr: out.stream,
      env: {},
      cwd: root,
    });
    expect(code).toBe(0);
    expect(out.text()).toBe(shown);
  });

  it('shows the end-of-run summary of a failing run (test/fixtures/report/mixed.yaml)', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const shown = /```\n(summary of run [\s\S]*?)```/.exec(readme)?.[1];
    expect(shown).toBeDefined();
    // Run in a copy, at the same relative path, so the store goes there.
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-docs-'));
    const file = 'test/fixtures/report/mixed.yaml';
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await cp(join(root, file), join(dir, file));
    const out = capture();
    const code = await main(['run', file], {
      stdout: out.stream,
      stderr: out.stream,
      env: { ...process.env, CI: 'true', GITHUB_ACTIONS: '', GITLAB_CI: '' },
      cwd: dir,
    });
    expect(code, out.text()).toBe(1);
    const text = out.text();
    const summary = text.slice(text.indexOf('summary of run '));
    // Run ids and measured durations differ from run to run.
    const normalize = (t: string) =>
      t
        .replace(/\d{8}-\d{6}-[0-9a-f]{6}/g, 'RUN')
        .replace(/(?<!after )\b(\d+m\d{2}s|\d+\.\d+s|\d+ms)\b/g, '<dur>');
    expect(normalize(summary)).toBe(normalize(shown ?? ''));
  }, 60_000);
});
