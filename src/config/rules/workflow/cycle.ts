import type { Rule } from '../rule.js';
import { findCycles, needGraph } from './needs.js';

/**
 * `workflow/cycle`: steps that need each other, printed `a -> c -> b -> a`
 * from the cycle's first step in file order (`a -> c` reads "a needs c"),
 * and reported at the `needs` entry that closes it: the last step's entry
 * for the first (`b`'s `needs: [a]`), where the fix usually is.
 */
export const cycleRule: Rule = {
  id: 'workflow/cycle',
  category: 'workflow',
  docs: 'workflows-steps-and-services',
  summary: 'steps that need each other',
  severity: 'error',
  check(ctx) {
    const graph = needGraph(ctx);
    for (const cycle of findCycles(graph.stepIds, graph.edges)) {
      const first = cycle[0] ?? '';
      const last = cycle[cycle.length - 1] ?? first;
      const entry = graph.needs.get(last)?.find((n) => n.name === first);
      ctx.report({
        at: entry?.path ?? ['spec', 'steps', first],
        target: entry ? 'value' : 'key',
        message: `dependency cycle: ${[...cycle, first].join(' -> ')}`,
        hint: `a step cannot need itself, directly or through other steps; remove one of these needs (this one, ${JSON.stringify(last)} needs ${JSON.stringify(first)}, closes the cycle)`,
      });
    }
  },
};
