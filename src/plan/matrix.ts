/**
 * Matrix expansion: a step with `matrix:` becomes one step per combination,
 * with GitHub Actions' semantics for `include` and `exclude`. Pure; an axis
 * given as an expression is evaluated by the caller's `evaluateAxis`.
 *
 * Ids (docs/file-format.md, "Matrix"): the step id, then each value of the
 * combination in key order (the matrix's own keys first, as written, then
 * keys added by `include`), joined by `-`. A value is written as text
 * (objects and lists as canonical JSON), and every character outside
 * `A-Z a-z 0-9 _` becomes `_`, so ids stay shell-safe and valid step ids:
 * `test` × `{node: [18, 20], os: [linux]}` gives `test-18-linux` and
 * `test-20-linux`; `node: 18.x` gives `test-18_x`. When two ids would be
 * equal (or equal an existing step id), the later ones get `-2`, `-3`, ….
 * Ids depend only on the matrix, so they are the same in every run.
 */

import type { MatrixSpec, MatrixValue, StepSpec, WorkflowSpec } from '../config/model.js';
import { type ExprValue, evaluate, parseExpression, scanTemplate } from '../expr/index.js';
import { canonicalJson } from './fingerprint.js';

type Combination = Record<string, MatrixValue>;

/** Thrown when a matrix expression does not give a non-empty list, or the matrix has no combinations. */
export class MatrixError extends Error {
  override name = 'MatrixError';
  constructor(
    message: string,
    /** The step as written. */
    readonly step: string,
  ) {
    super(message);
  }
}

/** Evaluates an axis written as an expression (`${{ fromJSON(inputs.versions) }}`) to its values. */
export type AxisEvaluator = (text: string, step: string, key: string) => MatrixValue;

function same(a: MatrixValue | undefined, b: MatrixValue | undefined): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/**
 * Every combination of `matrix`, in order: the cartesian product of the axes
 * (first axis varying slowest, as GitHub lists them), minus each one that
 * matches an `exclude` entry on all of the entry's keys, then `include`:
 * an entry is merged into every combination whose original values it does
 * not change (it may overwrite values added by earlier entries), and becomes
 * a combination of its own when it fits none.
 *
 * @throws MatrixError when an axis is not a non-empty list, or nothing is left.
 */
export function combinations(
  matrix: MatrixSpec,
  step: string,
  evaluateAxis?: AxisEvaluator,
): Combination[] {
  const axes: Array<[string, MatrixValue[]]> = [];
  for (const [key, values] of Object.entries(matrix.axes)) {
    let list: MatrixValue;
    if (typeof values === 'string') {
      if (!evaluateAxis)
        throw new MatrixError(
          `matrix "${key}" of step "${step}" is an expression; it needs the run's inputs`,
          step,
        );
      list = evaluateAxis(values, step, key);
    } else {
      list = values;
    }
    if (!Array.isArray(list) || list.length === 0) {
      throw new MatrixError(
        `matrix "${key}" of step "${step}" must be a non-empty list, got ${canonicalJson(list)}`,
        step,
      );
    }
    axes.push([key, list]);
  }
  const original = new Set(axes.map(([k]) => k));
  let product: Combination[] = axes.length === 0 ? [] : [{}];
  for (const [key, values] of axes) {
    const next: Combination[] = [];
    for (const c of product) for (const v of values) next.push({ ...c, [key]: v });
    product = next;
  }
  product = product.filter(
    (c) => !matrix.exclude.some((x) => Object.entries(x).every(([k, v]) => same(c[k], v))),
  );
  const extra: Combination[] = [];
  for (const entry of matrix.include) {
    let fitted = false;
    for (const c of product) {
      const fits = Object.entries(entry).every(([k, v]) => !original.has(k) || same(c[k], v));
      if (fits) {
        Object.assign(c, entry);
        fitted = true;
      }
    }
    if (!fitted) extra.push({ ...entry });
  }
  const all = [...product, ...extra];
  if (all.length === 0) {
    throw new MatrixError(
      `the matrix of step "${step}" has no combinations left after exclude`,
      step,
    );
  }
  return all;
}

function idPart(value: MatrixValue): string {
  const text = typeof value === 'string' ? value : canonicalJson(value);
  return text.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Keys of a list of combinations: the matrix's own keys, then keys `include` added, in first-seen order. */
function keyOrder(matrix: MatrixSpec, list: readonly Combination[]): string[] {
  const keys = Object.keys(matrix.axes);
  for (const c of list) for (const k of Object.keys(c)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/**
 * The workflow with every matrix step expanded (see the module comment for
 * ids), in place of the step as written and in its position; needs that name
 * a matrix step name every one of its combinations. Workflows without a
 * matrix come back unchanged (the same object).
 *
 * @throws MatrixError (see {@link combinations}).
 */
export function expandMatrices(workflow: WorkflowSpec, evaluateAxis?: AxisEvaluator): WorkflowSpec {
  if (!Object.values(workflow.steps).some((s) => s.matrix)) return workflow;
  const taken = new Set([...Object.keys(workflow.steps), ...Object.keys(workflow.services)]);
  const groups = new Map<string, string[]>();
  const expanded: StepSpec[] = [];
  for (const step of Object.values(workflow.steps)) {
    const { matrix, ...rest } = step;
    if (!matrix) {
      expanded.push(step);
      continue;
    }
    const list = combinations(matrix, step.id, evaluateAxis);
    const keys = keyOrder(matrix, list);
    const ids: string[] = [];
    for (const values of list) {
      const base = [
        step.id,
        ...keys.filter((k) => k in values).map((k) => idPart(values[k] ?? null)),
      ].join('-');
      let id = base;
      for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
      taken.add(id);
      ids.push(id);
      const ordered: Combination = {};
      for (const k of keys) if (k in values) ordered[k] = values[k] ?? null;
      expanded.push({
        ...rest,
        id,
        combination: {
          group: step.id,
          values: ordered,
          ...(matrix.maxParallel !== undefined ? { maxParallel: matrix.maxParallel } : {}),
        },
      });
    }
    groups.set(step.id, ids);
  }
  const steps: Record<string, StepSpec> = {};
  for (const s of expanded) {
    const needs = [...new Set(s.needs.flatMap((n) => groups.get(n) ?? [n]))].sort();
    steps[s.id] = { ...s, needs };
  }
  return { ...workflow, steps };
}

/**
 * An {@link AxisEvaluator} over fixed contexts (a run's `inputs`): the axis
 * text must be exactly one `${{ … }}` (the schema checks that), whose value
 * is the list.
 *
 * @throws MatrixError when the expression does not parse or fails.
 */
export function axisEvaluator(contexts: Record<string, ExprValue>): AxisEvaluator {
  return (text, step, key) => {
    const parts = scanTemplate(text.trim()).parts;
    const only = parts[0];
    if (parts.length !== 1 || only?.kind !== 'expression') {
      throw new MatrixError(
        `matrix "${key}" of step "${step}" must be one \${{ }} expression`,
        step,
      );
    }
    const parsed = parseExpression(only.source);
    if ('problem' in parsed) {
      throw new MatrixError(`matrix "${key}" of step "${step}": ${parsed.problem.message}`, step);
    }
    try {
      return evaluate(parsed.expr, { contexts }) as MatrixValue;
    } catch (error) {
      throw new MatrixError(
        `matrix "${key}" of step "${step}": ${error instanceof Error ? error.message : String(error)}`,
        step,
      );
    }
  };
}
