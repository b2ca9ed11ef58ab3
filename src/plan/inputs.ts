/**
 * A run's inputs: the values given (`agent run -i NAME=VALUE`, `--inputs
 * FILE`) checked against the workflow's `spec.inputs` and coerced to their
 * declared types, before anything starts. Pure.
 *
 * Semantics follow GitHub Actions' `workflow_dispatch` inputs: a `default`
 * fills in a value that was not given; `required` with no value and no
 * default is an error; a `choice` must be one of its `options`. An input
 * that is neither given nor defaulted reads as `false` for a boolean and as
 * `''` otherwise (GitHub's empty value), except a number, which reads `null`.
 */

import type { InputSpec } from '../config/model.js';
import { suggestion } from '../config/suggest.js';

/** An input's value in the `inputs` context. */
export type InputValue = string | number | boolean | null;

/** What {@link resolveInputs} returns: every declared input's value, or every problem found. */
export type InputsResult =
  | { ok: true; values: Record<string, InputValue> }
  | { ok: false; problems: string[] };

/**
 * Checks `given` against `specs` and coerces each value to its input's type.
 *
 * - `string`: the value as text;
 * - `number`: a finite JSON-style number (`3`, `-1.5`, `1e3`); text such as
 *   `"3"` from the command line is parsed;
 * - `boolean`: `true` or `false` (text compared case-insensitively, as
 *   GitHub's dispatch form sends them);
 * - `choice`: the value as text must equal one option as text.
 *
 * Problems, one line each, in the order of the declarations then of the
 * unknown names: `unknown input "tagret"; did you mean "target"?`, `input
 * "shards" must be a number, got "many"`, `input "target" must be one of
 * "dev", "prod", got "staging"`, `missing required input "note"`.
 */
export function resolveInputs(
  specs: Record<string, InputSpec>,
  given: Record<string, unknown>,
): InputsResult {
  const problems: string[] = [];
  const values: Record<string, InputValue> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = Object.hasOwn(given, name) ? given[name] : spec.default;
    if (raw === undefined || raw === null) {
      if (spec.required) {
        problems.push(`missing required input "${name}"`);
        continue;
      }
      values[name] = spec.type === 'boolean' ? false : spec.type === 'number' ? null : '';
      continue;
    }
    const coerced = coerceInput(spec, raw);
    if ('problem' in coerced) problems.push(`input "${name}" ${coerced.problem}`);
    else values[name] = coerced.value;
  }
  const declared = Object.keys(specs);
  for (const name of Object.keys(given)) {
    if (Object.hasOwn(specs, name)) continue;
    problems.push(
      `unknown input "${name}"${suggestion(name, declared, { none: 'the workflow declares no inputs' })}`,
    );
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Coerces one value to an input's type (see {@link resolveInputs}); also
 * used by lint to check a `default`.
 */
export function coerceInput(
  spec: Pick<InputSpec, 'type' | 'options'>,
  raw: unknown,
): { value: InputValue } | { problem: string } {
  switch (spec.type) {
    case 'string':
      if (typeof raw === 'object') return { problem: `must be text, got ${describe(raw)}` };
      return { value: String(raw) };
    case 'number': {
      if (typeof raw === 'number' && Number.isFinite(raw)) return { value: raw };
      if (
        typeof raw === 'string' &&
        /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(raw.trim())
      )
        return { value: Number(raw.trim()) };
      return { problem: `must be a number, got ${shown(raw)}` };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw.trim()))
        return { value: raw.trim().toLowerCase() === 'true' };
      return { problem: `must be true or false, got ${shown(raw)}` };
    }
    case 'choice': {
      const options = (spec.options ?? []).map(String);
      const text = typeof raw === 'object' ? undefined : String(raw);
      if (text !== undefined && options.includes(text)) return { value: text };
      return {
        problem: `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${shown(raw)}`,
      };
    }
  }
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : 'a mapping';
}

/**
 * Parses `-i NAME=VALUE` arguments: the value is everything after the first
 * `=`, as text (typed by {@link resolveInputs}). A later `-i` for the same
 * name wins.
 *
 * @returns the values, or the problems (`-i "target": expected NAME=VALUE`).
 */
export function parseInputPairs(
  pairs: readonly string[],
): { ok: true; values: Record<string, string> } | { ok: false; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`-i ${JSON.stringify(pair)}: expected NAME=VALUE`);
      continue;
    }
    values[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}
