import { fieldLabel } from '../../describe.js';
import { compileSchemas } from '../../schema.js';
import { quoteList } from '../../suggest.js';
import { parsePortString } from '../../units.js';
import type { DocumentRuleContext, Path, Rule } from '../rule.js';
import { type AgentSpecPart, agentSpecs, isObject, isProcessSpec } from '../specs.js';

/** The keys an Agent spec may have, from the schema. */
function agentSpecKeys(): Set<string> {
  const defs = compileSchemas().documents.Agent.$defs as Record<string, { properties?: object }>;
  return new Set(Object.keys(defs.agentSpec?.properties ?? {}));
}

/** Container settings a local process would silently ignore. */
const CONTAINER_ONLY = ['pull', 'security', 'network', 'init', 'stopGracePeriod'] as const;

function checkRuntime(ctx: DocumentRuleContext, { spec, path }: AgentSpecPart): void {
  const has = (key: string) => spec[key] !== undefined && spec[key] !== null;
  const runtime = spec.runtime;
  if (runtime === 'process') {
    for (const key of ['image', 'build']) {
      if (!has(key)) continue;
      ctx.report({
        at: [...path, key],
        target: 'key',
        message: `a process agent cannot have ${JSON.stringify(key)}; remove it, or use runtime "docker"`,
      });
    }
    if (!has('command')) {
      ctx.report({ at: [...path, 'runtime'], message: 'a process agent needs a "command"' });
    }
  } else if (runtime === 'docker') {
    if (!has('image') && !has('build')) {
      ctx.report({
        at: [...path, 'runtime'],
        message: 'a docker agent needs an "image" or a "build"',
      });
    }
  } else if (
    runtime === undefined &&
    !has('image') &&
    !has('build') &&
    !has('command') &&
    // An unknown key is likely a misspelt one of these; schema/unknown-key says so.
    Object.keys(spec).every((k) => agentSpecKeys().has(k))
  ) {
    ctx.report({
      at: path,
      target: 'key',
      message: `agent has none of ${quoteList(['image', 'build', 'command'])}; set "image" or "build" to run a container, or "command" to run a local process`,
    });
  }
}

/**
 * What a local process cannot honour, and would otherwise silently ignore:
 * volumes, container settings, resource limits, and a port published on a
 * different host port (a process listens on its own port; `host` must be
 * omitted or equal `container`).
 */
function checkProcess(ctx: DocumentRuleContext, spec: Record<string, unknown>, at: Path): void {
  if (Array.isArray(spec.volumes) && spec.volumes.length > 0) {
    ctx.report({
      at: [...at, 'volumes'],
      target: 'key',
      message:
        'a process agent cannot have "volumes"; remove them, or run a container with "image" or "build"',
      hint: "bind mounts apply to containers; a local process sees the host's files as they are",
    });
  }
  for (const key of CONTAINER_ONLY) {
    if (spec[key] === undefined || spec[key] === null) continue;
    ctx.report({
      at: [...at, key],
      target: 'key',
      message: `a process agent cannot have ${JSON.stringify(key)}; remove it, or run a container with "image" or "build"`,
      hint: 'it is a container setting, which a local process would silently ignore',
    });
  }
  const resources = spec.resources;
  const limits = isObject(resources) ? resources.limits : undefined;
  const requests = isObject(resources) ? resources.requests : undefined;
  if (
    (isObject(limits) && Object.keys(limits).length > 0) ||
    (isObject(requests) && Object.keys(requests).length > 0)
  ) {
    ctx.report({
      at: [...at, 'resources'],
      target: 'key',
      message:
        'a process agent cannot have resource limits or requests; remove "resources", or run a container with "image" or "build"',
      hint: 'CPU and memory limits and requests are enforced by Docker; a local process runs without them',
    });
  }
  if (!Array.isArray(spec.ports)) return;
  spec.ports.forEach((port, i) => {
    let mapping: { container: number; host: number } | undefined;
    let fix: string;
    if (typeof port === 'string' && port.includes(':')) {
      mapping = parsePortString(port);
      fix = `write ${JSON.stringify(port.replace(/^[0-9]+:/, ''))}`;
    } else if (
      isObject(port) &&
      typeof port.container === 'number' &&
      typeof port.host === 'number'
    ) {
      mapping = { container: port.container, host: port.host };
      fix = 'remove "host"';
    } else {
      return;
    }
    if (!mapping || mapping.host === mapping.container) return;
    const path = [...at, 'ports', String(i)];
    const where = mapping.host === 0 ? 'any free host port' : `host port ${mapping.host}`;
    ctx.report({
      at: path,
      message: `${JSON.stringify(fieldLabel(path))} publishes port ${mapping.container} on ${where}, which a process agent cannot do; a local process listens on its own port, so the host port must be omitted or equal ${mapping.container}`,
      hint: `${fix}, or run a container with "image" or "build" to remap it`,
    });
  });
}

/**
 * `agent/runtime`: fields that do not fit the runtime. A process agent with
 * `image`/`build`, without `command`, or with what only a container honours
 * (`volumes`, `resources`, `pull`, `security`, `network`, `init`,
 * `stopGracePeriod`, a remapped port); a docker agent without `image` or
 * `build`; an agent with none of `image`, `build`, `command`.
 */
export const runtimeRule: Rule = {
  id: 'agent/runtime',
  category: 'agent',
  docs: 'agents',
  summary: 'fields that do not fit the agent runtime',
  severity: 'error',
  check(ctx) {
    for (const part of agentSpecs(ctx)) {
      checkRuntime(ctx, part);
      if (isProcessSpec(part.spec)) checkProcess(ctx, part.spec, part.path);
    }
  },
};
