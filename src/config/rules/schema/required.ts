import type { SchemaRule } from '../rule.js';
import { objectName, pathOf } from './names.js';

/** `schema/required` (ajv `required`): at the key of the object that misses it. */
export const missingKey: SchemaRule = {
  id: 'schema/required',
  category: 'schema',
  docs: 'schema',
  summary: 'a required key that is missing',
  severity: 'error',
  explain(e, ctx) {
    if (e.keyword !== 'required') return undefined;
    return {
      at: pathOf(e),
      target: 'key',
      message: `missing required key ${JSON.stringify(String(e.params.missingProperty))} in ${objectName(e, ctx)}`,
    };
  },
};
