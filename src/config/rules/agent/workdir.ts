import type { Rule } from '../rule.js';
import { agentSpecs, isContainerSpec } from '../specs.js';
import { checkContainerWorkdir } from '../workdir.js';

/** `agent/workdir`: a docker agent's `workdir` that is not absolute (a process agent's is resolved against the file's directory). */
export const agentWorkdirRule: Rule = {
  id: 'agent/workdir',
  category: 'agent',
  docs: 'agents',
  summary: 'a container working directory that is not absolute',
  severity: 'error',
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      if (!isContainerSpec(spec)) continue;
      checkContainerWorkdir(
        ctx,
        spec.workdir,
        [...path, 'workdir'],
        'or use runtime "process" to run a local process',
      );
    }
  },
};
