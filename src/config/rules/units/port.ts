import { describeValue } from '../../describe.js';
import { parsePortString } from '../../units.js';
import type { Rule } from '../rule.js';
import { label, pathOf } from '../schema/names.js';
import { agentSpecs } from '../specs.js';

/**
 * `units/port`: a port number out of range, a port string that is not
 * `CONTAINER` or `HOST:CONTAINER` (optionally `/tcp` or `/udp`), or one whose
 * numbers are out of range.
 */
export const portRule: Rule = {
  id: 'units/port',
  category: 'units',
  docs: 'units',
  summary: 'a port or port mapping that is malformed or out of range',
  severity: 'error',
  explain(e, ctx) {
    const def = ctx.unitOf(e)?.def;
    const got = describeValue(e.data);
    const at = pathOf(e);
    if (def === 'port') {
      return { at, message: `${label(e)} must be a port number from 1 to 65535, got ${got}` };
    }
    if (def === 'hostPort') {
      return {
        at,
        message: `${label(e)} must be a port number from 0 to 65535 (0: any free port), got ${got}`,
      };
    }
    if (def !== 'portMapping') return undefined;
    if (e.keyword === 'pattern') {
      return {
        at,
        message: `invalid port ${JSON.stringify(e.data)} in ${label(e)}; expected "CONTAINER" or "HOST:CONTAINER", optionally with "/tcp" or "/udp", e.g. "8080:80"`,
      };
    }
    if (e.keyword === 'minimum' || e.keyword === 'maximum') {
      return { at, message: `${label(e)} must be a port number from 1 to 65535, got ${got}` };
    }
    return undefined;
  },
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      if (!Array.isArray(spec.ports)) continue;
      spec.ports.forEach((port, i) => {
        if (typeof port !== 'string' || !/^[0-9]+(:[0-9]+)?(\/(tcp|udp))?$/.test(port)) return;
        if (parsePortString(port) !== undefined) return;
        ctx.report({
          at: [...path, 'ports', String(i)],
          message: `port ${JSON.stringify(port)} is out of range; container ports are 1-65535, host ports 0-65535 (0: any free port)`,
        });
      });
    }
  },
};
