/**
 * `policy/dangerous-capability`: `security.capabilities.add` with SYS_ADMIN,
 * NET_ADMIN, SYS_PTRACE or ALL, each of which lets a container escape or
 * reconfigure the host. After the CIS Docker Benchmark 5.3 ("restrict Linux
 * kernel capabilities within containers").
 */

import { agentTargets, isObject } from './common.js';
import { policyRule } from './define.js';

/** Capabilities flagged, without the `CAP_` prefix. */
export const DANGEROUS_CAPABILITIES: readonly string[] = [
  'ALL',
  'SYS_ADMIN',
  'NET_ADMIN',
  'SYS_PTRACE',
];

/** The `policy/dangerous-capability` rule, as described above. */
export const dangerousCapability = policyRule(
  'dangerous-capability',
  'a container that adds SYS_ADMIN, NET_ADMIN, SYS_PTRACE or ALL',
  (ctx) => {
    for (const t of agentTargets(ctx)) {
      const security = t.spec.security;
      if (!t.container || !isObject(security) || !isObject(security.capabilities)) continue;
      const add = security.capabilities.add;
      if (!Array.isArray(add)) continue;
      add.forEach((cap, i) => {
        if (typeof cap !== 'string') return;
        const name = cap.toUpperCase().replace(/^CAP_/, '');
        if (!DANGEROUS_CAPABILITIES.includes(name)) return;
        ctx.report({
          at: [...t.path, 'security', 'capabilities', 'add', String(i)],
          message: `${t.subject} adds the capability ${JSON.stringify(cap)}, which gives it control over the host; add a narrower capability or none`,
        });
      });
    }
  },
);
