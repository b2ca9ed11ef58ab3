/**
 * `policy/host-network`: `network.mode: host`, which shares the host's network
 * stack (every host port, loopback services). After kube-linter's
 * `host-network` check.
 */

import { agentTargets, isObject } from './common.js';
import { policyRule } from './define.js';

/** The `policy/host-network` rule, as described above. */
export const hostNetwork = policyRule(
  'host-network',
  "a container on the host's network",
  (ctx) => {
    for (const t of agentTargets(ctx)) {
      if (!t.container || !isObject(t.spec.network) || t.spec.network.mode !== 'host') continue;
      ctx.report({
        at: [...t.path, 'network', 'mode'],
        message: `${t.subject} uses the host's network ("mode: host") and can reach every service on the host; use the run's network (mode: bridge) and publish ports`,
      });
    }
  },
);
