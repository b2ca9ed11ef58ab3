import type { ErrorObject } from 'ajv';
import { describeValue, fieldLabel } from '../../describe.js';
import { parseDuration } from '../../units.js';
import type { DocumentRuleContext, Finding, Path, Rule } from '../rule.js';
import { label, pathOf } from '../schema/names.js';
import { agentSpecs, dig, workflowSteps } from '../specs.js';

/** A duration field that must not be 0, and the hint that says what 0 would do. */
interface DurationField {
  /** Path below the object that holds it. */
  path: Path;
  hint: string;
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

/** Agent durations that must be more than 0 (`startPeriod: 0s` is fine: it is the default). */
const AGENT_DURATIONS: readonly DurationField[] = [
  {
    path: ['healthCheck', 'interval'],
    hint: 'an interval of 0 would run probes back to back; the default is 5s',
  },
  {
    path: ['healthCheck', 'timeout'],
    hint: 'a probe timeout of 0 would fail every probe; the default is 3s',
  },
  {
    path: ['stopGracePeriod'],
    hint: 'a grace period of 0 would kill the service at once, with no chance to shut down; the default is 10s',
  },
];

function schemaMessage(e: ErrorObject): Omit<Finding, 'at'> {
  if (typeof e.data === 'number') {
    return {
      message: `${label(e)} must be a duration with a unit, got ${describeValue(e.data)}`,
      hint: `add a unit, e.g. ${e.data}s`,
    };
  }
  return {
    message: `${label(e)} must be a duration like 500ms, 30s, 5m or 1h30m, got ${describeValue(e.data)}`,
    hint: 'units are ms, s, m and h; combine them as in 1m30s',
  };
}

/** Reports each of `fields` below `value` (at `at`) that is a valid duration of 0 ms: written as 0, or rounding to 0 (`0.1ms`). */
function checkZero(
  ctx: DocumentRuleContext,
  value: unknown,
  at: Path,
  fields: readonly DurationField[],
): void {
  for (const field of fields) {
    const v = dig(value, field.path);
    if (typeof v !== 'string' || parseDuration(v) !== 0) continue;
    const path = [...at, ...field.path];
    const name = JSON.stringify(fieldLabel(path));
    ctx.report({
      at: path,
      message: /[1-9]/.test(v)
        ? `${name} must be at least 1ms (durations are whole milliseconds), got ${describeValue(v)}`
        : `${name} must be more than 0, got ${describeValue(v)}`,
      hint: field.hint,
    });
  }
}

/**
 * `units/duration`: a duration field that is not a duration (a number
 * without a unit, a malformed string; from the schema's `duration`
 * definition), or one of 0: a step `timeout`, `retry.backoff.initial` or
 * `max`, a health check `interval` or `timeout`, a `stopGracePeriod`.
 */
export const durationRule: Rule = {
  id: 'units/duration',
  category: 'units',
  docs: 'units',
  summary: 'a duration that is malformed, zero or out of range',
  severity: 'error',
  explain(e, ctx) {
    if (ctx.unitOf(e)?.def !== 'duration') return undefined;
    return { at: pathOf(e), ...schemaMessage(e) };
  },
  check(ctx) {
    for (const { step, path } of workflowSteps(ctx)) checkZero(ctx, step, path, STEP_DURATIONS);
    for (const { spec, path } of agentSpecs(ctx)) checkZero(ctx, spec, path, AGENT_DURATIONS);
  },
};
