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
 * A Mermaid flowchart of the plan (left to right): services as stadiums,
 * steps as boxes, an arrow from each node to the nodes that need it.
 */
export function renderPlanMermaid(plan: Plan): string {
  const ref = (id: string) => `n${plan.nodes.findIndex((n) => n.id === id)}`;
  const lines = ['flowchart LR'];
  for (const n of plan.nodes) {
    const label = `"${n.id.replaceAll('"', '#quot;')}"`;
    lines.push(`  n${n.index}${n.kind === 'service' ? `([${label}])` : `[${label}]`}`);
  }
  for (const n of plan.nodes) {
    for (const d of n.dependents) lines.push(`  n${n.index} --> ${ref(d)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A Graphviz `dot` digraph of the plan (left to right): services as
 * ellipses, steps as boxes, an edge from each node to the nodes that need it.
 */
export function renderPlanDot(plan: Plan): string {
  const q = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  const lines = [`digraph ${q(plan.workflow)} {`, '  rankdir=LR;'];
  for (const n of plan.nodes) {
    lines.push(`  ${q(n.id)} [shape=${n.kind === 'service' ? 'ellipse' : 'box'}];`);
  }
  for (const n of plan.nodes) {
    for (const d of n.dependents) lines.push(`  ${q(n.id)} -> ${q(d)};`);
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
