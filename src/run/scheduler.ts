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

function needSatisfied(plan: Plan, states: NodeStates, need: string): boolean {
  const node = nodeById(plan, need);
  const status = states.get(need);
  return node.kind === 'service' ? status === 'healthy' : status === 'succeeded';
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
 * Steps that can start now, in plan order: pending, every step they need
 * succeeded and every service they need healthy; at most
 * `concurrency - running` of them.
 */
export function readySteps(plan: Plan, states: NodeStates, concurrency: number): PlanNode[] {
  let running = 0;
  for (const n of plan.nodes) if (n.kind === 'step' && states.get(n.id) === 'running') running++;
  const room = Math.max(0, concurrency - running);
  const out: PlanNode[] = [];
  for (const n of plan.nodes) {
    if (out.length >= room) break;
    if (n.kind !== 'step' || states.get(n.id) !== 'pending') continue;
    if (n.needs.every((need) => needSatisfied(plan, states, need))) out.push(n);
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
      if (states.get(d) !== 'pending') return false;
      return dep.needs.every(
        (need) => nodeById(plan, need).kind === 'service' || states.get(need) === 'succeeded',
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
 * unhealthy. Callers apply this repeatedly until it returns nothing, so
 * skipping propagates down the DAG.
 */
export function blockedSteps(plan: Plan, states: NodeStates): PlanNode[] {
  return plan.nodes.filter(
    (n) =>
      n.kind === 'step' &&
      states.get(n.id) === 'pending' &&
      n.needs.some((need) => needBroken(plan, states, need)),
  );
}
