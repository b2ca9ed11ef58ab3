import type { SchemaRule } from '../rule.js';
import { label, pathOf } from './names.js';

/** `schema/invalid`: the fallback for schema keywords without a dedicated rule (ajv's own message, with the field name). */
export const invalid: SchemaRule = {
  id: 'schema/invalid',
  category: 'schema',
  docs: 'schema',
  summary: 'any other schema violation',
  severity: 'error',
  explain(e) {
    return { at: pathOf(e), message: `${label(e)} ${e.message ?? 'is invalid'}` };
  },
};
