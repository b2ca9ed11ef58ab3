import { describeValue } from '../../describe.js';
import { nearest, quoteList } from '../../suggest.js';
import type { SchemaRule } from '../rule.js';
import { label, pathOf } from './names.js';

/** `schema/enum` (ajv `enum` and `const`): the allowed values, and the nearest one to a string. */
export const notAllowed: SchemaRule = {
  id: 'schema/enum',
  category: 'schema',
  docs: 'schema',
  summary: 'a value that is not one of the allowed ones',
  severity: 'error',
  explain(e) {
    if (e.keyword !== 'enum' && e.keyword !== 'const') return undefined;
    const allowed: unknown[] =
      e.keyword === 'enum' ? (e.params.allowedValues as unknown[]) : [e.params.allowedValue];
    const near = typeof e.data === 'string' ? nearest(e.data, allowed.map(String)) : undefined;
    const expected = allowed.length === 1 ? quoteList(allowed) : `one of ${quoteList(allowed)}`;
    return {
      at: pathOf(e),
      message: `${label(e)} must be ${expected}, got ${describeValue(e.data)}${
        near !== undefined ? `; did you mean ${JSON.stringify(near)}?` : ''
      }`,
    };
  },
};
