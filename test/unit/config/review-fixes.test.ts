/**
 * Regression tests for defects found in review of the config stage: short
 * volume sources, numbers kept as written through aliases and merge keys,
 * limits that would round to "no limit", and did-you-mean on short names.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/index.js';
import { parseSource } from '../../../src/config/load.js';
import { compileSchemas } from '../../../src/config/schema.js';
import { nearest } from '../../../src/config/suggest.js';
import { parseCpu, parseMemory } from '../../../src/config/units.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Writes `text` as `agentfile.yaml` in a fresh temp dir and loads it. */
async function loadText(text: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentfile-config-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'agentfile.yaml'), text);
  return { dir, result: await loadProject('agentfile.yaml', { cwd: dir }) };
}

const agent = (spec: string) =>
  ['apiVersion: agentfile/v1', 'kind: Agent', 'metadata: { name: a }', 'spec:', spec, ''].join(
    '\n',
  );

describe('short-form volumes', () => {
  it('accepts "." and ".." as sources and resolves them against the file', async () => {
    const { dir, result } = await loadText(
      agent('  image: local/busybox:latest\n  volumes: [".:/app", "..:/up:ro", "./x/:/x"]'),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.project?.agents[0]?.volumes).toEqual([
      { type: 'bind', source: dir, target: '/app', readOnly: false },
      { type: 'bind', source: path.dirname(dir), target: '/up', readOnly: true },
      { type: 'bind', source: path.join(dir, 'x'), target: '/x', readOnly: false },
    ]);
  });

  it('still rejects named volumes and dotted names', () => {
    const { agent: validate } = compileSchemas();
    const doc = (volume: string) => ({
      apiVersion: 'agentfile/v1',
      kind: 'Agent',
      metadata: { name: 'a' },
      spec: { image: 'x', volumes: [volume] },
    });
    for (const bad of ['data:/data', '.x:/x', '...:/x', '.:x', '.', '..', '.:/a:rx']) {
      expect(validate(doc(bad)), bad).toBe(false);
    }
    for (const good of ['.:/a', '..:/a', './a:/a', '../a:/a:ro', '/a:/a:rw']) {
      expect(validate(doc(good)), good).toBe(true);
    }
  });
});

describe('numbers kept as written', () => {
  const text = [
    'x-step: &step',
    '  env: { V: 1.10, H: 0x1F }',
    '  ratio: 2.50',
    'x-more: &more { deep: 3.0 }',
    'spec:',
    '  H: &v 2.50',
    '  I: *v',
    '  step:',
    '    <<: *step',
    '    ratio: 7.0',
    '  multi:',
    '    <<: [*more, *step]',
    '',
  ].join('\n');
  const doc = parseSource({ file: 'f.yaml', text }).documents[0];
  if (!doc) throw new Error('no document');

  it('through an alias', () => {
    expect(doc.scalarSource('/spec/H')).toBe('2.50');
    expect(doc.scalarSource('/spec/I')).toBe('2.50');
  });

  it('through a merge key, with the mapping own keys winning', () => {
    expect(doc.scalarSource('/spec/step/env/V')).toBe('1.10');
    expect(doc.scalarSource('/spec/step/env/H')).toBe('0x1F');
    expect(doc.scalarSource('/spec/step/ratio')).toBe('7.0');
    expect(doc.scalarSource('/spec/multi/deep')).toBe('3.0');
    expect(doc.scalarSource('/spec/multi/ratio')).toBe('2.50');
    expect(doc.scalarSource('/spec/multi/missing')).toBeUndefined();
  });

  it('locates merged values at their definition', () => {
    expect(doc.locate('/spec/step/env/V')).toMatchObject({ line: 2, column: 13, endColumn: 17 });
  });

  it('in the normalized environment of a step that merges an anchor', async () => {
    const { result } = await loadText(
      [
        'x-step: &step',
        '  run: "true"',
        '  env: { VERSION: 1.10, MASK: 0x1F, RATIO: &r 2.50 }',
        'apiVersion: agentfile/v1',
        'kind: Workflow',
        'metadata: { name: w }',
        'spec:',
        '  env: { A: *r }',
        '  steps:',
        '    build:',
        '      <<: *step',
        '',
      ].join('\n'),
    );
    expect(result.diagnostics).toEqual([]);
    const wf = result.project?.workflows[0];
    expect(wf?.env).toEqual({ A: '2.50' });
    expect(wf?.steps.build?.env).toEqual({
      A: '2.50',
      VERSION: '1.10',
      MASK: '0x1F',
      RATIO: '2.50',
    });
  });
});

describe('limits never become "no limit"', () => {
  it('parseCpu rejects what rounds to 0 nano-CPUs or is not a safe integer', () => {
    expect(parseCpu(1e-12)).toBeUndefined();
    expect(parseCpu('0.0000000001')).toBeUndefined();
    expect(parseCpu(1e10)).toBeUndefined();
    expect(parseCpu(1e-9)).toBe(1);
    expect(parseCpu(9_007_199)).toBe(9_007_199_000_000_000);
  });

  it('parseMemory rejects fractions of a byte given as numbers, and too much', () => {
    expect(parseMemory(1.5)).toBeUndefined();
    expect(parseMemory(1e20)).toBeUndefined();
    expect(parseMemory('10P')).toBeUndefined();
    expect(parseMemory(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a tiny cpu number is an error, not nanoCpus 0', async () => {
    const { result } = await loadText(
      agent('  image: local/busybox:latest\n  resources: { limits: { cpu: 1e-12 } }'),
    );
    expect(result.project).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['units/cpu']);
  });

  it('a huge memory number is an error, not dropped', async () => {
    const { result } = await loadText(
      agent(
        '  image: local/busybox:latest\n  resources: { limits: { memory: 100000000000000000000 } }',
      ),
    );
    expect(result.project).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['units/memory']);
  });
});

describe('did-you-mean', () => {
  it('is not offered for unrelated short names', () => {
    expect(nearest('zz', ['a', 'build'])).toBeUndefined();
    expect(nearest('ab', ['xy'])).toBeUndefined();
    expect(nearest('db', ['a'])).toBeUndefined();
  });

  it('still catches typos', () => {
    expect(nearest('imgae', ['image', 'command'])).toBe('image');
    expect(nearest('biuld', ['test', 'build'])).toBe('build');
    expect(nearest('tset', ['test', 'build'])).toBe('test');
    expect(nearest('ab', ['a'])).toBe('a');
    expect(nearest('healtcheck', ['healthCheck'])).toBe('healthCheck');
  });
});
