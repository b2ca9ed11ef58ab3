import { suggestion } from '../../suggest.js';
import type { Rule } from '../rule.js';
import { needGraph } from './needs.js';

/** `workflow/unknown-need`: a need that is neither a step nor a service, with the nearest name. */
export const unknownNeedRule: Rule = {
  id: 'workflow/unknown-need',
  category: 'workflow',
  docs: 'workflows-steps-and-services',
  summary: 'a need that is neither a step nor a service',
  severity: 'error',
  check(ctx) {
    const graph = needGraph(ctx);
    const steps = new Set(graph.stepIds);
    const services = new Set(graph.serviceNames);
    for (const [id, needs] of graph.needs) {
      for (const need of needs) {
        if (steps.has(need.name) || services.has(need.name)) continue;
        const candidates = [...graph.stepIds.filter((s) => s !== id), ...graph.serviceNames];
        ctx.report({
          at: need.path,
          message: `step ${JSON.stringify(id)} needs ${JSON.stringify(need.name)}, which is neither a step nor a service${suggestion(
            need.name,
            candidates,
            { none: 'the workflow has no other steps or services' },
          )}`,
        });
      }
    }
  },
};
