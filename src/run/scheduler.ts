/**
 * The scheduler's decisions as pure functions over the plan and the nodes'
 * current states: which steps are ready, which services are wanted, which can
 * stop, and which steps can never run. The runner (`runner.ts`) owns the side
 * effects; everything here is deterministic and unit-tested with plain data.
 */

import type { ServiceStatus, StepStatus } from '../core/status.js';
import type { Plan, PlanNode } from '../plan/compile.js';

/** The live state of every node, keyed by node id. */
export type NodeStates = ReadonlyMap<string, StepStatus | ServiceStatus>;

/**
 * A need that lets its dependants start: a healthy service, a succeeded step,
 * or a failed step with `continueOnError` (GitHub Actions: it counts as a
 * success for what needs it).
 */
function needSatisfied(plan: Plan, states: NodeStates, need: string): boolean {
  const node = nodeById(plan, need);
  const status = states.get(need);
  if (node.kind === 'service') return status === 'healthy';
  return (
    status === 'succeeded' ||
    (node.step.continueOnError && (status === 'failed' || status === 'timed_out'))
  );
}

/**
 * Whether a step can be decided now: its needs are satisfied, or, for a step
 * whose `if:` calls a status check function (`always()`, `failure()`, …),
 * every step it needs has finished, whatever the outcome, and every service
 * it needs is healthy.
 */
function decidable(plan: Plan, states: NodeStates, n: PlanNode): boolean {
  if (n.kind !== 'step') return false;
  if (!n.statusCheck) return n.needs.every((need) => needSatisfied(plan, states, need));
  return n.needs.every((need) =>
    nodeById(plan, need).kind === 'service'
      ? states.get(need) === 'healthy'
      : isDone(states.get(need)),
  );
}

/** A need that can no longer be satisfied in this run. */
function needBroken(plan: Plan, states: NodeStates, need: string): boolean {
  const node = nodeById(plan, need);
  const status = states.get(need);
  if (node.kind === 'service') {
    return status === 'unhealthy' || status === 'failed' || status === 'cancelled';
  }
  return (
    status === 'failed' || status === 'timed_out' || status === 'cancelled' || status === 'skipped'
  );
}

const indexCache = new WeakMap<Plan, Map<string, PlanNode>>();

/**
 * The plan node with this id.
 * @throws Error when there is none (an internal invariant: the plan is closed under `needs`).
 */
export function nodeById(plan: Plan, id: string): PlanNode {
  let index = indexCache.get(plan);
  if (!index) {
    index = new Map(plan.nodes.map((n) => [n.id, n]));
    indexCache.set(plan, index);
  }
  const node = index.get(id);
  if (!node) throw new Error(`internal: plan has no node "${id}"`);
  return node;
}

/**
 * Steps that can start now, in plan order: pending, and every step they need
 * succeeded (or failed with `continueOnError`) and every service they need
 * healthy, or, when their `if:` calls a status check function, every step
 * they need finished (see {@link decidable}); at most `concurrency - running`
 * of them, and at most a matrix's `maxParallel` of its combinations running.
 * `only`, when given, keeps just the steps it accepts (after a failure, only
 * steps with status checks still start).
 */
export function readySteps(
  plan: Plan,
  states: NodeStates,
  concurrency: number,
  only?: (node: PlanNode) => boolean,
): PlanNode[] {
  let running = 0;
  const perGroup = new Map<string, number>();
  const groupOf = (n: PlanNode) => (n.kind === 'step' ? n.step.combination : undefined);
  for (const n of plan.nodes) {
    if (n.kind !== 'step' || states.get(n.id) !== 'running') continue;
    running++;
    const g = groupOf(n);
    if (g) perGroup.set(g.group, (perGroup.get(g.group) ?? 0) + 1);
  }
  const room = Math.max(0, concurrency - running);
  const out: PlanNode[] = [];
  for (const n of plan.nodes) {
    if (out.length >= room) break;
    if (n.kind !== 'step' || states.get(n.id) !== 'pending') continue;
    if (!decidable(plan, states, n) || (only && !only(n))) continue;
    const g = groupOf(n);
    if (g?.maxParallel !== undefined) {
      const busy = perGroup.get(g.group) ?? 0;
      if (busy >= g.maxParallel) continue;
      perGroup.set(g.group, busy + 1);
    }
    out.push(n);
  }
  return out;
}

/**
 * Services to start now, in plan order: pending services needed by a pending
 * step whose step needs have all succeeded (it waits only on services).
 * "Services start when first needed" (DESIGN.md), not at the start of the run.
 */
export function wantedServices(plan: Plan, states: NodeStates): PlanNode[] {
  const out: PlanNode[] = [];
  for (const n of plan.nodes) {
    if (n.kind !== 'service' || states.get(n.id) !== 'pending') continue;
    const wanted = n.dependents.some((d) => {
      const dep = nodeById(plan, d);
      if (dep.kind !== 'step' || states.get(d) !== 'pending') return false;
      return dep.needs.every(
        (need) =>
          nodeById(plan, need).kind === 'service' ||
          (dep.statusCheck ? isDone(states.get(need)) : needSatisfied(plan, states, need)),
      );
    });
    if (wanted) out.push(n);
  }
  return out;
}

/** Healthy services that no remaining step needs: every dependent is in a terminal state. */
export function idleServices(plan: Plan, states: NodeStates): PlanNode[] {
  return plan.nodes.filter(
    (n) =>
      n.kind === 'service' &&
      states.get(n.id) === 'healthy' &&
      n.dependents.every((d) => isDone(states.get(d))),
  );
}

function isDone(status: StepStatus | ServiceStatus | undefined): boolean {
  return (
    status === 'succeeded' ||
    status === 'failed' ||
    status === 'timed_out' ||
    status === 'cancelled' ||
    status === 'skipped'
  );
}

/**
 * Pending steps that can never run because something they need (directly)
 * failed, timed out, was cancelled or skipped, or a service they need is
 * unhealthy. A failed need with `continueOnError` blocks nothing, and a step
 * whose `if:` calls a status check function is blocked only by a service.
 * Callers apply this repeatedly until it returns nothing, so skipping
 * propagates down the DAG (GitHub Actions: dependants of a failed or
 * skipped job are skipped, unless their condition says otherwise).
 */
export function blockedSteps(plan: Plan, states: NodeStates): PlanNode[] {
  return plan.nodes.filter(
    (n) =>
      n.kind === 'step' &&
      states.get(n.id) === 'pending' &&
      n.needs.some(
        (need) =>
          needBroken(plan, states, need) &&
          !needSatisfied(plan, states, need) &&
          (!n.statusCheck || nodeById(plan, need).kind === 'service'),
      ),
  );
}
