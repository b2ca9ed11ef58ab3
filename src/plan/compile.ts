/**
 * Compiles a validated workflow into a {@link Plan}: the DAG of its services
 * and steps in a deterministic execution order, with a fingerprint per node
 * and one for the whole plan. Pure: no I/O, no clock, no randomness.
 */

import type { AgentSpec, InputSpec, ServiceSpec, StepSpec, WorkflowSpec } from '../config/model.js';
import { conditionSource, parseExpression, usesStatusFunction } from '../expr/index.js';
import { canonicalJson, sha256Hex } from './fingerprint.js';
import { type AxisEvaluator, expandMatrices } from './matrix.js';

interface PlanNodeBase {
  /** Step id or service name (they share one namespace). */
  id: string;
  /** Ids of the nodes this one needs, sorted. Always empty for services. */
  needs: string[];
  /** Ids of the nodes that need this one, sorted. */
  dependents: string[];
  /** sha256 hex of the node's definition; see {@link nodeFingerprint}. */
  fingerprint: string;
  /** 0-based position in plan order. */
  index: number;
}

/** A step of a plan. */
export interface StepNode extends PlanNodeBase {
  kind: 'step';
  step: StepSpec;
  /**
   * The step's `if:` calls a status check function (`success()`,
   * `failure()`, `always()`, `cancelled()`): it is decided once every step it
   * needs has finished, whatever their outcome, and may run after a failure
   * or a cancellation (GitHub Actions semantics).
   */
  statusCheck: boolean;
}

/** A service of a plan. */
export interface ServiceNode extends PlanNodeBase {
  kind: 'service';
  service: ServiceSpec;
}

/** One service or step of a plan, discriminated by `kind`. */
export type PlanNode = StepNode | ServiceNode;

/** A compiled workflow. */
export interface Plan {
  workflow: string;
  /** Absolute path of the workflow file. */
  file: string;
  /** Steps at once. */
  concurrency: number;
  /** After a failure, start no new steps (true) or let independent branches go on. */
  failFast: boolean;
  /** The workflow's own env (with `defaults.env`), as written: the `env` context of its expressions. */
  env: Record<string, string>;
  /** Declared inputs (`plan/inputs.ts` checks a run's values against them). */
  inputs: Record<string, InputSpec>;
  /** Secrets the run needs: declared ones and those its services read, sorted. */
  secrets: string[];
  /** Every service and step, in plan order. */
  nodes: PlanNode[];
  /** sha256 hex over every node's id, kind and fingerprint; see {@link compilePlan}. */
  fingerprint: string;
}

/** Thrown for a workflow the config stage should have rejected (a cycle, an unknown need, a duplicate id). */
export class PlanError extends Error {
  override name = 'PlanError';
}

/**
 * Compiles `workflow` into a plan.
 *
 * Plan order is a topological order (Kahn's algorithm) in which, whenever
 * several nodes are ready, the one declared first is taken first, services
 * (in file order) counting as declared before steps (in file order). Since
 * services need nothing, they all come first. The scheduler uses this order
 * to break ties, so runs of the same file behave the same.
 *
 * Fingerprints: each node's is {@link nodeFingerprint}; the plan's is the
 * sha256 of the canonical JSON of `[id, kind, fingerprint]` for every node
 * sorted by id. Sorting by id (not by plan order) keeps it independent of
 * declaration order, which only breaks ties between independent nodes; a
 * change to any node's definition or to the graph changes it.
 *
 * Matrix steps are expanded first (`plan/matrix.ts`): each combination is a
 * step of the plan, in the matrix step's place.
 *
 * @throws MatrixError when a matrix axis is not a non-empty list.
 * @throws PlanError on a cycle, a need naming no step or service, or a step
 *   id equal to a service name (all rejected by `agent lint` first; here they
 *   are internal invariants).
 */
export function compilePlan(
  written: WorkflowSpec,
  options: {
    /** Evaluates matrix axes written as expressions (they read `inputs`); see `plan/matrix.ts`. */
    evaluateAxis?: AxisEvaluator;
  } = {},
): Plan {
  const workflow = expandMatrices(written, options.evaluateAxis);
  interface Draft {
    id: string;
    kind: 'step' | 'service';
    needs: string[];
    declared: number;
    step?: StepSpec;
    service?: ServiceSpec;
  }
  const drafts: Draft[] = [];
  const byId = new Map<string, Draft>();
  const add = (d: Draft) => {
    if (byId.has(d.id)) {
      throw new PlanError(
        `workflow "${workflow.name}": "${d.id}" is both a service and a step; names must be unique`,
      );
    }
    byId.set(d.id, d);
    drafts.push(d);
  };
  for (const [name, service] of Object.entries(workflow.services)) {
    add({ id: name, kind: 'service', needs: [], declared: drafts.length, service });
  }
  for (const [id, step] of Object.entries(workflow.steps)) {
    const needs = [...new Set(step.needs)].sort();
    add({ id, kind: 'step', needs, declared: drafts.length, step });
  }

  const dependents = new Map<string, string[]>(drafts.map((d) => [d.id, []]));
  const missing = new Map<string, number>();
  for (const d of drafts) {
    for (const need of d.needs) {
      const list = dependents.get(need);
      if (!list) {
        throw new PlanError(
          `workflow "${workflow.name}": step "${d.id}" needs "${need}", which is no step or service`,
        );
      }
      list.push(d.id);
    }
    missing.set(d.id, d.needs.length);
  }

  // Kahn's algorithm, taking the ready node declared first each time: a
  // binary heap by declaration order, O(log n) a node however wide the graph.
  const ready = new DeclaredHeap<Draft>();
  for (const d of drafts) if (d.needs.length === 0) ready.push(d);
  const order: Draft[] = [];
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    order.push(next);
    for (const depId of dependents.get(next.id) ?? []) {
      const left = (missing.get(depId) ?? 0) - 1;
      missing.set(depId, left);
      if (left === 0) ready.push(byId.get(depId) as Draft);
    }
  }
  if (order.length !== drafts.length) {
    const stuck = drafts
      .filter((d) => (missing.get(d.id) ?? 0) > 0)
      .map((d) => d.id)
      .sort();
    throw new PlanError(
      `workflow "${workflow.name}": the needs of ${stuck.map((s) => `"${s}"`).join(', ')} form a cycle`,
    );
  }

  const nodes: PlanNode[] = order.map((d, index): PlanNode => {
    const base = {
      id: d.id,
      needs: d.needs,
      dependents: [...(dependents.get(d.id) ?? [])].sort(),
      index,
    };
    if (d.step)
      return {
        ...base,
        kind: 'step',
        step: d.step,
        statusCheck: d.step.if !== undefined && conditionChecksStatus(d.step.if),
        fingerprint: nodeFingerprint({ step: d.step }),
      };
    if (d.service)
      return {
        ...base,
        kind: 'service',
        service: d.service,
        fingerprint: nodeFingerprint({ service: d.service }),
      };
    throw new PlanError(`internal: node "${d.id}" is neither a step nor a service`);
  });

  const summary = [...nodes]
    .sort((a, b) => compareStrings(a.id, b.id))
    .map((n) => [n.id, n.kind, n.fingerprint]);
  return {
    workflow: workflow.name,
    file: workflow.path,
    concurrency: workflow.concurrency,
    failFast: workflow.failFast,
    env: workflow.env,
    inputs: workflow.inputs,
    secrets: workflow.secrets,
    nodes,
    fingerprint: sha256Hex(canonicalJson(summary)),
  };
}

/**
 * The fingerprint of one node's definition: sha256 hex of the canonical JSON
 * (keys sorted at every depth) of
 *
 * - a step: `kind`, `command`, `image`, `env`, `workdir`, `timeoutMs`,
 *   `retry`, `needs` (sorted), and when set `timeoutExpr`, `if`, `outputs`,
 *   `continueOnError` and its matrix combination (fields left out when
 *   unset, so older plans keep their fingerprints);
 * - a service: its agent spec without `source` and `path` (where the
 *   definition sits in which file), so moving text around or renaming the
 *   file does not change it, while any change to what runs does.
 *
 * The node's own id is not part of it (the store keys nodes by id).
 */
export function nodeFingerprint(node: { step: StepSpec } | { service: ServiceSpec }): string {
  if ('step' in node) {
    const s = node.step;
    return sha256Hex(
      canonicalJson({
        node: 'step',
        kind: s.kind,
        command: s.command,
        script: s.script,
        image: s.image,
        env: s.env,
        workdir: s.workdir,
        timeoutMs: s.timeoutMs,
        retry: s.retry,
        needs: [...new Set(s.needs)].sort(),
        timeoutExpr: s.timeoutExpr,
        if: s.if,
        outputs: s.outputs,
        continueOnError: s.continueOnError ? true : undefined,
        combination: s.combination,
      }),
    );
  }
  const { source: _source, path: _path, ...agent }: AgentSpec = node.service.agent;
  return sha256Hex(canonicalJson({ node: 'service', agent }));
}

/** A min-heap of items by their (distinct) `declared` index. */
class DeclaredHeap<T extends { declared: number }> {
  private readonly items: T[] = [];

  push(item: T): void {
    const a = this.items;
    let i = a.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((a[parent] as T).declared <= item.declared) break;
      a[i] = a[parent] as T;
      i = parent;
    }
    a[i] = item;
  }

  /** The item with the smallest `declared`, removed; undefined when empty. */
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && (a[r] as T).declared < (a[l] as T).declared ? r : l;
      if ((a[c] as T).declared >= last.declared) break;
      a[i] = a[c] as T;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether an `if:` calls a status check function (`success()`, `failure()`,
 * `always()`, `cancelled()`) in any of its expressions. A condition that
 * does not parse counts as not calling one (lint reports it; the runner
 * fails the step when it evaluates it).
 */
export function conditionChecksStatus(condition: string): boolean {
  const c = conditionSource(condition);
  const sources =
    c.kind === 'expression'
      ? [c.source]
      : c.kind === 'template'
        ? c.parts.map((p) => p.source)
        : [];
  return sources.some((source) => {
    const parsed = parseExpression(source);
    return 'expr' in parsed && usesStatusFunction(parsed.expr);
  });
}
