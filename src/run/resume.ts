/**
 * What a session of a run does with each step, decided before anything
 * runs: reuse its recorded success, or run it, and why. Pure; used by
 * `agent run --resume / --from` to run and by `agent plan --resume / --from`
 * to explain.
 *
 * Rules (docs/state.md):
 * - a new run runs everything;
 * - resuming, a step is reused only if it succeeded and neither it nor any
 *   step it needs (transitively) changed or reruns; services always start
 *   again when needed;
 * - `--from STEP` reruns STEP and every step downstream of it, whatever
 *   their record says; everything STEP needs must have a reusable record.
 */

import type { RunReason } from '../core/events.js';
import type { Plan, PlanNode } from '../plan/compile.js';
import type { StepRecord } from '../store/types.js';

/** One step's decision. */
export interface StepDecision {
  id: string;
  action: 'reuse' | 'run';
  /** Why it runs; absent for reused steps. */
  reason?: RunReason;
}

/** The decisions of a session, in plan order (steps only). */
export interface SessionDecision {
  steps: StepDecision[];
  reused: string[];
  rerun: { id: string; reason: RunReason }[];
}

/** `--from` names no step, or the run has no record of what it needs. Exit code 2. */
export class FromError extends Error {
  override name = 'FromError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Decides each step of `plan` for a session. `previous`: the run's recorded
 * steps (undefined for a new run). `from`: `--from STEP`.
 *
 * @throws FromError when `from` is not a step of the plan, or a step it
 *   needs (transitively) has no succeeded, unchanged record in `previous`.
 */
export function decideSession(
  plan: Plan,
  previous: readonly StepRecord[] | undefined,
  options: { from?: string } = {},
): SessionDecision {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const before = new Map((previous ?? []).map((s) => [s.id, s]));
  const forced = new Map<string, RunReason>();
  if (options.from !== undefined) {
    const start = byId.get(options.from);
    if (start?.kind !== 'step') {
      const steps = plan.nodes.filter((n) => n.kind === 'step').map((n) => n.id);
      throw new FromError(
        `--from ${options.from}: workflow "${plan.workflow}" has no step "${options.from}"`,
        `steps: ${steps.join(', ')}`,
      );
    }
    forced.set(start.id, 'chosen by --from');
    for (const id of downstream(plan, start.id)) forced.set(id, 'downstream of --from');
  }

  const reusable = new Set<string>();
  const steps: StepDecision[] = [];
  for (const n of plan.nodes) {
    if (n.kind !== 'step') continue;
    const reason =
      previous === undefined
        ? 'new'
        : (forced.get(n.id) ?? whyRun(n, before.get(n.id), reusable, byId));
    if (reason === undefined) {
      reusable.add(n.id);
      steps.push({ id: n.id, action: 'reuse' });
    } else {
      steps.push({ id: n.id, action: 'run', reason });
    }
  }

  if (options.from !== undefined) {
    for (const need of upstream(plan, options.from)) {
      if (reusable.has(need)) continue;
      const record = before.get(need);
      const why = !record
        ? `the run has no record of step "${need}", which "${options.from}" needs`
        : record.status !== 'succeeded'
          ? `step "${need}", which "${options.from}" needs, did not succeed in this run (it is ${record.status})`
          : `step "${need}", which "${options.from}" needs, changed since it succeeded`;
      throw new FromError(
        `--from ${options.from}: ${why}`,
        `rerun from "${need}" instead, or run the workflow without --from`,
      );
    }
  }

  return {
    steps,
    reused: steps.filter((s) => s.action === 'reuse').map((s) => s.id),
    rerun: steps.flatMap((s) => (s.reason ? [{ id: s.id, reason: s.reason }] : [])),
  };
}

/** Why a step runs again when resuming, or undefined when its record is reused. */
function whyRun(
  node: PlanNode,
  record: StepRecord | undefined,
  reusable: ReadonlySet<string>,
  byId: ReadonlyMap<string, PlanNode>,
): RunReason | undefined {
  if (!record) return 'never ran';
  switch (record.status) {
    case 'succeeded':
      break;
    case 'failed':
    case 'timed_out':
      return 'failed';
    case 'cancelled':
    case 'running':
    case 'waiting':
      return 'not finished';
    default:
      return 'never ran';
  }
  if (record.fingerprint !== node.fingerprint) return 'changed';
  const stepNeeds = node.needs.filter((need) => byId.get(need)?.kind === 'step');
  if (!stepNeeds.every((need) => reusable.has(need))) return 'needs a step that reruns';
  return undefined;
}

/** Every step downstream of `id` (its dependents, transitively), not `id` itself. */
function downstream(plan: Plan, id: string): Set<string> {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const out = new Set<string>();
  const queue = [...(byId.get(id)?.dependents ?? [])];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (out.has(next)) continue;
    out.add(next);
    queue.push(...(byId.get(next)?.dependents ?? []));
  }
  return out;
}

/** Every step `id` needs, transitively (services left out), in plan order. */
function upstream(plan: Plan, id: string): string[] {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const out = new Set<string>();
  const queue = [...(byId.get(id)?.needs ?? [])];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (out.has(next)) continue;
    const node = byId.get(next);
    if (node?.kind !== 'step') continue;
    out.add(next);
    queue.push(...node.needs);
  }
  return plan.nodes.filter((n) => out.has(n.id)).map((n) => n.id);
}
