import { suggestion } from '../../suggest.js';
import type { SchemaRule } from '../rule.js';
import { objectName, pathOf } from './names.js';

/**
 * `schema/unknown-key` (ajv `additionalProperties`): at the key, with the
 * nearest valid key or the list of keys not yet present. In an agent.dev/v1
 * document it is a warning: agent-as-code's own parser ignores unknown keys,
 * so a file it runs must load here too.
 */
export const unknownKey: SchemaRule = {
  id: 'schema/unknown-key',
  category: 'schema',
  docs: 'schema',
  summary: 'a key that the schema does not define',
  severity: 'error',
  explain(e, ctx) {
    if (e.keyword !== 'additionalProperties') return undefined;
    const key = String(e.params.additionalProperty);
    const parent = e.parentSchema as Record<string, unknown>;
    const present = new Set(Object.keys((e.data ?? {}) as object));
    const allowed = Object.keys((parent.properties ?? {}) as object).filter((k) => !present.has(k));
    let tail = suggestion(key, allowed);
    if (parent.title === 'document' && allowed.length === 0) {
      tail = '; extension keys must start with "x-"';
    }
    if (parent.title === 'service' && present.has('uses')) {
      tail =
        '; a service with "uses" takes no other keys (set them in the Agent document, or drop "uses" to define the agent inline)';
    }
    const message = `unknown key ${JSON.stringify(key)} in ${objectName(e, ctx)}${tail}`;
    const at = [...pathOf(e), key];
    if (ctx.format === 'agent.dev/v1') {
      return {
        at,
        target: 'key',
        message,
        severity: 'warning',
        hint: 'agent.dev/v1 documents ignore unknown keys; agentfile ignores it too',
      };
    }
    return { at, target: 'key', message };
  },
};
