/**
 * `--format sarif` of real lint runs validates against the SARIF 2.1.0 JSON
 * Schema and carries what GitHub code scanning reads: rule metadata, levels,
 * relative locations under %SRCROOT%, regions and stable fingerprints.
 *
 * The schema is the one @microsoft/jest-sarif (Microsoft's SARIF JS SDK)
 * ships, `sarif-2.1.0-rtm.5.json`: the SARIF TC's 2.1.0 schema as published
 * in SchemaStore, JSON Schema draft-04 (hence ajv-draft-04). No npm package
 * ships the OASIS `sarif-schema-2.1.0.json` itself. Its `language` patterns
 * are not valid with the regular expressions' `u` flag (an unbalanced `]`),
 * so ajv compiles without it (`unicodeRegExp: false`); the schema is used
 * unchanged.
 */

import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { Log, Result } from 'sarif';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/config/diagnostics.js';
import { helpUri, RULES } from '../../../src/config/rules/index.js';
import { ruleName, toSarif } from '../../../src/lint/format/index.js';
import { lintFixtures, repoRoot, runLint } from './run-lint.js';

const require = createRequire(import.meta.url);
const schemaPath = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
// Both are CommonJS: the class and the plugin are their `default` export.
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats.default(ajv);
const validate = ajv.compile(schema);

function expectValid(log: unknown): void {
  const ok = validate(log);
  expect(ok, JSON.stringify(validate.errors, null, 2)).toBe(true);
}

async function sarif(args: string[], cwd = repoRoot): Promise<{ code: number; log: Log }> {
  const r = await runLint(['--format', 'sarif', ...args], { cwd });
  expect(r.stderr).toBe('');
  return { code: r.code, log: JSON.parse(r.stdout) as Log };
}

async function json(args: string[], cwd = repoRoot): Promise<Diagnostic[]> {
  return JSON.parse((await runLint(['--format', 'json', ...args], { cwd })).stdout) as Diagnostic[];
}

const results = (log: Log): Result[] => log.runs[0]?.results ?? [];
const fingerprints = (log: Log) => results(log).map((r) => r.partialFingerprints?.['agentfile/v1']);

describe('the SARIF 2.1.0 schema used', () => {
  it('is the SARIF 2.1.0 JSON Schema, and rejects a log that breaks it', () => {
    expect(schema.title).toMatch(/^Static Analysis Results Format \(SARIF\) Version 2\.1\.0/);
    expect(validate({ version: '2.1.0', runs: [] })).toBe(true);
    expect(validate({ version: '2.1.0' })).toBe(false);
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] })).toBe(false);
    expect(
      validate({
        version: '2.1.0',
        runs: [
          {
            tool: { driver: { name: 'x' } },
            results: [{ message: { text: 'm' }, level: 'fatal' }],
          },
        ],
      }),
    ).toBe(false);
  });
});

describe('agent lint --format sarif', () => {
  const fixtures = lintFixtures();

  for (const group of [
    ['test/fixtures/lint/err/multiple.yaml'],
    ['test/fixtures/lint/err/schema-misc.yaml'],
    ['test/fixtures/lint/agent-dev/mismatch/agent.yaml'],
    ['test/fixtures/lint/ok/minimal.yaml'],
    ['test/fixtures/lint/err/missing-uses.yaml', 'no-such-file.yaml'],
    fixtures,
  ]) {
    const name = group.length > 3 ? `all ${group.length} fixtures at once` : group.join(' ');
    it(`${name}: valid SARIF that says what --format json says`, async () => {
      const { code, log } = await sarif(group);
      expectValid(log);
      const diagnostics = await json(group);
      expect(code).toBe(diagnostics.some((d) => d.severity === 'error') ? 1 : 0);

      const run = log.runs[0];
      expect(log.runs).toHaveLength(1);
      const driver = run?.tool.driver;
      expect(driver?.name).toBe('agentfile');
      expect(driver?.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(driver?.informationUri).toMatch(/^https:\/\//);
      expect(driver?.rules?.map((r) => r.id)).toEqual(RULES.map((r) => r.id));
      for (const [i, rule] of RULES.entries()) {
        const d = driver?.rules?.[i];
        expect(d?.name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
        expect(d?.shortDescription?.text).not.toBe('');
        expect(d?.fullDescription?.text).not.toBe('');
        expect(d?.helpUri).toBe(helpUri(rule));
        expect(d?.help?.text).toContain(helpUri(rule));
        expect(d?.help?.markdown).toContain(`](${helpUri(rule)})`);
        expect(d?.defaultConfiguration?.level).toBe(rule.severity);
      }
      expect(run?.originalUriBaseIds?.['%SRCROOT%']?.uri).toBe(`${pathToFileURL(repoRoot).href}/`);

      const got = results(log);
      expect(got).toHaveLength(diagnostics.length);
      got.forEach((r, i) => {
        const d = diagnostics[i] as Diagnostic;
        expect(r.ruleId).toBe(d.code);
        expect(driver?.rules?.[r.ruleIndex ?? -1]?.id).toBe(d.code);
        expect(r.level).toBe(d.severity);
        expect(r.message.text).toBe(d.hint ? `${d.message}\nhint: ${d.hint}` : d.message);
        const loc = r.locations?.[0]?.physicalLocation;
        expect(loc?.artifactLocation?.uri).toBe(d.file.replace(/^\.\//, ''));
        expect(loc?.artifactLocation?.uriBaseId).toBe('%SRCROOT%');
        expect(loc?.region).toEqual({
          startLine: d.line,
          startColumn: d.column,
          ...(d.endLine !== undefined ? { endLine: d.endLine } : {}),
          ...(d.endColumn !== undefined ? { endColumn: d.endColumn } : {}),
        });
        expect(r.partialFingerprints?.['agentfile/v1']).toMatch(/^[0-9a-f]{64}:\d+$/);
      });
      expect(new Set(fingerprints(log)).size).toBe(got.length);
    });
  }

  it('a clean run has an empty results list (which closes earlier alerts)', async () => {
    const { code, log } = await sarif(['test/fixtures/lint/ok/minimal.yaml']);
    expect(code).toBe(0);
    expect(log.runs[0]?.results).toEqual([]);
  });

  const bad =
    'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  steps:\n    a:\n      runn: echo a\n    b:\n      runn: echo a\n';

  it('fingerprints survive lines added above and stay apart for identical lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-sarif-'));
    await writeFile(join(dir, 'w.yaml'), bad);
    const before = await sarif(['w.yaml'], dir);
    expectValid(before.log);
    const first = fingerprints(before.log);
    // Two identical offending lines: the same hash, told apart by the occurrence.
    expect(first).toHaveLength(2);
    expect(first[0]?.split(':')[0]).toBe(first[1]?.split(':')[0]);
    expect(first[0]).not.toBe(first[1]);

    await writeFile(join(dir, 'w.yaml'), `# a comment\n\n${bad}`);
    const after = await sarif(['w.yaml'], dir);
    expect(fingerprints(after.log)).toEqual(first);
    const lines = (log: Log) =>
      results(log).map((r) => r.locations?.[0]?.physicalLocation?.region?.startLine);
    expect(lines(after.log)).toEqual(lines(before.log).map((n) => (n ?? 0) + 2));

    // Re-indented: every line of the spec two spaces deeper.
    const [head, body] = bad.split('spec:\n') as [string, string];
    await writeFile(join(dir, 'w.yaml'), `${head}spec:\n${body.replace(/^(?=.)/gm, '  ')}`);
    const reindented = (await sarif(['w.yaml'], dir)).log;
    expect(results(reindented).map((r) => r.ruleId)).toEqual([
      'schema/unknown-key',
      'schema/unknown-key',
    ]);
    expect(fingerprints(reindented)).toEqual(first);

    await writeFile(
      join(dir, 'w.yaml'),
      bad.replace('runn: echo a\n    b:', 'runn: echo z\n    b:'),
    );
    const changed = fingerprints((await sarif(['w.yaml'], dir)).log);
    expect(changed[0]).not.toBe(first[0]);
  });

  it('a file outside the working directory gets an absolute file: URI', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-sarif-'));
    await writeFile(join(dir, 'w.yaml'), bad);
    const inner = join(dir, 'sub');
    await mkdir(inner);
    const { log } = await sarif(['../w.yaml'], inner);
    expectValid(log);
    const location = results(log)[0]?.locations?.[0]?.physicalLocation?.artifactLocation;
    expect(location?.uri).toBe(pathToFileURL(join(dir, 'w.yaml')).href);
    expect(location?.uriBaseId).toBeUndefined();
  });
});

describe('toSarif', () => {
  const d: Diagnostic = {
    code: 'schema/unknown-key',
    severity: 'error',
    message: 'unknown key "runn"',
    file: 'dir with space/w.yaml',
    line: 3,
    column: 5,
    endLine: 3,
    endColumn: 2,
  };

  it('encodes paths as URI references, drops an end before the start, describes unknown codes', () => {
    const other: Diagnostic = {
      ...d,
      code: 'made/up',
      severity: 'warning',
      line: 4,
      endLine: 4,
      endColumn: 9,
    };
    const log = toSarif([d, other], { cwd: repoRoot, sources: new Map(), version: '1.2.3-dev' });
    expectValid(log);
    const [a, b] = results(log);
    const location = a?.locations?.[0]?.physicalLocation;
    expect(location?.artifactLocation).toEqual({
      uri: 'dir%20with%20space/w.yaml',
      uriBaseId: '%SRCROOT%',
    });
    expect(location?.region).toEqual({ startLine: 3, startColumn: 5 });
    expect(b?.locations?.[0]?.physicalLocation?.region).toEqual({
      startLine: 4,
      startColumn: 5,
      endLine: 4,
      endColumn: 9,
    });
    const rules = log.runs[0]?.tool.driver.rules ?? [];
    expect(rules).toHaveLength(RULES.length + 1);
    expect(rules[b?.ruleIndex ?? -1]).toEqual({ id: 'made/up', name: 'MadeUp' });
    expect(b?.level).toBe('warning');
    expect(log.runs[0]?.tool.driver.version).toBe('1.2.3-dev');
  });

  it('names rules in PascalCase', () => {
    expect(ruleName('schema/unknown-key')).toBe('SchemaUnknownKey');
    expect(ruleName('agent-dev/runtime')).toBe('AgentDevRuntime');
  });
});
