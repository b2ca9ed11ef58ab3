/**
 * agent-as-code documents (`apiVersion: agent.dev/v1`, `kind: Agent`): the
 * rules the schema (schemas/agent-dev-v1.schema.json) cannot say, and the
 * mapping to {@link AgentSpec}: a language runtime with dependencies becomes
 * a build of a generated Dockerfile over the agent's folder
 * (src/agentdev/, docs/agent-as-code.md).
 */

import path from 'node:path';
import { planAgentBuild } from '../agentdev/context.js';
import { ENTRY_FILES, MANIFESTS } from '../agentdev/dockerfile.js';
import { LANGUAGES, parseDependency, parseRuntime, type Runtime } from '../agentdev/runtime.js';
import { describeValue, limitMessage } from './describe.js';
import type { Diagnostic } from './diagnostics.js';
import type { AgentSpec, SourceRef } from './model.js';
import { type NormalizeContext, normalizeAgent } from './normalize.js';
import type { RuleContext } from './rules/rule.js';
import { nearest, quoteList } from './suggest.js';
import { readCpu, readMemory } from './units.js';

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function report(
  ctx: RuleContext,
  at: readonly string[],
  severity: 'error' | 'warning',
  d: { code: string; message: string; hint?: string },
): Diagnostic {
  return { ...d, severity, file: ctx.file, ...ctx.doc.locate(at, 'value') };
}

/** `spec.runtime` when it is a string naming a known language (and a valid version). */
export function agentDevRuntime(spec: unknown): Runtime | undefined {
  return isObject(spec) && typeof spec.runtime === 'string'
    ? parseRuntime(spec.runtime)
    : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Semantic rules of an agent.dev/v1 document (whatever has the right shape;
 * the schema reports the rest):
 *
 * - `agent-dev/runtime`: an unknown language, with the list and a did-you-mean
 *   (`pyhton` → `python`, `node` → `nodejs`), or a version that is no image tag;
 * - `agent-dev/dependency`: an entry not in its language's syntax
 *   (`parseDependency`), with the right form as a hint;
 * - `units/cpu`, `units/memory`: limits and requests that are not quantities;
 * - with `dir` (the file's directory): `agent-dev/entrypoint` when the folder
 *   has no entry file for the language (error: the image would have nothing
 *   to run), `agent-dev/manifest` warnings where `dependencies` and the
 *   folder's own manifest disagree, and a java warning that dependencies
 *   are not fetched.
 */
export function checkAgentDev(ctx: RuleContext, data: Raw, dir?: string): Diagnostic[] {
  const spec = data.spec;
  if (!isObject(spec)) return [];
  const out: Diagnostic[] = [];
  const runtimeText = spec.runtime;
  const runtime = agentDevRuntime(spec);
  if (typeof runtimeText === 'string' && runtime === undefined) {
    const language = runtimeText.split(':')[0] ?? '';
    const known = (LANGUAGES as readonly string[]).includes(language);
    const near = known ? undefined : nearest(language, [...LANGUAGES, 'node'].map(String));
    const suggestion = near === 'node' ? 'nodejs' : near;
    out.push(
      report(ctx, ['spec', 'runtime'], 'error', {
        code: 'agent-dev/runtime',
        message: known
          ? `"runtime" ${JSON.stringify(runtimeText)} has an invalid version; expected LANGUAGE:VERSION with VERSION an image tag, e.g. python:3.11`
          : `"runtime" must be one of ${quoteList(LANGUAGES)}, optionally with ":VERSION" (e.g. "python:3.11"), got ${describeValue(runtimeText)}${
              suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ''
            }`,
      }),
    );
  }
  if (runtime && Array.isArray(spec.dependencies)) {
    spec.dependencies.forEach((dep, i) => {
      if (typeof dep !== 'string' || dep.trim() === '') return;
      const r = parseDependency(runtime.language, dep);
      if (!r.ok) {
        out.push(
          report(ctx, ['spec', 'dependencies', String(i)], 'error', {
            code: 'agent-dev/dependency',
            message: `invalid ${runtime.language} dependency ${JSON.stringify(dep)}; expected ${r.expected}`,
            ...(r.hint ? { hint: r.hint } : {}),
          }),
        );
      }
    });
  }
  const resources = isObject(spec.resources) ? spec.resources : {};
  for (const group of ['limits', 'requests']) {
    const q = resources[group];
    if (!isObject(q)) continue;
    if (typeof q.cpu === 'string' || typeof q.cpu === 'number') {
      const r = readCpu(q.cpu);
      if (!r.ok) {
        const m =
          r.problem === 'syntax'
            ? {
                message: `"cpu" must be a CPU quantity like 500m, 1 or 1.5, got ${describeValue(q.cpu)}`,
              }
            : limitMessage('cpu', r.problem, '"cpu"', q.cpu);
        if (m)
          out.push(
            report(ctx, ['spec', 'resources', group, 'cpu'], 'error', { code: 'units/cpu', ...m }),
          );
      }
    }
    if (typeof q.memory === 'string' || typeof q.memory === 'number') {
      const r = readMemory(q.memory);
      if (!r.ok) {
        const m =
          r.problem === 'syntax'
            ? {
                message: `"memory" must be a memory quantity like 512Mi, 2Gi or 1G, got ${describeValue(q.memory)}`,
                hint: 'suffixes are k, M, G, T (powers of 1000) and Ki, Mi, Gi, Ti (powers of 1024); no suffix means bytes',
              }
            : limitMessage('memory', r.problem, '"memory"', q.memory);
        if (m)
          out.push(
            report(ctx, ['spec', 'resources', group, 'memory'], 'error', {
              code: 'units/memory',
              ...m,
            }),
          );
      }
    }
  }
  if (runtime && dir !== undefined) {
    const deps = strings(spec.dependencies);
    const plan = planAgentBuild({
      dir,
      runtime,
      name: 'agent',
      version: 'latest',
      dependencies: deps,
      ports: [],
    });
    if (plan.command === undefined) {
      out.push(
        report(ctx, ['spec', 'runtime'], 'error', {
          code: 'agent-dev/entrypoint',
          message: `a ${runtime.language} agent needs one of ${quoteList(ENTRY_FILES[runtime.language])} beside this file; the image would have nothing to run`,
          hint:
            runtime.language === 'nodejs'
              ? 'or a package.json with a "start" script; see docs/agent-as-code.md for the command conventions'
              : 'see docs/agent-as-code.md for the command conventions',
        }),
      );
    }
    for (const m of plan.mismatches) {
      out.push(
        report(
          ctx,
          m.index === undefined
            ? ['spec', 'dependencies']
            : ['spec', 'dependencies', String(m.index)],
          'warning',
          {
            code: 'agent-dev/manifest',
            message: m.message,
            hint: `the folder's ${MANIFESTS[runtime.language]} wins; make "dependencies" match it, or remove the file to have it generated`,
          },
        ),
      );
    }
    if (runtime.language === 'java' && deps.length > 0) {
      out.push(
        report(ctx, ['spec', 'dependencies'], 'warning', {
          code: 'agent-dev/manifest',
          message: 'java dependencies are not fetched; the image runs the folder as it is',
          hint: 'ship a runnable app.jar with its dependencies (a fat jar)',
        }),
      );
    }
  }
  return out;
}

/**
 * An agent.dev/v1 document → {@link AgentSpec}: a docker agent whose image
 * is built from the generated Dockerfile over the file's directory
 * (`build.files` holds the generated files, `build.dockerfile` names the
 * Dockerfile among them) and tagged `NAME:VERSION` (`image`). `environment`,
 * `ports`, `volumes`, `resources.limits` and `healthCheck` map to agentfile's
 * fields of the same names (a command health check; unset timings take
 * agentfile's defaults); `requests`, `capabilities`, `tags`, `author` and
 * `labels` are not used.
 *
 * @param options.baseImages base image overrides by language.
 */
export function normalizeAgentDev(
  ctx: NormalizeContext,
  options: { name: string; data: unknown; source: SourceRef; baseImages?: Record<string, string> },
): AgentSpec {
  const data = isObject(options.data) ? options.data : {};
  const metadata = isObject(data.metadata) ? data.metadata : {};
  const spec = isObject(data.spec) ? data.spec : {};
  const runtime = agentDevRuntime(spec) ?? { language: 'python' };
  const version = typeof metadata.version === 'string' ? metadata.version : 'latest';
  const ports = Array.isArray(spec.ports)
    ? spec.ports.filter(isObject).map((p) => ({
        container: Number(p.container),
        host: typeof p.host === 'number' ? p.host : 0,
        protocol: p.protocol === 'udp' ? ('udp' as const) : ('tcp' as const),
      }))
    : [];
  const model = isObject(spec.model) ? spec.model : undefined;
  const dir = path.dirname(ctx.path);
  const plan = planAgentBuild({
    dir,
    runtime,
    name: options.name,
    version,
    dependencies: strings(spec.dependencies),
    ports,
    ...(model
      ? {
          model: {
            name: String(model.name),
            ...(typeof model.provider === 'string' ? { provider: model.provider } : {}),
            ...(model.config !== undefined ? { config: model.config } : {}),
          },
        }
      : {}),
    ...(spec.config !== undefined ? { config: spec.config } : {}),
    ...(options.baseImages ? { baseImages: options.baseImages } : {}),
  });
  // The fields agentfile's own format spells the same way normalize as they do there.
  const health = isObject(spec.healthCheck) ? spec.healthCheck : undefined;
  const limits =
    isObject(spec.resources) && isObject(spec.resources.limits) ? spec.resources.limits : undefined;
  const agent = normalizeAgent(ctx, {
    name: options.name,
    specPath: ['spec'],
    source: options.source,
    spec: {
      runtime: 'docker',
      environment: spec.environment,
      volumes: Array.isArray(spec.volumes)
        ? spec.volumes.filter(isObject).map((v) => ({ source: v.source, target: v.target }))
        : undefined,
      ...(health ? { healthCheck: health } : {}),
      ...(limits ? { resources: { limits } } : {}),
    },
  });
  agent.image = `${options.name}:${version}`;
  agent.build = { context: dir, dockerfile: plan.dockerfile, args: {}, files: plan.files };
  agent.ports = ports;
  return agent;
}
