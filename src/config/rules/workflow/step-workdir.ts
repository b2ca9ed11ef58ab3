import type { Rule } from '../rule.js';
import { workflowSteps } from '../specs.js';
import { checkContainerWorkdir } from '../workdir.js';

/** `step/workdir`: a container step's `workdir` that is not absolute (Docker rejects it at run time; a process step's is resolved against the file's directory). */
export const stepWorkdirRule: Rule = {
  id: 'step/workdir',
  category: 'workflow',
  docs: 'workflows-steps-and-services',
  summary: 'a container step working directory that is not absolute',
  severity: 'error',
  check(ctx) {
    for (const { step, path } of workflowSteps(ctx)) {
      if (typeof step.image !== 'string') continue;
      checkContainerWorkdir(
        ctx,
        step.workdir,
        [...path, 'workdir'],
        'or drop "image" to run the step as a local process',
      );
    }
  },
};
