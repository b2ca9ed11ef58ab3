/**
 * What a container needs from the engine and the host before it is created:
 * the run's named volumes, free fixed host ports, and a create call that
 * survives a taken container name.
 */

import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type Dockerode from 'dockerode';
import type { AgentSpec, VolumeMount } from '../../config/model.js';
import { LABEL_RUN, ServiceStartError } from '../types.js';
import { statusOf } from './api.js';
import { LABEL_VOLUME, runVolumeName } from './create-options.js';
import type { DockerEngine } from './engine.js';

/**
 * Creates the engine volumes behind `volumes` of type `volume` that do not
 * exist yet: `agentfile-<run>-<name>` ({@link runVolumeName}), labelled
 * `agentfile.run` = `runId` and `agentfile.volume` = the name as written.
 * Volumes outlive the run (compose keeps named volumes too): they are not
 * among the leftovers `removeRunLeftovers` removes; `docker volume rm $(docker
 * volume ls -q --filter label=agentfile.run=<run>)` does.
 *
 * @throws EngineUnavailableError when the engine cannot be reached.
 * @throws the engine's error when it refuses the volume.
 */
export async function ensureRunVolumes(
  engine: DockerEngine,
  runId: string,
  volumes: VolumeMount[],
): Promise<void> {
  for (const v of volumes) {
    if (v.type !== 'volume') continue;
    const name = runVolumeName(runId, v.source);
    // Creating an existing volume with the same driver is a no-op in the engine.
    await engine.call(() =>
      engine.docker.createVolume({
        Name: name,
        Labels: { [LABEL_RUN]: runId, [LABEL_VOLUME]: v.source },
      }),
    );
  }
}

/** Resolves with the error code of binding `port` on all host interfaces (`EADDRINUSE`, ...), or undefined when the bind works. */
function bindCheck(port: number, protocol: 'tcp' | 'udp'): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.close();
        resolve(error.code ?? error.message);
      });
      socket.bind(port, () => socket.close(() => resolve(undefined)));
      return;
    }
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () =>
      server.close(() => resolve(undefined)),
    );
  });
}

/**
 * Checks that each fixed host port of a docker service (host port ≠ 0) is
 * free on this host, by binding it on all interfaces for an instant, so a
 * port in use is reported before anything starts, naming it. Only for a
 * local engine ({@link DockerEngine.containersReachable}): a remote engine
 * publishes on another host. A bind refused for another reason (EACCES for
 * a port below 1024) is left for the engine to judge.
 *
 * @throws ServiceStartError `service "web": host port 8080/tcp is already
 *   in use; free it, or publish another port (or 0 for any free one)`.
 */
export async function checkHostPorts(
  engine: DockerEngine,
  service: string,
  agent: AgentSpec,
): Promise<void> {
  if (!engine.containersReachable) return;
  for (const port of agent.ports) {
    if (port.host === 0) continue;
    if ((await bindCheck(port.host, port.protocol)) === 'EADDRINUSE') {
      throw new ServiceStartError(
        `service "${service}": host port ${port.host}/${port.protocol} is already in use; free it, or publish another port (or 0 for any free one)`,
      );
    }
  }
}

/**
 * `createContainer` with `options.name`; when the engine answers 409 (the
 * name is taken, e.g. by a container of an earlier attempt not yet
 * removed), creates it again without a name, letting the engine pick one.
 *
 * @throws EngineUnavailableError when the engine cannot be reached.
 * @throws the engine's error when it refuses the container.
 */
export async function createNamedContainer(
  engine: DockerEngine,
  options: Dockerode.ContainerCreateOptions,
): Promise<Dockerode.Container> {
  try {
    return await engine.call(() => engine.docker.createContainer(options));
  } catch (error) {
    if (options.name === undefined || statusOf(error) !== 409) throw error;
    const { name: _taken, ...unnamed } = options;
    return await engine.call(() => engine.docker.createContainer(unnamed));
  }
}
