/**
 * Valid document data → the model in `model.ts`: units converted, paths made
 * absolute, short forms expanded, defaults filled in. Runs only on documents
 * that passed the schema and the rules, so it does not re-check them.
 */

import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { SourceDocument } from './load.js';
import type {
  AgentSpec,
  DocumentMetadata,
  EnvVar,
  HealthCheck,
  InputSpec,
  MatrixSpec,
  MatrixValue,
  PortMapping,
  ProbeSpec,
  RestartPolicySpec,
  RetryPolicy,
  SecuritySpec,
  ServiceSpec,
  SourceRef,
  StepSpec,
  VolumeMount,
  WorkflowSpec,
} from './model.js';
import { parseCpu, parseDuration, parseMemory, parsePortString } from './units.js';

/** Health check defaults (see docs/file-format.md): faster than compose's 30s, suited to a runner waiting on a service. */
export const HEALTH_CHECK_DEFAULTS = {
  intervalMs: 5000,
  timeoutMs: 3000,
  retries: 3,
  startPeriodMs: 0,
} as const;

/**
 * Restart defaults: no restart; with `policy: on-failure` and no
 * `maxRetries`, 3 restarts. Docker's `on-failure` without a count restarts
 * forever and Kubernetes always restarts (with backoff); a run that waits on
 * a crash-looping service should end, so the count is bounded.
 */
export const RESTART_DEFAULTS = { policy: 'no', maxRetries: 3 } as const;

/** Retry defaults: one attempt; backoff 1s, doubling, at most 30s (graphile-worker / GitHub Actions retry actions). */
export const RETRY_DEFAULTS: RetryPolicy = {
  maxAttempts: 1,
  backoff: { initialMs: 1000, factor: 2, maxMs: 30_000 },
};

type Raw = Record<string, unknown>;
type Path = readonly string[];

/** Where normalized values come from: the document (for positions and scalars as written) and its file. */
export interface NormalizeContext {
  doc: SourceDocument;
  /** The file as the user named it (for {@link SourceRef}). */
  file: string;
  /** Absolute path of the file. */
  path: string;
}

function obj(value: unknown): Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Raw) : {};
}

function sourceRef(ctx: NormalizeContext, at: Path, target: 'key' | 'value' = 'value'): SourceRef {
  const r = ctx.doc.locate(at, target);
  return { file: ctx.file, line: r.line, column: r.column };
}

/** A string, number or boolean as text; numbers keep the spelling they have in the file (`1.10`). */
function text(ctx: NormalizeContext, at: Path, value: unknown): string {
  if (typeof value === 'number') return ctx.doc.scalarSource(at) ?? String(value);
  return String(value);
}

function stringMap(ctx: NormalizeContext, at: Path, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(value))) out[k] = text(ctx, [...at, k], v);
  return out;
}

function argv(ctx: NormalizeContext, at: Path, value: unknown): string[] | undefined {
  if (typeof value === 'string') return ['sh', '-c', value];
  if (Array.isArray(value)) return value.map((v, i) => text(ctx, [...at, String(i)], v));
  return undefined;
}

function duration(value: unknown): number | undefined {
  return typeof value === 'string' ? parseDuration(value) : undefined;
}

function resolveFrom(ctx: NormalizeContext, p: string): string {
  return path.resolve(path.dirname(ctx.path), p);
}

function ports(value: unknown): PortMapping[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((p): PortMapping[] => {
    if (typeof p === 'number') return [{ container: p, host: 0, protocol: 'tcp' }];
    if (typeof p === 'string') {
      const parsed = parsePortString(p);
      return parsed ? [parsed] : [];
    }
    const o = obj(p);
    return [
      {
        container: Number(o.container),
        host: typeof o.host === 'number' ? o.host : 0,
        protocol: o.protocol === 'udp' ? 'udp' : 'tcp',
      },
    ];
  });
}

function environment(ctx: NormalizeContext, at: Path, value: unknown): EnvVar[] {
  if (!Array.isArray(value)) return [];
  return value.map((e, i): EnvVar => {
    const o = obj(e);
    const name = String(o.name);
    if (o.from === 'env') return { name, from: 'env' };
    if (o.from === 'secret')
      return {
        name,
        from: 'secret',
        secretName: typeof o.secretName === 'string' ? o.secretName : name,
      };
    return { name, value: text(ctx, [...at, String(i), 'value'], o.value) };
  });
}

function volumes(ctx: NormalizeContext, value: unknown): VolumeMount[] {
  if (!Array.isArray(value)) return [];
  return value.map((v): VolumeMount => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode] = v.split(':');
      return { type: 'bind', source: resolveFrom(ctx, source), target, readOnly: mode === 'ro' };
    }
    const o = obj(v);
    const target = String(o.target);
    const readOnly = o.readOnly === true;
    if (o.type === 'tmpfs') return { type: 'tmpfs', source: '', target, readOnly };
    if (o.type === 'volume') return { type: 'volume', source: String(o.source), target, readOnly };
    return { type: 'bind', source: resolveFrom(ctx, String(o.source)), target, readOnly };
  });
}

/**
 * The document's `metadata` besides `name` (version, description, labels),
 * read from the document itself; undefined when it sets none of them.
 */
function documentMetadata(ctx: NormalizeContext): DocumentMetadata | undefined {
  const m = obj(obj(ctx.doc.data).metadata);
  const out: DocumentMetadata = {};
  if (typeof m.version === 'string' || typeof m.version === 'number')
    out.version = text(ctx, ['metadata', 'version'], m.version);
  if (typeof m.description === 'string') out.description = m.description;
  if (m.labels !== undefined && m.labels !== null)
    out.labels = stringMap(ctx, ['metadata', 'labels'], m.labels);
  return Object.keys(out).length > 0 ? out : undefined;
}

function healthCheck(ctx: NormalizeContext, at: Path, value: unknown): HealthCheck | undefined {
  if (value === undefined || value === null) return undefined;
  const o = obj(value);
  let probe: ProbeSpec;
  if (o.http !== undefined) {
    const h = obj(o.http);
    probe = {
      kind: 'http',
      path: typeof h.path === 'string' ? h.path : '/',
      port: Number(h.port),
      status: typeof h.status === 'number' ? h.status : 200,
    };
  } else if (o.tcp !== undefined) {
    probe = { kind: 'tcp', port: Number(obj(o.tcp).port) };
  } else if (typeof o.file === 'string') {
    probe = { kind: 'file', path: o.file };
  } else if (o.log !== undefined) {
    probe = { kind: 'log', pattern: String(obj(o.log).pattern) };
  } else {
    probe = { kind: 'command', command: argv(ctx, [...at, 'command'], o.command) ?? [] };
  }
  return {
    probe,
    intervalMs: duration(o.interval) ?? HEALTH_CHECK_DEFAULTS.intervalMs,
    timeoutMs: duration(o.timeout) ?? HEALTH_CHECK_DEFAULTS.timeoutMs,
    retries: typeof o.retries === 'number' ? o.retries : HEALTH_CHECK_DEFAULTS.retries,
    startPeriodMs: duration(o.startPeriod) ?? HEALTH_CHECK_DEFAULTS.startPeriodMs,
  };
}

function restartPolicy(value: unknown): RestartPolicySpec | undefined {
  if (value === undefined || value === null) return undefined;
  const o = obj(value);
  return {
    policy: o.policy === 'on-failure' ? 'on-failure' : RESTART_DEFAULTS.policy,
    maxRetries: typeof o.maxRetries === 'number' ? o.maxRetries : RESTART_DEFAULTS.maxRetries,
  };
}

/**
 * Normalizes an Agent spec: a document's `spec` (at `specPath`) or an inline
 * service. `name` is the document's `metadata.name` or the service name.
 * Runtime defaults to `docker` when `image` or `build` is set, else `process`;
 * relative `build.context`, volume sources and process `workdir` are resolved
 * against the file's directory (a process agent's workdir defaults to it).
 * With `build` and no `image`, `image` stays undefined (the Docker executor
 * picks a tag). A document's own spec (`specPath` `['spec']`) also gets the
 * document's `metadata` (version, description, labels) when it sets any.
 */
export function normalizeAgent(
  ctx: NormalizeContext,
  options: { name: string; spec: unknown; specPath: Path; source: SourceRef },
): AgentSpec {
  const spec = obj(options.spec);
  const at = options.specPath;
  const runtime: AgentSpec['runtime'] =
    spec.runtime === 'docker' || spec.runtime === 'process'
      ? spec.runtime
      : spec.image !== undefined || spec.build !== undefined
        ? 'docker'
        : 'process';
  const agent: AgentSpec = {
    kind: 'Agent',
    name: options.name,
    path: ctx.path,
    source: options.source,
    runtime,
    ports: ports(spec.ports),
    environment: environment(ctx, [...at, 'environment'], spec.environment),
    volumes: volumes(ctx, spec.volumes),
    resources: { limits: {} },
  };
  // A document's own spec (not an inline service's) has the document's metadata beside it.
  const metadata = at.length === 1 && at[0] === 'spec' ? documentMetadata(ctx) : undefined;
  if (metadata) agent.metadata = metadata;
  if (typeof spec.image === 'string') agent.image = spec.image;
  if (spec.build !== undefined) {
    const b = obj(spec.build);
    agent.build = {
      context: resolveFrom(ctx, String(b.context)),
      dockerfile: typeof b.dockerfile === 'string' ? b.dockerfile : 'Dockerfile',
      args: stringMap(ctx, [...at, 'build', 'args'], b.args),
      ...(typeof b.target === 'string' ? { target: b.target } : {}),
    };
  }
  const command = argv(ctx, [...at, 'command'], spec.command);
  if (command) agent.command = command;
  if (typeof spec.workdir === 'string') {
    agent.workdir = runtime === 'process' ? resolveFrom(ctx, spec.workdir) : spec.workdir;
  } else if (runtime === 'process') {
    agent.workdir = path.dirname(ctx.path);
  }
  const check = healthCheck(ctx, [...at, 'healthCheck'], spec.healthCheck);
  if (check) agent.healthCheck = check;
  agent.resources.limits = quantities(obj(spec.resources).limits);
  const requests = obj(obj(spec.resources).requests);
  if (Object.keys(requests).length > 0) agent.resources.requests = quantities(requests);
  containerFields(spec, agent);
  const restart = restartPolicy(spec.restart);
  if (restart) agent.restart = restart;
  if (typeof spec.replicas === 'number' && spec.replicas !== 1) agent.replicas = spec.replicas;
  return agent;
}

/** `{cpu, memory}` as Kubernetes quantities → nano-CPUs and bytes. */
function quantities(value: unknown): { nanoCpus?: number; memoryBytes?: number } {
  const o = obj(value);
  const out: { nanoCpus?: number; memoryBytes?: number } = {};
  if (typeof o.cpu === 'string' || typeof o.cpu === 'number') {
    const nanoCpus = parseCpu(o.cpu);
    if (nanoCpus !== undefined) out.nanoCpus = nanoCpus;
  }
  if (typeof o.memory === 'string' || typeof o.memory === 'number') {
    const memoryBytes = parseMemory(o.memory);
    if (memoryBytes !== undefined) out.memoryBytes = memoryBytes;
  }
  return out;
}

/**
 * The container fields of an Agent spec, set on `agent` only when written
 * (the model documents each default: pull `missing`, init true, stop grace
 * 10 s, bridge network): `pull`, `security` (capabilities upper-cased,
 * without `CAP_`), `network`, `init`, `stopGracePeriod` (→ ms).
 */
function containerFields(spec: Raw, agent: AgentSpec): void {
  if (spec.pull === 'always' || spec.pull === 'missing' || spec.pull === 'never') {
    agent.pull = spec.pull;
  }
  if (spec.security !== undefined && spec.security !== null) {
    const s = obj(spec.security);
    const caps = obj(s.capabilities);
    const names = (list: unknown): string[] =>
      Array.isArray(list) ? list.map((c) => String(c).toUpperCase().replace(/^CAP_/, '')) : [];
    const security: SecuritySpec = {
      readOnlyRootFilesystem: s.readOnlyRootFilesystem === true,
      capabilities: { add: names(caps.add), drop: names(caps.drop) },
      privileged: s.privileged === true,
      noNewPrivileges: s.noNewPrivileges === true,
    };
    if (typeof s.runAsUser === 'number') security.runAsUser = s.runAsUser;
    if (typeof s.runAsGroup === 'number') security.runAsGroup = s.runAsGroup;
    agent.security = security;
  }
  if (spec.network !== undefined && spec.network !== null) {
    const n = obj(spec.network);
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
    agent.network = {
      mode: n.mode === 'host' || n.mode === 'none' ? n.mode : 'bridge',
      aliases: list(n.aliases),
      dns: list(n.dns),
    };
  }
  if (typeof spec.init === 'boolean') agent.init = spec.init;
  const grace = duration(spec.stopGracePeriod);
  if (grace !== undefined) agent.stopGracePeriodMs = grace;
}

function retry(value: unknown): RetryPolicy {
  const o = obj(value);
  const b = obj(o.backoff);
  return {
    maxAttempts: typeof o.maxAttempts === 'number' ? o.maxAttempts : RETRY_DEFAULTS.maxAttempts,
    backoff: {
      initialMs: duration(b.initial) ?? RETRY_DEFAULTS.backoff.initialMs,
      factor: typeof b.factor === 'number' ? b.factor : RETRY_DEFAULTS.backoff.factor,
      maxMs: duration(b.max) ?? RETRY_DEFAULTS.backoff.maxMs,
    },
  };
}

function needs(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return [...new Set(list.filter((n): n is string => typeof n === 'string'))].sort();
}

function matrixValue(value: unknown): MatrixValue {
  if (
    value === null ||
    typeof value === 'boolean' ||
    typeof value === 'number' ||
    typeof value === 'string'
  )
    return value;
  if (Array.isArray(value)) return value.map(matrixValue);
  if (typeof value === 'object') {
    const out: Record<string, MatrixValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = matrixValue(v);
    return out;
  }
  return null;
}

function matrix(value: unknown): MatrixSpec | undefined {
  if (value === undefined || value === null) return undefined;
  const o = obj(value);
  const axes: MatrixSpec['axes'] = {};
  const combos = (v: unknown) =>
    Array.isArray(v) ? v.map((c) => obj(matrixValue(c)) as Record<string, MatrixValue>) : [];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'include' || k === 'exclude' || k === 'maxParallel') continue;
    axes[k] = typeof v === 'string' ? v : Array.isArray(v) ? v.map(matrixValue) : [];
  }
  const out: MatrixSpec = { axes, include: combos(o.include), exclude: combos(o.exclude) };
  if (typeof o.maxParallel === 'number') out.maxParallel = o.maxParallel;
  return out;
}

function inputs(ctx: NormalizeContext, value: unknown): Record<string, InputSpec> {
  const out: Record<string, InputSpec> = {};
  for (const [name, raw] of Object.entries(obj(value))) {
    const o = obj(raw);
    const type =
      o.type === 'number' || o.type === 'boolean' || o.type === 'choice' ? o.type : 'string';
    const input: InputSpec = {
      name,
      source: sourceRef(ctx, ['spec', 'inputs', name], 'key'),
      type,
      required: o.required === true,
    };
    if (typeof o.description === 'string') input.description = o.description;
    if (
      typeof o.default === 'string' ||
      typeof o.default === 'number' ||
      typeof o.default === 'boolean'
    )
      input.default = o.default;
    if (Array.isArray(o.options))
      input.options = o.options.filter(
        (x): x is string | number | boolean =>
          typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean',
      );
    out[name] = input;
  }
  return out;
}

const EXPRESSION = /\$\{\{/;

/** Whether a string holds a `${{ }}` expression (rendered at run time). */
export function hasExpression(value: string): boolean {
  return EXPRESSION.test(value);
}

/**
 * Normalizes a Workflow document. `resolveService` turns a service entry into
 * its agent (a `uses:` reference, already checked, or an inline spec).
 *
 * - concurrency defaults to `os.availableParallelism()`, `failFast` to true;
 * - each step's env is the workflow `env`, then `defaults.env`, then its own;
 * - `defaults.image`, `workdir`, `timeout` and `retry` apply to every step
 *   that does not set its own (`image: null` keeps a step a local process);
 * - `run:` becomes `['sh', '-c', run]`; needs are sorted and deduplicated;
 * - a process step's workdir is absolute and defaults to the file's
 *   directory, unless it holds an expression (resolved once rendered);
 * - `timeout` with an expression is kept in `timeoutExpr`;
 * - `secrets` is the declared list plus every `secretName` a service reads.
 */
export function normalizeWorkflow(
  ctx: NormalizeContext,
  options: {
    name: string;
    spec: unknown;
    source: SourceRef;
    resolveService: (name: string, entry: unknown) => AgentSpec;
  },
): WorkflowSpec {
  const spec = obj(options.spec);
  const defaults = obj(spec.defaults);
  const env = {
    ...stringMap(ctx, ['spec', 'env'], spec.env),
    ...stringMap(ctx, ['spec', 'defaults', 'env'], defaults.env),
  };
  const services: Record<string, ServiceSpec> = {};
  const secrets = new Set(
    Array.isArray(spec.secrets)
      ? spec.secrets.filter((x): x is string => typeof x === 'string')
      : [],
  );
  for (const [name, entry] of Object.entries(obj(spec.services))) {
    const agent = options.resolveService(name, entry);
    for (const e of agent.environment) if ('secretName' in e) secrets.add(e.secretName);
    services[name] = { name, source: sourceRef(ctx, ['spec', 'services', name], 'key'), agent };
  }
  const steps: Record<string, StepSpec> = {};
  for (const [id, raw] of Object.entries(obj(spec.steps))) {
    const s = obj(raw);
    const at = ['spec', 'steps', id];
    const approval = s.approval === undefined ? undefined : obj(s.approval);
    const image =
      s.image === null
        ? undefined
        : typeof s.image === 'string'
          ? s.image
          : typeof defaults.image === 'string'
            ? defaults.image
            : undefined;
    const kind: StepSpec['kind'] = approval
      ? 'approval'
      : image !== undefined
        ? 'container'
        : 'process';
    const step: StepSpec = {
      id,
      source: sourceRef(ctx, at, 'key'),
      kind,
      command:
        typeof s.run === 'string'
          ? ['sh', '-c', s.run]
          : (argv(ctx, [...at, 'command'], s.command) ?? []),
      ...(typeof s.run === 'string' ? { script: true } : {}),
      needs: needs(s.needs),
      env: { ...env, ...stringMap(ctx, [...at, 'env'], s.env) },
      retry: retry(s.retry ?? defaults.retry),
      continueOnError: s.continueOnError === true,
    };
    if (approval) {
      step.approval = {
        message: typeof approval.message === 'string' ? approval.message : '',
        approvers: Array.isArray(approval.approvers)
          ? approval.approvers.filter((a): a is string => typeof a === 'string')
          : [],
      };
    }
    if (image !== undefined && !approval) step.image = image;
    const workdir =
      typeof s.workdir === 'string'
        ? s.workdir
        : typeof defaults.workdir === 'string'
          ? defaults.workdir
          : undefined;
    if (kind === 'process') {
      step.workdir =
        workdir === undefined
          ? path.dirname(ctx.path)
          : hasExpression(workdir)
            ? workdir
            : resolveFrom(ctx, workdir);
    } else if (workdir !== undefined) {
      step.workdir = workdir;
    }
    const timeout =
      typeof s.timeout === 'string'
        ? s.timeout
        : typeof defaults.timeout === 'string'
          ? defaults.timeout
          : undefined;
    if (timeout !== undefined && hasExpression(timeout)) step.timeoutExpr = timeout;
    else {
      const timeoutMs = duration(timeout);
      if (timeoutMs !== undefined) step.timeoutMs = timeoutMs;
    }
    if (typeof s.if === 'string') step.if = s.if;
    else if (typeof s.if === 'boolean') step.if = String(s.if);
    if (Array.isArray(s.outputs))
      step.outputs = s.outputs.filter((k): k is string => typeof k === 'string');
    const m = matrix(s.matrix);
    if (m) step.matrix = m;
    steps[id] = step;
  }
  const metadata = documentMetadata(ctx);
  return {
    kind: 'Workflow',
    name: options.name,
    path: ctx.path,
    source: options.source,
    ...(metadata ? { metadata } : {}),
    concurrency: typeof spec.concurrency === 'number' ? spec.concurrency : availableParallelism(),
    failFast: spec.failFast !== false,
    inputs: inputs(ctx, spec.inputs),
    secrets: [...secrets].sort(),
    env,
    services,
    steps,
  };
}
