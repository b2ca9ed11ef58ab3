import { Literal } from '@actions/expressions/ast';
import { describe, expect, it } from 'vitest';
import {
  type ExprProblem,
  functionCalls,
  type ParsedExpression,
  parseExpression,
  references,
  usesStatusFunction,
} from '../../../src/expr/index.js';

function parse(source: string): ParsedExpression {
  const result = parseExpression(source);
  if ('problem' in result) throw new Error(`unexpected problem: ${result.problem.message}`);
  return result.expr;
}

function problem(source: string): ExprProblem {
  const result = parseExpression(source);
  if (!('problem' in result)) throw new Error(`expected a problem in ${source}`);
  return result.problem;
}

/** The text a problem or span points at. */
function at(source: string, span: { offset: number; length: number }): string {
  return source.slice(span.offset, span.offset + span.length);
}

describe('parseExpression', () => {
  it('parses with the known contexts and functions, names case-insensitive', () => {
    for (const source of [
      'inputs.a',
      'env.HOME',
      "steps.build.outputs['v']",
      'services.db.port',
      'matrix.os',
      'run.id',
      'secrets.TOKEN',
      'Inputs.A',
      "contains(inputs.a, 'x') && startsWith('a', 'b') || endsWith('a', 'b')",
      "format('{0}', join(inputs.list, ',')) != toJSON(fromJSON('[]'))",
      "case(inputs.a == 1, 'one', 'other')",
      'success() || failure() || always() || cancelled() || SUCCESS()',
    ]) {
      expect('expr' in parseExpression(source), source).toBe(true);
    }
  });

  it('keeps the source and finds every token in it', () => {
    const source = "  steps.a.outputs['x'] == 'y'  ";
    const expr = parse(source);
    expect(expr.source).toBe(source);
    const texts = expr.tokens.map((t) => {
      const span = expr.spans.get(t);
      return span ? at(source, span) : undefined;
    });
    expect(texts).toEqual(['steps', '.', 'a', '.', 'outputs', '[', "'x'", ']', '==', "'y'", '']);
  });

  it('locates tokens after a string literal that spans lines', () => {
    // The library's lexer moves its line on inside the string but not its line
    // start, so (line, column) after such a string would be wrong.
    const source = "'a\nb' == inputs.x\n  && inputs.y";
    const refs = references(parse(source));
    expect(refs.map((r) => at(source, r))).toEqual(['inputs.x', 'inputs.y']);
    expect(refs[0]).toMatchObject({ offset: 9, length: 8 });
    expect(refs[1]).toMatchObject({ offset: 23, length: 8 });
  });

  it("reads every '' in a string literal as a quote", () => {
    const expr = parse("'a''b''c'");
    expect(expr.ast).toBeInstanceOf(Literal);
    expect((expr.ast as Literal).literal.coerceString()).toBe("a'b'c");
  });

  it('reports an unknown context at its name, with a hint', () => {
    const source = 'inputs.a == input.b';
    expect(problem(source)).toEqual({
      code: 'expr/unknown-context',
      message: 'unknown context "input"',
      offset: 12,
      length: 5,
      hint: 'did you mean "inputs"?',
    });
    expect(problem('github.sha')).toEqual({
      code: 'expr/unknown-context',
      message: 'unknown context "github"',
      offset: 0,
      length: 6,
      hint: 'the contexts are "inputs", "env", "steps", "services", "matrix", "run", "secrets"',
    });
  });

  it('reports an unknown function at its name, with a hint', () => {
    expect(problem("inputs.a && fromJosn('1')")).toEqual({
      code: 'expr/unknown-function',
      message: 'unknown function "fromJosn"',
      offset: 12,
      length: 8,
      hint: 'did you mean "fromJSON"?',
    });
  });

  it("reports the parser's syntax errors at the offending token, message lower-cased", () => {
    expect(problem('inputs.a ==')).toEqual({
      code: 'expr/syntax',
      message: "unexpected end of expression: '=='",
      offset: 9,
      length: 2,
    });
    expect(problem('contains(inputs.a)')).toEqual({
      code: 'expr/syntax',
      message: "too few parameters supplied: 'contains'",
      offset: 0,
      length: 8,
    });
    expect(problem(' success(1)')).toEqual({
      code: 'expr/syntax',
      message: "too many parameters supplied: 'success'",
      offset: 1,
      length: 7,
    });
    expect(problem('case(true, 1, false, 2)')).toMatchObject({
      code: 'expr/syntax',
      message: "even number of parameters supplied, requires an odd number of parameters: 'case'",
      offset: 0,
      length: 4,
    });
    expect(problem('inputs.a inputs.b')).toMatchObject({
      code: 'expr/syntax',
      message: "unexpected symbol: 'inputs'",
      offset: 9,
      length: 6,
    });
  });

  it('reports syntax errors on a later line at the right offset', () => {
    const source = "inputs.a == 'x'\n  &&\n  inputs.b inputs.c";
    const p = problem(source);
    expect(p).toMatchObject({ code: 'expr/syntax', offset: 32, length: 6 });
    expect(at(source, p)).toBe('inputs');
  });

  it("reports the lexer's errors at the symbol, with a hint", () => {
    expect(problem('inputs.a = 1')).toEqual({
      code: 'expr/syntax',
      message: "unexpected symbol: '='",
      offset: 9,
      length: 1,
      hint: 'compare with ==',
    });
    expect(problem('inputs.a == "x"')).toEqual({
      code: 'expr/syntax',
      message: `unexpected symbol: '"x"'`,
      offset: 12,
      length: 3,
      hint: "string literals take single quotes: 'text'",
    });
    expect(problem("inputs.a == 'x")).toMatchObject({
      message: "unexpected symbol: ''x'",
      offset: 12,
      length: 2,
      hint: expect.stringContaining('never closed'),
    });
    expect(problem('inputs.a & inputs.b')).toMatchObject({ offset: 9, hint: 'write && for "and"' });
    expect(problem('inputs.n + 1')).toMatchObject({ offset: 9, length: 1 });
  });

  it('reports an empty expression', () => {
    expect(problem('  ')).toEqual({
      code: 'expr/syntax',
      message: 'an expression was expected',
      offset: 0,
      length: 2,
      hint: `write an expression between "\${{" and "}}", or remove them`,
    });
  });

  it('reports an expression longer than the library allows', () => {
    const long = `'${'a'.repeat(21_000)}'`;
    expect(problem(long)).toMatchObject({ code: 'expr/syntax', offset: 0, length: long.length });
  });
});

describe('references', () => {
  it('gives each context access as a path, with its span and the span of each key', () => {
    const source = 'steps.build.outputs.version';
    expect(references(parse(source))).toEqual([
      {
        path: ['steps', 'build', 'outputs', 'version'],
        offset: 0,
        length: 27,
        keys: [
          { offset: 0, length: 5 },
          { offset: 6, length: 5 },
          { offset: 12, length: 7 },
          { offset: 20, length: 7 },
        ],
      },
    ]);
  });

  it("reads ['key'] as .key, the closing bracket inside the span", () => {
    const source = "steps['build'].outputs['x'] == 'y'";
    const [ref] = references(parse(source));
    expect(ref?.path).toEqual(['steps', 'build', 'outputs', 'x']);
    expect(ref && at(source, ref)).toBe("steps['build'].outputs['x']");
    expect(ref?.keys.map((k) => at(source, k))).toEqual(['steps', "'build'", 'outputs', "'x'"]);
  });

  it('stops the path at the first index that is not a literal', () => {
    const source = 'matrix[inputs.k].x && steps.*.status && fromJSON(env.J).a';
    const refs = references(parse(source));
    expect(refs.map((r) => r.path)).toEqual([['matrix'], ['inputs', 'k'], ['steps'], ['env', 'J']]);
    expect(refs.map((r) => at(source, r))).toEqual(['matrix', 'inputs.k', 'steps', 'env.J']);
  });

  it('reads number keys as the evaluator looks them up, and keeps the spelling', () => {
    const source = 'Matrix.List[0]';
    expect(references(parse(source))[0]).toMatchObject({
      path: ['Matrix', 'List', '0'],
      offset: 0,
      length: 14,
    });
  });

  it('finds references in every kind of node, in source order', () => {
    const source =
      "!(inputs.a) || contains(inputs.b, env.c) && inputs.d[inputs.e] > 1 || format('{0}', secrets.f)";
    expect(references(parse(source)).map((r) => r.path.join('.'))).toEqual([
      'inputs.a',
      'inputs.b',
      'env.c',
      'inputs.d',
      'inputs.e',
      'secrets.f',
    ]);
  });
});

describe('usesStatusFunction and functionCalls', () => {
  it('finds status function calls anywhere, in any case', () => {
    expect(usesStatusFunction(parse('inputs.a'))).toBe(false);
    expect(usesStatusFunction(parse("contains('success()', 'x')"))).toBe(false);
    expect(usesStatusFunction(parse('always()'))).toBe(true);
    expect(usesStatusFunction(parse("inputs.a && format('{0}', Failure())"))).toBe(true);
    expect(usesStatusFunction(parse('!cancelled()'))).toBe(true);
    expect(usesStatusFunction(parse('inputs[success()]'))).toBe(true);
  });

  it('lists calls with the span of the name', () => {
    const source = "toJSON(fromJSON('1')) == success()";
    expect(functionCalls(parse(source))).toEqual([
      { name: 'toJSON', offset: 0, length: 6 },
      { name: 'fromJSON', offset: 7, length: 8 },
      { name: 'success', offset: 25, length: 7 },
    ]);
  });
});
