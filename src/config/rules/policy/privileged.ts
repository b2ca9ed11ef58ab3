/**
 * `policy/privileged`: a container with `security.privileged: true`. After
 * kube-linter's `privileged-container` check and the CIS Docker Benchmark
 * 5.4 ("do not use privileged containers").
 */

import { agentTargets, isObject } from './common.js';
import { policyRule } from './define.js';

/** The `policy/privileged` rule, as described above. */
export const privileged = policyRule('privileged', 'a container that runs privileged', (ctx) => {
  for (const t of agentTargets(ctx)) {
    if (!t.container || !isObject(t.spec.security) || t.spec.security.privileged !== true) continue;
    ctx.report({
      at: [...t.path, 'security', 'privileged'],
      message: `${t.subject} runs privileged ("privileged: true"), with every capability and the host's devices; remove it and add only the capabilities it needs`,
    });
  }
});
