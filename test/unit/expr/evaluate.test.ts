// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings under test are ${{ }} templates
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConditionContext,
  conditionSource,
  type EvalContext,
  ExpressionEvalError,
  type ExprValue,
  evaluate,
  evaluateCondition,
  type ParsedExpression,
  parseExpression,
  renderTemplate,
  toText,
} from '../../../src/expr/index.js';

function parse(source: string): ParsedExpression {
  const result = parseExpression(source);
  if ('problem' in result) throw new Error(`unexpected problem: ${result.problem.message}`);
  return result.expr;
}

const ctx: EvalContext = {
  contexts: {
    inputs: {
      name: 'World',
      count: 3,
      dry: true,
      empty: '',
      list: ['a', 'B', 'c'],
      mixed: [1, 'x', null, true],
      json: '{"tags": ["x", "y"], "n": 2, "deep": {"k": "v"}}',
      obj: { a: 1, b: [1, 'x'] },
    },
    env: { HOME: '/home/me', Path: '/bin' },
    steps: { build: { outputs: { version: '1.2.3', notes: 'a\nb' }, status: 'succeeded' } },
    run: { id: 'r-1', attempt: 2 },
  },
};

/** Renders a single expression `${{ source }}`. */
function render(source: string, context: EvalContext = ctx): string {
  return renderTemplate(`\${{ ${source} }}`, context);
}

function thrown(fn: () => unknown): ExpressionEvalError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ExpressionEvalError) return error;
    throw error;
  }
  throw new Error('expected an ExpressionEvalError');
}

describe('evaluate', () => {
  it('returns JavaScript values', () => {
    expect(evaluate(parse('inputs.count'), ctx)).toBe(3);
    expect(evaluate(parse('inputs.name'), ctx)).toBe('World');
    expect(evaluate(parse('inputs.dry'), ctx)).toBe(true);
    expect(evaluate(parse('inputs.obj'), ctx)).toEqual({ a: 1, b: [1, 'x'] });
    expect(evaluate(parse('inputs.list'), ctx)).toEqual(['a', 'B', 'c']);
    expect(evaluate(parse('fromJSON(inputs.json).tags[1]'), ctx)).toBe('y');
    expect(evaluate(parse('inputs.obj.*'), ctx)).toEqual([1, [1, 'x']]);
  });

  it('reads a missing property, index or context as null', () => {
    expect(evaluate(parse('inputs.nope'), ctx)).toBeNull();
    expect(evaluate(parse('inputs.nope.deeper[3]'), ctx)).toBeNull();
    expect(evaluate(parse('inputs.list[7]'), ctx)).toBeNull();
    expect(evaluate(parse('secrets.TOKEN'), ctx)).toBeNull();
    expect(evaluate(parse('matrix'), ctx)).toEqual({});
  });

  it('looks names up case-insensitively, as GitHub does', () => {
    expect(evaluate(parse('INPUTS.NAME'), ctx)).toBe('World');
    expect(evaluate(parse("env['path']"), ctx)).toBe('/bin');
    expect(evaluate(parse('Steps.Build.Outputs.Version'), ctx)).toBe('1.2.3');
  });

  it('keeps keys named like Object.prototype members', () => {
    const odd: EvalContext = {
      contexts: { env: { constructor: 'c', toString: 't', hasOwnProperty: 'h' } },
    };
    expect(evaluate(parse('env.constructor'), odd)).toBe('c');
    expect(evaluate(parse('env.toString'), odd)).toBe('t');
    expect(evaluate(parse('env'), odd)).toEqual({
      constructor: 'c',
      toString: 't',
      hasOwnProperty: 'h',
    });
    const value = evaluate(parse(`fromJSON('{"__proto__": {"x": 1}, "constructor": 2}')`), odd);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(['__proto__', 'constructor']);
  });

  it('rejects a context holding a cycle', () => {
    const a: { [k: string]: ExprValue } = {};
    a.self = a;
    expect(() => evaluate(parse('env'), { contexts: { env: a } })).toThrow(TypeError);
  });

  it('allows the same object twice (not a cycle)', () => {
    const shared = { k: 'v' };
    expect(evaluate(parse('env'), { contexts: { env: { a: shared, b: shared } } })).toEqual({
      a: { k: 'v' },
      b: { k: 'v' },
    });
  });
});

describe('renderTemplate', () => {
  it('keeps literal parts and substitutes each expression', () => {
    expect(renderTemplate('Hello, ${{ inputs.name }}! (${{ run.attempt }})', ctx)).toBe(
      'Hello, World! (2)',
    );
    expect(renderTemplate('no expressions {{ here }}', ctx)).toBe('no expressions {{ here }}');
    expect(renderTemplate('${{ inputs.name }}${{ inputs.name }}', ctx)).toBe('WorldWorld');
  });

  it('coerces primitives to text as the library (GitHub) does', () => {
    expect(render('null')).toBe('');
    expect(render('inputs.nope')).toBe('');
    expect(render('true')).toBe('true');
    expect(render('false')).toBe('false');
    expect(render('3')).toBe('3');
    expect(render('1.50')).toBe('1.5');
    expect(render('-0')).toBe('0');
    expect(render('0x10')).toBe('16');
    expect(render('1e3')).toBe('1000');
    expect(render('1e21')).toBe('1e+21');
    expect(render('0.30000000000000004')).toBe('0.3');
    expect(render('NaN')).toBe('NaN');
    expect(render('Infinity')).toBe('Infinity');
    expect(render("'it''s'")).toBe("it's");
    expect(render('steps.build.outputs.notes')).toBe('a\nb');
  });

  it('renders objects and arrays as toJSON() does, not as "Object" / "Array"', () => {
    expect(render('inputs.obj')).toBe('{\n  "a": 1,\n  "b": [\n    1,\n    "x"\n  ]\n}');
    expect(render('inputs.list')).toBe('[\n  "a",\n  "B",\n  "c"\n]');
    expect(render('inputs.obj')).toBe(render('toJSON(inputs.obj)'));
    expect(toText({})).toBe('{}');
    expect(toText([])).toBe('[]');
  });

  it("compares with the library's coercions", () => {
    const cases: [string, string][] = [
      ["'1' == 1", 'true'],
      ["'01' == 1", 'true'],
      ["'' == 0", 'true'],
      ["null == ''", 'true'],
      ['null == 0', 'true'],
      ['null == false', 'true'],
      ['true == 1', 'true'],
      ["'true' == true", 'false'],
      ["inputs.dry == 'true'", 'false'],
      ['inputs.dry == true', 'true'],
      ["'abc' == 'ABC'", 'true'],
      ["'abc' != 'abd'", 'true'],
      ['NaN == NaN', 'false'],
      ["inputs.count > '2'", 'true'],
      ["'b' > 'A'", 'true'],
      ['inputs.count >= 3 && inputs.count <= 3', 'true'],
      ['inputs.obj == inputs.obj', 'true'],
      ['inputs.obj == fromJSON(\'{"a": 1}\')', 'false'],
      ['!inputs.empty', 'true'],
      ['!inputs.list', 'false'],
    ];
    for (const [source, expected] of cases) expect(render(source), source).toBe(expected);
  });

  it('returns the deciding operand of && and ||, as GitHub does', () => {
    expect(render("inputs.nope || 'default'")).toBe('default');
    expect(render("inputs.name || 'default'")).toBe('World');
    expect(render("inputs.empty && 'x'")).toBe('');
    expect(render("inputs.name && 'x'")).toBe('x');
  });

  it('calls contains, startsWith and endsWith case-insensitively', () => {
    expect(render("contains(inputs.name, 'ORL')")).toBe('true');
    expect(render("contains(inputs.list, 'b')")).toBe('true');
    expect(render("contains(inputs.list, 'd')")).toBe('false');
    expect(render("contains(inputs.mixed, '1')")).toBe('true');
    expect(render("contains(inputs.obj, 'a')")).toBe('false');
    expect(render("startsWith(env.HOME, '/HOME')")).toBe('true');
    expect(render("startsWith(inputs.list, 'a')")).toBe('false');
    expect(render("endsWith(steps.build.outputs.version, '.3')")).toBe('true');
    expect(render('endsWith(inputs.count, 3)')).toBe('true');
  });

  it('calls format, with {N} arguments and doubled braces', () => {
    expect(render("format('{0}-{1}-{0}', inputs.name, run.attempt)")).toBe('World-2-World');
    expect(render("format('{{literal}} {0}', inputs.dry)")).toBe('{literal} true');
    expect(render("format('v{0}', inputs.nope)")).toBe('v');
  });

  it('calls join, with "," by default', () => {
    expect(render('join(inputs.list)')).toBe('a,B,c');
    expect(render("join(inputs.list, ' | ')")).toBe('a | B | c');
    expect(render("join(inputs.mixed, '+')")).toBe('1+x++true');
    expect(render("join(inputs.name, '+')")).toBe('World');
    expect(render("join(fromJSON(inputs.json).tags, '')")).toBe('xy');
  });

  it('calls toJSON and fromJSON', () => {
    expect(render('toJSON(inputs.name)')).toBe('"World"');
    expect(render('toJSON(inputs.nope)')).toBe('null');
    expect(render('toJSON(inputs.mixed)')).toBe('[\n  1,\n  "x",\n  null,\n  true\n]');
    expect(render('fromJSON(inputs.json).n')).toBe('2');
    expect(render('fromJSON(inputs.json).deep.K')).toBe('v');
    expect(render("fromJSON('true') == true")).toBe('true');
    expect(render("fromJSON('null')")).toBe('');
    expect(render('fromJSON(\'"x"\')')).toBe('x');
  });

  it('calls case: the value of the first true predicate, else the last argument', () => {
    expect(render("case(inputs.count > 2, 'big', inputs.count > 0, 'small', 'none')")).toBe('big');
    expect(render("case(inputs.count > 5, 'big', inputs.count > 0, 'small', 'none')")).toBe(
      'small',
    );
    expect(render("case(false, 'a', 'fallback')")).toBe('fallback');
  });

  it('substitutes values as data: they are never scanned again', () => {
    const hostile = ['${{ inputs.name }}', '$(rm -rf /)', '`id`', "'; rm -rf / #", '}}', '${{'];
    const piece = fc.oneof(fc.constantFrom(...hostile), fc.string());
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 6 }).map((p) => p.join('')),
        fc.array(piece, { maxLength: 6 }).map((p) => p.join('')),
        (a, b) => {
          const context: EvalContext = {
            contexts: { inputs: { a, b, name: 'World' }, env: { B: b } },
          };
          expect(renderTemplate('x=${{ inputs.a }};y=${{ env.B }}', context)).toBe(`x=${a};y=${b}`);
          expect(renderTemplate("${{ format('[{0}]', inputs.a) }}", context)).toBe(`[${a}]`);
        },
      ),
    );
  });

  it('parses every expression before evaluating any', () => {
    const e = thrown(() => renderTemplate("${{ fromJSON('x') }} ${{ inputs.a = 1 }}", ctx));
    expect(e.code).toBe('expr/syntax');
  });
});

describe('ExpressionEvalError', () => {
  it('names the expression in a one-line message', () => {
    const e = thrown(() => renderTemplate('v=${{ fromJSON(steps.build.outputs.version) }}', ctx));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ExpressionEvalError');
    expect(e.code).toBe('expr/eval');
    expect(e.expression).toBe(' fromJSON(steps.build.outputs.version) ');
    expect(e.message).toMatch(
      /^in \$\{\{ fromJSON\(steps\.build\.outputs\.version\) \}\}: error parsing JSON when evaluating fromJson: .*JSON/,
    );
    expect(e.message).not.toContain('\n');
  });

  it('keeps a multi-line expression on one line', () => {
    const e = thrown(() => renderTemplate("${{\n  fromJSON(\n    '' )\n}}", ctx));
    expect(e.message).toBe("in ${{ fromJSON( '' ) }}: empty input");
  });

  it('reports the errors of the functions', () => {
    expect(thrown(() => render("format('{0} {1}', 'a')")).message).toBe(
      "in ${{ format('{0} {1}', 'a') }}: the following format string references more arguments than were supplied: {0} {1}",
    );
    expect(thrown(() => render("format('{x}', 'a')")).detail).toBe(
      'the following format string is invalid: {x}',
    );
    expect(thrown(() => render("case(inputs.count, 'a', 'b')")).detail).toBe(
      'case predicate must evaluate to a boolean value',
    );
  });

  it('reports syntax problems and an unclosed ${{ met while rendering', () => {
    const syntax = thrown(() => renderTemplate('${{ inputs.a == }}', ctx));
    expect(syntax.code).toBe('expr/syntax');
    expect(syntax.message).toBe("in ${{ inputs.a == }}: unexpected end of expression: '=='");
    expect(syntax.problem).toMatchObject({ offset: 10, length: 2 });
    const unknown = thrown(() => renderTemplate('${{ github.sha }}', ctx));
    expect(unknown.code).toBe('expr/unknown-context');
    const unclosed = thrown(() => renderTemplate('a ${{ b', ctx));
    expect(unclosed.code).toBe('expr/unclosed');
    expect(unclosed.message).toBe('in "a ${{ b": "${{" is not closed by "}}"');
  });

  it('refuses status functions outside if:, whichever branch would run', () => {
    const e = thrown(() => render('true || success()'));
    expect(e.code).toBe('expr/status-function-here');
    expect(e.message).toBe(
      'in ${{ true || success() }}: success(), failure(), always() and cancelled() are only available in "if:"',
    );
    expect(thrown(() => evaluate(parse('always()'), ctx)).code).toBe('expr/status-function-here');
  });
});

describe('evaluateCondition', () => {
  const ok: ConditionContext = {
    ...ctx,
    status: { success: true, failure: false, cancelled: false },
  };
  const failed: ConditionContext = {
    ...ctx,
    status: { success: false, failure: true, cancelled: false },
  };
  const cancelled: ConditionContext = {
    ...ctx,
    status: { success: false, failure: false, cancelled: true },
  };

  it('reads the status functions', () => {
    expect(evaluateCondition('success()', ok)).toBe(true);
    expect(evaluateCondition('success()', failed)).toBe(false);
    expect(evaluateCondition('failure()', failed)).toBe(true);
    expect(evaluateCondition('failure()', ok)).toBe(false);
    expect(evaluateCondition('cancelled()', cancelled)).toBe(true);
    expect(evaluateCondition('always()', failed)).toBe(true);
    expect(evaluateCondition('always()', cancelled)).toBe(true);
  });

  it('treats blank text as success()', () => {
    expect(evaluateCondition('', ok)).toBe(true);
    expect(evaluateCondition('  \n', failed)).toBe(false);
  });

  it('accepts the expression bare or in one ${{ }}, around whitespace', () => {
    for (const text of [
      "steps.build.status == 'succeeded'",
      "${{ steps.build.status == 'succeeded' }}",
      "  ${{ steps.build.status == 'succeeded' }}\n",
      "${{\n  steps.build.status == 'succeeded'\n}}",
    ]) {
      expect(evaluateCondition(text, ok), text).toBe(true);
    }
    expect(evaluateCondition('${{ false }}', ok)).toBe(false);
    expect(evaluateCondition('inputs.count == 4', ok)).toBe(false);
  });

  it('is success() && (condition) when it calls no status function', () => {
    expect(evaluateCondition('true', failed)).toBe(false);
    expect(evaluateCondition('true', cancelled)).toBe(false);
    expect(evaluateCondition('failure() || true', ok)).toBe(true);
    expect(evaluateCondition("always() && inputs.name == 'World'", failed)).toBe(true);
    // Not evaluated when earlier steps failed: no error from fromJSON.
    expect(evaluateCondition("fromJSON('x')", failed)).toBe(false);
  });

  it("is truthy per the library: '', 0, NaN and null are false, objects true", () => {
    expect(evaluateCondition('inputs.empty', ok)).toBe(false);
    expect(evaluateCondition('inputs.nope', ok)).toBe(false);
    expect(evaluateCondition('0', ok)).toBe(false);
    expect(evaluateCondition('NaN', ok)).toBe(false);
    expect(evaluateCondition('inputs.name', ok)).toBe(true);
    expect(evaluateCondition("'false'", ok)).toBe(true);
    expect(evaluateCondition('inputs.obj', ok)).toBe(true);
    expect(evaluateCondition("fromJSON('[]')", ok)).toBe(true);
  });

  it('reads text around ${{ }} as a string, as GitHub does: true unless empty', () => {
    expect(evaluateCondition('${{ false }} == true', ok)).toBe(true);
    expect(evaluateCondition('${{ false }} && ${{ false }}', ok)).toBe(true);
    expect(evaluateCondition('${{ inputs.nope }}${{ inputs.empty }}', ok)).toBe(false);
    expect(evaluateCondition('${{ false }} == true', failed)).toBe(false);
    expect(evaluateCondition('${{ failure() }} == true', ok)).toBe(true);
  });

  it('throws ExpressionEvalError for a condition that does not parse or evaluate', () => {
    expect(thrown(() => evaluateCondition('inputs.a = 1', ok)).code).toBe('expr/syntax');
    expect(thrown(() => evaluateCondition('${{ inputs.a', ok)).code).toBe('expr/unclosed');
    expect(thrown(() => evaluateCondition("fromJSON('x')", ok)).message).toMatch(
      /^in \$\{\{ fromJSON\('x'\) \}\}: error parsing JSON/,
    );
  });
});

describe('conditionSource', () => {
  it('classifies an if: text, with offsets into the text as given', () => {
    expect(conditionSource(' \n')).toEqual({ kind: 'empty' });
    expect(conditionSource('  inputs.a ')).toEqual({
      kind: 'expression',
      source: 'inputs.a',
      offset: 2,
    });
    expect(conditionSource(' ${{ inputs.a }}\n')).toEqual({
      kind: 'expression',
      source: ' inputs.a ',
      offset: 4,
    });
    expect(conditionSource(' ${{ a }} == b')).toEqual({
      kind: 'template',
      parts: [{ kind: 'expression', source: ' a ', offset: 1, length: 8, sourceOffset: 4 }],
    });
    expect(conditionSource(' x ${{ a')).toEqual({
      kind: 'unclosed',
      problem: expect.objectContaining({ code: 'expr/unclosed', offset: 3, length: 3 }),
    });
  });
});
