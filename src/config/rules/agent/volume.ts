import type { Rule } from '../rule.js';
import { agentSpecs, isObject } from '../specs.js';

/** A named volume's name, as the engine accepts it. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * `agent/volume`: an object volume of type bind or volume without `source`,
 * a tmpfs volume with one, a named volume whose source is not a volume name
 * (`letters, digits, _ . -`, as the engine accepts).
 */
export const volumeRule: Rule = {
  id: 'agent/volume',
  category: 'agent',
  docs: 'agents',
  summary: 'a volume that is malformed',
  severity: 'error',
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      if (!Array.isArray(spec.volumes)) continue;
      spec.volumes.forEach((v, i) => {
        if (!isObject(v)) return;
        const at = [...path, 'volumes', String(i)];
        const type = v.type ?? 'bind';
        if (type === 'tmpfs' && v.source !== undefined) {
          ctx.report({
            at: [...at, 'source'],
            target: 'key',
            message: 'a tmpfs volume has no "source"; remove it',
            hint: 'tmpfs lives in memory; use type "volume" or "bind" to keep data',
          });
        } else if ((type === 'bind' || type === 'volume') && v.source === undefined) {
          ctx.report({
            at,
            message: `a volume of type ${JSON.stringify(type)} needs a "source": ${type === 'bind' ? 'a host path' : 'a volume name'}`,
          });
        } else if (
          type === 'volume' &&
          typeof v.source === 'string' &&
          !VOLUME_NAME.test(v.source)
        ) {
          ctx.report({
            at: [...at, 'source'],
            message: `named volume ${JSON.stringify(v.source)} is not a volume name; use letters, digits, "_", "." and "-", starting with a letter or digit`,
            hint: 'for a host path, use type "bind"',
          });
        }
      });
    }
  },
};
