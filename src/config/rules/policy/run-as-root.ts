/**
 * `policy/run-as-root`: an agentfile/v1 container agent or service with
 * `security.runAsUser: 0`, or without `runAsUser` (then it runs as the
 * image's user, which is root for most images). After kube-linter's
 * `run-as-non-root` check. Not applied to process agents (they run as the
 * user who runs `agent`), to container steps (they have no `security`) or to
 * agent.dev/v1 agents (the format has no `security`).
 */

import { agentTargets, isObject } from './common.js';
import { policyRule } from './define.js';

/** The `policy/run-as-root` rule, as described above. */
export const runAsRoot = policyRule(
  'run-as-root',
  'a container that runs as root, or sets no runAsUser',
  (ctx) => {
    for (const t of agentTargets(ctx)) {
      if (!t.container || t.format) continue;
      const security = t.spec.security;
      if (isObject(security) && security.runAsUser === 0) {
        ctx.report({
          at: [...t.path, 'security', 'runAsUser'],
          message: `${t.subject} runs as root ("runAsUser: 0"); set security.runAsUser to a non-root user id, e.g. 1000`,
        });
      } else if (!isObject(security) || security.runAsUser === undefined) {
        ctx.report({
          at: isObject(security) ? [...t.path, 'security'] : t.path,
          target: 'key',
          message: `${t.subject} sets no "runAsUser" and runs as its image's user, often root; set security.runAsUser to a non-root user id, e.g. 1000`,
        });
      }
    }
  },
);
