/**
 * `policy/docker-socket`: a bind mount of the Docker socket
 * (`/var/run/docker.sock`, `/run/docker.sock`) or of the directory that holds
 * it (`/var/run`, `/run`): whoever reaches the socket controls the engine and
 * so the host. After kube-linter's `docker-sock` check.
 */

import path from 'node:path';
import { agentTargets, bindMounts } from './common.js';
import { policyRule } from './define.js';

/** Host paths that are, or contain, the Docker socket. */
export const DOCKER_SOCKET_PATHS: readonly string[] = [
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/var/run',
  '/run',
];

/** True when an absolute host path is the Docker socket or its directory. */
export function isDockerSocketPath(source: string): boolean {
  if (!source.startsWith('/')) return false;
  return DOCKER_SOCKET_PATHS.includes(path.posix.normalize(source).replace(/(.)\/$/, '$1'));
}

/** The `policy/docker-socket` rule, as described above. */
export const dockerSocket = policyRule(
  'docker-socket',
  'a bind mount of the Docker socket or its directory',
  (ctx) => {
    for (const t of agentTargets(ctx)) {
      if (!t.container) continue;
      for (const m of bindMounts(t)) {
        if (!isDockerSocketPath(m.source)) continue;
        const what = m.source.endsWith('docker.sock')
          ? `the Docker socket (${JSON.stringify(m.source)}),`
          : `${JSON.stringify(m.source)}, the directory of the Docker socket,`;
        ctx.report({
          at: m.at,
          message: `${t.subject} mounts ${what} which gives it control of the engine and the host; remove the mount`,
        });
      }
    }
  },
);
