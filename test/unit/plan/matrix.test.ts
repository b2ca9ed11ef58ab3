import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MatrixSpec } from '../../../src/config/model.js';
import { compilePlan } from '../../../src/plan/compile.js';
import { combinations, expandMatrices, MatrixError } from '../../../src/plan/matrix.js';
import { step, workflow } from './fixtures.js';

const m = (axes: MatrixSpec['axes'], extra: Partial<MatrixSpec> = {}): MatrixSpec => ({
  axes,
  include: [],
  exclude: [],
  ...extra,
});

describe('matrix combinations (GitHub Actions semantics)', () => {
  it('is the cartesian product, first axis slowest', () => {
    expect(combinations(m({ node: [18, 20], os: ['a', 'b'] }), 's')).toEqual([
      { node: 18, os: 'a' },
      { node: 18, os: 'b' },
      { node: 20, os: 'a' },
      { node: 20, os: 'b' },
    ]);
  });

  it('exclude removes every combination matching all keys of an entry', () => {
    const list = combinations(
      m({ node: [18, 20], os: ['a', 'b'] }, { exclude: [{ os: 'b' }] }),
      's',
    );
    expect(list).toEqual([
      { node: 18, os: 'a' },
      { node: 20, os: 'a' },
    ]);
  });

  it('include extends matching combinations and adds the rest as new ones', () => {
    const list = combinations(
      m(
        { fruit: ['apple', 'pear'], animal: ['cat', 'dog'] },
        {
          // The example of GitHub's docs ("Expanding or adding matrix configurations").
          include: [
            { color: 'green' },
            { color: 'pink', animal: 'cat' },
            { fruit: 'apple', shape: 'circle' },
            { fruit: 'banana' },
            { fruit: 'banana', animal: 'cat' },
          ],
        },
      ),
      's',
    );
    expect(list).toEqual([
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]);
  });

  it('evaluates an axis given as an expression, and rejects what is not a non-empty list', () => {
    const spec = m({ node: '${{ fromJSON(inputs.v) }}' });
    expect(combinations(spec, 's', () => [1, 2])).toEqual([{ node: 1 }, { node: 2 }]);
    expect(() => combinations(spec, 's')).toThrow(MatrixError);
    expect(() => combinations(spec, 's', () => 'x')).toThrow(
      'matrix "node" of step "s" must be a non-empty list, got "x"',
    );
    expect(() => combinations(m({ a: [1] }, { exclude: [{ a: 1 }] }), 's')).toThrow(
      'the matrix of step "s" has no combinations left after exclude',
    );
  });
});

describe('matrix expansion', () => {
  it('gives stable, shell-safe ids and points needs at every combination', () => {
    const wf = workflow({
      steps: [
        step('build'),
        step('test', {
          needs: ['build'],
          matrix: m({ node: [18, '20.x'], os: ['linux'] }, { maxParallel: 1 }),
        }),
        step('package', { needs: ['test'] }),
      ],
    });
    const out = expandMatrices(wf);
    expect(Object.keys(out.steps)).toEqual([
      'build',
      'test-18-linux',
      'test-20_x-linux',
      'package',
    ]);
    expect(out.steps['test-18-linux']).toMatchObject({
      needs: ['build'],
      combination: { group: 'test', values: { node: 18, os: 'linux' }, maxParallel: 1 },
    });
    expect(out.steps['test-18-linux']).not.toHaveProperty('matrix');
    expect(out.steps.package?.needs).toEqual(['test-18-linux', 'test-20_x-linux']);
    // Same input, same ids; and the plan compiles.
    expect(Object.keys(expandMatrices(wf).steps)).toEqual(Object.keys(out.steps));
    expect(compilePlan(wf).nodes.map((n) => n.id)).toEqual([
      'build',
      'test-18-linux',
      'test-20_x-linux',
      'package',
    ]);
  });

  it('names the combinations of the docs example as docs/file-format.md says', () => {
    const wf = workflow({
      steps: [
        step('test', {
          matrix: m(
            { node: [20, 22], os: ['linux', 'alpine'] },
            { exclude: [{ node: 20, os: 'alpine' }], include: [{ node: 22, experimental: true }] },
          ),
        }),
      ],
    });
    expect(Object.keys(expandMatrices(wf).steps)).toEqual([
      'test-20-linux',
      'test-22-linux-true',
      'test-22-alpine-true',
    ]);
  });

  it('suffixes ids that would collide', () => {
    const wf = workflow({
      steps: [step('t-a'), step('t', { matrix: m({ x: ['a', 'a!', 'a?'] }) })],
    });
    expect(Object.keys(expandMatrices(wf).steps)).toEqual(['t-a', 't-a-2', 't-a_', 't-a_-2']);
  });

  it('leaves a workflow without a matrix as it is', () => {
    const wf = workflow({ steps: [step('a')] });
    expect(expandMatrices(wf)).toBe(wf);
  });

  it('ids are valid, unique step ids for any values (property)', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(
        fc.uniqueArray(value, { minLength: 1, maxLength: 6, selector: (v) => JSON.stringify(v) }),
        (values) => {
          const wf = workflow({ steps: [step('s', { matrix: m({ k: values }) })] });
          const ids = Object.keys(expandMatrices(wf).steps);
          expect(ids).toHaveLength(values.length);
          expect(new Set(ids).size).toBe(ids.length);
          for (const id of ids) expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_-]*$/);
        },
      ),
    );
  });
});
