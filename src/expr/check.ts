/**
 * Static checks of the expressions in a field, for lint: syntax, then every
 * reference against what the caller says exists there (a {@link StaticScope}),
 * then comparisons that can never hold. Pure; every problem is collected, in
 * text order.
 */

import { data } from '@actions/expressions';
import { Binary, type Expr, Literal } from '@actions/expressions/ast';
import { TokenType } from '@actions/expressions/lexer';
import { equals } from '@actions/expressions/result';
import { conditionSource } from './condition.js';
import {
  RUN_FIELDS,
  SERVICE_FIELDS,
  STATUS_FUNCTIONS,
  STEP_FIELDS,
  STEP_RESULT_STATUSES,
} from './contexts.js';
import { type ParsedExpression, parseExpression } from './parse.js';
import type { ExprProblem, Span } from './problems.js';
import {
  accessPath,
  children,
  functionCalls,
  isStatusFunction,
  type Reference,
  references,
} from './references.js';
import { findName, hasName, hint } from './suggest.js';
import { scanTemplate } from './template.js';

/** A declared input, as far as lint needs it. */
export interface InputShape {
  type: 'string' | 'number' | 'boolean' | 'choice';
  /** The options of a `choice` input. */
  options?: string[];
}

/** A step a field may name, as far as lint needs it. */
export interface StepShape {
  /** Declared output names; undefined: not declared, any `steps.<id>.outputs.<name>` is accepted. */
  outputs?: string[];
  /** True when the step is a (transitive) need of the current step, so its results exist when the field is read. */
  reachable: boolean;
}

/**
 * What exists where an expression is read; the caller (lint) builds it for
 * each field. An omitted map or list means "none": no inputs, no steps, no
 * secrets... Names are compared case-insensitively, as the evaluator looks
 * them up.
 */
export interface StaticScope {
  /** Context names allowed here (e.g. no `steps` in a workflow-level env; `matrix` only in a matrix step). */
  contexts: string[];
  /** Declared inputs by name. */
  inputs?: Record<string, InputShape>;
  /** Steps this field may reference: id → shape. A step listed with `reachable: false` is "not a need". */
  steps?: Record<string, StepShape>;
  /** Every step id in the workflow, for "unknown step" vs "not a need" and did-you-mean. */
  allSteps?: string[];
  /** Service names: `services.<name>.host|port|url`. */
  services?: string[];
  /** Matrix keys of the current step. */
  matrix?: string[];
  /** Declared secrets. */
  secrets?: string[];
  /** True where `success()`, `failure()`, `always()`, `cancelled()` may be called: in `if:` only. */
  statusFunctions: boolean;
}

/**
 * Checks every `${{ }}` of a template field (any string field but `if:`).
 * Problems, in text order, each at the offending token with offsets into
 * `text`:
 *
 * - `expr/unclosed`, `expr/syntax`, `expr/unknown-function`,
 *   `expr/unknown-context` (also a context not in `scope.contexts`);
 * - `expr/unknown-input`, `expr/unknown-step`, `expr/not-a-need`,
 *   `expr/unknown-step-field` (a step has `outputs` and `status`),
 *   `expr/unknown-output` (only when the step declares its outputs),
 *   `expr/unknown-service`, `expr/unknown-service-field` (`host`, `port`,
 *   `url`), `expr/unknown-matrix-key`, `expr/unknown-secret`,
 *   `expr/unknown-run-field` (`id`, `attempt`); `env.X` is always accepted;
 * - `expr/status-function-here` unless `scope.statusFunctions`;
 * - `expr/type`: `==` / `!=` between a literal and `inputs.X` of type number
 *   or boolean (a string literal that is not a number: the library compares
 *   a number or boolean with a string as numbers), a `choice` input (a
 *   literal equal to none of its options), or `steps.X.status` (a string
 *   that is not a step status).
 *
 * Only the first syntax problem of each expression is reported (the library
 * stops there); an expression with one is not checked further.
 */
export function checkTemplate(text: string, scope: StaticScope): ExprProblem[] {
  const scanned = scanTemplate(text);
  const problems = [...scanned.errors];
  for (const part of scanned.parts) {
    if (part.kind === 'expression')
      problems.push(...checkSource(part.source, part.sourceOffset, scope));
  }
  return sortProblems(problems);
}

/**
 * Checks an `if:` condition, read as `evaluateCondition` reads it: a bare
 * expression or one `${{ }}` is checked as an expression; text around or
 * between `${{ }}` is `expr/condition-always-true` (at the whole trimmed
 * text), and its expressions are checked too. Otherwise as
 * {@link checkTemplate}.
 */
export function checkCondition(text: string, scope: StaticScope): ExprProblem[] {
  const condition = conditionSource(text);
  switch (condition.kind) {
    case 'empty':
      return [];
    case 'unclosed':
      return [condition.problem];
    case 'expression':
      return sortProblems(checkSource(condition.source, condition.offset, scope));
    case 'template': {
      const trimmed = text.trim();
      const problems: ExprProblem[] = [
        {
          code: 'expr/condition-always-true',
          message: `the condition ${JSON.stringify(trimmed)} is always true: text around "\${{ }}" makes it a string, and a non-empty string is true`,
          offset: text.length - text.trimStart().length,
          length: trimmed.length,
          hint: `put the whole condition in one "\${{ }}", or write it without "\${{ }}"`,
        },
      ];
      for (const part of condition.parts) {
        problems.push(...checkSource(part.source, part.sourceOffset, scope));
      }
      return sortProblems(problems);
    }
  }
}

/** Problems of one expression source, offsets shifted by `base` into the caller's text. */
function checkSource(source: string, base: number, scope: StaticScope): ExprProblem[] {
  const shift = (p: ExprProblem): ExprProblem => ({ ...p, offset: p.offset + base });
  const result = parseExpression(source);
  if ('problem' in result) {
    const p = result.problem;
    if (p.code !== 'expr/unknown-context') return [shift(p)];
    const name = source.slice(p.offset, p.offset + p.length);
    return [shift(withHint(p, contextHint(name, scope)))];
  }
  const expr = result.expr;
  const problems: ExprProblem[] = [];
  for (const ref of references(expr)) problems.push(...checkReference(ref, scope));
  if (!scope.statusFunctions) {
    for (const call of functionCalls(expr)) {
      if (!isStatusFunction(call.name)) continue;
      problems.push({
        code: 'expr/status-function-here',
        message: `${call.name}() is only available in "if:"`,
        offset: call.offset,
        length: call.length,
        hint: `${STATUS_FUNCTIONS.map((f) => `${f}()`).join(', ')} read the state of the earlier steps, which only a step's "if:" can act on`,
      });
    }
  }
  problems.push(...checkComparisons(expr, scope));
  return problems.map(shift);
}

function contextHint(name: string, scope: StaticScope): string | undefined {
  return hint(name, scope.contexts, 'available here:', 'no context is available here');
}

function withHint(p: ExprProblem, text: string | undefined): ExprProblem {
  const { hint: _old, ...rest } = p;
  return text === undefined ? rest : { ...rest, hint: text };
}

/** Problems of one reference: each at the first key that does not exist. */
function checkReference(ref: Reference, scope: StaticScope): ExprProblem[] {
  const [context = '', first, second] = ref.path;
  const at = (i: number): Span => ref.keys[i] ?? { offset: ref.offset, length: ref.length };
  const problem = (
    code: ExprProblem['code'],
    i: number,
    message: string,
    fix: string | undefined,
  ): ExprProblem[] => [{ code, message, ...at(i), ...(fix === undefined ? {} : { hint: fix }) }];

  if (!hasName(scope.contexts, context)) {
    return problem(
      'expr/unknown-context',
      0,
      `context ${JSON.stringify(context)} is not available here`,
      contextHint(context, scope),
    );
  }
  switch (context.toLowerCase()) {
    case 'inputs': {
      if (first === undefined) return [];
      const names = Object.keys(scope.inputs ?? {});
      if (hasName(names, first)) return [];
      return problem(
        'expr/unknown-input',
        1,
        `unknown input ${JSON.stringify(first)}`,
        hint(first, names, 'the inputs are', 'the workflow declares no inputs'),
      );
    }
    case 'steps':
      return checkStepReference(ref, scope, problem);
    case 'services': {
      if (first === undefined) return [];
      if (!hasName(scope.services, first)) {
        return problem(
          'expr/unknown-service',
          1,
          `unknown service ${JSON.stringify(first)}`,
          hint(first, scope.services ?? [], 'the services are', 'the workflow has no services'),
        );
      }
      if (second === undefined || hasName(SERVICE_FIELDS, second)) return [];
      return problem(
        'expr/unknown-service-field',
        2,
        `a service has no field ${JSON.stringify(second)}`,
        hint(second, SERVICE_FIELDS, 'a service has'),
      );
    }
    case 'matrix': {
      if (first === undefined || hasName(scope.matrix, first)) return [];
      return problem(
        'expr/unknown-matrix-key',
        1,
        `unknown matrix key ${JSON.stringify(first)}`,
        hint(first, scope.matrix ?? [], 'the matrix keys are', 'this step has no matrix'),
      );
    }
    case 'run': {
      if (first === undefined || hasName(RUN_FIELDS, first)) return [];
      return problem(
        'expr/unknown-run-field',
        1,
        `the run context has no field ${JSON.stringify(first)}`,
        hint(first, RUN_FIELDS, 'it has'),
      );
    }
    case 'secrets': {
      if (first === undefined || hasName(scope.secrets, first)) return [];
      return problem(
        'expr/unknown-secret',
        1,
        `unknown secret ${JSON.stringify(first)}`,
        hint(first, scope.secrets ?? [], 'the secrets are', 'the workflow declares no secrets'),
      );
    }
    default:
      // env: the runner's environment is open, any key may exist.
      return [];
  }
}

type ProblemAt = (
  code: ExprProblem['code'],
  keyIndex: number,
  message: string,
  fix: string | undefined,
) => ExprProblem[];

/** `steps.<id>[.<field>[.<output>]]`. */
function checkStepReference(ref: Reference, scope: StaticScope, problem: ProblemAt): ExprProblem[] {
  const [, id, field, output] = ref.path;
  if (id === undefined) return [];
  const listed = Object.keys(scope.steps ?? {});
  const key = findName(listed, id);
  const step = key === undefined ? undefined : scope.steps?.[key];
  if (!step?.reachable) {
    const all = [...new Set([...(scope.allSteps ?? []), ...listed])];
    if (step || hasName(all, id)) {
      return problem(
        'expr/not-a-need',
        1,
        `step ${JSON.stringify(id)} is not a need of this step, so its results do not exist yet when this is read`,
        `add ${JSON.stringify(id)} to this step's "needs" (or to the needs of a step it needs)`,
      );
    }
    return problem(
      'expr/unknown-step',
      1,
      `unknown step ${JSON.stringify(id)}`,
      hint(id, all, 'the steps are', 'the workflow has no other steps'),
    );
  }
  if (field === undefined) return [];
  if (!hasName(STEP_FIELDS, field)) {
    const github = ['outcome', 'conclusion'].includes(field.toLowerCase());
    return problem(
      'expr/unknown-step-field',
      2,
      `a step has no field ${JSON.stringify(field)}`,
      github
        ? `agentfile steps have "status" (one of ${STEP_RESULT_STATUSES.map((s) => JSON.stringify(s)).join(', ')}) instead of GitHub's "outcome" and "conclusion"`
        : hint(field, STEP_FIELDS, 'a step has'),
    );
  }
  if (field.toLowerCase() !== 'outputs' || output === undefined || step.outputs === undefined) {
    return [];
  }
  if (hasName(step.outputs, output)) return [];
  return problem(
    'expr/unknown-output',
    3,
    `step ${JSON.stringify(id)} has no output ${JSON.stringify(output)}`,
    hint(output, step.outputs, 'its outputs are', 'it declares no outputs'),
  );
}

/** `expr/type` problems of the `==` / `!=` comparisons of the expression, at the literal. */
function checkComparisons(expr: ParsedExpression, scope: StaticScope): ExprProblem[] {
  const problems: ExprProblem[] = [];
  const visit = (node: Expr): void => {
    if (
      node instanceof Binary &&
      (node.operator.type === TokenType.EQUAL_EQUAL || node.operator.type === TokenType.BANG_EQUAL)
    ) {
      const always = node.operator.type === TokenType.EQUAL_EQUAL ? 'always false' : 'always true';
      for (const [side, other] of [
        [node.left, node.right],
        [node.right, node.left],
      ] as const) {
        const path = accessPath(side);
        if (path === undefined || !(other instanceof Literal)) continue;
        const found = comparisonProblem(path, other, always, scope);
        const span = expr.spans.get(other.token);
        if (found && span) problems.push({ ...found, offset: span.offset, length: span.length });
      }
    }
    for (const child of children(node)) visit(child);
  };
  visit(expr.ast);
  return problems;
}

/** The `expr/type` problem of comparing `path` with `literal`, if it can never hold; offsets filled in by the caller. */
function comparisonProblem(
  path: string[],
  literal: Literal,
  always: string,
  scope: StaticScope,
): ExprProblem | undefined {
  const [context = '', name, field] = path;
  const value = literal.literal;
  const shown = literal.token.lexeme;
  const base = { code: 'expr/type' as const, offset: 0, length: 0 };
  if (context.toLowerCase() === 'inputs' && name !== undefined && path.length === 2) {
    const key = findName(Object.keys(scope.inputs ?? {}), name);
    const input = key === undefined ? undefined : scope.inputs?.[key];
    if (!input) return undefined;
    const isString = value.kind === data.Kind.String;
    if (input.type === 'number' && isString && Number.isNaN(value.number())) {
      return {
        ...base,
        message: `input ${JSON.stringify(name)} is a number and ${shown} is not, so this comparison is ${always}`,
        hint: 'compare it with a number, e.g. 3, without quotes',
      };
    }
    if (input.type === 'boolean' && isString && Number.isNaN(value.number())) {
      return {
        ...base,
        message: `input ${JSON.stringify(name)} is a boolean, which is compared with the string ${shown} as a number (0 or 1), so this comparison is ${always}`,
        hint: 'compare it with true or false, without quotes',
      };
    }
    if (input.type === 'choice' && input.options && value.primitive) {
      const options = input.options;
      if (options.some((o) => equals(new data.StringData(o), value))) return undefined;
      return {
        ...base,
        message: `${shown} is not an option of input ${JSON.stringify(name)}, so this comparison is ${always}`,
        hint: hint(value.coerceString(), options, 'its options are', 'it has no options'),
      };
    }
    return undefined;
  }
  if (
    context.toLowerCase() === 'steps' &&
    field?.toLowerCase() === 'status' &&
    path.length === 3 &&
    value.kind === data.Kind.String
  ) {
    if (STEP_RESULT_STATUSES.some((s) => equals(new data.StringData(s), value))) return undefined;
    return {
      ...base,
      message: `${shown} is not a step status, so this comparison is ${always}`,
      hint: hint(value.coerceString(), STEP_RESULT_STATUSES, 'a step status is one of'),
    };
  }
  return undefined;
}

function sortProblems(problems: ExprProblem[]): ExprProblem[] {
  return problems.sort((a, b) => a.offset - b.offset || a.code.localeCompare(b.code));
}
