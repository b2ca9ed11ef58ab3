/**
 * Semantic rules: what the JSON Schemas cannot say. Each rule reads the raw
 * document data defensively (a value of the wrong shape is the schema's to
 * report, so rules skip it) and returns diagnostics; none throws.
 */

import type { Diagnostic } from './diagnostics.js';
import type { SourceDocument } from './load.js';
import { compileSchemas, describeValue } from './schema.js';
import { quoteList, suggestion } from './suggest.js';
import { parseCpu, parseMemory, parsePortString } from './units.js';

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
 * - `units/port`: a port string whose numbers are out of range;
 * - `units/cpu`, `units/memory`: quantities of zero.
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
  const limits = isObject(spec.resources) ? spec.resources.limits : undefined;
  if (isObject(limits)) {
    const cpu = limits.cpu;
    if (typeof cpu === 'string' && /^([0-9]+m|[0-9]+(\.[0-9]+)?)$/.test(cpu) && !parseCpu(cpu)) {
      out.push(
        report(ctx, [...specPath, 'resources', 'limits', 'cpu'], 'value', {
          code: 'units/cpu',
          message: `"cpu" must be more than 0, got ${describeValue(cpu)}`,
        }),
      );
    }
    const memory = limits.memory;
    if (
      typeof memory === 'string' &&
      /^[0-9]+(\.[0-9]+)?(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(memory) &&
      !parseMemory(memory)
    ) {
      out.push(
        report(ctx, [...specPath, 'resources', 'limits', 'memory'], 'value', {
          code: 'units/memory',
          message: `"memory" must be at least 1 byte, got ${describeValue(memory)}`,
        }),
      );
    }
  }
  return out;
}
