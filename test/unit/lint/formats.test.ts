/**
 * `--format json` and `--format github` for every lint fixture (recursively,
 * so fixtures added later are covered): JSON items have the Diagnostic shape
 * with positions inside their file, and each github line is a well-formed
 * Actions workflow command that decodes back to the same diagnostic.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/config/diagnostics.js';
import { ruleInfo } from '../../../src/config/rules/index.js';
import { lintFixtures, repoRoot, runLint } from './run-lint.js';

const fixtures = lintFixtures();
const KEYS = new Set([
  'code',
  'severity',
  'message',
  'file',
  'line',
  'column',
  'endLine',
  'endColumn',
  'hint',
]);

/** Checks the Diagnostic shape of one parsed JSON item and that its positions lie in its file. */
function checkDiagnostic(item: unknown): Diagnostic {
  expect(item).toBeTypeOf('object');
  const d = item as Record<string, unknown>;
  for (const key of Object.keys(d)) expect(KEYS, `unexpected key ${key}`).toContain(key);
  expect(d.code).toMatch(/^[a-z-]+\/[a-z0-9-]+$/);
  expect(ruleInfo(d.code as string), `${d.code} is a registered rule`).toBeDefined();
  expect(['error', 'warning']).toContain(d.severity);
  expect(d.message).toBeTypeOf('string');
  expect(d.message).not.toBe('');
  expect(d.message).not.toContain('\u001b');
  expect(d.file).toBeTypeOf('string');
  for (const k of ['line', 'column', 'endLine', 'endColumn'] as const) {
    if (k === 'line' || k === 'column' || d[k] !== undefined) {
      expect(Number.isInteger(d[k]) && (d[k] as number) >= 1, `${k} = ${d[k]}`).toBe(true);
    }
  }
  if (d.hint !== undefined) expect(d.hint).toBeTypeOf('string');
  const diag = d as unknown as Diagnostic;
  const path = resolve(repoRoot, diag.file);
  if (!existsSync(path)) {
    expect(diag.code).toBe('file/not-found');
    expect([diag.line, diag.column]).toEqual([1, 1]);
    return diag;
  }
  // A trailing newline gives a last, empty line: the end-of-file position.
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const inside = (line: number, column: number) =>
    line <= lines.length && column <= (lines[line - 1]?.length ?? 0) + 1;
  expect(inside(diag.line, diag.column), `${diag.line}:${diag.column} in ${diag.file}`).toBe(true);
  if (diag.endLine !== undefined) {
    expect(diag.endLine).toBeGreaterThanOrEqual(diag.line);
    const endColumn = diag.endColumn ?? 1;
    expect(inside(diag.endLine, endColumn), `end ${diag.endLine}:${endColumn}`).toBe(true);
    if (diag.endLine === diag.line && diag.endColumn !== undefined) {
      expect(diag.endColumn).toBeGreaterThanOrEqual(diag.column);
    }
  }
  return diag;
}

/**
 * Parses one Actions workflow command, checking the escapes of GitHub Docs,
 * "Workflow commands for GitHub Actions": in the message `%`, CR and LF are
 * escaped (`%25`, `%0D`, `%0A`); in property values also `:` and `,`
 * (`%3A`, `%2C`).
 */
function parseCommand(line: string) {
  const m =
    /^::(error|warning) file=([^,:\r\n]*),line=(\d+),col=(\d+)(?:,endLine=(\d+))?(?:,endColumn=(\d+))?,title=([^,:\r\n]+)::([^\r\n]*)$/.exec(
      line,
    );
  expect(m, line).not.toBeNull();
  const [, level, file, l, c, el, ec, title, message] = m as unknown as string[];
  const escaped = /^(?:[^%]|%25|%0D|%0A|%3A|%2C)*$/;
  for (const value of [file, title]) expect(value, `property ${value}`).toMatch(escaped);
  expect(message, 'message escapes').toMatch(/^(?:[^%]|%25|%0D|%0A)*$/);
  const decode = (s = '') =>
    s.replace(/%(25|0D|0A|3A|2C)/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  return {
    level,
    file: decode(file),
    line: Number(l),
    column: Number(c),
    endLine: el === undefined ? undefined : Number(el),
    endColumn: ec === undefined ? undefined : Number(ec),
    title: decode(title),
    message: decode(message),
  };
}

describe('lint output formats for every fixture', () => {
  it('finds the fixtures, with errors, warnings and clean files among them', async () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
    expect(fixtures).toContain('test/fixtures/lint/ok/minimal.yaml');
    expect(fixtures).toContain('test/fixtures/lint/agent-dev/mismatch/agent.yaml');
  });

  for (const file of fixtures) {
    it(file, async () => {
      const json = await runLint(['--format', 'json', file]);
      expect(json.stderr).toBe('');
      const parsed: unknown = JSON.parse(json.stdout);
      expect(Array.isArray(parsed)).toBe(true);
      const diagnostics = (parsed as unknown[]).map(checkDiagnostic);
      expect(json.code).toBe(diagnostics.some((d) => d.severity === 'error') ? 1 : 0);

      const github = await runLint(['--format', 'github', file]);
      expect(github.code).toBe(json.code);
      expect(github.stderr).toBe('');
      const lines = github.stdout === '' ? [] : github.stdout.replace(/\n$/, '').split('\n');
      expect(lines).toHaveLength(diagnostics.length);
      lines.forEach((line, i) => {
        const d = diagnostics[i] as Diagnostic;
        expect(parseCommand(line)).toEqual({
          level: d.severity,
          file: d.file,
          line: d.line,
          column: d.column,
          endLine: d.endLine,
          endColumn: d.endColumn,
          title: d.code,
          message: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message,
        });
      });
    });
  }

  it('covers warnings as well as errors', async () => {
    const r = await runLint(['--format', 'json', ...fixtures]);
    const all = JSON.parse(r.stdout) as Diagnostic[];
    expect(all.some((d) => d.severity === 'warning')).toBe(true);
    expect(all.some((d) => d.severity === 'error')).toBe(true);
  });
});
