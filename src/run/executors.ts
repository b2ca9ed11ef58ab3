/**
 * The default executors for `agent run`: local processes through execa, and
 * the Docker engine (DOCKER_HOST or the default socket) through dockerode,
 * connected lazily so a workflow of process steps never touches Docker.
 */

import { killLeftoverGroup, ProcessExecutor } from '../executors/process.js';
import type { Executors } from './runner.js';

/** Executors backed by real processes and the real Docker engine. */
export function defaultExecutors(options: { env?: NodeJS.ProcessEnv } = {}): Executors {
  const processes = new ProcessExecutor({ baseEnv: options.env ?? process.env });
  return {
    process: processes,
    processServices: processes,
    // dockerode is loaded only for plans that use Docker.
    docker: async () => new (await import('../executors/docker.js')).DockerEngine(),
    killProcessGroup: (pgid, runId) => {
      killLeftoverGroup(pgid, runId);
    },
  };
}
