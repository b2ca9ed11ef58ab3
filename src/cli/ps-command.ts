/**
 * `agent ps`: the containers agentfile started that are running now, found
 * by their labels (`agentfile.run`, `agentfile.step`, `agentfile.kind`) on
 * the Docker engine, as `docker compose ps` lists a project's. The health
 * column is the service's recorded status in the state store of FILE
 * (default `agent.yaml`'s), when that store knows the run; `-` otherwise.
 */

import { existsSync } from 'node:fs';
import type Dockerode from 'dockerode';
import { EngineUnavailableError, LABEL_RUN, LABEL_STEP } from '../executors/types.js';
import { formatTable } from '../report/status.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { openStore, statePathFor } from './state-store.js';

/** Options of `agent ps`. */
export interface PsOptions {
  state?: string;
  json?: boolean;
}

/** One row of `agent ps`. */
export interface PsRow {
  container: string;
  name: string;
  run: string;
  kind: string;
  image: string;
  /** Docker's own status text (`Up 3 seconds`). */
  state: string;
  /** `127.0.0.1:49153->8080/tcp`, comma-separated. */
  ports: string;
  /** The service's status in the store (`healthy`, `starting`, …), or `-`. */
  health: string;
}

function portsOf(c: Dockerode.ContainerInfo): string {
  // The engine lists a published port once per address family; show the IPv4 one.
  return c.Ports.filter((p) => p.PublicPort !== undefined && p.IP !== '::')
    .map(
      (p) =>
        `${p.IP === '0.0.0.0' || !p.IP ? '' : `${p.IP}:`}${p.PublicPort}->${p.PrivatePort}/${p.Type}`,
    )
    .filter((p, i, all) => all.indexOf(p) === i)
    .join(', ');
}

/**
 * The running containers agentfile started whose labels match `label`
 * (`agentfile.run`, or `agentfile.run=<id>` for one run's).
 * @throws EngineUnavailableError when the engine cannot be reached.
 */
export async function agentContainers(label: string): Promise<Dockerode.ContainerInfo[]> {
  const { DockerEngine } = await import('../executors/docker.js');
  const engine = new DockerEngine();
  return engine.call(() => engine.docker.listContainers({ filters: { label: [label] } }));
}

/**
 * Runs `agent ps`; resolves with the exit code.
 * @throws CliError (exit 4) when the Docker engine cannot be reached.
 */
export async function psCommand(file: string, opts: PsOptions, io: CliIo): Promise<number> {
  let containers: Dockerode.ContainerInfo[];
  try {
    containers = await agentContainers(LABEL_RUN);
  } catch (error) {
    if (error instanceof EngineUnavailableError)
      throw new CliError(error.message, ExitCode.unavailable, error.hint);
    throw error;
  }
  const statePath = statePathFor(file, opts.state, io);
  const health = new Map<string, string>();
  if (existsSync(statePath)) {
    const store = await openStore(statePath, { mustExist: true, cwd: io.cwd });
    try {
      for (const runId of new Set(containers.map((c) => c.Labels[LABEL_RUN] ?? ''))) {
        for (const s of await store.getSteps(runId)) health.set(`${runId}\0${s.id}`, s.status);
      }
    } finally {
      await store.close();
    }
  }
  const rows: PsRow[] = containers.map((c) => {
    const run = c.Labels[LABEL_RUN] ?? '';
    const name = c.Labels[LABEL_STEP] ?? '';
    return {
      container: c.Id.slice(0, 12),
      name,
      run,
      kind: c.Labels['agentfile.kind'] ?? '-',
      image: c.Image,
      state: c.Status,
      ports: portsOf(c),
      health: health.get(`${run}\0${name}`) ?? '-',
    };
  });
  rows.sort((a, b) => (a.run + a.name < b.run + b.name ? -1 : 1));
  if (opts.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return ExitCode.ok;
  }
  const table = formatTable(
    ['CONTAINER', 'NAME', 'KIND', 'RUN', 'IMAGE', 'STATUS', 'HEALTH', 'PORTS'],
    rows.map((r) => [r.container, r.name, r.kind, r.run, r.image, r.state, r.health, r.ports]),
  );
  for (const line of table) io.stdout.write(`${line}\n`);
  return ExitCode.ok;
}
