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
import { formatDiagnostic, loadProject } from '../../src/config/index.js';

const root = join(import.meta.dirname, '../..');

interface Snippet {
  source: string;
  index: number;
  text: string;
}

async function snippets(): Promise<Snippet[]> {
  const files = ['README.md', ...(await readdir(join(root, 'docs'))).map((f) => `docs/${f}`)];
  const out: Snippet[] = [];
  for (const file of files.filter((f) => f.endsWith('.md'))) {
    const md = await readFile(join(root, file), 'utf8');
    let index = 0;
    for (const m of md.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      index++;
      const text = m[1] ?? '';
      if (!/^apiVersion: agentfile\/v1/m.test(text)) continue; // a fragment, not a document
      if (/^spec: \.\.\./m.test(text)) continue; // the envelope illustration
      out.push({ source: file, index, text });
    }
  }
  return out;
}

describe('documentation snippets', async () => {
  const all = await snippets();

  it('finds the documents to check', () => {
    expect(all.length).toBeGreaterThanOrEqual(4);
  });

  for (const s of all) {
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
