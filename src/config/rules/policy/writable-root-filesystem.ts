/**
 * `policy/writable-root-filesystem`: an agentfile/v1 container agent or
 * service without `security.readOnlyRootFilesystem: true`. After
 * kube-linter's `no-read-only-root-fs` check. Containers only: not process
 * agents, not steps (a step writes its results) and not agent.dev/v1 agents
 * (the format has no `security`).
 */

import { agentTargets, isObject } from './common.js';
import { policyRule } from './define.js';

/** The `policy/writable-root-filesystem` rule, as described above. */
export const writableRootFilesystem = policyRule(
  'writable-root-filesystem',
  'a service container whose root filesystem is writable',
  (ctx) => {
    for (const t of agentTargets(ctx)) {
      if (!t.container || t.format) continue;
      const security = t.spec.security;
      if (isObject(security) && security.readOnlyRootFilesystem === true) continue;
      const set = isObject(security) && security.readOnlyRootFilesystem !== undefined;
      ctx.report({
        at: set
          ? [...t.path, 'security', 'readOnlyRootFilesystem']
          : isObject(security)
            ? [...t.path, 'security']
            : t.path,
        ...(set ? {} : { target: 'key' as const }),
        message: `${t.subject} has a writable root filesystem; set security.readOnlyRootFilesystem: true and write to volumes (e.g. tmpfs)`,
      });
    }
  },
);
