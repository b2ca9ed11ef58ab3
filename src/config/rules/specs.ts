/**
 * The parts of a document that rules check: the agent specs (an Agent
 * document's `spec`, and each inline service of a Workflow) and the steps of
 * a Workflow, each with its JSON path. Raw data, read defensively: a part of
 * the wrong shape is skipped (the schema reports it).
 */

import type { DocumentRuleContext, Path } from './rule.js';

/** True for a plain mapping. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An agent spec found in a document. */
export interface AgentSpecPart {
  spec: Record<string, unknown>;
  /** `['spec']` or `['spec', 'services', NAME]`. */
  path: Path;
  /** The agent's name in messages: the document's name, or the service name. */
  name: string;
  /** True for an inline service of a Workflow. */
  service: boolean;
}

/**
 * The agentfile/v1 agent specs of a document: an Agent's `spec`, or a
 * Workflow's services without `uses` (a service that uses another file is
 * checked where that file is). agent.dev/v1 documents have no agent spec:
 * their rules are in `agent-dev.ts`.
 */
export function agentSpecs(ctx: DocumentRuleContext): AgentSpecPart[] {
  if (ctx.format !== undefined) return [];
  const spec = ctx.data.spec;
  if (!isObject(spec)) return [];
  if (ctx.kind === 'Agent') {
    const metadata = ctx.data.metadata;
    const name = isObject(metadata) && typeof metadata.name === 'string' ? metadata.name : '';
    return [{ spec, path: ['spec'], name, service: false }];
  }
  const services = isObject(spec.services) ? spec.services : {};
  return Object.entries(services).flatMap(([name, entry]) =>
    isObject(entry) && entry.uses === undefined
      ? [{ spec: entry, path: ['spec', 'services', name], name, service: true }]
      : [],
  );
}

/** A step of a Workflow. */
export interface StepPart {
  id: string;
  step: Record<string, unknown>;
  /** `['spec', 'steps', ID]`. */
  path: Path;
}

/** The steps of a Workflow document, in file order. */
export function workflowSteps(ctx: DocumentRuleContext): StepPart[] {
  if (ctx.kind !== 'Workflow') return [];
  const spec = ctx.data.spec;
  const steps = isObject(spec) && isObject(spec.steps) ? spec.steps : {};
  return Object.entries(steps).flatMap(([id, step]) =>
    isObject(step) ? [{ id, step, path: ['spec', 'steps', id] }] : [],
  );
}

/** The value below `value` at `path`, or undefined. */
export function dig(value: unknown, path: Path): unknown {
  let v = value;
  for (const key of path) v = isObject(v) ? v[key] : undefined;
  return v;
}

/** True when an agent spec runs as a container: runtime docker, or no runtime and an image or a build. */
export function isContainerSpec(spec: Record<string, unknown>): boolean {
  const has = (key: string) => spec[key] !== undefined && spec[key] !== null;
  return (
    spec.runtime === 'docker' || (spec.runtime === undefined && (has('image') || has('build')))
  );
}

/** True when an agent spec runs as a local process: runtime process, or no runtime, image or build, and a command. */
export function isProcessSpec(spec: Record<string, unknown>): boolean {
  const has = (key: string) => spec[key] !== undefined && spec[key] !== null;
  return (
    spec.runtime === 'process' ||
    (spec.runtime === undefined && !has('image') && !has('build') && has('command'))
  );
}
