/**
 * Pure translation of a resolved Agent spec (services) and of a container
 * step's attempt (steps) to dockerode's `createContainer` options, the way
 * docker compose's converter turns a service into a container config. No
 * engine is involved: what comes in is the spec plus the run context (run id,
 * network, resolved environment, image), what goes out is the options object.
 */

import { createHash } from 'node:crypto';
import type Dockerode from 'dockerode';
import type {
  AgentSpec,
  NetworkSpec,
  ResourceRequests,
  SecuritySpec,
  VolumeMount,
} from '../../config/model.js';
import { CONTAINER_OUTPUT_PATH, LABEL_RUN, LABEL_STEP } from '../types.js';
import { LABEL_KIND, toEnvList } from './containers.js';

/** Label of a named volume agentfile created: the volume's name as the agent wrote it. */
export const LABEL_VOLUME = 'agentfile.volume';

/** `init` when an agent does not say: true, so PID 1 (docker-init) forwards signals and reaps zombies. */
export const DEFAULT_INIT = true;

/** `stopGracePeriod` when an agent does not say, in ms: 10 s, compose's `stop_grace_period` default. */
export const DEFAULT_STOP_GRACE_PERIOD_MS = 10_000;

/** CPU shares per CPU for `resources.requests.cpu`: 1024, Kubernetes' mapping of requests to `--cpu-shares`. */
export const CPU_SHARES_PER_CPU = 1024;

/** Container names are at most this many characters (a DNS label's length, kept for readability). */
export const MAX_CONTAINER_NAME_LENGTH = 63;

/**
 * A readable container name made of `parts`, joined by `-`: each part's
 * runs of characters outside `[a-zA-Z0-9_.-]` become one `-` (none at a
 * part's ends; empty parts are dropped); a name longer than
 * {@link MAX_CONTAINER_NAME_LENGTH} is cut and ends with `-` and the first 8
 * hex digits of the SHA-256 of the full name, so names stay distinct.
 * E.g. `containerName('agentfile', 'r1', 'web')` → `agentfile-r1-web`.
 */
export function containerName(...parts: Array<string | number>): string {
  const full = parts
    .map((p) =>
      String(p)
        .replace(/[^a-zA-Z0-9_.-]+/g, '-')
        .replace(/^-+|-+$/g, ''),
    )
    .filter((p) => p !== '')
    .join('-')
    .replace(/^[^a-zA-Z0-9]+/, '');
  if (full.length <= MAX_CONTAINER_NAME_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_CONTAINER_NAME_LENGTH - hash.length - 1)}-${hash}`;
}

/** Container name of a service: `agentfile-<run>-<service>` (see {@link containerName}). */
export function serviceContainerName(runId: string, service: string): string {
  return containerName('agentfile', runId, service);
}

/** Container name of a step attempt: `agentfile-<run>-<step>-<attempt>` (see {@link containerName}). */
export function stepContainerName(runId: string, stepId: string, attempt: number): string {
  return containerName('agentfile', runId, stepId, attempt);
}

/**
 * Name of the engine volume behind a named volume `source` of a run:
 * `agentfile-<run>-<source>` (see {@link containerName}), so two runs never
 * share one.
 */
export function runVolumeName(runId: string, source: string): string {
  return containerName('agentfile', runId, source);
}

/**
 * `User` of `security`: `"uid"`, `"uid:gid"`, or `"0:gid"` for a group
 * alone (the engine needs a user to pair a group with); undefined when
 * neither is set (the image's user).
 */
export function userOf(security: SecuritySpec | undefined): string | undefined {
  if (security?.runAsUser === undefined) {
    return security?.runAsGroup === undefined ? undefined : `0:${security.runAsGroup}`;
  }
  return security.runAsGroup === undefined
    ? String(security.runAsUser)
    : `${security.runAsUser}:${security.runAsGroup}`;
}

/** HostConfig fields of `security`: ReadonlyRootfs, CapAdd, CapDrop, Privileged, SecurityOpt. */
export function securityHostConfig(security: SecuritySpec | undefined): Dockerode.HostConfig {
  if (security === undefined) return {};
  const host: Dockerode.HostConfig = {};
  if (security.readOnlyRootFilesystem) host.ReadonlyRootfs = true;
  if (security.capabilities.add.length > 0) host.CapAdd = [...security.capabilities.add];
  if (security.capabilities.drop.length > 0) host.CapDrop = [...security.capabilities.drop];
  if (security.privileged) host.Privileged = true;
  if (security.noNewPrivileges) host.SecurityOpt = ['no-new-privileges:true'];
  return host;
}

/**
 * HostConfig fields of `resources`: limits → NanoCpus (nano-CPUs) and Memory
 * (bytes); requests → CpuShares (nano-CPUs × 1024 / 1e9, at least 2, the
 * engine's minimum, as Kubernetes' `MilliCPUToShares`) and
 * MemoryReservation (bytes).
 */
export function resourcesHostConfig(resources: AgentSpec['resources']): Dockerode.HostConfig {
  const host: Dockerode.HostConfig = {};
  const { nanoCpus, memoryBytes } = resources.limits;
  if (nanoCpus !== undefined) host.NanoCpus = nanoCpus;
  if (memoryBytes !== undefined) host.Memory = memoryBytes;
  const requests: ResourceRequests = resources.requests ?? {};
  if (requests.nanoCpus !== undefined) {
    host.CpuShares = Math.max(2, Math.round((requests.nanoCpus * CPU_SHARES_PER_CPU) / 1e9));
  }
  if (requests.memoryBytes !== undefined) host.MemoryReservation = requests.memoryBytes;
  return host;
}

/**
 * An agent's volumes for HostConfig: bind mounts as `Binds`
 * (`source:target[:ro]`, as before: the engine creates a missing source
 * directory, as `docker run -v` does); named volumes as `Mounts` of the
 * run's engine volume {@link runVolumeName} (made by the caller beforehand);
 * tmpfs as `Mounts` of type tmpfs (no source, the engine's default size:
 * half the host's memory).
 */
export function volumeHostConfig(runId: string, volumes: VolumeMount[]): Dockerode.HostConfig {
  const binds = volumes
    .filter((v) => v.type === 'bind')
    .map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
  const mounts = volumes.flatMap((v): Dockerode.MountSettings[] => {
    if (v.type === 'tmpfs') return [{ Type: 'tmpfs', Source: '', Target: v.target }];
    if (v.type !== 'volume') return [];
    return [
      {
        Type: 'volume',
        Source: runVolumeName(runId, v.source),
        Target: v.target,
        ReadOnly: v.readOnly,
      },
    ];
  });
  return { Binds: binds, ...(mounts.length > 0 ? { Mounts: mounts } : {}) };
}

/**
 * The network part of a container: `NetworkMode` and, on the run network,
 * its endpoint with `aliases` (the service name or step id first). `host`
 * and `none` leave the run network (no endpoint, no aliases). `dns` →
 * HostConfig.Dns.
 */
export function networkOptions(
  runNetwork: string,
  aliases: string[],
  spec: NetworkSpec | undefined,
): Pick<Dockerode.ContainerCreateOptions, 'NetworkingConfig'> & { host: Dockerode.HostConfig } {
  const mode = spec?.mode ?? 'bridge';
  const host: Dockerode.HostConfig = {};
  if (spec !== undefined && spec.dns.length > 0) host.Dns = [...spec.dns];
  if (mode !== 'bridge') return { host: { ...host, NetworkMode: mode } };
  const all = [...new Set([...aliases, ...(spec?.aliases ?? [])])];
  return {
    host: { ...host, NetworkMode: runNetwork },
    NetworkingConfig: { EndpointsConfig: { [runNetwork]: { Aliases: all } } },
  };
}

/** What {@link serviceCreateOptions} needs besides the agent. */
export interface ServiceCreateContext {
  runId: string;
  /** Service name: label `agentfile.step`, first network alias, part of the container name. */
  name: string;
  /** The image to run (after `ensureImage`: the agent's image or the built tag). */
  image: string;
  /** The run network's name. */
  network: string;
  /** The service's environment, resolved for this run. */
  env: Record<string, string>;
  /**
   * More DNS aliases on the run network (`<name>-<i>` for replica i of
   * several); the first also names the container, so replicas do not clash.
   */
  aliases?: string[];
}

/**
 * `createContainer` options of a docker service, compose style: labels
 * (`agentfile.run`, `agentfile.step` = service name, `agentfile.kind` =
 * `service`, `agentfile.agent`), the name {@link serviceContainerName},
 * published ports on all host interfaces (host port 0 → engine's pick), the
 * volumes ({@link volumeHostConfig}), limits and requests, security, network, `Init`
 * (default {@link DEFAULT_INIT}) and `StopTimeout` (whole seconds of
 * `stopGracePeriodMs`, rounded up; default {@link DEFAULT_STOP_GRACE_PERIOD_MS}).
 */
export function serviceCreateOptions(
  agent: AgentSpec,
  ctx: ServiceCreateContext,
): Dockerode.ContainerCreateOptions {
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of agent.ports) {
    const key = `${port.container}/${port.protocol}`;
    exposedPorts[key] = {};
    const bindings = portBindings[key] ?? [];
    bindings.push({ HostIp: '', HostPort: port.host === 0 ? '' : String(port.host) });
    portBindings[key] = bindings;
  }
  const net = networkOptions(ctx.network, [ctx.name, ...(ctx.aliases ?? [])], agent.network);
  const user = userOf(agent.security);
  const graceMs = agent.stopGracePeriodMs ?? DEFAULT_STOP_GRACE_PERIOD_MS;
  return {
    name: serviceContainerName(ctx.runId, ctx.aliases?.[0] ?? ctx.name),
    Image: ctx.image,
    ...(agent.command !== undefined ? { Cmd: agent.command } : {}),
    ...(agent.workdir !== undefined ? { WorkingDir: agent.workdir } : {}),
    ...(user !== undefined ? { User: user } : {}),
    Env: toEnvList(ctx.env),
    Labels: {
      [LABEL_RUN]: ctx.runId,
      [LABEL_STEP]: ctx.name,
      [LABEL_KIND]: 'service',
      'agentfile.agent': agent.name,
    },
    ExposedPorts: exposedPorts,
    StopTimeout: Math.ceil(graceMs / 1000),
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: {
      ...net.host,
      PortBindings: portBindings,
      ...volumeHostConfig(ctx.runId, agent.volumes),
      ...resourcesHostConfig(agent.resources),
      ...securityHostConfig(agent.security),
      Init: agent.init ?? DEFAULT_INIT,
    },
    ...(net.NetworkingConfig ? { NetworkingConfig: net.NetworkingConfig } : {}),
  };
}

/** A container step's attempt, as {@link stepCreateOptions} reads it. */
export interface StepCreateSpec {
  runId: string;
  stepId: string;
  /** 1-based. */
  attempt: number;
  image: string;
  command: string[];
  workdir?: string;
  /** The step's environment, including `AGENT_OUTPUT` when it has an outputs file. */
  env: Record<string, string>;
  /** Absolute host path bind-mounted read-write at `/run/agent/output`. */
  outputFile?: string;
  /** The run network's name. */
  network: string;
  /** Limits and requests, mapped as {@link resourcesHostConfig} does. */
  resources?: AgentSpec['resources'];
  /** Mapped as {@link userOf} and {@link securityHostConfig} do. */
  security?: SecuritySpec;
}

/**
 * `createContainer` options of a container step's attempt (`docker run
 * --rm` semantics, without the removal): labels (`agentfile.run`,
 * `agentfile.step` = step id, `agentfile.kind` = `step`,
 * `agentfile.attempt`), the name {@link stepContainerName}, the run
 * network with the step id as alias, the outputs file as a bind Mount, and
 * `resources` and `security` when given. No init process: a step runs to
 * its end, and its exit code is its command's.
 */
export function stepCreateOptions(spec: StepCreateSpec): Dockerode.ContainerCreateOptions {
  const user = userOf(spec.security);
  return {
    name: stepContainerName(spec.runId, spec.stepId, spec.attempt),
    Image: spec.image,
    Cmd: spec.command,
    ...(user !== undefined ? { User: user } : {}),
    Env: toEnvList(spec.env),
    ...(spec.workdir !== undefined ? { WorkingDir: spec.workdir } : {}),
    Labels: {
      [LABEL_RUN]: spec.runId,
      [LABEL_STEP]: spec.stepId,
      [LABEL_KIND]: 'step',
      'agentfile.attempt': String(spec.attempt),
    },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: {
      NetworkMode: spec.network,
      // Mounts, not Binds: a missing source is an error, not a new directory.
      ...(spec.outputFile !== undefined
        ? {
            Mounts: [
              {
                Type: 'bind' as const,
                Source: spec.outputFile,
                Target: CONTAINER_OUTPUT_PATH,
                ReadOnly: false,
              },
            ],
          }
        : {}),
      ...(spec.resources !== undefined ? resourcesHostConfig(spec.resources) : {}),
      ...securityHostConfig(spec.security),
    },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { Aliases: [spec.stepId] } } },
  };
}

/**
 * Bytes as a Kubernetes quantity in the largest binary unit that divides
 * them: `33554432` → `32Mi`, `1024` → `1Ki`, `1500` → `1500`.
 */
export function formatBytes(bytes: number): string {
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];
  for (const [i, unit] of units.entries()) {
    const size = 1024 ** (units.length - i);
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** What to do about an image under a pull policy: use the local one, pull it, or fail. */
export type ImageAction = 'use' | 'pull' | 'fail';

/**
 * The pull decision (compose's `pull_policy`, Kubernetes' `imagePullPolicy`):
 * `always` pulls whether or not the image is present; `missing` (the
 * default) pulls only when absent; `never` uses the local image, and fails
 * when there is none.
 */
export function imageAction(policy: 'always' | 'missing' | 'never', present: boolean): ImageAction {
  if (policy === 'always') return 'pull';
  if (present) return 'use';
  return policy === 'never' ? 'fail' : 'pull';
}
