/**
 * The validated, normalized model: what `config` hands to `plan` and `run`.
 *
 * Everything here is already checked against the JSON Schemas in `schemas/`
 * and the semantic rules; units are converted (durations to ms, CPU to
 * nano-CPUs, memory to bytes), paths are absolute, short forms are expanded
 * (port strings to objects, `run:` strings to `sh -c` argv). Every object that
 * came from a file keeps a {@link SourceRef} so later stages can still cite
 * `file:line:col`.
 */

/** A position in a configuration file. `file` is as the user gave it; line and column are 1-based. */
export interface SourceRef {
  file: string;
  line: number;
  column: number;
}

/** One published port, compose style (`"8080:8080/tcp"`). */
export interface PortMapping {
  /** Port inside the container (or the port a process service listens on). */
  container: number;
  /** Port on the host; 0 means any free port, picked by the engine. */
  host: number;
  protocol: 'tcp' | 'udp';
}

/**
 * One environment variable of an agent. `from: env` reads the runner's
 * environment at run time; `from: secret` reads the run's secret `secretName`
 * (masked, never stored). A `value` may hold `${{ }}` expressions, rendered
 * when the service starts.
 */
export type EnvVar =
  | { name: string; value: string }
  | { name: string; from: 'env' }
  | { name: string; from: 'secret'; secretName: string };

/**
 * A mount of an agent's container. `bind`: `source` is an absolute host path
 * (resolved against the file's directory). `volume`: `source` is the volume's
 * name as written; the engine volume is `agentfile-<run>-<name>`, created on
 * demand, labelled `agentfile.run`/`agentfile.volume`, and kept after the run
 * (compose keeps named volumes too). `tmpfs`: `source` is empty, the mount
 * lives in memory and goes with the container.
 */
export interface VolumeMount {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string;
  target: string;
  readOnly: boolean;
}

/**
 * What a health check probes. Ports are the container's (or the process service's) ports.
 *
 * - `file`: ok when `path` exists (`test -f`, inside the container, or on the
 *   host in the service's working directory for a process service);
 * - `log`: ok once a line of the service's output (stdout or stderr, masked)
 *   matches `pattern`, a JavaScript regular expression (checked at lint);
 *   the match is kept, so the probe keeps passing after it.
 */
export type ProbeSpec =
  | { kind: 'http'; path: string; port: number; status: number }
  | { kind: 'tcp'; port: number }
  | { kind: 'command'; command: string[] }
  | { kind: 'file'; path: string }
  | { kind: 'log'; pattern: string };

/**
 * A health check with docker compose semantics: probes run every `intervalMs`
 * (the first one right after start); a probe that takes longer than
 * `timeoutMs` fails; failures during `startPeriodMs` do not count; `retries`
 * consecutive failures after it make the service unhealthy. One success makes
 * it healthy.
 *
 * Defaults when a field is omitted (see docs/file-format.md): interval 5s,
 * timeout 3s, retries 3, startPeriod 0s. Compose's own defaults (30s, 30s)
 * suit long-running production services, not a runner waiting on them.
 */
export interface HealthCheck {
  probe: ProbeSpec;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

/** Resource limits, converted from Kubernetes quantities. */
export interface ResourceLimits {
  /** CPU limit in nano-CPUs (`"1"` → 1e9, `"500m"` → 5e8), Docker's `NanoCpus`. */
  nanoCpus?: number;
  /** Memory limit in bytes (`"512Mi"` → 536870912), Docker's `Memory`. */
  memoryBytes?: number;
}

/**
 * Resource requests, converted from Kubernetes quantities: what the container
 * is guaranteed under contention rather than a bound.
 */
export interface ResourceRequests {
  /** CPU request in nano-CPUs; Docker's `CpuShares` = nano-CPUs × 1024 / 1e9 (Kubernetes' mapping). */
  nanoCpus?: number;
  /** Memory request in bytes, Docker's `MemoryReservation` (a soft limit). */
  memoryBytes?: number;
}

/**
 * How an agent's container runs, Kubernetes `securityContext` style. Every
 * field is off unless written; capabilities are Linux capability names
 * without the `CAP_` prefix (`CHOWN`, `NET_ADMIN`) or `ALL`.
 */
export interface SecuritySpec {
  /** Numeric uid the container runs as (Docker's `User`); undefined: the image's user. */
  runAsUser?: number;
  /** Numeric gid (`User` "uid:gid"); undefined: the user's primary group. */
  runAsGroup?: number;
  /** Mount the root filesystem read-only (`ReadonlyRootfs`). */
  readOnlyRootFilesystem: boolean;
  /** Capabilities added to (`CapAdd`) and dropped from (`CapDrop`) Docker's default set. */
  capabilities: { add: string[]; drop: string[] };
  /** Full access to the host's devices (`Privileged`). */
  privileged: boolean;
  /** `SecurityOpt: no-new-privileges`: setuid binaries cannot gain privileges. */
  noNewPrivileges: boolean;
}

/**
 * The network of an agent's container. `bridge` (the default): the run's own
 * network, reachable by the service name and `aliases`. `host`: the host's
 * network stack. `none`: a loopback interface only. `dns`: name servers
 * (IP addresses) for the container's `/etc/resolv.conf`.
 */
export interface NetworkSpec {
  mode: 'bridge' | 'host' | 'none';
  /** Extra DNS names on the run network, besides the service name (bridge only). */
  aliases: string[];
  dns: string[];
}

/** When to pull an agent's image (compose's `pull_policy`): see {@link AgentSpec.pull}. */
export type PullPolicy = 'always' | 'missing' | 'never';

/** An image to build before the agent runs (`docker build`). */
export interface BuildSpec {
  /** Absolute path of the build context. */
  context: string;
  /** Dockerfile path relative to the context (default `Dockerfile`). */
  dockerfile: string;
  /** `--build-arg` values. */
  args: Record<string, string>;
  /** Stage of a multi-stage Dockerfile to build (`--target`); undefined: the last one. */
  target?: string;
  /**
   * Generated files added to the context in memory, by posix path relative
   * to it → text; they replace same-named files of the context, which is
   * read and never written. Set for agent.dev/v1 agents (the generated
   * Dockerfile, config file and manifest; src/agentdev/context.ts).
   */
  files?: Record<string, string>;
}

/**
 * The descriptive fields of a document's `metadata` besides `name`, as
 * written: agentfile does not act on them, it keeps them for tools and
 * reports (`agent plan --format json`, the library API). Each is set only
 * when the file sets it.
 */
export interface DocumentMetadata {
  /** Free-form version; a number keeps its spelling in the file (`1.10`). */
  version?: string;
  description?: string;
  /** Label values as text (numbers as written, booleans `true`/`false`). */
  labels?: Record<string, string>;
}

/** A validated `kind: Agent` document. */
export interface AgentSpec {
  kind: 'Agent';
  name: string;
  /** Absolute path of the file the document came from. */
  path: string;
  source: SourceRef;
  /** `docker` when `image` or `build` is set (the default), `process` for a local process. */
  runtime: 'docker' | 'process';
  /**
   * The document's `metadata` besides `name`, when it sets any; undefined
   * for an inline service (which has no metadata) and a document without it.
   */
  metadata?: DocumentMetadata;
  /** Image reference; for `build`, the tag the built image gets (`agentfile/<name>:<hash>` when not given). */
  image?: string;
  build?: BuildSpec;
  /** argv; a `command:` string becomes `['sh', '-c', string]`. Undefined: the image's default command. */
  command?: string[];
  workdir?: string;
  ports: PortMapping[];
  environment: EnvVar[];
  volumes: VolumeMount[];
  healthCheck?: HealthCheck;
  resources: { limits: ResourceLimits; requests?: ResourceRequests };
  /**
   * `always`: pull before every start; `missing` (the default when undefined):
   * pull when the image is not present locally; `never`: use the local image
   * only, failing before anything starts when it is absent.
   */
  pull?: PullPolicy;
  security?: SecuritySpec;
  /** Undefined: `bridge` on the run network, no extra aliases, the engine's DNS. */
  network?: NetworkSpec;
  /**
   * Run an init process as PID 1 (Docker's `--init`, `HostConfig.Init`) that
   * forwards signals and reaps zombies. Undefined: true.
   */
  init?: boolean;
  /**
   * ms between the stop signal and SIGKILL when the service stops
   * (compose's `stop_grace_period`). Undefined: 10 000 (10 s).
   */
  stopGracePeriodMs?: number;
  /** What happens when the agent, run as a service, exits or turns unhealthy. Default `{ policy: 'no' }`. */
  restart?: RestartPolicySpec;
  /**
   * As a service: how many containers (or processes) run behind its name;
   * undefined means 1. All join the run network with the service name as
   * alias (Docker's embedded DNS answers with every replica) and
   * `<name>-<i>` (1-based) each; the service is healthy when every replica
   * is. A process agent with ports cannot have more than 1 (lint error
   * `agent/replicas`): its port is fixed.
   */
  replicas?: number;
}

/**
 * A service's restart policy, after docker compose's `restart: on-failure[:max-retries]`:
 *
 * - `no` (the default): a service that exits or turns unhealthy while steps
 *   need it fails the run;
 * - `on-failure`: it is stopped and started again, as a new attempt, at most
 *   `maxRetries` times in a run session (default 3, see
 *   {@link RESTART_DEFAULTS} in `normalize.ts`). Unlike Docker, which restarts
 *   only exited containers, turning unhealthy also counts as a failure
 *   (Kubernetes' liveness probe); an exit with code 0 does not (Docker).
 */
export interface RestartPolicySpec {
  policy: 'no' | 'on-failure';
  /** Restarts allowed after the first attempt; 0 with `on-failure` restarts nothing. */
  maxRetries: number;
}

/** Retry policy of a step. Backoff: initial × factor^(attempt-1), capped at max, with jitter. */
export interface RetryPolicy {
  /** Total attempts including the first; 1 means no retry. */
  maxAttempts: number;
  backoff: { initialMs: number; factor: number; maxMs: number };
}

/** An approval step's gate: the run waits for `agent approve` (docs/execution.md). */
export interface ApprovalSpec {
  /** Shown by `agent status` and in the run's events. */
  message: string;
  /** Who may approve or reject (`agent approve --as`, default the OS user); empty: anyone. */
  approvers: string[];
}

/**
 * A matrix as written: each key's values (a list, or an expression that gives
 * one), plus GitHub Actions' `include` and `exclude`. Expanded by the plan
 * compiler (`plan/matrix.ts`), which needs the run's inputs for expressions.
 */
export interface MatrixSpec {
  axes: Record<string, MatrixValue[] | string>;
  include: Record<string, MatrixValue>[];
  exclude: Record<string, MatrixValue>[];
  /** At most this many combinations at once. */
  maxParallel?: number;
}

/** A matrix value: what a YAML or JSON scalar, list or map gives. */
export type MatrixValue =
  | null
  | boolean
  | number
  | string
  | MatrixValue[]
  | { [key: string]: MatrixValue };

/** A step expanded from a matrix: the step it came from and its combination. */
export interface MatrixCombination {
  /** Id of the step as written (`test`), which `needs: [test]` names for every combination. */
  group: string;
  /** The combination, key → value, as `${{ matrix.KEY }}` reads it. */
  values: Record<string, MatrixValue>;
  maxParallel?: number;
}

/** A declared input of a workflow (`spec.inputs.NAME`). */
export interface InputSpec {
  name: string;
  source: SourceRef;
  type: 'string' | 'number' | 'boolean' | 'choice';
  description?: string;
  /** As written; coerced to `type` when a run uses it. */
  default?: string | number | boolean;
  required: boolean;
  /** Allowed values of a `choice` input. */
  options?: Array<string | number | boolean>;
}

/**
 * One step of a workflow.
 *
 * Strings of `command`, `env`, `image`, `workdir` and `timeoutExpr` may hold
 * `${{ }}` expressions; the runner renders them when the step starts
 * (`run/resolve.ts`), with the step's contexts (docs/expressions.md).
 */
export interface StepSpec {
  id: string;
  source: SourceRef;
  /** `container` when `image` is set, `approval` for an approval gate, otherwise a local `process`. */
  kind: 'process' | 'container' | 'approval';
  /** Set for `kind: 'approval'`: the step runs nothing and waits for a decision. */
  approval?: ApprovalSpec;
  /** argv. `run: "..."` becomes `['sh', '-c', '...']`; `command: [...]` is kept as is. */
  command: string[];
  /**
   * True when `command` came from `run:`: its expressions reach the script as
   * environment variables, never as script text (`run/resolve.ts`).
   */
  script?: boolean;
  image?: string;
  /** Step ids and service names, sorted, deduplicated. */
  needs: string[];
  /** Workflow `env` merged with the step's own `env` (the step wins). */
  env: Record<string, string>;
  /**
   * For process steps: absolute path (default: the workflow file's directory),
   * or as written when it holds an expression (resolved against the file's
   * directory once rendered). For containers: as given.
   */
  workdir?: string;
  timeoutMs?: number;
  /** A `timeout` given as an expression; rendered, then parsed as a duration. */
  timeoutExpr?: string;
  retry: RetryPolicy;
  /** `if:` as written (with or without `${{ }}`); undefined: `success()`. */
  if?: string;
  /** Keys the step must write to `$AGENT_OUTPUT`; undefined: none declared (any key allowed). */
  outputs?: string[];
  /** A failure is recorded, but counts as success for dependants and the run. */
  continueOnError: boolean;
  /** The matrix as written; set only before expansion (the plan compiler expands it). */
  matrix?: MatrixSpec;
  /** Set on a step the plan compiler expanded from a matrix. */
  combination?: MatrixCombination;
}

/** A service a workflow's steps may need: an Agent run for the length of the steps that need it. */
export interface ServiceSpec {
  name: string;
  source: SourceRef;
  agent: AgentSpec;
}

/** A validated `kind: Workflow` document. */
export interface WorkflowSpec {
  kind: 'Workflow';
  name: string;
  /** Absolute path of the file the document came from. */
  path: string;
  source: SourceRef;
  /** The document's `metadata` besides `name`, when it sets any. */
  metadata?: DocumentMetadata;
  /** Steps at once; default: CPU count (`os.availableParallelism()`). */
  concurrency: number;
  /** After a failure, start no new steps (true, the default) or let independent branches go on. */
  failFast: boolean;
  /** Declared inputs, in file order. */
  inputs: Record<string, InputSpec>;
  /** Declared secrets, plus every `secretName` its services read, sorted. */
  secrets: string[];
  /** The workflow env and `defaults.env` merged; values may hold expressions. */
  env: Record<string, string>;
  /** Keyed by service name, in file order. */
  services: Record<string, ServiceSpec>;
  /** Keyed by step id, in file order. */
  steps: Record<string, StepSpec>;
}

/** Everything one configuration file holds, after validation. */
export interface Project {
  /** The file as the user named it. */
  file: string;
  /** Absolute path. */
  path: string;
  agents: AgentSpec[];
  workflows: WorkflowSpec[];
}
