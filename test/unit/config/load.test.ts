import { describe, expect, it, vi } from 'vitest';
import { LineCounter, parse, parseAllDocuments } from 'yaml';
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

describe('parseSource lookups (per-mapping index)', () => {
  /** The source text of a range (1-based lines and columns, end exclusive). */
  const slice = (
    src: string,
    r: { line: number; column: number; endLine: number; endColumn: number },
  ) => {
    const lines = src.split('\n');
    const offset = (line: number, column: number) =>
      lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
    return src.slice(offset(r.line, r.column), offset(r.endLine, r.endColumn));
  };
  /** Every path to a scalar in plain data, with its value. */
  const leaves = (value: unknown, path: string[] = []): [string[], unknown][] => {
    if (value !== null && typeof value === 'object') {
      return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
    }
    return [[path, value]];
  };

  const merged = [
    'defs:',
    '  a: &a { image: from-a, only-a: 1, shared: a }',
    '  b: &b { image: from-b, only-b: 2, shared: b }',
    '  c: &c { <<: *a, deep: c }',
    'one: { <<: *a, image: own }',
    'list: { <<: [*b, *a], x: 1 }',
    'nested: { <<: *c }',
    'dup: { k: first, k: second, k: last }',
    'alias: *b',
    '',
  ].join('\n');

  it('locates every value of the data where the data takes it from (own, merged, aliased, last duplicate)', () => {
    const { documents } = parseSource({ file: 'm.yaml', text: merged });
    const doc = documents[0];
    if (!doc) throw new Error('no document');
    const all = leaves(doc.data);
    expect(all.length).toBeGreaterThan(20);
    for (const [path, value] of all) {
      expect([path.join('/'), parse(slice(merged, doc.locate(path)))]).toEqual([
        path.join('/'),
        value,
      ]);
    }
    // The cases by name: own keys win over merged ones, earlier sources over later ones.
    expect(slice(merged, doc.locate(['one', 'image']))).toBe('own');
    expect(slice(merged, doc.locate(['list', 'image']))).toBe('from-b');
    expect(slice(merged, doc.locate(['list', 'only-a']))).toBe('1');
    expect(slice(merged, doc.locate(['nested', 'shared']))).toBe('a');
    expect(doc.locate(['dup', 'k'])).toMatchObject({ line: 8, column: 32 });
    expect(doc.locate(['dup', 'k'], 'key')).toMatchObject({ line: 8, column: 29 });
  });

  it('finds each of 20,000 keys of one mapping at its own line', () => {
    const n = 20_000;
    const text = `steps:\n${Array.from({ length: n }, (_, i) => `  s${i}: ${i}`).join('\n')}\n`;
    const { documents } = parseSource({ file: 'big.yaml', text });
    const doc = documents[0];
    if (!doc) throw new Error('no document');
    for (let i = 0; i < n; i += 1) {
      const r = doc.locate(['steps', `s${i}`]);
      if (r.line !== i + 2) expect([i, r.line]).toEqual([i, i + 2]);
    }
    expect(doc.locate(['steps', `s${n}`])).toMatchObject({ line: 2, column: 3 });
  });

  it('reports duplicate keys as the parser does with uniqueKeys (every repeat, nested and flow maps, not .nan or merge keys)', () => {
    const cases = [
      'a: 1\nb: 2\na: 3\na: 4\n',
      'x:\n  y: { p: 1, p: 2 }\n  y: 3\n',
      '.nan: 1\n.nan: 2\n1: a\n1.0: b\n"1": c\n',
      'a: &m { k: 1 }\nb:\n  <<: *m\n  <<: { j: 2 }\n  k: 3\n',
      '- { a: 1, a: 2 }\n- a: 1\n  b: 2\n  a: 3\n',
      'null: 1\n~: 2\ntrue: 3\nTrue: 4\n',
      'k: [[{ x: 1, x: 2 }], [a: 1, b: { c: 1, c: 2 }]]\n',
      '? { q: 1, q: 2 }\n: v\n',
    ];
    for (const src of cases) {
      const ours = parseSource({ file: 'd.yaml', text: src })
        .diagnostics.filter((d) => d.code === 'yaml/duplicate-key')
        .map((d) => [d.line, d.column]);
      const lc = new LineCounter();
      const theirs = parseAllDocuments(src, { lineCounter: lc, uniqueKeys: true, merge: true })
        .flatMap((d) => (Array.isArray(d.errors) ? d.errors : []))
        .filter((e) => e.code === 'DUPLICATE_KEY')
        .map((e) => {
          const p = lc.linePos(e.pos[0]);
          return [p.line, p.col];
        });
      expect([src, ours]).toEqual([src, theirs]);
    }
    expect(
      parseSource({ file: 'd.yaml', text: cases[0] ?? '' }).diagnostics.map((d) => d.line),
    ).toEqual([3, 4]);
  });
});

describe('parser warnings', () => {
  it('never become process warnings on stderr (a key that is a mapping)', () => {
    const emit = vi.spyOn(process, 'emitWarning');
    try {
      const { documents } = parseSource({ file: 'k.yaml', text: 'steps:\n  ? { a: 1 }\n  : v\n' });
      expect(documents[0]?.data).toEqual({ steps: { '{ a: 1 }': 'v' } });
      expect(emit).not.toHaveBeenCalled();
    } finally {
      emit.mockRestore();
    }
  });
});
