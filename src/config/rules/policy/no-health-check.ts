/**
 * `policy/no-health-check`: an agent or inline service without `healthCheck`:
 * agentfile counts it ready once it has started, so the steps that need it
 * may start before it answers. After kube-linter's `no-readiness-probe`
 * check. Applies to container and process agents of both formats.
 */

import { agentTargets } from './common.js';
import { policyRule } from './define.js';

/** The `policy/no-health-check` rule, as described above. */
export const noHealthCheck = policyRule(
  'no-health-check',
  'a service without a health check',
  (ctx) => {
    for (const t of agentTargets(ctx)) {
      if (t.spec.healthCheck !== undefined) continue;
      ctx.report({
        at: t.path,
        target: 'key',
        message: `${t.subject} has no "healthCheck", so it counts as ready as soon as it starts; add one (http, tcp, command, file or log)`,
      });
    }
  },
);
