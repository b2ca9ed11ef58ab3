/**
 * `${{ }}` expressions: GitHub Actions' expression language, lexed, parsed
 * and evaluated by `@actions/expressions` (GitHub's own implementation).
 * agentfile adds only the template splitting (`template`), token positions
 * (`parse`), reference extraction (`references`), conversion between
 * JavaScript values and the library's data (`evaluate`), the `if:` rules
 * (`condition`) and lint's checks against what a workflow declares (`check`).
 * Pure logic: no I/O, nothing printed, no `eval`.
 *
 * See docs/expressions.md for the contexts, coercion and the decisions taken.
 */

export {
  checkCondition,
  checkTemplate,
  type InputShape,
  type StaticScope,
  type StepShape,
} from './check.js';
export { type ConditionSource, conditionSource } from './condition.js';
export {
  CONTEXT_NAMES,
  type ContextName,
  FUNCTION_NAMES,
  RUN_FIELDS,
  SERVICE_FIELDS,
  STATUS_FUNCTIONS,
  STEP_FIELDS,
  STEP_RESULT_STATUSES,
} from './contexts.js';
export {
  type ConditionContext,
  type EvalContext,
  ExpressionEvalError,
  type ExpressionEvalErrorOptions,
  type ExprValue,
  evaluate,
  evaluateCondition,
  renderTemplate,
  type StatusFlags,
  toText,
} from './evaluate.js';
export {
  type ParsedExpression,
  type ParseResult,
  parseExpression,
  type TokenSpan,
} from './parse.js';
export type { ExprProblem, ExprProblemCode, Span } from './problems.js';
export {
  type FunctionCallRef,
  functionCalls,
  type Reference,
  references,
  usesStatusFunction,
} from './references.js';
export {
  type ExpressionPart,
  type LiteralPart,
  type ScannedTemplate,
  scanTemplate,
  type TemplatePart,
} from './template.js';
