/**
 * Evaluating expressions with `@actions/expressions`' evaluator: JavaScript
 * values in, the library's data types inside (so comparison, coercion and
 * the functions behave as GitHub's reference implementation does), JavaScript
 * values out.
 *
 * Templates are rendered once: each `${{ }}` is replaced by its value as
 * text and the result is never scanned again, so a value that contains
 * `${{ x }}` or `$(rm -rf /)` appears in the result exactly as it is.
 */

import { data, Evaluator, ExpressionEvaluationError } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { truthy } from '@actions/expressions/result';
import { conditionSource } from './condition.js';
import { CONTEXT_NAMES, STATUS_FUNCTIONS } from './contexts.js';
import { type ParsedExpression, parseExpression } from './parse.js';
import type { ExprProblem, ExprProblemCode } from './problems.js';
import { usesStatusFunction } from './references.js';
import { scanTemplate } from './template.js';

/** A value an expression reads or yields: JSON's types. */
export type ExprValue = null | boolean | number | string | ExprValue[] | { [k: string]: ExprValue };

/** The state of the steps before the current one, which the status functions read. */
export interface StatusFlags {
  /** `success()`: no earlier step failed and the run is not cancelled. */
  success: boolean;
  /** `failure()`: an earlier step failed. */
  failure: boolean;
  /** `cancelled()`: the run is being cancelled. */
  cancelled: boolean;
}

/** What an expression is evaluated against. */
export interface EvalContext {
  /**
   * Context name → value. Names are matched case-insensitively; a context of
   * {@link CONTEXT_NAMES} left out is an empty object, so `secrets.X` reads
   * null rather than failing. Within an object, keys that differ only in case
   * are one key to the expression language: the first one wins.
   */
  contexts: Record<string, ExprValue>;
  /**
   * For the status functions (`always()` is true). Undefined outside an
   * `if:`, where calling any of them is an `expr/status-function-here` error.
   */
  status?: StatusFlags;
}

/** An {@link EvalContext} with the status an `if:` condition needs. */
export interface ConditionContext extends EvalContext {
  status: StatusFlags;
}

/** Options of {@link ExpressionEvalError}. */
export interface ExpressionEvalErrorOptions {
  code: ExprProblemCode;
  /** The expression source (between `${{` and `}}`), or the template for `expr/unclosed`. */
  expression: string;
  /** What went wrong, e.g. `error parsing JSON when evaluating fromJson: ...`. */
  detail: string;
  /** For parse problems: the problem, offsets relative to {@link expression}. */
  problem?: ExprProblem;
  cause?: unknown;
}

/**
 * An expression could not be evaluated: a syntax problem met at run time
 * (`renderTemplate` / `evaluateCondition` parse what they are given), a
 * status function outside `if:`, or the library's evaluator failing (e.g.
 * `fromJSON` of text that is not JSON, `format` with too few arguments).
 * The message is one line naming the expression:
 * `in ${{ fromJSON(steps.a.outputs.x) }}: error parsing JSON ...`.
 */
export class ExpressionEvalError extends Error {
  override readonly name = 'ExpressionEvalError';
  readonly code: ExprProblemCode;
  /** The expression source, or the template for `expr/unclosed`. */
  readonly expression: string;
  /** The message without the `in ${{ … }}: ` prefix. */
  readonly detail: string;
  readonly problem?: ExprProblem;

  constructor(options: ExpressionEvalErrorOptions) {
    const where =
      options.code === 'expr/unclosed'
        ? `in ${JSON.stringify(oneLine(options.expression))}`
        : `in \${{ ${oneLine(options.expression).trim()} }}`;
    super(`${where}: ${oneLine(options.detail)}`, { cause: options.cause });
    this.code = options.code;
    this.expression = options.expression;
    this.detail = options.detail;
    if (options.problem) this.problem = options.problem;
  }
}

/**
 * Evaluates a parsed expression and returns its value as JavaScript data
 * (the library's Dictionary becomes a plain object, its Array an array).
 * A missing property reads null, as in GitHub Actions.
 *
 * @throws ExpressionEvalError `expr/status-function-here` when the expression
 *   calls a status function and `ctx.status` is undefined (checked before
 *   evaluating, whichever branch would run); `expr/eval` when the library's
 *   evaluator throws.
 * @throws TypeError when a context holds a cycle or a value that is not an
 *   {@link ExprValue}.
 */
export function evaluate(expr: ParsedExpression, ctx: EvalContext): ExprValue {
  return fromData(evaluateData(expr, prepare(ctx)));
}

/**
 * Renders a template: literal parts as they are, each `${{ }}` replaced by
 * its value as text. Primitives take the library's string coercion (GitHub's):
 * null → `''`, booleans → `true` / `false`, numbers rounded to 15 decimal
 * places then printed as JavaScript prints them (`0.30000000000000004` →
 * `0.3`, `1e21` → `1e+21`, `-0` → `0`), strings as they are. Objects and arrays render as `toJSON()` renders them
 * (pretty JSON, two-space indent), where GitHub's string coercion would give
 * the words `Object` and `Array`.
 *
 * Values are substituted as data: the result is not scanned again.
 *
 * @throws ExpressionEvalError for an unclosed `${{` (`expr/unclosed`), an
 *   expression that does not parse (its problem's code; every expression is
 *   parsed before any is evaluated), or any error of {@link evaluate}.
 */
export function renderTemplate(text: string, ctx: EvalContext): string {
  const scanned = scanTemplate(text);
  const unclosed = scanned.errors[0];
  if (unclosed) {
    throw new ExpressionEvalError({
      code: unclosed.code,
      expression: text,
      detail: unclosed.message,
      problem: unclosed,
    });
  }
  const pieces = scanned.parts.map((part) =>
    part.kind === 'literal' ? part.text : parseOrThrow(part.source),
  );
  const prepared = prepare(ctx);
  return pieces
    .map((p) => (typeof p === 'string' ? p : dataText(evaluateData(p, prepared))))
    .join('');
}

/**
 * Evaluates an `if:` condition with GitHub Actions' rules:
 *
 * - blank text is `success()`;
 * - when the trimmed text is exactly one `${{ … }}`, the condition is the
 *   expression inside; when it holds no `${{`, the condition is the trimmed
 *   text itself (`if: steps.a.status == 'failed'`);
 * - a condition that calls no status function is `success() && (condition)`:
 *   with `status.success` false it is false without being evaluated;
 * - the value is truthy per the library (`false`, `0`, `NaN`, `''` and null
 *   are false; objects and arrays are true);
 * - text with anything around or between its `${{ }}` (`${{ a }} == b`) is,
 *   as on GitHub, a template: it is rendered and the condition is true when
 *   the rendered string is not empty, i.e. (almost) always. Lint reports it
 *   (`expr/condition-always-true`).
 *
 * Trimming before the "exactly one `${{ }}`" test departs from GitHub, where
 * `if: |` (a block scalar ending in a newline) around `${{ a }}` is always
 * true.
 *
 * @throws ExpressionEvalError as {@link renderTemplate} does.
 */
export function evaluateCondition(text: string, ctx: ConditionContext): boolean {
  const condition = conditionSource(text);
  if (condition.kind === 'empty') return ctx.status.success;
  if (condition.kind === 'unclosed') {
    throw new ExpressionEvalError({
      code: condition.problem.code,
      expression: text,
      detail: condition.problem.message,
      problem: condition.problem,
    });
  }
  if (condition.kind === 'template') {
    const parsed = condition.parts.map((p) => parseOrThrow(p.source));
    if (!parsed.some(usesStatusFunction) && !ctx.status.success) return false;
    return renderTemplate(text.trim(), ctx) !== '';
  }
  const parsed = parseOrThrow(condition.source);
  if (!usesStatusFunction(parsed) && !ctx.status.success) return false;
  return truthy(evaluateData(parsed, prepare(ctx)));
}

/**
 * The text a value renders as in a template; see {@link renderTemplate}.
 * Pure.
 *
 * @throws TypeError as {@link evaluate} does for a value that is not an {@link ExprValue}.
 */
export function toText(value: ExprValue): string {
  return dataText(toData(value, new Set()));
}

function dataText(d: data.ExpressionData): string {
  if (d.primitive) return d.coerceString();
  // As toJSON() prints it, but from plain objects: the library's replacer
  // assigns keys to a `{}`, where a `__proto__` key is lost.
  return JSON.stringify(fromData(d), null, 2);
}

function parseOrThrow(source: string): ParsedExpression {
  const result = parseExpression(source);
  if ('problem' in result) {
    throw new ExpressionEvalError({
      code: result.problem.code,
      expression: source,
      detail: result.problem.message,
      problem: result.problem,
    });
  }
  return result.expr;
}

/** An {@link EvalContext} converted once for the library's evaluator. */
interface Prepared {
  contexts: data.Dictionary;
  functions: Map<string, FunctionDefinition>;
  hasStatus: boolean;
}

function prepare(ctx: EvalContext): Prepared {
  const contexts = new Dictionary([]);
  for (const [name, value] of Object.entries(ctx.contexts)) {
    contexts.add(name, toData(value ?? null, new Set()));
  }
  for (const name of CONTEXT_NAMES) contexts.add(name, new Dictionary([]));
  const status = ctx.status;
  // The evaluator looks functions up by lower-case name, these before its own.
  const functions = new Map<string, FunctionDefinition>([
    ['fromjson', fromJSON],
    ...STATUS_FUNCTIONS.map((name): [string, FunctionDefinition] => [
      name,
      {
        name,
        minArgs: 0,
        maxArgs: 0,
        call: () => {
          // Unreachable: evaluateData refuses status functions without a status.
          if (!status) throw new Error(`${name}() needs the status of the earlier steps`);
          return new data.BooleanData(name === 'always' ? true : status[name]);
        },
      },
    ]),
  ]);
  return { contexts, functions, hasStatus: status !== undefined };
}

function evaluateData(expr: ParsedExpression, prepared: Prepared): data.ExpressionData {
  if (!prepared.hasStatus && usesStatusFunction(expr)) {
    throw new ExpressionEvalError({
      code: 'expr/status-function-here',
      expression: expr.source,
      detail: 'success(), failure(), always() and cancelled() are only available in "if:"',
    });
  }
  try {
    return new Evaluator(expr.ast, prepared.contexts, prepared.functions).evaluate();
  } catch (error) {
    throw new ExpressionEvalError({
      code: 'expr/eval',
      expression: expr.source,
      detail: describe(error),
      cause: error,
    });
  }
}

/** An error and its causes as one message, the first letter lower-cased; repeated parts once. */
function describe(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  while (e !== undefined && parts.length < 5) {
    const message = e instanceof Error ? e.message : String(e);
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  const text = parts.join(': ');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The library's `Dictionary` keeps its key index in a plain object, so its
 * `add` skips a key named like an `Object.prototype` member (`constructor`,
 * `toString`, `__proto__`: `key in {}` is true for them) and such a key reads
 * null. This one starts from a null-prototype index; the rest is the
 * library's, so it is a Dictionary to the evaluator and the functions.
 */
class Dictionary extends data.Dictionary {
  constructor(pairs: { key: string; value: data.ExpressionData }[]) {
    super();
    (this as unknown as { indexMap: Record<string, number> }).indexMap = Object.create(null);
    for (const p of pairs) this.add(p.key, p.value);
  }
}

/**
 * The library's `fromJSON` (same messages: `empty input`, `Error parsing JSON
 * when evaluating fromJson`), building objects with {@link Dictionary} so a
 * JSON key such as `constructor` is kept.
 */
const fromJSON: FunctionDefinition = {
  name: 'fromJSON',
  minArgs: 1,
  maxArgs: 1,
  call: (...args) => {
    const text = args[0]?.coerceString() ?? '';
    if (text.trim() === '') throw new Error('empty input');
    let parsed: ExprValue;
    try {
      parsed = JSON.parse(text) as ExprValue;
    } catch (error) {
      throw new ExpressionEvaluationError('Error parsing JSON when evaluating fromJson', {
        cause: error,
      });
    }
    return toData(parsed, new Set());
  },
};

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}

/**
 * A JavaScript value as the library's data. `undefined` reads as null.
 *
 * @throws TypeError for a cycle, or a value JSON has no type for.
 */
function toData(value: ExprValue | undefined, ancestors: Set<object>): data.ExpressionData {
  if (value === null || value === undefined) return new data.Null();
  switch (typeof value) {
    case 'boolean':
      return new data.BooleanData(value);
    case 'number':
      return new data.NumberData(value);
    case 'string':
      return new data.StringData(value);
    case 'object': {
      if (ancestors.has(value)) throw new TypeError('an expression value contains a cycle');
      ancestors.add(value);
      try {
        if (Array.isArray(value)) {
          return new data.Array(...value.map((v) => toData(v, ancestors)));
        }
        return new Dictionary(
          Object.entries(value).map(([key, v]) => ({ key, value: toData(v, ancestors) })),
        );
      } finally {
        ancestors.delete(value);
      }
    }
    default:
      throw new TypeError(`an expression value cannot be of type ${typeof value}`);
  }
}

/** The library's data as a JavaScript value (own properties only, `__proto__` included as a key). */
function fromData(d: data.ExpressionData): ExprValue {
  switch (d.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.Boolean:
    case data.Kind.Number:
    case data.Kind.String:
      return d.value;
    case data.Kind.Array:
      return d.values().map(fromData);
    case data.Kind.Dictionary:
      return Object.fromEntries(d.pairs().map((p) => [p.key, fromData(p.value)]));
  }
}
