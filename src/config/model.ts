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

/** One environment variable of an agent. `from: env` reads the runner's environment at run time. */
export type EnvVar = { name: string; value: string } | { name: string; from: 'env' };

/** A bind mount; `source` is absolute (resolved against the file's directory). */
export interface VolumeMount {
  type: 'bind';
  source: string;
  target: string;
  readOnly: boolean;
}

/** What a health check probes. Ports are the container's (or the process service's) ports. */
export type ProbeSpec =
  | { kind: 'http'; path: string; port: number; status: number }
  | { kind: 'tcp'; port: number }
  | { kind: 'command'; command: string[] };

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

/** An image to build before the agent runs (`docker build`). */
export interface BuildSpec {
  /** Absolute path of the build context. */
  context: string;
  /** Dockerfile path relative to the context (default `Dockerfile`). */
  dockerfile: string;
  /** `--build-arg` values. */
  args: Record<string, string>;
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
  resources: { limits: ResourceLimits };
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

/** One step of a workflow. */
export interface StepSpec {
  id: string;
  source: SourceRef;
  /** `container` when `image` is set, `approval` for an approval gate, otherwise a local `process`. */
  kind: 'process' | 'container' | 'approval';
  /** Set for `kind: 'approval'`: the step runs nothing and waits for a decision. */
  approval?: ApprovalSpec;
  /** argv. `run: "..."` becomes `['sh', '-c', '...']`; `command: [...]` is kept as is. */
  command: string[];
  image?: string;
  /** Step ids and service names, sorted, deduplicated. */
  needs: string[];
  /** Workflow `env` merged with the step's own `env` (the step wins). */
  env: Record<string, string>;
  /** For process steps: absolute path (default: the workflow file's directory). For containers: as given. */
  workdir?: string;
  timeoutMs?: number;
  retry: RetryPolicy;
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
  /** Steps at once; default: CPU count (`os.availableParallelism()`). */
  concurrency: number;
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
