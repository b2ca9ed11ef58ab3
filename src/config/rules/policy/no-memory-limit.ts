/**
 * `policy/no-memory-limit`: a container agent or inline service without
 * `resources.limits.memory`: one leak can take the host's memory. After
 * kube-linter's `unset-memory-requirements` check. Containers only (limits
 * are enforced by Docker; a process agent has none), both formats.
 */

import { agentTargets, isObject } from './common.js';
import { policyRule } from './define.js';

/** The `policy/no-memory-limit` rule, as described above. */
export const noMemoryLimit = policyRule(
  'no-memory-limit',
  'a service container without a memory limit',
  (ctx) => {
    for (const t of agentTargets(ctx)) {
      if (!t.container) continue;
      const resources = t.spec.resources;
      const limits = isObject(resources) ? resources.limits : undefined;
      if (isObject(limits) && limits.memory !== undefined) continue;
      const at = isObject(limits)
        ? [...t.path, 'resources', 'limits']
        : isObject(resources)
          ? [...t.path, 'resources']
          : t.path;
      ctx.report({
        at,
        target: 'key',
        message: `${t.subject} has no memory limit; set resources.limits.memory, e.g. 256Mi`,
      });
    }
  },
);
