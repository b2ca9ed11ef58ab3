/**
 * How values and fields are named in messages, shared by the schema rules,
 * the semantic rules and the expression checks: `"timeout"`, `ports[1]`,
 * `string "four"`, `a mapping`.
 */

import { pointerSegments } from './load.js';
import { MAX_LIMIT, type QuantityProblem } from './units.js';

/** How the value at a JSON path is named in messages: the key, or `list[i]` for list items. */
export function fieldLabel(path: string | readonly string[]): string {
  const segments = pointerSegments(path);
  const last = segments[segments.length - 1];
  if (last === undefined) return 'document';
  if (/^[0-9]+$/.test(last) && segments.length >= 2) {
    return `${segments[segments.length - 2]}[${last}]`;
  }
  return last;
}

/** `string "four"`, `number 4`, `boolean true`, `a list`, `a mapping`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  return `${typeof value} ${String(value)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'empty',
};

/** `a string`, `a string or a mapping`: the JSON Schema type names of `types` in words. */
export function typeList(types: unknown): string {
  const list = (Array.isArray(types) ? types : [types]).map((t) => TYPE_NAMES[String(t)] ?? t);
  if (list.length <= 1) return String(list[0]);
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

/**
 * The message for a CPU or memory quantity that has the right shape but is
 * not a usable limit (see {@link QuantityProblem}); `label` is the quoted
 * field name, `value` the value as written. `undefined` for `syntax`, which
 * the schema's pattern reports.
 */
export function limitMessage(
  kind: 'cpu' | 'memory',
  problem: QuantityProblem,
  label: string,
  value: unknown,
): { message: string; hint?: string } | undefined {
  const got = describeValue(value);
  if (kind === 'cpu') {
    switch (problem) {
      case 'not-positive':
        return { message: `${label} must be more than 0, got ${got}` };
      case 'too-small':
        return {
          message: `${label} must be at least 1 nano-CPU (0.000000001), got ${got}`,
          hint: 'it rounds to 0 nano-CPUs, which Docker reads as no limit; 10m is a hundredth of a CPU',
        };
      case 'too-large':
        return { message: `${label} must be at most ${Math.floor(MAX_LIMIT / 1e9)}, got ${got}` };
      default:
        return undefined;
    }
  }
  switch (problem) {
    case 'not-positive':
      return { message: `${label} must be at least 1 byte, got ${got}` };
    case 'too-small':
      return {
        message: `${label} must be at least 1 byte, got ${got}`,
        hint: 'it rounds to 0 bytes, which Docker reads as no limit',
      };
    case 'too-large':
      return {
        message: `${label} must be at most ${MAX_LIMIT} bytes (just under 8Pi), got ${got}`,
      };
    case 'fraction':
      return {
        message: `${label} must be a whole number of bytes, got ${got}`,
        hint: `a number without a suffix is bytes; add a suffix, e.g. ${String(value)}Gi`,
      };
    default:
      return undefined;
  }
}
