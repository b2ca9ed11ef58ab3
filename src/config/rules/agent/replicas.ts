import type { Rule } from '../rule.js';
import { agentSpecs, isProcessSpec } from '../specs.js';

/** `agent/replicas`: a process agent with ports and more than one replica (every replica would listen on the same port). */
export const replicasRule: Rule = {
  id: 'agent/replicas',
  category: 'agent',
  docs: 'agents',
  summary: 'replicas on an agent that cannot have them',
  severity: 'error',
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      if (!isProcessSpec(spec)) continue;
      if (typeof spec.replicas !== 'number' || spec.replicas <= 1) continue;
      if (!Array.isArray(spec.ports) || spec.ports.length === 0) continue;
      ctx.report({
        at: [...path, 'replicas'],
        message: `a process agent with ports cannot have ${spec.replicas} replicas: every replica would listen on the same port`,
        hint: 'run it as a container ("image" or "build"), where each replica has its own address, or use replicas: 1',
      });
    }
  },
};
