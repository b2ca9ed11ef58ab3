/**
 * The Docker side of the executors, through dockerode: the engine (networks,
 * images, leftovers), container steps ({@link DockerExecutor}) and
 * `runtime: docker` services ({@link DockerServiceRunner}). The code lives in
 * `docker/`, one module per concern; this module is the entry point the
 * runner loads lazily, so a workflow of process steps never loads dockerode.
 *
 * Every container and network carries the labels `agentfile.run` and
 * `agentfile.step` (see `types.ts`), so {@link DockerEngine.removeRunLeftovers}
 * can always find what an interrupted run left behind. Each run gets its own
 * bridge network `agentfile-<runId>`, on which services and container steps
 * are reachable by their name (a DNS alias), as in docker compose.
 */

export {
  DEFAULT_CONTAINER_SERVICE_GRACE_MS,
  DEFAULT_CONTAINER_STEP_GRACE_MS,
  LABEL_KIND,
} from './docker/containers.js';
export { DockerEngine, type DockerEngineOptions, runNetworkName } from './docker/engine.js';
export { buildContextHash, type ImageOptions } from './docker/images.js';
export {
  DockerServiceRunner,
  type DockerServiceRunnerOptions,
} from './docker/service-runner.js';
export { DockerExecutor, type DockerExecutorOptions } from './docker/step-executor.js';
