import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Diagnostic, hasErrors, loadProject } from '../../../src/config/index.js';
import { RULES } from '../../../src/config/rules/index.js';

// Property-based robustness of the loader and validator: generated
// agentfile-shaped documents, mutations of the real fixtures and examples,
// and arbitrary text and bytes all go through loadProject on a temp file.
// For each: nothing throws, nothing takes 2 s, every diagnostic has a known
// code and a position inside its file, and no error means a project.

/** Codes reported by the loader that the rule list may not have yet. */
const KNOWN = new Set(RULES.map((r) => r.id));
const CALL_LIMIT_MS = 2_000;
const RUNS = { generated: 2_000, mutated: 6_000, arbitrary: 2_000 };

const dir = mkdtempSync(path.join(tmpdir(), 'agentfile-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
let slowest = 0;

/** Lines of a file's text as diagnostics count them (LF; a leading BOM is not text). */
function linesOf(bytes: Uint8Array, sources: Map<string, string>, file: string): string[] {
  const text = sources.get(file) ?? new TextDecoder('utf-8').decode(bytes);
  return text.split('\n');
}

function checkPosition(d: Diagnostic, lines: string[]): void {
  const where = `${d.code} at ${d.line}:${d.column} (${lines.length} lines): ${d.message}`;
  expect(Number.isInteger(d.line) && Number.isInteger(d.column), where).toBe(true);
  expect(d.line, where).toBeGreaterThanOrEqual(1);
  expect(d.line, where).toBeLessThanOrEqual(lines.length);
  const text = (lines[d.line - 1] as string).replace(/\r$/, '');
  expect(d.column, where).toBeGreaterThanOrEqual(1);
  expect(d.column, where).toBeLessThanOrEqual(text.length + 2);
  if (d.endLine !== undefined) {
    expect(d.endLine, where).toBeGreaterThanOrEqual(d.line);
    expect(d.endLine, where).toBeLessThanOrEqual(lines.length);
    const end = (lines[d.endLine - 1] as string).length;
    expect(d.endColumn ?? 1, where).toBeGreaterThanOrEqual(1);
    expect(d.endColumn ?? 1, where).toBeLessThanOrEqual(end + 2);
  }
}

/** Runs one input through loadProject and checks every property. */
async function check(input: string | Uint8Array): Promise<void> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const name = 'fuzz.yaml';
  writeFileSync(path.join(dir, name), bytes);
  const started = performance.now();
  let result: Awaited<ReturnType<typeof loadProject>>;
  try {
    result = await loadProject(name, { cwd: dir });
  } catch (err) {
    throw new Error(
      `loadProject threw for ${JSON.stringify(bytes.toString('utf8').slice(0, 2000))}: ${String(err)}`,
      {
        cause: err,
      },
    );
  }
  const ms = performance.now() - started;
  count++;
  slowest = Math.max(slowest, ms);
  expect(ms).toBeLessThan(CALL_LIMIT_MS);
  for (const d of result.diagnostics) {
    expect(KNOWN.has(d.code), `unknown code ${d.code}`).toBe(true);
    expect(d.message.length).toBeGreaterThan(0);
    if (d.file === name) {
      checkPosition(d, linesOf(bytes, result.sources, name));
    } else {
      const text = result.sources.get(d.file);
      if (text !== undefined) checkPosition(d, text.split('\n'));
    }
  }
  if (!hasErrors(result.diagnostics)) expect(result.project).toBeDefined();
  else expect(result.project).toBeUndefined();
}

// ---------- (a) generated documents from the schemas' vocabulary ----------

/** Every property name in the JSON Schemas: the keys a generated document uses. */
function schemaKeys(): string[] {
  const keys = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (typeof node === 'object' && node !== null) {
      const props = (node as Record<string, unknown>).properties;
      if (typeof props === 'object' && props !== null) {
        for (const key of Object.keys(props)) keys.add(key);
      }
      for (const value of Object.values(node)) visit(value);
    }
  };
  for (const file of readdirSync('schemas')) {
    visit(JSON.parse(readFileSync(path.join('schemas', file), 'utf8')));
  }
  return [...keys].sort();
}

const KEYS = schemaKeys();
const IDS = ['build', 'test', 'deploy', 'db', 'api', 'cache', 'a', 'b', 'x-y', 'Build', '1st'];
const PLAUSIBLE = [
  'agentfile/v1',
  'agent.dev/v1',
  'Agent',
  'Workflow',
  'docker',
  'process',
  'node:20',
  'alpine:3.20',
  'python:3.11',
  'echo hi',
  'npm test',
  '30s',
  '500ms',
  '1h30m',
  '0s',
  '5 minutes',
  '512Mi',
  '2Gi',
  '512MB',
  '500m',
  '1.5',
  '8080:80',
  '80',
  '70000:80',
  '9000/udp',
  './data:/data',
  'data:/data',
  '/app',
  'app',
  './agents/api.yaml',
  './agents/api.yaml#api',
  '#api',
  'http://localhost:8080/health',
  '${{ inputs.name }}',
  '${{ steps.build.outputs.x }}',
  '${{ services.db.url }}',
  '${{ matrix.node }}',
  '${{ secrets.TOKEN }}',
  '${{ always() }}',
  '${{ inputs.count == 3 }}',
  '${{ fromJSON(steps.a.outputs.x) }}',
  '${{ ',
  '${{ }}',
  '${{ a = b }}',
  "${{ format('{0}', github.sha) }}",
  'always()',
  'success()',
  'string',
  'number',
  'boolean',
  'choice',
  'always',
  'missing',
  'never',
  'exponential',
  'NET_ADMIN',
  'ready',
  '^listening on',
  '([',
  'requirements.txt',
  'fastapi==0.104.0',
  'openai=1.0.0',
];

const scalar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PLAUSIBLE) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: 70_000 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const key = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...IDS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

const { value } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'xsmall', withCrossShrink: true },
    { weight: 4, arbitrary: scalar },
    { weight: 2, arbitrary: tie('object') },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
  ),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
}));

const objectOf = fc.dictionary(key, value, { maxKeys: 6 });
const steps = fc.dictionary(fc.constantFrom(...IDS), objectOf, { minKeys: 1, maxKeys: 4 });
const services = fc.dictionary(fc.constantFrom(...IDS), objectOf, { maxKeys: 3 });

const agentfileDocument = fc.record(
  {
    apiVersion: fc.oneof(fc.constantFrom('agentfile/v1', 'agent.dev/v1'), scalar),
    kind: fc.oneof(fc.constantFrom('Agent', 'Workflow'), scalar),
    metadata: fc.oneof(
      fc.record({ name: fc.oneof(fc.constantFrom('app', 'ci', 'api', 'My_App'), scalar) }),
      objectOf,
    ),
    spec: fc.oneof(
      fc.record(
        { steps, services, inputs: objectOf, concurrency: scalar, defaults: objectOf },
        { requiredKeys: ['steps'] },
      ),
      objectOf,
    ),
    extra: objectOf,
  },
  { requiredKeys: ['apiVersion', 'kind', 'metadata', 'spec'] },
);

const generatedFile = fc
  .array(agentfileDocument, { minLength: 1, maxLength: 3 })
  .map((docs) => docs.map((d) => stringify(d)).join('---\n'));

// ---------- (b) mutations of the real fixtures and examples ----------

function yamlFiles(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root)) {
    const full = path.join(root, entry);
    if (statSync(full).isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry)) out.push(full);
  }
  return out.sort();
}

const CORPUS = [...yamlFiles(path.join('test', 'fixtures')), ...yamlFiles('examples')]
  .map((f) => readFileSync(f, 'utf8'))
  .filter((t) => t.length < 64 * 1024);

const SNIPPETS = [
  '*a',
  '&a ',
  '<<: *a\n',
  '<<: [*a, *b]\n',
  '!!str ',
  '!!map ',
  '!tag ',
  '\t',
  '"',
  "'",
  '${{',
  '}}',
  '${{ inputs.x }}',
  ': ',
  '- ',
  '---\n',
  '...\n',
  '[',
  ']',
  '{',
  '}',
  '#',
  '? ',
  '|\n',
  '>-\n',
  '\n',
  '  ',
  '\r\n',
  '\u00a0',
  '\ufeff',
  '\u2028',
  '%YAML 1.1\n',
  'null',
  '~',
  '0x1F',
  '.nan',
  '1e400',
  '-1',
];

type Mutation =
  | { op: 'delete'; at: number; length: number }
  | { op: 'insert'; at: number; text: string }
  | {
      op: 'line';
      line: number;
      action: 'delete' | 'duplicate' | 'indent' | 'dedent' | 'tab' | 'swap';
    };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...SNIPPETS) },
      fc.string({ maxLength: 4 }),
    ),
  }),
  fc.record({
    op: fc.constant('line' as const),
    line: fc.nat(),
    action: fc.constantFrom('delete', 'duplicate', 'indent', 'dedent', 'tab', 'swap'),
  }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    if (m.op === 'delete') {
      const at = m.at % (out.length + 1);
      out = out.slice(0, at) + out.slice(at + m.length);
    } else if (m.op === 'insert') {
      const at = m.at % (out.length + 1);
      out = out.slice(0, at) + m.text + out.slice(at);
    } else {
      const lines = out.split('\n');
      const i = m.line % lines.length;
      const line = lines[i] as string;
      if (m.action === 'delete') lines.splice(i, 1);
      else if (m.action === 'duplicate') lines.splice(i, 0, line);
      else if (m.action === 'indent') lines[i] = `  ${line}`;
      else if (m.action === 'dedent') lines[i] = line.replace(/^ {1,2}/, '');
      else if (m.action === 'tab') lines[i] = line.replace(/^ {2}/, '\t');
      else if (i + 1 < lines.length) {
        lines[i] = lines[i + 1] as string;
        lines[i + 1] = line;
      }
      out = lines.join('\n');
    }
  }
  return out;
}

const mutatedFile = fc
  .tuple(fc.constantFrom(...CORPUS), fc.array(mutation, { minLength: 1, maxLength: 6 }))
  .map(([text, mutations]) => mutate(text, mutations));

// ---------- (c) arbitrary text and bytes ----------

const arbitraryFile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...'ab: -[]{}&*!|>#\'"\n\t%@`,?~'.split('')), maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
  fc
    .uint8Array({ min: 0x80, max: 0xff, maxLength: 16 })
    .map((bad) =>
      Buffer.concat([Buffer.from('apiVersion: agentfile/v1\nkind: '), bad, Buffer.from('\n')]),
    ),
);

describe('fuzz: no input breaks the loader', () => {
  // The first load compiles the schemas; that is not what the 2 s limit is about.
  beforeAll(async () => {
    writeFileSync(path.join(dir, 'warm.yaml'), CORPUS[0] as string);
    await loadProject('warm.yaml', { cwd: dir });
  });

  it(`survives ${RUNS.generated} generated agentfile-shaped files`, async () => {
    await fc.assert(fc.asyncProperty(generatedFile, check), { numRuns: RUNS.generated });
  });

  it(`survives ${RUNS.mutated} mutations of the fixtures and examples (${CORPUS.length} files)`, async () => {
    expect(CORPUS.length).toBeGreaterThan(50);
    await fc.assert(fc.asyncProperty(mutatedFile, check), { numRuns: RUNS.mutated });
  });

  it(`survives ${RUNS.arbitrary} arbitrary strings and byte arrays`, async () => {
    await fc.assert(fc.asyncProperty(arbitraryFile, check), { numRuns: RUNS.arbitrary });
  });

  it('checked at least 10,000 inputs', () => {
    console.log(`fuzz: ${count} inputs, slowest ${Math.round(slowest)} ms`);
    expect(count).toBeGreaterThanOrEqual(10_000);
  });
});
