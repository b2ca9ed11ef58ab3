import { describeValue } from '../../describe.js';
import type { SchemaRule } from '../rule.js';
import { label, pathOf } from './names.js';

/** Human descriptions of the schemas' patterns, keyed by the pattern text. */
const PATTERNS: Record<string, string> = {
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$':
    'a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'a variable name: letters, digits and "_", not starting with a digit',
  '^[A-Za-z_][A-Za-z0-9_-]*$': 'letters, digits, "_" and "-", starting with a letter or "_"',
  '^/': 'an absolute path (starting with "/")',
  '^[A-Za-z0-9_][A-Za-z0-9_.-]*$':
    'a Docker image tag: letters, digits, "_", "." and "-", not starting with "." or "-"',
  '^(\\.{1,2}(/[^:]*)?|/[^:]*):/[^:]*(:(ro|rw))?$':
    '"SOURCE:TARGET" or "SOURCE:TARGET:ro", where SOURCE is a host path (".", "..", or starting with "./", "../" or "/") and TARGET an absolute path in the container (only bind mounts are supported)',
  '^([^#]+|[^#]*#[a-z0-9]([-a-z0-9]*[a-z0-9])?)$':
    '"./file.yaml", "./file.yaml#name" or "#name", where name is an Agent\'s name',
};

/** What the keys of a map are called, by the map schema's title. */
const KEY_NOUNS: Record<string, string> = {
  steps: 'step id',
  services: 'service name',
  env: 'variable name',
};

/**
 * `schema/pattern` (ajv `pattern`): the pattern in words. A key of a map
 * that fails `propertyNames` (an invalid step id) is reported at the key.
 */
export const pattern: SchemaRule = {
  id: 'schema/pattern',
  category: 'schema',
  docs: 'schema',
  summary: 'a string that does not have the required form',
  severity: 'error',
  explain(e, ctx) {
    if (e.keyword !== 'pattern') return undefined;
    const text = String(e.params.pattern);
    const description = PATTERNS[text] ?? `text matching ${text}`;
    if (e.propertyName !== undefined) {
      const mapSchema = ctx.keyMaps.get(`${e.instancePath}\0${e.propertyName}`);
      const noun = KEY_NOUNS[String(mapSchema?.title)] ?? 'key';
      return {
        at: [...pathOf(e), e.propertyName],
        target: 'key',
        message: `invalid ${noun} ${JSON.stringify(e.propertyName)}; expected ${description}`,
      };
    }
    return {
      at: pathOf(e),
      message: `${label(e)} must be ${description}, got ${describeValue(e.data)}`,
    };
  },
};
