/**
 * Problems with `${{ }}` expressions as data, in the shape the config stage
 * turns into diagnostics: a code, a lower-case message that quotes the bad
 * token, and where it is as a UTF-16 offset into the text the caller gave, so
 * the caller maps it to a file line and column.
 */

/**
 * What is wrong. Every code but `expr/eval` can be found by lint
 * ({@link checkTemplate}, {@link checkCondition}); `expr/eval` and
 * `expr/status-function-here` also come from evaluation
 * ({@link ExpressionEvalError}).
 *
 * - `expr/unclosed`: a `${{` with no `}}` after it (outside a string literal);
 * - `expr/syntax`: the library's lexer or parser rejected the expression
 *   (also an empty `${{ }}` and a wrong number of function arguments);
 * - `expr/unknown-context`: a name that is not a context, or a context not
 *   available in this field;
 * - `expr/unknown-function`: a call of a function that does not exist;
 * - `expr/unknown-input`, `expr/unknown-step`, `expr/unknown-output`,
 *   `expr/unknown-service`, `expr/unknown-matrix-key`, `expr/unknown-secret`:
 *   a key the workflow does not declare;
 * - `expr/not-a-need`: `steps.X` where step X exists but is not a (transitive)
 *   need of the current step, so its values would not exist yet;
 * - `expr/unknown-step-field`, `expr/unknown-service-field`,
 *   `expr/unknown-run-field`: a field agentfile does not define;
 * - `expr/status-function-here`: `success()`, `failure()`, `always()` or
 *   `cancelled()` outside an `if:` condition;
 * - `expr/type`: a comparison that is always false (or, with `!=`, always
 *   true) given the known type of one side;
 * - `expr/condition-always-true`: an `if:` with text around its `${{ }}`,
 *   which GitHub Actions reads as a non-empty string, so always true;
 * - `expr/eval`: evaluation failed (e.g. `fromJSON` of text that is not JSON).
 */
export type ExprProblemCode =
  | 'expr/unclosed'
  | 'expr/syntax'
  | 'expr/unknown-context'
  | 'expr/unknown-function'
  | 'expr/unknown-input'
  | 'expr/unknown-step'
  | 'expr/not-a-need'
  | 'expr/unknown-step-field'
  | 'expr/unknown-output'
  | 'expr/unknown-service'
  | 'expr/unknown-service-field'
  | 'expr/unknown-run-field'
  | 'expr/unknown-matrix-key'
  | 'expr/unknown-secret'
  | 'expr/status-function-here'
  | 'expr/type'
  | 'expr/condition-always-true'
  | 'expr/eval';

/**
 * One problem. `offset` and `length` are in UTF-16 code units (JavaScript
 * string indices) into the text that was checked: the template for
 * {@link scanTemplate} and {@link checkTemplate}, the expression source for
 * {@link parseExpression}. They cover the offending token (a context name, a
 * key, a literal, a function name), not the whole expression.
 */
export interface ExprProblem {
  code: ExprProblemCode;
  /** Lower-case, concrete, quotes the bad token. */
  message: string;
  offset: number;
  length: number;
  /** How to fix it: a "did you mean", the allowed values, or more to say. */
  hint?: string;
}

/** A span of text: UTF-16 offset and length. */
export interface Span {
  offset: number;
  length: number;
}
