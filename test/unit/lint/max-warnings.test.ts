/** `agent lint --max-warnings N`: as ESLint's flag, exit 1 when there are more than N warnings. */

import { describe, expect, it } from 'vitest';
import { parseMaxWarnings } from '../../../src/lint/format/index.js';
import { runLint } from './run-lint.js';

// Five warnings (three agent-dev/manifest, two policy), no error.
const warns = 'test/fixtures/lint/agent-dev/mismatch/agent.yaml';
const clean = 'test/fixtures/lint/ok/minimal.yaml';
const errors = 'test/fixtures/lint/err/unknown-key.yaml';

describe('agent lint --max-warnings', () => {
  it('warnings alone do not fail lint without the flag, nor within the limit', async () => {
    expect((await runLint([warns])).code).toBe(0);
    const within = await runLint(['--max-warnings', '5', warns]);
    expect(within.code).toBe(0);
    expect(within.stdout).toContain('0 error(s), 5 warning(s)\n');
    expect(within.stdout).not.toContain('too many warnings');
    expect((await runLint(['--max-warnings', '0', clean])).code).toBe(0);
  });

  it('more warnings than N exit 1, and the pretty summary says why', async () => {
    const r = await runLint(['--max-warnings', '4', warns]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /0 error\(s\), 5 warning\(s\)\ntoo many warnings: 5 is more than --max-warnings 4\n$/,
    );
    expect((await runLint(['--max-warnings=0', warns])).code).toBe(1);
  });

  it('machine formats keep stdout parseable and say why on stderr', async () => {
    for (const format of ['json', 'sarif']) {
      const r = await runLint(['--format', format, '--max-warnings', '1', warns]);
      expect(r.code).toBe(1);
      expect(() => JSON.parse(r.stdout)).not.toThrow();
      expect(r.stderr).toBe('agent: too many warnings: 5 is more than --max-warnings 1\n');
    }
    const github = await runLint(['--format', 'github', '--max-warnings', '1', warns]);
    expect(github.code).toBe(1);
    expect(github.stdout.split('\n').filter((l) => l !== '')).toHaveLength(5);
    expect(github.stderr).toContain('too many warnings');
  });

  it('errors fail whatever the limit', async () => {
    const r = await runLint(['--max-warnings', '100', errors]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('too many warnings');
  });

  for (const bad of ['-1', '1.5', 'x', '', '1e3', '0x10']) {
    it(`--max-warnings ${JSON.stringify(bad)} is an invalid invocation (exit 2)`, async () => {
      const r = await runLint([`--max-warnings=${bad}`, warns]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--max-warnings.*expected a whole number of warnings, 0 or more/);
      expect(r.stdout).toBe('');
    });
  }

  it('parseMaxWarnings accepts whole numbers only', () => {
    expect(parseMaxWarnings('0')).toBe(0);
    expect(parseMaxWarnings('12')).toBe(12);
    expect(() => parseMaxWarnings('-3')).toThrow(/whole number/);
    expect(() => parseMaxWarnings('99999999999999999999')).toThrow(/too large/);
  });
});
