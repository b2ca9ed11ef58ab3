/**
 * Golden cases of the policy pass: test/fixtures/lint/policy/<case>.yaml (or
 * <case>/agent.yaml beside its own .agentlint.yaml) and the exact output of
 * `agent lint` in <case>.out. The first line of the YAML says how to run it
 * and the exit code: `# agent lint [FLAGS] FILE [MORE FILES] → exit N`.
 * UPDATE_GOLDEN=1 rewrites the .out files.
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAgent } from './cli-capture.js';

const root = path.resolve(import.meta.dirname, '../../..');
const dir = path.posix.join('test', 'fixtures', 'lint', 'policy');
const cases = readdirSync(path.join(root, dir), { withFileTypes: true })
  .flatMap((e) => {
    if (e.isFile() && e.name.endsWith('.yaml'))
      return [{ name: e.name.slice(0, -5), file: e.name }];
    if (e.isDirectory() && existsSync(path.join(root, dir, e.name, 'agent.yaml'))) {
      return [{ name: e.name, file: `${e.name}/agent.yaml` }];
    }
    return [];
  })
  .sort((a, b) => a.name.localeCompare(b.name));

const HEADER = /^# agent lint((?: --[a-z-]+)*) FILE((?: \S+)*) → exit (\d)$/;

describe('policy golden cases', () => {
  it('has a case per policy rule, for strict, suppressions and .agentlint.yaml, and clean cases', async () => {
    const { RULES } = await import('../../../src/config/rules/index.js');
    const names = cases.map((c) => c.name);
    for (const r of RULES.filter((x) => x.category === 'policy')) {
      expect(names).toContain(r.id.replace('policy/', ''));
    }
    for (const n of [
      'strict',
      'suppression-used',
      'suppression-unused',
      'suppression-invalid',
      'config-levels',
      'config-invalid',
      'config-ignore',
      'config-strict-off',
      'clean-agent',
      'clean-workflow',
      'clean-process',
      'clean-agent-dev',
    ]) {
      expect(names).toContain(n);
    }
    const withProblems = cases.filter(
      (c) =>
        !readFileSync(path.join(root, dir, `${c.name}.out`), 'utf8').includes('no problems found'),
    );
    expect(withProblems.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const file = path.posix.join(dir, c.file);
      const first = readFileSync(path.join(root, file), 'utf8').split('\n')[0] ?? '';
      const header = HEADER.exec(first);
      if (!header)
        throw new Error(`${file}: the first line must be "# agent lint [FLAGS] FILE → exit N"`);
      const flags = (header[1] ?? '').split(' ').filter(Boolean);
      const more = (header[2] ?? '')
        .split(' ')
        .filter(Boolean)
        .map((f) => path.posix.join(path.posix.dirname(file), f));
      const result = await runAgent(['lint', ...flags, file, ...more], root);
      const golden = path.join(root, dir, `${c.name}.out`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, result.stdout);
      expect(result.stdout).toBe(readFileSync(golden, 'utf8'));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(Number(header[3]));
      if (c.name.startsWith('clean-')) expect(result.stdout).toMatch(/: no problems found\n$/);
    });
  }
});
