/**
 * The composition root: the real adapters behind the runner's ports, wired
 * in one place. Local processes through execa, the Docker engine
 * (DOCKER_HOST or the default socket) through dockerode, connected lazily so
 * a workflow of process steps never touches Docker, and the SQLite state
 * store. The CLI and the library entry point use these; `run/` never
 * imports an adapter.
 */

import { killLeftoverGroup, ProcessExecutor } from './executors/process.js';
import type { Executors } from './executors/types.js';
import { SqliteStateStore } from './store/sqlite-state-store.js';
import type { StateStore } from './store/types.js';

/** Executors backed by real processes and the real Docker engine. */
export function defaultExecutors(options: { env?: NodeJS.ProcessEnv } = {}): Executors {
  const processes = new ProcessExecutor({ baseEnv: options.env ?? process.env });
  return {
    process: processes,
    processServices: processes,
    // dockerode is loaded only for plans that use Docker.
    docker: async () => new (await import('./executors/docker.js')).DockerEngine(),
    processes: {
      killGroup: (pgid, runId) => {
        killLeftoverGroup(pgid, runId);
      },
      // Leftovers of a run that ended or was killed: nobody waits for them, SIGKILL at once.
      sweep: async (runId, stepId) => {
        const { sweepRunProcesses } = await import('./executors/sweep.js');
        const result = await sweepRunProcesses({
          runId,
          ...(stepId !== undefined ? { stepId } : {}),
        });
        return {
          killed: result.processes
            .filter((p) => p.outcome === 'killed' || p.outcome === 'exited')
            .map((p) => ({ pid: p.pid, command: p.command })),
        };
      },
    },
  };
}

/**
 * Opens the state store at `location`: a SQLite file path (created when
 * missing).
 * @throws StoreError when it cannot be opened (exit 4).
 */
export function openStateStore(location: string): StateStore {
  return SqliteStateStore.open({ path: location });
}
