/**
 * Semantic rules: what the JSON Schemas cannot say. Each rule reads the raw
 * document data defensively (a value of the wrong shape is the schema's to
 * report, so rules skip it) and returns diagnostics; none throws.
 */

import type { Diagnostic } from './diagnostics.js';
import type { SourceDocument } from './load.js';
import { compileSchemas, describeValue, fieldLabel, limitMessage } from './schema.js';
import { nearest, quoteList, suggestion } from './suggest.js';
import { parseDuration, parsePortString, readCpu, readMemory } from './units.js';

/** Where a rule reports: the document and the file name as the user gave it. */
export interface RuleContext {
  doc: SourceDocument;
  file: string;
}

type Path = readonly string[];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function report(
  ctx: RuleContext,
  path: Path,
  target: 'key' | 'value',
  d: { code: string; message: string; hint?: string },
): Diagnostic {
  return { ...d, severity: 'error', file: ctx.file, ...ctx.doc.locate(path, target) };
}

/** A step's needs as written, with the JSON path of each entry; entries that are not strings are skipped. */
export function stepNeeds(step: unknown, stepPath: Path): Array<{ name: string; path: Path }> {
  if (!isObject(step)) return [];
  const needs = step.needs;
  if (typeof needs === 'string') return [{ name: needs, path: [...stepPath, 'needs'] }];
  if (!Array.isArray(needs)) return [];
  const out: Array<{ name: string; path: Path }> = [];
  needs.forEach((n, i) => {
    if (typeof n === 'string') out.push({ name: n, path: [...stepPath, 'needs', String(i)] });
  });
  return out;
}

/**
 * Rules for a Workflow document's spec (at `/spec`):
 *
 * - `step/workdir`: a container step's `workdir` that is not absolute (Docker
 *   rejects it at run time; a process step's is resolved against the file's directory);
 * - `units/duration`: a step `timeout`, `retry.backoff.initial` or `retry.backoff.max` of 0;
 * - `workflow/name-clash`: a step id equals a service name (needs could not tell them apart);
 * - `workflow/unknown-need`: a need that is neither a step nor a service, with the nearest name;
 * - `workflow/cycle`: steps that need each other, printed `a -> b -> a` from the
 *   cycle's first step in file order and reported at that step.
 */
export function checkWorkflow(ctx: RuleContext, spec: unknown): Diagnostic[] {
  if (!isObject(spec)) return [];
  const out: Diagnostic[] = [];
  const steps = isObject(spec.steps) ? spec.steps : {};
  const services = isObject(spec.services) ? spec.services : {};
  const stepIds = Object.keys(steps);
  const serviceNames = Object.keys(services);
  const order = new Map(stepIds.map((id, i) => [id, i]));

  for (const id of stepIds) {
    const step = steps[id];
    if (!isObject(step)) continue;
    const at = ['spec', 'steps', id];
    if (typeof step.image === 'string') {
      out.push(
        ...checkContainerWorkdir(ctx, step.workdir, [...at, 'workdir'], {
          code: 'step/workdir',
          alternative: 'or drop "image" to run the step as a local process',
        }),
      );
    }
    out.push(...checkDurations(ctx, step, at, STEP_DURATIONS));
  }

  for (const id of stepIds) {
    if (Object.hasOwn(services, id)) {
      out.push(
        report(ctx, ['spec', 'steps', id], 'key', {
          code: 'workflow/name-clash',
          message: `step id ${JSON.stringify(id)} is also a service name; step ids and service names must differ`,
        }),
      );
    }
  }

  const edges = new Map<string, string[]>();
  for (const id of stepIds) {
    const next: string[] = [];
    for (const need of stepNeeds(steps[id], ['spec', 'steps', id])) {
      if (order.has(need.name)) {
        next.push(need.name);
        continue;
      }
      if (Object.hasOwn(services, need.name)) continue;
      const candidates = [...stepIds.filter((s) => s !== id), ...serviceNames];
      out.push(
        report(ctx, need.path, 'value', {
          code: 'workflow/unknown-need',
          message: `step ${JSON.stringify(id)} needs ${JSON.stringify(need.name)}, which is neither a step nor a service${suggestion(
            need.name,
            candidates,
            { none: 'the workflow has no other steps or services' },
          )}`,
        }),
      );
    }
    next.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    edges.set(id, [...new Set(next)]);
  }

  for (const cycle of findCycles(stepIds, edges)) {
    const first = cycle[0] ?? '';
    out.push(
      report(ctx, ['spec', 'steps', first], 'key', {
        code: 'workflow/cycle',
        message: `dependency cycle: ${[...cycle, first].join(' -> ')}`,
        hint: 'a step cannot need itself, directly or through other steps; remove one of these needs',
      }),
    );
  }
  return out;
}

/**
 * Every cycle of a directed graph, one per strongly connected component
 * (Tarjan), each as the shortest cycle through the component's first node in
 * `nodes` order, following edges in the order given. A self-need is a cycle
 * of one. Results are ordered by their first node.
 */
export function findCycles(
  nodes: readonly string[],
  edges: ReadonlyMap<string, readonly string[]>,
): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  const strongConnect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const v of nodes) if (!index.has(v)) strongConnect(v);

  const position = new Map(nodes.map((n, i) => [n, i]));
  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const first = [...component].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0))[0];
    if (first === undefined) continue;
    if (component.length === 1 && !(edges.get(first) ?? []).includes(first)) continue;
    // Breadth-first search from `first` back to itself inside the component.
    const parent = new Map<string, string>();
    const queue: string[] = [first];
    let closing: string | undefined;
    while (queue.length > 0 && closing === undefined) {
      const v = queue.shift() as string;
      for (const w of edges.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === first) {
          closing = v;
          break;
        }
        if (!parent.has(w)) {
          parent.set(w, v);
          queue.push(w);
        }
      }
    }
    const path: string[] = [];
    for (let v = closing; v !== undefined && v !== first; v = parent.get(v)) path.unshift(v);
    cycles.push([first, ...path]);
  }
  return cycles.sort((a, b) => (position.get(a[0] ?? '') ?? 0) - (position.get(b[0] ?? '') ?? 0));
}

/** The keys an Agent spec may have, from the schema. */
function agentSpecKeys(): Set<string> {
  const defs = compileSchemas().documents.Agent.$defs as Record<string, { properties?: object }>;
  return new Set(Object.keys(defs.agentSpec?.properties ?? {}));
}

/**
 * Rules for an Agent spec (a document's `/spec`, or an inline service):
 *
 * - `agent/runtime`: a process agent with `image`/`build`, a process agent
 *   without `command`, a docker agent without `image` or `build`;
 * - `agent/runtime` for a process agent with what only a container honours:
 *   `volumes`, `resources.limits` or `requests`, `pull`, `security`,
 *   `network`, `init`, `stopGracePeriod`, or a port whose host port is set
 *   and differs from the port the process listens on;
 * - `agent/volume`, `agent/capability`, `agent/network`: see
 *   {@link checkContainerFields};
 * - `agent/workdir`: a docker agent's `workdir` that is not absolute;
 * - `units/port`: a port string whose numbers are out of range;
 * - `units/cpu`, `units/memory`: quantities that are zero, round to 0
 *   nano-CPUs / bytes, or exceed `Number.MAX_SAFE_INTEGER` (strings, and CPU numbers;
 *   the schema checks memory numbers);
 * - `units/duration`: a health check `interval` or `timeout`, or a
 *   `stopGracePeriod`, of 0.
 */
export function checkAgentSpec(ctx: RuleContext, spec: unknown, specPath: Path): Diagnostic[] {
  if (!isObject(spec)) return [];
  const out: Diagnostic[] = [];
  const has = (key: string) => spec[key] !== undefined && spec[key] !== null;
  const runtime = spec.runtime;
  if (runtime === 'process') {
    for (const key of ['image', 'build']) {
      if (has(key)) {
        out.push(
          report(ctx, [...specPath, key], 'key', {
            code: 'agent/runtime',
            message: `a process agent cannot have ${JSON.stringify(key)}; remove it, or use runtime "docker"`,
          }),
        );
      }
    }
    if (!has('command')) {
      out.push(
        report(ctx, [...specPath, 'runtime'], 'value', {
          code: 'agent/runtime',
          message: 'a process agent needs a "command"',
        }),
      );
    }
  } else if (runtime === 'docker') {
    if (!has('image') && !has('build')) {
      out.push(
        report(ctx, [...specPath, 'runtime'], 'value', {
          code: 'agent/runtime',
          message: 'a docker agent needs an "image" or a "build"',
        }),
      );
    }
  } else if (
    runtime === undefined &&
    !has('image') &&
    !has('build') &&
    !has('command') &&
    // An unknown key is likely a misspelt one of these; schema/unknown-key says so.
    Object.keys(spec).every((k) => agentSpecKeys().has(k))
  ) {
    out.push(
      report(ctx, specPath, 'key', {
        code: 'agent/runtime',
        message: `agent has none of ${quoteList(['image', 'build', 'command'])}; set "image" or "build" to run a container, or "command" to run a local process`,
      }),
    );
  }

  if (Array.isArray(spec.ports)) {
    spec.ports.forEach((port, i) => {
      if (typeof port !== 'string' || !/^[0-9]+(:[0-9]+)?(\/(tcp|udp))?$/.test(port)) return;
      if (parsePortString(port) === undefined) {
        out.push(
          report(ctx, [...specPath, 'ports', String(i)], 'value', {
            code: 'units/port',
            message: `port ${JSON.stringify(port)} is out of range; container ports are 1-65535, host ports 0-65535 (0: any free port)`,
          }),
        );
      }
    });
  }
  for (const kind of ['limits', 'requests']) {
    const limits = isObject(spec.resources) ? spec.resources[kind] : undefined;
    if (!isObject(limits)) continue;
    const cpu = limits.cpu;
    if (typeof cpu === 'string' || typeof cpu === 'number') {
      const r = readCpu(cpu);
      // Numbers of 0 or less are the schema's (exclusiveMinimum), as are malformed strings.
      const schemaReports = typeof cpu === 'number' && !r.ok && r.problem === 'not-positive';
      const m = r.ok || schemaReports ? undefined : limitMessage('cpu', r.problem, '"cpu"', cpu);
      if (m) {
        out.push(
          report(ctx, [...specPath, 'resources', kind, 'cpu'], 'value', {
            code: 'units/cpu',
            ...m,
          }),
        );
      }
    }
    const memory = limits.memory;
    // Numbers are the schema's (type integer, minimum, maximum), as are malformed strings.
    if (typeof memory === 'string') {
      const r = readMemory(memory);
      const m = r.ok ? undefined : limitMessage('memory', r.problem, '"memory"', memory);
      if (m) {
        out.push(
          report(ctx, [...specPath, 'resources', kind, 'memory'], 'value', {
            code: 'units/memory',
            ...m,
          }),
        );
      }
    }
  }

  out.push(...checkContainerFields(ctx, spec, specPath));

  out.push(
    ...checkDurations(ctx, spec.healthCheck, [...specPath, 'healthCheck'], HEALTH_CHECK_DURATIONS),
  );
  out.push(...checkDurations(ctx, spec, specPath, STOP_GRACE_DURATION));
  out.push(
    ...checkLogPattern(ctx, spec.healthCheck, [...specPath, 'healthCheck', 'log', 'pattern']),
  );

  const isDocker =
    runtime === 'docker' || (runtime === undefined && (has('image') || has('build')));
  if (isDocker) {
    out.push(
      ...checkContainerWorkdir(ctx, spec.workdir, [...specPath, 'workdir'], {
        code: 'agent/workdir',
        alternative: 'or use runtime "process" to run a local process',
      }),
    );
  }
  const isProcess =
    runtime === 'process' ||
    (runtime === undefined && !has('image') && !has('build') && has('command'));
  if (isProcess) out.push(...checkProcessAgent(ctx, spec, specPath));
  return out;
}

/** A `healthCheck.log.pattern` that is not a valid JavaScript regular expression. */
function checkLogPattern(ctx: RuleContext, check: unknown, at: Path): Diagnostic[] {
  if (!isObject(check) || !isObject(check.log) || typeof check.log.pattern !== 'string') return [];
  try {
    new RegExp(check.log.pattern);
    return [];
  } catch (error) {
    return [
      report(ctx, at, 'value', {
        code: 'agent/log-pattern',
        message: `log pattern is not a valid regular expression: ${(error as Error).message}`,
        hint: 'JavaScript syntax, without slashes or flags; escape a literal ( [ { . * + ? with a backslash',
      }),
    ];
  }
}

/** A duration field that must not be 0, and the hint that says what 0 would do. */
interface DurationField {
  /** Path below the object that holds it. */
  path: readonly string[];
  hint: string;
}

/** Health check durations that must be more than 0 (`startPeriod: 0s` is fine: it is the default). */
const HEALTH_CHECK_DURATIONS: readonly DurationField[] = [
  {
    path: ['interval'],
    hint: 'an interval of 0 would run probes back to back; the default is 5s',
  },
  {
    path: ['timeout'],
    hint: 'a probe timeout of 0 would fail every probe; the default is 3s',
  },
];

/** An agent's stop grace period, which must be more than 0. */
const STOP_GRACE_DURATION: readonly DurationField[] = [
  {
    path: ['stopGracePeriod'],
    hint: 'a grace period of 0 would kill the service at once, with no chance to shut down; the default is 10s',
  },
];

/** Linux capability names (capabilities(7)), as Docker takes them: without `CAP_`. */
const CAPABILITIES = [
  'ALL',
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'SYSLOG',
  'WAKE_ALARM',
] as const;

/** A named volume's name, as the engine accepts it. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** True for an IPv4 or IPv6 address. */
function isIpAddress(value: string): boolean {
  return (
    /^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$/.test(value) ||
    (value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value))
  );
}

/**
 * Rules for the container fields of an Agent spec:
 *
 * - `agent/volume`: an object volume of type bind or volume without
 *   `source`, a tmpfs volume with one, a named volume whose source is not a
 *   name (`letters, digits, _ . -`);
 * - `agent/capability`: a capability that is not a Linux capability (with a
 *   did-you-mean);
 * - `agent/network`: `aliases` with mode host or none (they only exist on the
 *   run network), a `dns` entry that is not an IP address.
 */
function checkContainerFields(
  ctx: RuleContext,
  spec: Record<string, unknown>,
  specPath: Path,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (Array.isArray(spec.volumes)) {
    spec.volumes.forEach((v, i) => {
      if (!isObject(v)) return;
      const at = [...specPath, 'volumes', String(i)];
      const type = v.type ?? 'bind';
      const hasSource = typeof v.source === 'string';
      if (type === 'tmpfs' && v.source !== undefined) {
        out.push(
          report(ctx, [...at, 'source'], 'key', {
            code: 'agent/volume',
            message: 'a tmpfs volume has no "source"; remove it',
            hint: 'tmpfs lives in memory; use type "volume" or "bind" to keep data',
          }),
        );
      } else if ((type === 'bind' || type === 'volume') && v.source === undefined) {
        out.push(
          report(ctx, at, 'value', {
            code: 'agent/volume',
            message: `a volume of type ${JSON.stringify(type)} needs a "source": ${type === 'bind' ? 'a host path' : 'a volume name'}`,
          }),
        );
      } else if (type === 'volume' && hasSource && !VOLUME_NAME.test(String(v.source))) {
        out.push(
          report(ctx, [...at, 'source'], 'value', {
            code: 'agent/volume',
            message: `named volume ${JSON.stringify(v.source)} is not a volume name; use letters, digits, "_", "." and "-", starting with a letter or digit`,
            hint: 'for a host path, use type "bind"',
          }),
        );
      }
    });
  }
  const security = spec.security;
  const capabilities = isObject(security) ? security.capabilities : undefined;
  if (isObject(capabilities)) {
    for (const key of ['add', 'drop']) {
      const list = capabilities[key];
      if (!Array.isArray(list)) continue;
      list.forEach((cap, i) => {
        if (typeof cap !== 'string' || !/^[A-Za-z_]+$/.test(cap)) return;
        const name = cap.toUpperCase().replace(/^CAP_/, '');
        if ((CAPABILITIES as readonly string[]).includes(name)) return;
        const near = nearest(name, CAPABILITIES);
        out.push(
          report(ctx, [...specPath, 'security', 'capabilities', key, String(i)], 'value', {
            code: 'agent/capability',
            message: `unknown capability ${JSON.stringify(cap)}${near ? `; did you mean ${JSON.stringify(near)}?` : ''}`,
            hint: 'capability names are those of capabilities(7) without "CAP_", e.g. CHOWN, NET_ADMIN, or ALL',
          }),
        );
      });
    }
  }
  const network = spec.network;
  if (isObject(network)) {
    const mode = network.mode;
    if (
      (mode === 'host' || mode === 'none') &&
      Array.isArray(network.aliases) &&
      network.aliases.length > 0
    ) {
      out.push(
        report(ctx, [...specPath, 'network', 'aliases'], 'key', {
          code: 'agent/network',
          message: `network mode ${JSON.stringify(mode)} has no run network to be known on; remove "aliases", or use mode "bridge"`,
        }),
      );
    }
    if (Array.isArray(network.dns)) {
      network.dns.forEach((server, i) => {
        if (typeof server !== 'string' || server === '' || isIpAddress(server)) return;
        out.push(
          report(ctx, [...specPath, 'network', 'dns', String(i)], 'value', {
            code: 'agent/network',
            message: `DNS server ${JSON.stringify(server)} is not an IP address`,
            hint: "write the name server's IPv4 or IPv6 address, e.g. 1.1.1.1",
          }),
        );
      });
    }
  }
  return out;
}

/** Step durations that must be more than 0. */
const STEP_DURATIONS: readonly DurationField[] = [
  {
    path: ['timeout'],
    hint: 'a timeout of 0 would kill every attempt at once; remove "timeout" for no timeout',
  },
  {
    path: ['retry', 'backoff', 'initial'],
    hint: 'a backoff of 0 would retry at once, with no delay; the default is 1s',
  },
  {
    path: ['retry', 'backoff', 'max'],
    hint: 'a cap of 0 would make every retry start at once, with no delay; the default is 30s',
  },
];

/**
 * `units/duration` for each of `fields` (below `value`, at `at`) that is a
 * valid duration of 0 ms: written as 0, or rounding to 0 (`0.1ms`).
 */
function checkDurations(
  ctx: RuleContext,
  value: unknown,
  at: Path,
  fields: readonly DurationField[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const field of fields) {
    let v: unknown = value;
    for (const key of field.path) v = isObject(v) ? v[key] : undefined;
    if (typeof v !== 'string' || parseDuration(v) !== 0) continue;
    const path = [...at, ...field.path];
    const label = JSON.stringify(fieldLabel(path));
    const zero = !/[1-9]/.test(v);
    out.push(
      report(ctx, path, 'value', {
        code: 'units/duration',
        message: zero
          ? `${label} must be more than 0, got ${describeValue(v)}`
          : `${label} must be at least 1ms (durations are whole milliseconds), got ${describeValue(v)}`,
        hint: field.hint,
      }),
    );
  }
  return out;
}

/** `code` when a container's `workdir` (at `at`) is a string that does not start with `/`. */
function checkContainerWorkdir(
  ctx: RuleContext,
  workdir: unknown,
  at: Path,
  options: { code: string; alternative: string },
): Diagnostic[] {
  if (typeof workdir !== 'string' || workdir === '' || workdir.startsWith('/')) return [];
  return [
    report(ctx, at, 'value', {
      code: options.code,
      message: `"workdir" must be an absolute path in the container (starting with "/"), got ${describeValue(workdir)}`,
      hint: `Docker does not resolve a relative working directory; write ${JSON.stringify(`/${workdir.replace(/^(\.\/)+/, '')}`)}, ${options.alternative}, whose relative workdir is resolved against this file's directory`,
    }),
  ];
}

/**
 * `agent/runtime` for what a local process cannot honour, and would otherwise
 * silently ignore: bind mounts, resource limits, and a port published on a
 * different host port (a process listens on its own port; `host` must be
 * omitted or equal `container`).
 */
function checkProcessAgent(
  ctx: RuleContext,
  spec: Record<string, unknown>,
  specPath: Path,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (
    typeof spec.replicas === 'number' &&
    spec.replicas > 1 &&
    Array.isArray(spec.ports) &&
    spec.ports.length > 0
  ) {
    out.push(
      report(ctx, [...specPath, 'replicas'], 'value', {
        code: 'agent/replicas',
        message: `a process agent with ports cannot have ${spec.replicas} replicas: every replica would listen on the same port`,
        hint: 'run it as a container ("image" or "build"), where each replica has its own address, or use replicas: 1',
      }),
    );
  }
  if (Array.isArray(spec.volumes) && spec.volumes.length > 0) {
    out.push(
      report(ctx, [...specPath, 'volumes'], 'key', {
        code: 'agent/runtime',
        message:
          'a process agent cannot have "volumes"; remove them, or run a container with "image" or "build"',
        hint: "bind mounts apply to containers; a local process sees the host's files as they are",
      }),
    );
  }
  for (const key of ['pull', 'security', 'network', 'init', 'stopGracePeriod']) {
    if (spec[key] === undefined || spec[key] === null) continue;
    out.push(
      report(ctx, [...specPath, key], 'key', {
        code: 'agent/runtime',
        message: `a process agent cannot have ${JSON.stringify(key)}; remove it, or run a container with "image" or "build"`,
        hint: 'it is a container setting, which a local process would silently ignore',
      }),
    );
  }
  const resources = spec.resources;
  const limits = isObject(resources) ? resources.limits : undefined;
  const requests = isObject(resources) ? resources.requests : undefined;
  if (
    (isObject(limits) && Object.keys(limits).length > 0) ||
    (isObject(requests) && Object.keys(requests).length > 0)
  ) {
    out.push(
      report(ctx, [...specPath, 'resources'], 'key', {
        code: 'agent/runtime',
        message:
          'a process agent cannot have resource limits or requests; remove "resources", or run a container with "image" or "build"',
        hint: 'CPU and memory limits and requests are enforced by Docker; a local process runs without them',
      }),
    );
  }
  if (Array.isArray(spec.ports)) {
    spec.ports.forEach((port, i) => {
      let mapping: { container: number; host: number } | undefined;
      let fix: string;
      if (typeof port === 'string' && port.includes(':')) {
        mapping = parsePortString(port);
        fix = `write ${JSON.stringify(port.replace(/^[0-9]+:/, ''))}`;
      } else if (
        isObject(port) &&
        typeof port.container === 'number' &&
        typeof port.host === 'number'
      ) {
        mapping = { container: port.container, host: port.host };
        fix = 'remove "host"';
      } else {
        return;
      }
      if (!mapping || mapping.host === mapping.container) return;
      const path = [...specPath, 'ports', String(i)];
      const where = mapping.host === 0 ? 'any free host port' : `host port ${mapping.host}`;
      out.push(
        report(ctx, path, 'value', {
          code: 'agent/runtime',
          message: `${JSON.stringify(fieldLabel(path))} publishes port ${mapping.container} on ${where}, which a process agent cannot do; a local process listens on its own port, so the host port must be omitted or equal ${mapping.container}`,
          hint: `${fix}, or run a container with "image" or "build" to remap it`,
        }),
      );
    });
  }
  return out;
}
