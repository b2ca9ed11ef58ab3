/**
 * The needs graph of a Workflow document as written: each step's needs with
 * the JSON path of the entry, and the step-to-step edges in file order.
 * Shared by `workflow/unknown-need` and `workflow/cycle`.
 */

import type { DocumentRuleContext, Path } from '../rule.js';
import { isObject, workflowSteps } from '../specs.js';

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

/** The needs of a Workflow's steps. */
export interface NeedGraph {
  /** Step ids in file order. */
  stepIds: string[];
  /** Service names. */
  serviceNames: string[];
  /** Step id → the steps it needs (no services, no unknown names), in file order, without repeats. */
  edges: Map<string, string[]>;
  /** Step id → its needs as written, with entry paths (steps, services and unknown names). */
  needs: Map<string, Array<{ name: string; path: Path }>>;
}

/** The needs graph of `ctx`'s Workflow (empty for an Agent). */
export function needGraph(ctx: DocumentRuleContext): NeedGraph {
  const steps = workflowSteps(ctx);
  const spec = ctx.data.spec;
  const services = isObject(spec) && isObject(spec.services) ? spec.services : {};
  const stepIds = steps.map((s) => s.id);
  const order = new Map(stepIds.map((id, i) => [id, i]));
  const edges = new Map<string, string[]>();
  const needs = new Map<string, Array<{ name: string; path: Path }>>();
  for (const { id, step, path } of steps) {
    const written = stepNeeds(step, path);
    needs.set(id, written);
    const next = written.map((n) => n.name).filter((name) => order.has(name));
    next.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    edges.set(id, [...new Set(next)]);
  }
  return { stepIds, serviceNames: Object.keys(services), edges, needs };
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
