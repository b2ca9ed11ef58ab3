/**
 * Lint for the workflow language: every `${{ }}` of a normalized workflow
 * checked against what the workflow declares (`expr/check.ts`), each problem
 * reported at its position inside the string, plus the input declarations
 * themselves. Runs after the schema and the rules passed (it reads the
 * normalized model), so a file shows these once it is otherwise valid.
 *
 * Where each context may be read (docs/expressions.md):
 *
 * | field                                    | contexts                                            |
 * | ---------------------------------------- | --------------------------------------------------- |
 * | workflow `env`, `defaults.*`             | inputs, env, run, secrets                           |
 * | service `environment[].value` (inline)  | inputs, env, run, secrets                           |
 * | step `run`, `command`, `env`, `image`,   | inputs, env, run, secrets, steps, services, matrix  |
 * | `workdir`, `timeout`; and `if:`          | (matrix only in a matrix step; status functions     |
 * |                                          | only in `if:`)                                      |
 * | a matrix axis                            | inputs                                              |
 *
 * `steps.X` must be a step the current one needs, directly or not; a
 * matrix step's results are read per combination (`steps.test-18.outputs.x`)
 * when its values are static. `services.X` must be a service the step needs.
 */

import type { ExprProblem, StaticScope, StepShape } from '../expr/index.js';
import { checkCondition, checkTemplate } from '../expr/index.js';
import { coerceInput } from '../plan/inputs.js';
import { combinations, expandMatrices, MatrixError } from '../plan/matrix.js';
import type { Diagnostic } from './diagnostics.js';
import type { WorkflowSpec } from './model.js';
import type { RuleContext } from './rules/rule.js';

type Path = readonly string[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toDiagnostic(ctx: RuleContext, at: Path, p: ExprProblem): Diagnostic {
  const range = ctx.doc.locateInValue(at, p.offset, p.length);
  return {
    code: p.code,
    severity: 'error',
    message: p.message,
    file: ctx.file,
    ...range,
    ...(p.hint ? { hint: p.hint } : {}),
  };
}

/** The matrix ids of a written step, when its axes are static; undefined otherwise. */
function staticCombinationIds(workflow: WorkflowSpec, id: string): string[] | undefined {
  const step = workflow.steps[id];
  if (!step?.matrix) return undefined;
  if (Object.values(step.matrix.axes).some((a) => typeof a === 'string')) return undefined;
  try {
    combinations(step.matrix, id);
    const only = { ...workflow, steps: { [id]: step }, services: {} };
    return Object.keys(expandMatrices(only).steps);
  } catch (error) {
    if (error instanceof MatrixError) return [];
    throw error;
  }
}

/** Every step a written step needs, directly or not (written ids). */
function ancestors(workflow: WorkflowSpec, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(workflow.steps[id]?.needs ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next) || !workflow.steps[next]) continue;
    seen.add(next);
    stack.push(...(workflow.steps[next]?.needs ?? []));
  }
  return seen;
}

/** True when a written step has a field that {@link checkWorkflowExpressions} checks: a `${{` or an `if:`. */
function hasStepExpressions(raw: Record<string, unknown>): boolean {
  const has = (v: unknown) => typeof v === 'string' && v.includes('${{');
  if (raw.if !== undefined) return true;
  if (has(raw.run) || has(raw.image) || has(raw.workdir) || has(raw.timeout)) return true;
  if (Array.isArray(raw.command) && raw.command.some(has)) return true;
  if (isObject(raw.env) && Object.values(raw.env).some(has)) return true;
  return isObject(raw.matrix) && Object.values(raw.matrix).some(has);
}

/**
 * Diagnostics for a normalized workflow's expressions and inputs (see the
 * module comment). `ctx.doc` is the document the workflow came from.
 */
export function checkWorkflowExpressions(ctx: RuleContext, workflow: WorkflowSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const data = isObject(ctx.doc.data) ? ctx.doc.data : {};
  const spec = isObject(data.spec) ? data.spec : {};

  // Inputs: a default of the declared type, options only and always for a choice.
  for (const [name, input] of Object.entries(workflow.inputs)) {
    const at = ['spec', 'inputs', name];
    if (input.type === 'choice' && (input.options ?? []).length === 0) {
      out.push({
        code: 'input/options',
        severity: 'error',
        message: `input "${name}" is a choice without options`,
        file: ctx.file,
        ...ctx.doc.locate(at, 'key'),
        hint: 'list the allowed values: options: [a, b]',
      });
    }
    if (input.default !== undefined && !(input.type === 'choice' && !input.options?.length)) {
      const coerced = coerceInput(input, input.default);
      if ('problem' in coerced) {
        out.push({
          code: 'input/default',
          severity: 'error',
          message: `the default of input "${name}" ${coerced.problem}`,
          file: ctx.file,
          ...ctx.doc.locate([...at, 'default']),
        });
      }
    }
  }

  const inputs: StaticScope['inputs'] = {};
  for (const [name, i] of Object.entries(workflow.inputs)) {
    inputs[name] = { type: i.type, ...(i.options ? { options: i.options.map(String) } : {}) };
  }
  const secrets = workflow.secrets;
  const runScope: StaticScope = {
    contexts: ['inputs', 'env', 'run', 'secrets'],
    inputs,
    secrets,
    statusFunctions: false,
  };
  const check = (at: Path, value: unknown, scope: StaticScope, condition = false) => {
    if (typeof value !== 'string' || (!value.includes('${{') && !condition)) return;
    const problems = condition ? checkCondition(value, scope) : checkTemplate(value, scope);
    for (const p of problems) out.push(toDiagnostic(ctx, at, p));
  };

  for (const [k, v] of Object.entries(isObject(spec.env) ? spec.env : {}))
    check(['spec', 'env', k], v, runScope);
  const defaults = isObject(spec.defaults) ? spec.defaults : {};
  for (const [k, v] of Object.entries(isObject(defaults.env) ? defaults.env : {}))
    check(['spec', 'defaults', 'env', k], v, runScope);
  for (const field of ['image', 'workdir', 'timeout'])
    check(['spec', 'defaults', field], defaults[field], runScope);
  const services = isObject(spec.services) ? spec.services : {};
  for (const [name, entry] of Object.entries(services)) {
    if (!isObject(entry) || entry.uses !== undefined || !Array.isArray(entry.environment)) continue;
    entry.environment.forEach((e, i) => {
      if (isObject(e))
        check(['spec', 'services', name, 'environment', String(i), 'value'], e.value, runScope);
    });
  }

  // Steps: the ids a step may name are the expanded ones of static matrices.
  const expandedIds = new Map<string, string[]>();
  for (const id of Object.keys(workflow.steps))
    expandedIds.set(id, staticCombinationIds(workflow, id) ?? [id]);
  const allSteps = [...expandedIds.values()].flat();
  const rawSteps = isObject(spec.steps) ? spec.steps : {};
  for (const [id, step] of Object.entries(workflow.steps)) {
    const raw = isObject(rawSteps[id]) ? (rawSteps[id] as Record<string, unknown>) : {};
    const at = ['spec', 'steps', id];
    // The scope lists every other step, so it is built only for a step that
    // has an expression to check: a workflow of plain steps stays linear.
    if (!hasStepExpressions(raw)) continue;
    const reachable = ancestors(workflow, id);
    const steps: Record<string, StepShape> = {};
    for (const other of Object.keys(workflow.steps)) {
      if (other === id) continue;
      const shape = workflow.steps[other]?.outputs;
      for (const expanded of expandedIds.get(other) ?? []) {
        steps[expanded] = { reachable: reachable.has(other), ...(shape ? { outputs: shape } : {}) };
      }
    }
    const matrixKeys = step.matrix
      ? [
          ...new Set([
            ...Object.keys(step.matrix.axes),
            ...step.matrix.include.flatMap((c) => Object.keys(c)),
          ]),
        ]
      : undefined;
    const scope: StaticScope = {
      contexts: [
        'inputs',
        'env',
        'run',
        'secrets',
        'steps',
        'services',
        ...(matrixKeys ? ['matrix'] : []),
      ],
      inputs,
      secrets,
      steps,
      allSteps,
      services: step.needs.filter((n) => workflow.services[n] !== undefined),
      ...(matrixKeys ? { matrix: matrixKeys } : {}),
      statusFunctions: false,
    };
    check([...at, 'run'], raw.run, scope);
    if (Array.isArray(raw.command))
      raw.command.forEach((c, i) => {
        check([...at, 'command', String(i)], c, scope);
      });
    for (const [k, v] of Object.entries(isObject(raw.env) ? raw.env : {}))
      check([...at, 'env', k], v, scope);
    for (const field of ['image', 'workdir', 'timeout']) check([...at, field], raw[field], scope);
    check([...at, 'if'], raw.if, { ...scope, statusFunctions: true }, true);
    const matrix = isObject(raw.matrix) ? raw.matrix : {};
    for (const [k, v] of Object.entries(matrix)) {
      if (k === 'include' || k === 'exclude' || k === 'maxParallel') continue;
      check([...at, 'matrix', k], v, { contexts: ['inputs'], inputs, statusFunctions: false });
    }
  }
  return out;
}
