/**
 * `policy/host-path`: a bind mount of a host path outside the repository
 * ({@link repositoryRoot}: the nearest ancestor of the file's directory with
 * `.git`, else the file's directory). A relative source is resolved against
 * the file's directory, as agentfile does when it runs. The Docker socket
 * and its directory are `policy/docker-socket`'s, not reported twice. After
 * kube-linter's `sensitive-host-mounts` check.
 */

import path from 'node:path';
import { agentTargets, bindMounts } from './common.js';
import { policyRule } from './define.js';
import { isDockerSocketPath } from './docker-socket.js';
import { isInside, repositoryRoot } from './repository.js';

/** The `policy/host-path` rule, as described above. */
export const hostPath = policyRule(
  'host-path',
  'a bind mount of a host path outside the repository',
  (ctx) => {
    const dir = ctx.path ? path.dirname(ctx.path) : process.cwd();
    const root = repositoryRoot(dir);
    for (const t of agentTargets(ctx)) {
      if (!t.container) continue;
      for (const m of bindMounts(t)) {
        if (isDockerSocketPath(m.source)) continue;
        if (isInside(root, path.resolve(dir, m.source))) continue;
        ctx.report({
          at: m.at,
          message: `${t.subject} mounts ${JSON.stringify(m.source)} from the host, outside the repository; mount a directory of the repository or use a named volume (type: volume)`,
        });
      }
    }
  },
);
