import { describe, expect, it } from 'vitest';
import { parseSource, pointerSegments } from '../../../src/config/load.js';
import { findCycles } from '../../../src/config/rules/workflow/needs.js';
import { nearest, suggestion } from '../../../src/config/suggest.js';

const text = [
  'base: &base',
  '  image: node', // 2
  'spec:',
  '  steps:',
  '    build:', // 5
  '      needs: [a, b]',
  '      empty:',
  '      ratio: 1.10',
  '    a/b: { run: x }',
  '---',
  'second: 1',
  '',
].join('\n');

describe('parseSource', () => {
  const { documents, diagnostics } = parseSource({ file: 'f.yaml', text });
  const first = documents[0];
  if (!first) throw new Error('no document');

  it('parses every document', () => {
    expect(diagnostics).toEqual([]);
    expect(documents.map((d) => d.data)).toEqual([
      {
        base: { image: 'node' },
        spec: {
          steps: { build: { needs: ['a', 'b'], empty: null, ratio: 1.1 }, 'a/b': { run: 'x' } },
        },
      },
      { second: 1 },
    ]);
    expect(documents[1]?.locate('/second')).toEqual({
      line: 11,
      column: 9,
      endLine: 11,
      endColumn: 10,
    });
  });

  it('maps JSON pointers to values, keys and list items', () => {
    expect(first.locate('/spec/steps/build/needs/1')).toEqual({
      line: 6,
      column: 18,
      endLine: 6,
      endColumn: 19,
    });
    expect(first.locate('/spec/steps/build', 'key')).toEqual({
      line: 5,
      column: 5,
      endLine: 5,
      endColumn: 10,
    });
    expect(first.locate('/spec/steps/a~1b/run')).toMatchObject({ line: 9, column: 17 });
  });

  it('points at the key when the value is empty', () => {
    expect(first.locate('/spec/steps/build/empty')).toEqual({
      line: 7,
      column: 7,
      endLine: 7,
      endColumn: 12,
    });
  });

  it('falls back to the deepest existing node', () => {
    expect(first.locate('/spec/steps/build/missing/0')).toMatchObject({ line: 6, column: 7 });
    expect(first.locate('/nothing')).toMatchObject({ line: 1, column: 1 });
  });

  it('keeps plain scalars as written', () => {
    expect(first.scalarSource('/spec/steps/build/ratio')).toBe('1.10');
    expect(first.scalarSource('/spec/steps/build/nope')).toBeUndefined();
  });

  it('reports syntax errors and duplicate keys with positions, and never throws', () => {
    const bad = parseSource({ file: 'b.yaml', text: 'a: 1\nkey: 1\nkey: 2\n---\nx: [1, 2\n' });
    expect(bad.diagnostics.map((d) => [d.code, d.line, d.column, d.endColumn])).toEqual([
      ['yaml/duplicate-key', 3, 1, 4],
      ['yaml/syntax', 6, 1, 1],
    ]);
    expect(bad.documents.map((d) => d.broken)).toEqual([false, true]);
    expect(bad.diagnostics[0]?.message).toBe(
      'duplicate key "key"; a key may appear only once in a mapping',
    );
  });

  it('splits pointers', () => {
    expect(pointerSegments('')).toEqual([]);
    expect(pointerSegments('/a/b~1c/d~0e/0')).toEqual(['a', 'b/c', 'd~e', '0']);
  });
});

describe('findCycles', () => {
  const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

  it('finds none in a DAG', () => {
    expect(findCycles(['a', 'b', 'c'], graph({ a: [], b: ['a'], c: ['a', 'b'] }))).toEqual([]);
  });

  it('prints each cycle from its first node in file order', () => {
    expect(
      findCycles(['x', 'a', 'b', 'c'], graph({ x: [], a: ['x', 'c'], b: ['a'], c: ['b'] })),
    ).toEqual([['a', 'c', 'b']]);
    expect(findCycles(['s'], graph({ s: ['s'] }))).toEqual([['s']]);
  });

  it('reports one shortest cycle per strongly connected component', () => {
    const cycles = findCycles(
      ['a', 'b', 'c', 'd', 'e'],
      graph({ a: ['b'], b: ['c', 'a'], c: ['a'], d: ['e'], e: ['d'] }),
    );
    expect(cycles).toEqual([
      ['a', 'b'],
      ['d', 'e'],
    ]);
  });
});

describe('suggestions', () => {
  it('suggests near words only', () => {
    expect(nearest('imgae', ['image', 'command'])).toBe('image');
    expect(nearest('zzzzzz', ['image', 'command'])).toBeUndefined();
    expect(suggestion('zzz', ['a', 'b'])).toBe('; expected one of "a", "b"');
    expect(suggestion('zzz', [], { none: 'nothing to choose' })).toBe('; nothing to choose');
  });
});

describe('an unclosed quote', () => {
  it('is reported at the quote that was opened, not where the text it swallowed ends', () => {
    const { diagnostics } = parseSource({ file: 'q.yaml', text: "a: 'x\nb: 1\nc: 2\n" });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: 'yaml/syntax',
      message: "the string opened with ' here is not closed",
      line: 1,
      column: 4,
    });
  });
});
