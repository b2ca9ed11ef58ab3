import type { ErrorObject } from 'ajv';
import { describeValue, limitMessage } from '../../describe.js';
import { readCpu, readMemory } from '../../units.js';
import type { Rule } from '../rule.js';
import { label, pathOf } from '../schema/names.js';
import { agentSpecs, isObject } from '../specs.js';

const KINDS = ['limits', 'requests'] as const;

/**
 * `units/cpu`: a CPU quantity that is malformed (the schema's `cpu`
 * definition), zero, rounds to 0 nano-CPUs or exceeds the largest safe
 * integer, in `resources.limits` or `resources.requests`.
 */
export const cpuRule: Rule = {
  id: 'units/cpu',
  category: 'units',
  docs: 'units',
  summary: 'a CPU quantity that is malformed or out of range',
  severity: 'error',
  explain(e, ctx) {
    if (ctx.unitOf(e)?.def !== 'cpu') return undefined;
    const message =
      typeof e.data === 'number'
        ? `${label(e)} must be more than 0, got ${describeValue(e.data)}`
        : `${label(e)} must be a CPU quantity like 500m, 1 or 1.5, got ${describeValue(e.data)}`;
    return { at: pathOf(e), message };
  },
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      for (const kind of KINDS) {
        const limits = isObject(spec.resources) ? spec.resources[kind] : undefined;
        const cpu = isObject(limits) ? limits.cpu : undefined;
        if (typeof cpu !== 'string' && typeof cpu !== 'number') continue;
        const r = readCpu(cpu);
        // Numbers of 0 or less are the schema's (exclusiveMinimum), as are malformed strings.
        if (r.ok || (typeof cpu === 'number' && r.problem === 'not-positive')) continue;
        const m = limitMessage('cpu', r.problem, '"cpu"', cpu);
        if (m) ctx.report({ at: [...path, 'resources', kind, 'cpu'], ...m });
      }
    }
  },
};

function memorySchemaMessage(e: ErrorObject): { message: string; hint?: string } | undefined {
  if (typeof e.data === 'number') {
    // The schema checks numbers (type integer, minimum, maximum); the
    // quantity reader names the problem the same way the check does.
    const r = readMemory(e.data);
    return r.ok ? undefined : limitMessage('memory', r.problem, label(e), e.data);
  }
  return {
    message: `${label(e)} must be a memory quantity like 512Mi, 2Gi or 1G, got ${describeValue(e.data)}`,
    hint: 'suffixes are k, M, G, T (powers of 1000) and Ki, Mi, Gi, Ti (powers of 1024); no suffix means bytes',
  };
}

/**
 * `units/memory`: a memory quantity that is malformed (the schema's `memory`
 * definition), zero, rounds to 0 bytes, is a fraction of a byte or exceeds
 * the largest safe integer.
 */
export const memoryRule: Rule = {
  id: 'units/memory',
  category: 'units',
  docs: 'units',
  summary: 'a memory quantity that is malformed or out of range',
  severity: 'error',
  explain(e, ctx) {
    if (ctx.unitOf(e)?.def !== 'memory') return undefined;
    const m = memorySchemaMessage(e);
    return m && { at: pathOf(e), ...m };
  },
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      for (const kind of KINDS) {
        const limits = isObject(spec.resources) ? spec.resources[kind] : undefined;
        const memory = isObject(limits) ? limits.memory : undefined;
        // Numbers are the schema's (type integer, minimum, maximum), as are malformed strings.
        if (typeof memory !== 'string') continue;
        const r = readMemory(memory);
        const m = r.ok ? undefined : limitMessage('memory', r.problem, '"memory"', memory);
        if (m) ctx.report({ at: [...path, 'resources', kind, 'memory'], ...m });
      }
    }
  },
};
