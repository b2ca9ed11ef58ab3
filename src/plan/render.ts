/**
 * Renders a {@link Plan} for people (plain text, Mermaid, Graphviz dot) and
 * for programs (a stable JSON shape). Pure; no ANSI codes anywhere.
 */

import path from 'node:path';
import type {
  HealthCheck,
  MatrixValue,
  PortMapping,
  ProbeSpec,
  RetryPolicy,
  VolumeMount,
} from '../config/model.js';
import { formatDuration as formatDurationMs } from '../config/units.js';
import type { Plan, PlanNode } from './compile.js';

/** Options of {@link renderPlanText}. */
export interface RenderTextOptions {
  /** When given, the workflow file is shown relative to this directory. */
  cwd?: string;
}

/**
 * A plain-text listing of the plan, one line per node in plan order:
 *
 * ```
 * workflow hello (examples/hello/workflow.yaml), 3 nodes, concurrency 2
 *   1. service api      docker    local/node:20 (build ./agent)  ports 8080:8080/tcp  health http :8080/health
 *   2. step    install  process   sh -c "npm ci"
 *   3. step    smoke    container local/busybox:latest  sh -c "wget -qO- http://api:8080/health"  needs api, install
 * ```
 *
 * Columns: position, kind, id, runtime (`docker` | `process` for services,
 * `container` | `process` for steps), then what runs: image (build context
 * relative to the workflow file), argv (quoted where a shell would need it;
 * a `run:` script by its first line and how many more), published ports,
 * health check, a matrix step's combination, `if`, `needs`, `outputs`,
 * `timeout`, `retry` (total attempts, when more than one), `continueOnError`.
 * Environment values are never shown.
 */
export function renderPlanText(plan: Plan, options: RenderTextOptions = {}): string {
  const file = options.cwd === undefined ? plan.file : path.relative(options.cwd, plan.file);
  const count = `${plan.nodes.length} node${plan.nodes.length === 1 ? '' : 's'}`;
  const lines = [`workflow ${plan.workflow} (${file}), ${count}, concurrency ${plan.concurrency}`];
  const numberWidth = `${plan.nodes.length}.`.length;
  const idWidth = Math.max(0, ...plan.nodes.map((n) => n.id.length));
  const baseDir = path.dirname(plan.file);
  for (const node of plan.nodes) {
    const head = [
      `${node.index + 1}.`.padStart(numberWidth),
      node.kind.padEnd('service'.length),
      node.id.padEnd(idWidth),
    ].join(' ');
    const runtime = runtimeOf(node).padEnd('container'.length);
    const line = `  ${head}  ${runtime} ${details(node, baseDir).join('  ')}`;
    lines.push(line.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

/** One node of {@link PlanJson}. Optional fields are absent when they do not apply. */
export interface PlanNodeJson {
  /** 0-based position in plan order. */
  index: number;
  id: string;
  kind: 'step' | 'service';
  /** Sorted ids. */
  needs: string[];
  /** Sorted ids. */
  dependents: string[];
  /** sha256 hex of the node's definition. */
  fingerprint: string;
  /** Services: `docker` | `process`. Steps: `container` | `process`. */
  runtime: 'docker' | 'process' | 'container' | 'approval';
  image?: string;
  /** Services built from a Dockerfile: absolute context, Dockerfile relative to it. Build args are left out. */
  build?: { context: string; dockerfile: string };
  /** argv. Absent for a service that uses its image's default command. */
  command?: string[];
  workdir?: string;
  /** Names of the environment variables it gets (never their values), sorted. */
  env?: string[];
  /** Services: published ports. */
  ports?: PortMapping[];
  /** Services: bind mounts. */
  volumes?: VolumeMount[];
  /** Services: limits in nano-CPUs and bytes. */
  resources?: { nanoCpus?: number; memoryBytes?: number };
  /** Services: the health check, durations in ms. */
  healthCheck?: HealthCheck;
  /** Steps: timeout in ms. */
  timeoutMs?: number;
  /** Steps: total attempts and backoff in ms. */
  retry?: RetryPolicy;
  /** Steps: a timeout given as an expression, as written. */
  timeout?: string;
  /** Steps: the `if:` condition as written. */
  if?: string;
  /** Steps: declared output keys. */
  outputs?: string[];
  /** Steps: a failure counts as success for dependants and the run. */
  continueOnError?: true;
  /** Steps expanded from a matrix: the step as written and the combination. */
  matrix?: { group: string; values: Record<string, MatrixValue> };
}

/** The JSON form of a plan, as printed by `agent plan --format json`. Keys never get renamed. */
export interface PlanJson {
  workflow: string;
  /** Absolute path of the workflow file. */
  file: string;
  concurrency: number;
  /** sha256 hex of the plan. */
  fingerprint: string;
  /** In plan order. */
  nodes: PlanNodeJson[];
}

/**
 * A stable, JSON-serialisable view of the plan (see {@link PlanJson} for the
 * shape): `{workflow, file, concurrency, fingerprint, nodes: [{index, id,
 * kind, needs, dependents, fingerprint, runtime, image?, build?, command?,
 * workdir?, env?, ports?, volumes?, resources?, healthCheck?, timeoutMs?,
 * timeout?, retry?, if?, outputs?, continueOnError?, matrix?}]}`. Durations are ms, memory bytes, CPU nano-CPUs. Environment
 * variables appear by name only; build args not at all.
 */
export function planToJson(plan: Plan): PlanJson {
  return {
    workflow: plan.workflow,
    file: plan.file,
    concurrency: plan.concurrency,
    fingerprint: plan.fingerprint,
    nodes: plan.nodes.map(nodeToJson),
  };
}

/**
 * How {@link renderPlanMermaid} and {@link renderPlanDot} group a plan's
 * nodes: services in one group, each matrix step's combinations in one group
 * (keyed by the step id as written), every other step on its own. Groups and
 * their members are in plan order; a group sits where its first member is.
 */
type GraphItem =
  | { kind: 'services'; nodes: PlanNode[] }
  | { kind: 'matrix'; group: string; nodes: PlanNode[] }
  | { kind: 'node'; node: PlanNode };

function graphItems(plan: Plan): GraphItem[] {
  const items: GraphItem[] = [];
  const matrices = new Map<string, PlanNode[]>();
  let services: PlanNode[] | undefined;
  for (const node of plan.nodes) {
    if (node.kind === 'service') {
      if (!services) {
        services = [];
        items.push({ kind: 'services', nodes: services });
      }
      services.push(node);
      continue;
    }
    const group = node.step.combination?.group;
    if (group === undefined) {
      items.push({ kind: 'node', node });
      continue;
    }
    let members = matrices.get(group);
    if (!members) {
      members = [];
      matrices.set(group, members);
      items.push({ kind: 'matrix', group, nodes: members });
    }
    members.push(node);
  }
  return items;
}

/** Every edge of the plan, `from` needed by `to`, by `from` then `to`, both in plan order. */
function graphEdges(plan: Plan): { from: PlanNode; to: PlanNode }[] {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const edges: { from: PlanNode; to: PlanNode }[] = [];
  for (const from of plan.nodes) {
    const targets = from.dependents
      .map((id) => byId.get(id))
      .filter((n): n is PlanNode => n !== undefined)
      .sort((a, b) => a.index - b.index);
    for (const to of targets) edges.push({ from, to });
  }
  return edges;
}

/** The label a graph gives an edge out of a service: a step that needs a service waits until it is healthy. */
const HEALTHY = 'healthy';

/**
 * Text for a double-quoted Mermaid string: `"`, `#`, `&`, `<` and `>` become
 * Mermaid entity codes (`#quot;`, `#35;`, `#amp;`, `#lt;`, `#gt;`; Mermaid
 * flowchart syntax, "Entity codes to escape characters"), so a label can
 * neither end the string nor be read as HTML.
 */
function mermaidText(text: string): string {
  return text.replace(/[#"&<>]/g, (c) => {
    switch (c) {
      case '#':
        return '#35;';
      case '"':
        return '#quot;';
      case '&':
        return '#amp;';
      case '<':
        return '#lt;';
      default:
        return '#gt;';
    }
  });
}

/**
 * A Mermaid flowchart of the plan, left to right (Mermaid flowchart syntax):
 *
 * ```
 * ---
 * title: "hello"
 * ---
 * flowchart LR
 *   subgraph services["services"]
 *     n0(["api"])
 *   end
 *   n1["install"]
 *   subgraph m0["test (matrix)"]
 *     n2["test-20"]
 *     n3["test-22"]
 *   end
 *   n0 -.->|healthy| n2
 *   n1 --> n2
 * ```
 *
 * Node ids are `n` and the node's 0-based plan index (so no step id can
 * clash with Mermaid's syntax or keywords); the node's own id is its label,
 * quoted and escaped (see `mermaidText`). Services are stadiums in a
 * `services` subgraph, approval steps hexagons, other steps boxes; the
 * combinations of a matrix step are in one subgraph `m<k>` (k counts matrix
 * steps in plan order) titled `<step> (matrix)`. An arrow goes from each node
 * to each node that needs it: dotted and labelled `healthy` out of a service
 * (the step waits for its health check), solid otherwise. Order: nodes in plan
 * order (groups where their first member is), edges by source, then target, both
 * in plan order. Same plan, same text.
 */
export function renderPlanMermaid(plan: Plan): string {
  const ref = (n: PlanNode) => `n${n.index}`;
  const shape = (n: PlanNode) => {
    const label = `"${mermaidText(n.id)}"`;
    if (n.kind === 'service') return `${ref(n)}([${label}])`;
    return n.step.kind === 'approval' ? `${ref(n)}{{${label}}}` : `${ref(n)}[${label}]`;
  };
  const lines = ['---', `title: ${JSON.stringify(plan.workflow)}`, '---', 'flowchart LR'];
  let matrixCount = 0;
  for (const item of graphItems(plan)) {
    if (item.kind === 'node') {
      lines.push(`  ${shape(item.node)}`);
      continue;
    }
    const head =
      item.kind === 'services'
        ? 'services["services"]'
        : `m${matrixCount++}["${mermaidText(`${item.group} (matrix)`)}"]`;
    lines.push(`  subgraph ${head}`, ...item.nodes.map((n) => `    ${shape(n)}`), '  end');
  }
  for (const { from, to } of graphEdges(plan)) {
    const arrow = from.kind === 'service' ? `-.->|${HEALTHY}|` : '-->';
    lines.push(`  ${ref(from)} ${arrow} ${ref(to)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A double-quoted DOT string (Graphviz DOT language): `"` and `\` are
 * backslash-escaped, so the string cannot end early and a label shows a
 * backslash as written rather than as an escape such as `\n` or `\N`.
 */
function dotString(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * A Graphviz digraph of the plan, left to right (Graphviz DOT language):
 *
 * ```
 * digraph "hello" {
 *   rankdir=LR;
 *   node [shape=box];
 *   subgraph "cluster_services" {
 *     label="services";
 *     style=dashed;
 *     "api" [shape=ellipse];
 *   }
 *   "install";
 *   subgraph "cluster_matrix_test" {
 *     label="test (matrix)";
 *     "test-20";
 *     "test-22";
 *   }
 *   "api" -> "test-20" [style=dashed, label="healthy"];
 *   "install" -> "test-20";
 * }
 * ```
 *
 * Node names are the nodes' ids, quoted and escaped (see `dotString`).
 * Services are ellipses in the cluster `cluster_services`, approval steps
 * hexagons, other steps boxes; the combinations of a matrix step are in a
 * cluster `cluster_matrix_<step>` labelled `<step> (matrix)`. An edge goes
 * from each node to each node that needs it: dashed and labelled `healthy`
 * out of a service, solid otherwise. Order as in {@link renderPlanMermaid}.
 */
export function renderPlanDot(plan: Plan): string {
  const node = (n: PlanNode, indent: string) => {
    if (n.kind === 'service') return `${indent}${dotString(n.id)} [shape=ellipse];`;
    if (n.step.kind === 'approval') return `${indent}${dotString(n.id)} [shape=hexagon];`;
    return `${indent}${dotString(n.id)};`;
  };
  const lines = [`digraph ${dotString(plan.workflow)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const item of graphItems(plan)) {
    if (item.kind === 'node') {
      lines.push(node(item.node, '  '));
      continue;
    }
    const [name, label] =
      item.kind === 'services'
        ? ['cluster_services', 'services']
        : [`cluster_matrix_${item.group}`, `${item.group} (matrix)`];
    lines.push(
      `  subgraph ${dotString(name)} {`,
      `    label=${dotString(label)};`,
      `    style=${item.kind === 'services' ? 'dashed' : 'rounded'};`,
      ...item.nodes.map((n) => node(n, '    ')),
      '  }',
    );
  }
  for (const { from, to } of graphEdges(plan)) {
    const attrs = from.kind === 'service' ? ` [style=dashed, label=${dotString(HEALTHY)}]` : '';
    lines.push(`  ${dotString(from.id)} -> ${dotString(to.id)}${attrs};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * argv as a shell would read it: words made only of safe characters stay
 * bare, anything else is double-quoted with JSON escapes.
 */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** A duration in ms the way the file format writes it: `1m30s`, `500ms`, `2h`, `0s`. */
export function formatDuration(ms: number): string {
  return formatDurationMs(Math.max(0, Math.round(ms)));
}

function runtimeOf(node: PlanNode): PlanNodeJson['runtime'] {
  return node.kind === 'service' ? node.service.agent.runtime : node.step.kind;
}

function details(node: PlanNode, baseDir: string): string[] {
  const out: string[] = [];
  if (node.kind === 'service') {
    const agent = node.service.agent;
    const build = agent.build && `(build ${relativeTo(baseDir, agent.build.context)})`;
    const image = [agent.image, build].filter((s) => s !== undefined).join(' ');
    if (image !== '') out.push(image);
    if (agent.command) out.push(formatCommand(agent.command));
    if (agent.ports.length > 0) out.push(`ports ${agent.ports.map(formatPort).join(', ')}`);
    if (agent.healthCheck) out.push(`health ${formatProbe(agent.healthCheck.probe)}`);
    if (agent.replicas !== undefined && agent.replicas > 1) out.push(`replicas ${agent.replicas}`);
    if (agent.restart && agent.restart.policy !== 'no')
      out.push(`restart ${agent.restart.policy} (max ${agent.restart.maxRetries})`);
  }
  if (node.kind === 'step') {
    const step = node.step;
    if (step.image !== undefined) out.push(step.image);
    out.push(step.script ? scriptSummary(step.command) : formatCommand(step.command));
    if (step.combination) {
      const values = Object.entries(step.combination.values).map(
        ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
      );
      out.push(`matrix ${step.combination.group}: ${values.join(' ')}`);
    }
    if (step.if !== undefined) out.push(`if ${step.if.trim().replace(/\s+/g, ' ')}`);
    if (node.needs.length > 0) out.push(`needs ${node.needs.join(', ')}`);
    if (step.outputs?.length) out.push(`outputs ${step.outputs.join(', ')}`);
    if (step.timeoutMs !== undefined) out.push(`timeout ${formatDuration(step.timeoutMs)}`);
    if (step.timeoutExpr !== undefined) out.push(`timeout ${step.timeoutExpr}`);
    if (step.retry.maxAttempts > 1) out.push(`retry ${step.retry.maxAttempts}`);
    if (step.continueOnError) out.push('continueOnError');
  }
  return out;
}

/** A `run:` script in one line: its first line, and how many more there are. */
function scriptSummary(command: readonly string[]): string {
  const lines = (command[2] ?? '').trimEnd().split('\n');
  const first = lines[0] ?? '';
  const more = lines.length > 1 ? ` (+${lines.length - 1} line${lines.length > 2 ? 's' : ''})` : '';
  return `${formatCommand(['sh', '-c', first])}${more}`;
}

function relativeTo(baseDir: string, target: string): string {
  const rel = path.relative(baseDir, target);
  if (rel === '') return '.';
  if (rel.startsWith('..') || path.isAbsolute(rel)) return rel;
  return `./${rel}`;
}

function formatPort(p: PortMapping): string {
  return p.host === 0 ? `${p.container}/${p.protocol}` : `${p.host}:${p.container}/${p.protocol}`;
}

function formatProbe(probe: ProbeSpec): string {
  switch (probe.kind) {
    case 'http':
      return `http :${probe.port}${probe.path}${probe.status === 200 ? '' : ` (status ${probe.status})`}`;
    case 'tcp':
      return `tcp :${probe.port}`;
    case 'command':
      return `command ${formatCommand(probe.command)}`;
    case 'file':
      return `file ${probe.path}`;
    case 'log':
      return `log /${probe.pattern}/`;
  }
}

function nodeToJson(node: PlanNode): PlanNodeJson {
  const out: PlanNodeJson = {
    index: node.index,
    id: node.id,
    kind: node.kind,
    needs: [...node.needs],
    dependents: [...node.dependents],
    fingerprint: node.fingerprint,
    runtime: runtimeOf(node),
  };
  if (node.kind === 'service') {
    const a = node.service.agent;
    if (a.image !== undefined) out.image = a.image;
    if (a.build) out.build = { context: a.build.context, dockerfile: a.build.dockerfile };
    if (a.command) out.command = [...a.command];
    if (a.workdir !== undefined) out.workdir = a.workdir;
    if (a.environment.length > 0) out.env = a.environment.map((e) => e.name).sort();
    if (a.ports.length > 0) out.ports = a.ports.map((p) => ({ ...p }));
    if (a.volumes.length > 0) out.volumes = a.volumes.map((v) => ({ ...v }));
    const limits = a.resources.limits;
    if (limits.nanoCpus !== undefined || limits.memoryBytes !== undefined) {
      out.resources = { ...limits };
    }
    if (a.healthCheck) {
      out.healthCheck = { ...a.healthCheck, probe: { ...a.healthCheck.probe } as ProbeSpec };
    }
  }
  if (node.kind === 'step') {
    const s = node.step;
    if (s.image !== undefined) out.image = s.image;
    out.command = [...s.command];
    if (s.workdir !== undefined) out.workdir = s.workdir;
    const env = Object.keys(s.env).sort();
    if (env.length > 0) out.env = env;
    if (s.timeoutMs !== undefined) out.timeoutMs = s.timeoutMs;
    if (s.timeoutExpr !== undefined) out.timeout = s.timeoutExpr;
    out.retry = { maxAttempts: s.retry.maxAttempts, backoff: { ...s.retry.backoff } };
    if (s.if !== undefined) out.if = s.if;
    if (s.outputs !== undefined) out.outputs = [...s.outputs];
    if (s.continueOnError) out.continueOnError = true;
    if (s.combination)
      out.matrix = { group: s.combination.group, values: { ...s.combination.values } };
  }
  return out;
}
