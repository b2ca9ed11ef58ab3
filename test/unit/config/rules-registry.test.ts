import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/index.js';
import { DOCUMENT_RULES, RULES, ruleInfo, SCHEMA_RULES } from '../../../src/config/rules/index.js';

/** GitHub's heading anchors: lower-case, punctuation dropped, spaces to "-". */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full, ext);
    return name.endsWith(ext) ? [full] : [];
  });
}

describe('the rule list', () => {
  it('has unique, well-formed ids, each with a summary', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^[a-z-]+\/[a-z-]+$/);
      expect(rule.summary.length).toBeGreaterThan(10);
      expect(rule.summary.endsWith('.')).toBe(false);
    }
  });

  it('gives every rule a section in docs/diagnostics.md', () => {
    const text = readFileSync('docs/diagnostics.md', 'utf8');
    const anchors = new Set([...text.matchAll(/^#{2,4} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
    for (const rule of RULES) {
      expect(anchors, `${rule.id} → #${rule.docs}`).toContain(rule.docs);
      expect(text, `${rule.id} is not named in docs/diagnostics.md`).toContain(
        `\`${rule.id.split('/')[0]}/`,
      );
    }
  });

  it('registers every code the sources report', () => {
    const literal = /(?:code|id): '([a-z-]+\/[a-z-]+)'/g;
    const found = new Set<string>();
    for (const file of files('src', '.ts')) {
      for (const m of readFileSync(file, 'utf8').matchAll(literal)) found.add(m[1] ?? '');
    }
    expect(found.size).toBeGreaterThan(40);
    const missing = [...found].filter((id) => !ruleInfo(id));
    expect(missing).toEqual([]);
  });

  it('registers every code the lint fixtures produce', async () => {
    const seen = new Set<string>();
    for (const file of files(path.join('test', 'fixtures', 'lint'), '.yaml')) {
      const result = await loadProject(file);
      for (const d of result.diagnostics) {
        seen.add(d.code);
        expect(ruleInfo(d.code), `${file}: ${d.code}`).toBeDefined();
      }
    }
    expect(seen.size).toBeGreaterThan(20);
  });

  it('offers schema errors to the catch-all last and runs document rules', () => {
    expect(SCHEMA_RULES[SCHEMA_RULES.length - 1]?.id).toBe('schema/invalid');
    expect(SCHEMA_RULES.findIndex((r) => r.id === 'step/run-or-command')).toBeLessThan(
      SCHEMA_RULES.findIndex((r) => r.id === 'schema/one-of'),
    );
    expect(DOCUMENT_RULES.map((r) => r.id)).toContain('workflow/cycle');
  });
});
