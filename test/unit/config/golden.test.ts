import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadProject } from '../../../src/config/index.js';

// Golden pairs: test/fixtures/lint/err/<name>.yaml and the exact lint output in
// <name>.out. Run from the repository root; UPDATE_GOLDEN=1 rewrites the .out files.
const dir = path.join('test', 'fixtures', 'lint', 'err');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('golden diagnostics', () => {
  it('has the cases the file format needs', () => {
    for (const name of [
      'yaml-syntax',
      'duplicate-key',
      'unknown-key',
      'wrong-type',
      'unknown-need',
      'cycle',
      'bad-duration',
      'bad-memory',
      'bad-cpu',
      'bad-port',
      'multiple',
      'missing-uses',
      'run-and-command',
      'expr-references',
      'expr-needs',
      'expr-syntax',
      'expr-types',
      'foreign-compose',
      'foreign-github',
      'foreign-kubernetes',
      'foreign-argo',
      'foreign-taskfile',
      'hostile-alias-bomb',
      'hostile-alias-cycle',
      'hostile-too-deep',
      'hostile-binary',
      'hostile-latin1',
      'hostile-utf16',
    ]) {
      expect(cases).toContain(`${name}.yaml`);
    }
  });

  for (const name of cases) {
    it(name, async () => {
      const file = path.posix.join('test', 'fixtures', 'lint', 'err', name);
      const result = await loadProject(file);
      expect(result.project).toBeUndefined();
      expect(result.diagnostics.length).toBeGreaterThan(0);
      const output = `${result.diagnostics
        .map((d) => formatDiagnostic(d, result.sources.get(d.file)))
        .join('\n')}\n`;
      const golden = path.join(dir, name.replace(/\.yaml$/, '.out'));
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, output);
      expect(output).toBe(readFileSync(golden, 'utf8'));
    });
  }
});
