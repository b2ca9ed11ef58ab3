import type { Rule } from '../rule.js';
import { isObject, workflowSteps } from '../specs.js';

/** `workflow/name-clash`: a step id that is also a service name (needs could not tell them apart). */
export const nameClashRule: Rule = {
  id: 'workflow/name-clash',
  category: 'workflow',
  docs: 'workflows-steps-and-services',
  summary: 'a step id that is also a service name',
  severity: 'error',
  check(ctx) {
    const spec = ctx.data.spec;
    const services = isObject(spec) && isObject(spec.services) ? spec.services : {};
    for (const { id, path } of workflowSteps(ctx)) {
      if (!Object.hasOwn(services, id)) continue;
      ctx.report({
        at: path,
        target: 'key',
        message: `step id ${JSON.stringify(id)} is also a service name; step ids and service names must differ`,
      });
    }
  },
};
