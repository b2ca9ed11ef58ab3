import { describeValue } from '../../describe.js';
import type { SchemaRule } from '../rule.js';
import { label, pathOf } from './names.js';

const BOUNDS: Record<string, string> = {
  minimum: 'at least',
  maximum: 'at most',
  exclusiveMinimum: 'more than',
  exclusiveMaximum: 'less than',
};

/** `schema/range` (ajv `minimum`…`exclusiveMaximum`, `minLength`/`minItems`/`minProperties`, `maxLength`). */
export const range: SchemaRule = {
  id: 'schema/range',
  category: 'schema',
  docs: 'schema',
  summary: 'a number, string or list out of its allowed range',
  severity: 'error',
  explain(e) {
    const bound = BOUNDS[e.keyword];
    if (bound !== undefined) {
      return {
        at: pathOf(e),
        message: `${label(e)} must be ${bound} ${String(e.params.limit)}, got ${describeValue(e.data)}`,
      };
    }
    if (e.keyword === 'minLength' || e.keyword === 'minItems' || e.keyword === 'minProperties') {
      return { at: pathOf(e), message: `${label(e)} must not be empty` };
    }
    if (e.keyword === 'maxLength') {
      const length = typeof e.data === 'string' ? e.data.length : '?';
      return {
        at: pathOf(e),
        message: `${label(e)} must be at most ${String(e.params.limit)} characters long, got ${length}`,
      };
    }
    return undefined;
  },
};
