/**
 * docs/diagnostics.md has a section per policy rule under `## Policy`, whose
 * GitHub anchor is the rule's `docs` anchor (`policy-NAME`), with a bad
 * example (a yaml block), the exact output of `agent lint` for it (the text
 * block after "`agent lint … agent.yaml` prints:"), why it matters and the fix.
 * UPDATE_GOLDEN=1 rewrites the outputs in the doc.
 */

import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RULES } from '../../../src/config/rules/index.js';
import { runAgent } from './cli-capture.js';

const root = path.resolve(import.meta.dirname, '../../..');
const docPath = path.join(root, 'docs', 'diagnostics.md');

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

interface Section {
  anchor: string;
  body: string;
  /** Offset of the body in the document. */
  start: number;
}

function sections(md: string): Section[] {
  const out: Section[] = [];
  const headings = [...md.matchAll(/^#{2,4} (.+)$/gm)];
  headings.forEach((h, i) => {
    const start = (h.index ?? 0) + h[0].length;
    const end = headings[i + 1]?.index ?? md.length;
    out.push({ anchor: githubSlug(h[1] ?? ''), body: md.slice(start, end), start });
  });
  return out;
}

const EXAMPLE =
  /```yaml\n([\s\S]*?)```\n\n`agent lint((?: --[a-z-]+)*) agent\.yaml` prints:\n\n```text\n([\s\S]*?)```\n/;

describe('docs/diagnostics.md policy sections', async () => {
  const md = await readFile(docPath, 'utf8');
  const all = sections(md);
  const policy = RULES.filter((r) => r.category === 'policy' || r.category === 'lint');

  it('has the Policy part', () => {
    expect(md).toMatch(/^## Policy$/m);
    expect(githubSlug('Policy: latest-tag')).toBe('policy-latest-tag');
    expect(policy.filter((r) => r.category === 'policy').length).toBeGreaterThanOrEqual(14);
  });

  for (const rule of policy) {
    it(`${rule.id} has its section (#${rule.docs})`, () => {
      const found = all.filter((s) => s.anchor === rule.docs);
      expect(found).toHaveLength(1);
      expect(found[0]?.body).toContain(`\`${rule.id}\``);
    });
  }

  for (const rule of policy.filter((r) => r.category === 'lint')) {
    it(`${rule.id}: the line the doc shows is one a golden case prints`, async () => {
      const section = all.find((s) => s.anchor === rule.docs);
      const shown = /```text\n[^:\n]+(:\d+:\d+: [^\n]+)\n```/.exec(section?.body ?? '')?.[1];
      if (!shown) throw new Error(`#${rule.docs}: no example line`);
      expect(shown).toContain(`[${rule.id}]`);
      const dir = path.join(root, 'test', 'fixtures', 'lint', 'policy');
      const outs = (await readdir(dir)).filter((f) => f.endsWith('.out'));
      const texts = await Promise.all(outs.map((f) => readFile(path.join(dir, f), 'utf8')));
      expect(texts.some((t) => t.split('\n').some((l) => l.endsWith(shown)))).toBe(true);
    });
  }

  const updates: { from: number; to: number; text: string }[] = [];
  for (const rule of policy.filter((r) => r.category === 'policy')) {
    it(`${rule.id}: the example prints what the doc shows`, async () => {
      const section = all.find((s) => s.anchor === rule.docs);
      if (!section) throw new Error(`no section #${rule.docs}`);
      const m = EXAMPLE.exec(section.body);
      if (!m) throw new Error(`#${rule.docs}: no yaml example followed by its agent lint output`);
      expect(section.body).toMatch(/\nWhy it matters: \S/);
      expect(section.body).toMatch(/\nFix: \S/);
      const dir = await mkdtemp(path.join(tmpdir(), 'agentfile-policy-docs-'));
      await writeFile(path.join(dir, 'agent.yaml'), m[1] ?? '');
      const flags = (m[2] ?? '').split(' ').filter(Boolean);
      const r = await runAgent(['lint', ...flags, 'agent.yaml'], dir);
      expect(r.stdout).toContain(`[${rule.id}]`);
      // Only this rule: the example shows one problem.
      expect(r.stdout.match(/\[[a-z-]+\/[a-z-]+\]$/gm)).toEqual([`[${rule.id}]`]);
      if (process.env.UPDATE_GOLDEN === '1') {
        const at = section.start + (m.index ?? 0) + m[0].indexOf('```text\n') + '```text\n'.length;
        updates.push({ from: at, to: at + (m[3] ?? '').length, text: r.stdout });
      } else {
        expect(r.stdout).toBe(m[3]);
      }
    });
  }

  afterAll(async () => {
    if (updates.length === 0) return;
    let text = md;
    for (const u of [...updates].sort((a, b) => b.from - a.from)) {
      text = text.slice(0, u.from) + u.text + text.slice(u.to);
    }
    await writeFile(docPath, text);
  });
});
