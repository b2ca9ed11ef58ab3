import { describeValue, typeList } from '../../describe.js';
import type { SchemaRule } from '../rule.js';
import { label, pathOf } from './names.js';

/** `schema/type` (ajv `type`): `"concurrency" must be an integer, got string "four"`. */
export const wrongType: SchemaRule = {
  id: 'schema/type',
  category: 'schema',
  docs: 'schema',
  summary: 'a value of the wrong type',
  severity: 'error',
  explain(e) {
    if (e.keyword !== 'type') return undefined;
    return {
      at: pathOf(e),
      message: `${label(e)} must be ${typeList(e.params.type)}, got ${describeValue(e.data)}`,
    };
  },
};
