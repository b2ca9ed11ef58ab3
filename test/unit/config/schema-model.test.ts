/**
 * The JSON Schemas are the format's one source of truth, and the model
 * (src/config/model.ts) must carry everything they accept:
 *
 * - every property, map value and definition has `title`, `description` and
 *   `examples` (what yaml-language-server completes and shows), and each
 *   example and `default` is valid against its own schema;
 * - a document built from the examples (one per `oneOf` branch, see
 *   test/helpers/schema-walk.ts) loads with `loadProject`, and every value it
 *   sets reaches the normalized project: at the same path, or where
 *   {@link MODEL} says (renamed or converted fields), or it is in
 *   {@link MODEL} as consumed but not copied, with the reason. A property
 *   added to a schema and not to the model fails here, named;
 * - every `default` is what the model holds for a document that omits the
 *   field (or what the consumer reads an unset model field as).
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GENERATED_DIR } from '../../../src/agentdev/dockerfile.js';
import { loadProject } from '../../../src/config/index.js';
import type { AgentSpec, WorkflowSpec } from '../../../src/config/model.js';
import { parseCpu, parseDuration, parseMemory } from '../../../src/config/units.js';
import {
  DEFAULT_INIT,
  DEFAULT_STOP_GRACE_PERIOD_MS,
} from '../../../src/executors/docker/create-options.js';
import {
  annotatedNodes,
  generate,
  type Json,
  joinPath,
  SCHEMAS,
  type SchemaKind,
  type Segment,
  type Visited,
} from '../../helpers/schema-walk.js';

type Root = AgentSpec | WorkflowSpec;

interface Ctx {
  /** The directory the document was written to (relative paths resolve against it). */
  dir: string;
}

/**
 * Where a schema property's value is in the model, when not at the same
 * path (the document path without its leading `spec`), or how it is used
 * when it is not copied.
 */
type Mapping =
  | {
      /** Reads the value from the model root (the agent or workflow), given the property's document path. */
      get: (root: Root, at: Segment[]) => unknown;
      /** What the document's value becomes in the model (default: itself). */
      expect?: (value: unknown, ctx: Ctx, root: Root, at: Segment[]) => unknown;
      /** Compare by inclusion: every element of the expected list is in the model's list. */
      includes?: true;
      /** What the consumer reads an undefined model field as (for the defaults). */
      unset?: unknown;
    }
  | {
      /** Why the property is consumed and not copied to the model. */
      notCopied: string;
      /** How its effect shows in the model, when it shows. */
      check?: (root: Root, value: unknown, ctx: Ctx) => boolean;
    };

function dig(value: unknown, at: readonly Segment[]): unknown {
  let v = value;
  for (const seg of at) {
    if (v === undefined || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

const agent = (root: Root) => root as AgentSpec;
const workflow = (root: Root) => root as WorkflowSpec;
const ms = (v: unknown) => parseDuration(String(v));
const resolved = (v: unknown, ctx: Ctx) => path.resolve(ctx.dir, String(v));
const probe = (field: string) => ({ get: (r: Root) => dig(agent(r).healthCheck?.probe, [field]) });

/** The fields of an agentfile Agent spec that are renamed or converted. Keys are relative to the spec. */
const AGENT_SPEC: Record<string, Mapping> = {
  'build.context': { get: (r) => agent(r).build?.context, expect: resolved },
  'volumes[].source': {
    // The generated volume is a bind mount (type's first example): its source is resolved.
    get: (r, at) => agent(r).volumes[Number(at[at.length - 2])]?.source,
    expect: resolved,
  },
  'healthCheck.http.path': probe('path'),
  'healthCheck.http.port': probe('port'),
  'healthCheck.http.status': probe('status'),
  'healthCheck.tcp.port': probe('port'),
  'healthCheck.command': probe('command'),
  'healthCheck.file': probe('path'),
  'healthCheck.log.pattern': probe('pattern'),
  'healthCheck.interval': { get: (r) => agent(r).healthCheck?.intervalMs, expect: ms },
  'healthCheck.timeout': { get: (r) => agent(r).healthCheck?.timeoutMs, expect: ms },
  'healthCheck.startPeriod': { get: (r) => agent(r).healthCheck?.startPeriodMs, expect: ms },
  'resources.limits.cpu': {
    get: (r) => agent(r).resources.limits.nanoCpus,
    expect: (v) => parseCpu(v as string),
  },
  'resources.limits.memory': {
    get: (r) => agent(r).resources.limits.memoryBytes,
    expect: (v) => parseMemory(v as string),
  },
  'resources.requests.cpu': {
    get: (r) => agent(r).resources.requests?.nanoCpus,
    expect: (v) => parseCpu(v as string),
  },
  'resources.requests.memory': {
    get: (r) => agent(r).resources.requests?.memoryBytes,
    expect: (v) => parseMemory(v as string),
  },
  stopGracePeriod: {
    get: (r) => agent(r).stopGracePeriodMs,
    expect: ms,
    unset: DEFAULT_STOP_GRACE_PERIOD_MS,
  },
  init: { get: (r) => agent(r).init, unset: DEFAULT_INIT },
  // images.ts: `options.pull ?? 'missing'`.
  pull: { get: (r) => agent(r).pull, unset: 'missing' },
  // model.ts: "undefined means 1".
  replicas: { get: (r) => agent(r).replicas, unset: 1 },
};

const dockerfileOf = (r: Root) => {
  const b = agent(r).build;
  return b?.files?.[b.dockerfile] ?? '';
};

/**
 * Schema properties whose value is not at the same path in the model, by
 * `KIND:path` (map keys `*`, list items `[]`; an inline service's spec uses
 * the Agent keys). A property in no schema of this table and not at its
 * path in the model fails the test.
 */
const MODEL: Record<string, Mapping> = {
  ...Object.fromEntries(Object.entries(AGENT_SPEC).map(([k, m]) => [`Agent:spec.${k}`, m])),
  'Agent:apiVersion': {
    notCopied:
      'selects the schema and the normalizer; agentfile/v1 agents have no generated build files',
    check: (r) => agent(r).build?.files === undefined,
  },
  'Agent:x-*': {
    notCopied: 'extension keys are ignored (compose semantics); they exist to hold YAML anchors',
  },
  'Agent:metadata.name': { get: (r) => r.name },

  'Workflow:apiVersion': { notCopied: 'selects the schema; there is one Workflow format' },
  'Workflow:x-*': {
    notCopied: 'extension keys are ignored (compose semantics); they exist to hold YAML anchors',
  },
  'Workflow:metadata.name': { get: (r) => r.name },
  // The workflow's secrets also hold the secretName of every service's secret variable.
  'Workflow:spec.secrets': { get: (r) => workflow(r).secrets, includes: true },
  'Workflow:spec.services.*.uses': {
    notCopied:
      'names the file of the Agent document the service runs; the service holds that agent',
    check: (r, v, ctx) =>
      Object.values(workflow(r).services).some(
        (s) => s.agent.path === path.resolve(ctx.dir, String(v).split('#')[0] ?? ''),
      ),
  },
  // `defaults` apply to the steps that do not set their own: the generated
  // document adds `build` (a step with only `run`) for them.
  'Workflow:spec.defaults.env': { get: (r) => workflow(r).env },
  'Workflow:spec.defaults.env.*': { get: (r, at) => workflow(r).steps.build?.env[String(at[3])] },
  'Workflow:spec.defaults.image': { get: (r) => workflow(r).steps.build?.image },
  'Workflow:spec.defaults.workdir': { get: (r) => workflow(r).steps.build?.workdir },
  'Workflow:spec.defaults.timeout': { get: (r) => workflow(r).steps.build?.timeoutMs, expect: ms },
  'Workflow:spec.defaults.retry.maxAttempts': {
    get: (r) => workflow(r).steps.build?.retry.maxAttempts,
  },
  'Workflow:spec.defaults.retry.backoff.initial': {
    get: (r) => workflow(r).steps.build?.retry.backoff.initialMs,
    expect: ms,
  },
  'Workflow:spec.defaults.retry.backoff.factor': {
    get: (r) => workflow(r).steps.build?.retry.backoff.factor,
  },
  'Workflow:spec.defaults.retry.backoff.max': {
    get: (r) => workflow(r).steps.build?.retry.backoff.maxMs,
    expect: ms,
  },
  // An approval step runs nothing: its image is ignored (the schema's description says so).
  'Workflow:spec.steps.*.image': {
    get: (r, at) => workflow(r).steps[String(at[2])]?.image,
    expect: (v, _ctx, r, at) =>
      workflow(r).steps[String(at[2])]?.kind === 'approval' ? undefined : v,
  },
  'Workflow:spec.steps.*.run': {
    get: (r, at) => workflow(r).steps[String(at[2])]?.command,
    expect: (v) => ['sh', '-c', v],
  },
  'Workflow:spec.steps.*.if': {
    get: (r, at) => workflow(r).steps[String(at[2])]?.if,
    unset: 'success()',
  },
  'Workflow:spec.steps.*.timeout': {
    get: (r, at) => workflow(r).steps[String(at[2])]?.timeoutMs,
    expect: ms,
  },
  'Workflow:spec.steps.*.retry.backoff.initial': {
    get: (r, at) => workflow(r).steps[String(at[2])]?.retry.backoff.initialMs,
    expect: ms,
  },
  'Workflow:spec.steps.*.retry.backoff.max': {
    get: (r, at) => workflow(r).steps[String(at[2])]?.retry.backoff.maxMs,
    expect: ms,
  },
  'Workflow:spec.steps.*.matrix.*': {
    get: (r, at) => workflow(r).steps[String(at[2])]?.matrix?.axes[String(at[4])],
  },

  'AgentDev:apiVersion': {
    notCopied: 'selects the agent.dev/v1 schema and normalizer, which generates the build',
    check: (r) => agent(r).build?.files !== undefined,
  },
  'AgentDev:metadata.name': { get: (r) => r.name },
  // The image tag; `metadata.version` is also kept as written.
  'AgentDev:metadata.version': { get: (r) => agent(r).image?.slice(r.name.length + 1) },
  'AgentDev:metadata.author': {
    notCopied: 'free text for catalogues; agentfile does not use it (the schema says so)',
  },
  'AgentDev:metadata.tags': {
    notCopied: 'free-form tags for catalogues; agentfile does not use them (the schema says so)',
  },
  'AgentDev:spec.runtime': {
    notCopied: 'picks the base image and the Dockerfile template of the generated build',
    check: (r, v) => dockerfileOf(r).includes(`FROM ${String(v)}`),
  },
  'AgentDev:spec.model.provider': {
    notCopied: 'baked into the generated image as MODEL_PROVIDER',
    check: (r, v) => dockerfileOf(r).includes(`MODEL_PROVIDER=${JSON.stringify(v)}`),
  },
  'AgentDev:spec.model.name': {
    notCopied: 'baked into the generated image as MODEL_NAME',
    check: (r, v) => dockerfileOf(r).includes(`MODEL_NAME=${JSON.stringify(v)}`),
  },
  'AgentDev:spec.model.config': {
    notCopied: 'baked into the generated image as MODEL_CONFIG (JSON)',
    check: (r, v) => dockerfileOf(r).includes(`MODEL_CONFIG=${JSON.stringify(JSON.stringify(v))}`),
  },
  'AgentDev:spec.capabilities': {
    notCopied: 'free-form description of the agent; agentfile does not use it (the schema says so)',
  },
  'AgentDev:spec.dependencies': {
    notCopied: "written to the generated build's manifest (requirements.txt for python)",
    check: (r, v) =>
      (v as string[]).every((d) => agent(r).build?.files?.['requirements.txt']?.includes(d)),
  },
  'AgentDev:spec.config': {
    notCopied: 'written to the generated build as the config file the container reads',
    check: (r, v) => {
      const text = agent(r).build?.files?.[`${GENERATED_DIR}/config.json`];
      return text !== undefined && JSON.stringify(JSON.parse(text)) === JSON.stringify(v);
    },
  },
  'AgentDev:spec.volumes[].source': { ...(AGENT_SPEC['volumes[].source'] as Mapping) },
  'AgentDev:spec.healthCheck.command': probe('command'),
  'AgentDev:spec.healthCheck.interval': AGENT_SPEC['healthCheck.interval'] as Mapping,
  'AgentDev:spec.healthCheck.timeout': AGENT_SPEC['healthCheck.timeout'] as Mapping,
  'AgentDev:spec.healthCheck.startPeriod': AGENT_SPEC['healthCheck.startPeriod'] as Mapping,
  'AgentDev:spec.resources.limits.cpu': AGENT_SPEC['resources.limits.cpu'] as Mapping,
  'AgentDev:spec.resources.limits.memory': AGENT_SPEC['resources.limits.memory'] as Mapping,
  'AgentDev:spec.resources.requests': {
    notCopied:
      'accepted and not enforced: Docker has no scheduler to reserve them (the schema says so)',
  },
  'AgentDev:spec.resources.requests.cpu': { notCopied: 'see spec.resources.requests' },
  'AgentDev:spec.resources.requests.memory': { notCopied: 'see spec.resources.requests' },
};

/** Options of the generated documents: map keys that make the examples fit together, and dependent keys. */
const GENERATE = {
  mapKeys: { 'spec.steps': 'test' },
  // `secretName` goes with `from` (the `value` branch of an environment entry has none).
  needs: { 'environment entry.secretName': 'from' },
};

/** The model root and the mapping key of a property set in a document. */
function locate(
  kind: SchemaKind,
  root: Root,
  v: Pick<Visited, 'generic' | 'at'>,
): { key: string; root: Root | undefined; at: Segment[] } {
  if (kind === 'Workflow' && v.generic[1] === 'services' && v.generic.length > 3) {
    if (v.generic[3] === 'uses') return { key: `Workflow:${joinPath(v.generic)}`, root, at: v.at };
    // An inline service's spec is an Agent spec: the Agent's mappings apply.
    return {
      key: `Agent:${joinPath(['spec', ...v.generic.slice(3)])}`,
      root: workflow(root).services?.[String(v.at[2])]?.agent,
      at: ['spec', ...v.at.slice(3)],
    };
  }
  return { key: `${kind}:${joinPath(v.generic)}`, root, at: v.at };
}

/** What the model holds for a property, and what it should hold for `value`; or a failed check. */
function compare(
  mapping: Mapping | undefined,
  root: Root,
  at: Segment[],
  value: unknown,
  ctx: Ctx,
): { ok: boolean; actual?: unknown; expected?: unknown; where: string } {
  if (mapping && 'notCopied' in mapping) {
    const ok = mapping.check ? mapping.check(root, value, ctx) : true;
    return { ok, where: `consumed (${mapping.notCopied})` };
  }
  const rel = at[0] === 'spec' ? at.slice(1) : at;
  let actual = mapping ? mapping.get(root, at) : dig(root, rel);
  if (actual === undefined && mapping?.unset !== undefined) actual = mapping.unset;
  const expected = mapping?.expect ? mapping.expect(value, ctx, root, at) : value;
  const ok = mapping?.includes
    ? Array.isArray(actual) && (expected as unknown[]).every((e) => actual.includes(e))
    : JSON.stringify(actual) === JSON.stringify(expected);
  return { ok, actual, expected, where: mapping ? 'mapped' : rel.join('.') };
}

const FILE = { Agent: 'agent.yaml', Workflow: 'workflow.yaml', AgentDev: 'agent.yaml' } as const;

/** Writes a document (and what it needs beside it) to a fresh directory and loads it. */
async function load(base: string, kind: SchemaKind, docs: Json[]) {
  const dir = mkdtempSync(path.join(base, `${kind.toLowerCase()}-`));
  // What the examples name: a Dockerfile and a build context, an agent.dev entry
  // file, the Agent file a service uses, a data directory.
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox:1.36\n');
  writeFileSync(path.join(dir, 'Dockerfile.prod'), 'FROM busybox:1.36\n');
  mkdirSync(path.join(dir, 'data'));
  if (kind === 'AgentDev') writeFileSync(path.join(dir, 'main.py'), 'print("hi")\n');
  if (kind === 'Workflow') {
    writeFileSync(
      path.join(dir, 'agent.yaml'),
      stringify({
        apiVersion: 'agentfile/v1',
        kind: 'Agent',
        metadata: { name: 'db' },
        spec: { image: 'postgres:16' },
      }),
    );
  }
  const file = kind === 'Workflow' ? FILE.Workflow : FILE[kind];
  writeFileSync(path.join(dir, file), docs.map((d) => stringify(d)).join('---\n'));
  const result = await loadProject(file, { cwd: dir });
  return { dir, result };
}

const base = mkdtempSync(path.join(tmpdir(), 'agentfile-schema-model-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const KINDS: SchemaKind[] = ['Agent', 'Workflow', 'AgentDev'];
const VARIANTS = [0, 1, 2, 3, 4];

describe('schema annotations (what editors complete and show)', () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  for (const s of Object.values(SCHEMAS)) ajv.addSchema(s);

  for (const kind of KINDS) {
    it(`${kind}: every property, map value and definition has title, description and examples`, () => {
      const missing = annotatedNodes(kind).flatMap(({ pointer, node }) =>
        ['title', 'description', 'examples']
          .filter((k) =>
            k === 'examples'
              ? !Array.isArray(node.examples) || node.examples.length === 0
              : typeof node[k] !== 'string' || node[k] === '',
          )
          .map((k) => `${pointer}: no ${k}`),
      );
      expect(missing).toEqual([]);
    });

    it(`${kind}: every example and default is valid against its own schema`, () => {
      const id = String(SCHEMAS[kind].$id);
      const invalid: string[] = [];
      for (const { pointer, node } of annotatedNodes(kind)) {
        const validate = ajv.compile({ $ref: `${id}#${pointer}` });
        const values = [
          ...((node.examples as unknown[]) ?? []).map((e, i) => [`examples[${i}]`, e] as const),
          ...('default' in node ? [['default', node.default] as const] : []),
        ];
        for (const [what, value] of values) {
          if (!validate(value))
            invalid.push(
              `${pointer} ${what} ${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`,
            );
        }
      }
      expect(invalid).toEqual([]);
    });
  }

  it('ajv does not apply defaults (useDefaults is off): a default is documentation', async () => {
    const { result } = await load(base, 'Agent', [
      {
        apiVersion: 'agentfile/v1',
        kind: 'Agent',
        metadata: { name: 'a' },
        spec: { image: 'busybox:1.36' },
      },
    ]);
    expect(result.diagnostics).toEqual([]);
    // `pull` has a schema default and stays unset in the model: nothing filled it in.
    expect(result.project?.agents[0]?.pull).toBeUndefined();
  });
});

describe('every schema property reaches the model', () => {
  for (const kind of KINDS) {
    for (const variant of VARIANTS) {
      it(`${kind} variant ${variant}: every value of the example document is in the normalized project`, async () => {
        const { document, visited } = generate(kind, variant, GENERATE);
        if (kind === 'Workflow') {
          // The steps `needs` names and the step `defaults` apply to.
          (document.spec as { steps: Json }).steps.build = { run: 'make' };
        }
        const { dir, result } = await load(base, kind, [document]);
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const project = result.project;
        if (!project) throw new Error('no project');
        const root: Root | undefined =
          kind === 'Workflow' ? project.workflows[0] : project.agents[0];
        if (!root) throw new Error('no document in the project');
        const failures: string[] = [];
        for (const v of visited.filter((x) => x.leaf)) {
          const where = locate(kind, root, v);
          if (!where.root) {
            failures.push(`${where.key}: its object is missing from the model`);
            continue;
          }
          const mapping = MODEL[where.key];
          const r = compare(mapping, where.root, where.at, v.value, { dir });
          if (!r.ok) {
            failures.push(
              mapping
                ? `${where.key} = ${JSON.stringify(v.value)}: the model has ${JSON.stringify(r.actual)}, expected ${JSON.stringify(r.expected)} (${r.where})`
                : `schema property ${where.key} (example ${JSON.stringify(v.value)}) has no counterpart in the model: ${r.where} is ${JSON.stringify(r.actual)}; add it to src/config/model.ts and normalize.ts, or map it in MODEL (test/unit/config/schema-model.test.ts)`,
            );
          }
        }
        expect(failures).toEqual([]);
      });
    }
  }

  it('the example documents set every property of every schema', () => {
    const reached = new Set<unknown>();
    for (const kind of KINDS)
      for (const variant of VARIANTS)
        for (const v of generate(kind, variant, GENERATE).visited) reached.add(v.schema);
    const unreached = KINDS.flatMap((kind) =>
      annotatedNodes(kind)
        .filter(({ pointer }) => !/\/\$defs\/[^/]+$/.test(pointer))
        .filter(({ node }) => !reached.has(node))
        .map(({ pointer }) => `${kind}:${pointer}`),
    );
    expect(unreached).toEqual([]);
    expect(reached.size).toBeGreaterThan(150);
  });

  it('every mapping of MODEL names a property of a schema', () => {
    const keys = new Set<string>();
    for (const kind of KINDS)
      for (const variant of VARIANTS)
        for (const v of generate(kind, variant, GENERATE).visited) {
          const { key } = locate(kind, {} as Root, v);
          keys.add(key);
          keys.add(`${kind}:${joinPath(v.generic)}`);
        }
    expect(Object.keys(MODEL).filter((k) => !keys.has(k))).toEqual([]);
  });
});

/** The smallest valid document of each kind, and the smallest valid parent of each object a default lives in. */
const MINIMAL: Record<
  SchemaKind,
  { doc: Json; keys: Record<string, string>; parents: Record<string, unknown> }
> = {
  Agent: {
    doc: {
      apiVersion: 'agentfile/v1',
      kind: 'Agent',
      metadata: { name: 'a' },
      spec: { image: 'busybox:1.36' },
    },
    keys: {},
    parents: {
      'spec.ports': [],
      'spec.ports[]': { container: 80 },
      'spec.volumes': [],
      'spec.volumes[]': { source: './data', target: '/data' },
      'spec.build': { context: '.' },
      'spec.security': {},
      'spec.security.capabilities': {},
      'spec.network': {},
      'spec.healthCheck': { http: { port: 80 } },
      'spec.restart': {},
    },
  },
  Workflow: {
    doc: {
      apiVersion: 'agentfile/v1',
      kind: 'Workflow',
      metadata: { name: 'w' },
      spec: { steps: { build: { run: 'true' } } },
    },
    keys: { 'spec.steps': 'build', 'spec.inputs': 'i' },
    parents: {
      'spec.inputs': {},
      'spec.inputs.*': {},
      'spec.defaults': {},
      'spec.defaults.retry': {},
      'spec.defaults.retry.backoff': {},
      'spec.steps.*.retry': {},
      'spec.steps.*.retry.backoff': {},
      // An approval step has no `run`.
      'spec.steps.*.approval': (step: Json) => {
        delete step.run;
        return { message: 'Ship it?' };
      },
      'spec.steps.*.matrix': { k: [1] },
    },
  },
  AgentDev: {
    doc: {
      apiVersion: 'agent.dev/v1',
      kind: 'Agent',
      metadata: { name: 'd' },
      spec: { runtime: 'python' },
    },
    keys: {},
    parents: {
      'spec.ports': [],
      'spec.ports[]': { container: 8080 },
      'spec.volumes': [],
      'spec.volumes[]': { source: './data', target: '/data' },
      'spec.healthCheck': { command: ['true'] },
    },
  },
};

/** The minimal document of `kind` with every parent of the property at `generic`, and the property's path (unset). */
function omitting(kind: SchemaKind, generic: string[]): { doc: Json; at: Segment[] } {
  const m = MINIMAL[kind];
  const doc = structuredClone(m.doc);
  let cur: Json | unknown[] = doc;
  const at: Segment[] = [];
  generic.forEach((seg, i) => {
    const concrete: Segment =
      seg === '*' ? (m.keys[joinPath(generic.slice(0, i))] ?? 'x') : seg === '[]' ? 0 : seg;
    at.push(concrete);
    if (i === generic.length - 1) return;
    const container = cur as Record<Segment, unknown>;
    if (container[concrete] === undefined) {
      const parentPath = joinPath(generic.slice(0, i + 1));
      const parent = m.parents[parentPath];
      if (parent === undefined)
        throw new Error(`${kind}: no minimal parent for ${parentPath} in MINIMAL`);
      container[concrete] =
        typeof parent === 'function' ? parent(container) : structuredClone(parent);
    }
    cur = container[concrete] as Json;
  });
  return { doc, at };
}

describe('every schema default is what the runtime does when the field is omitted', () => {
  const cases = new Map<string, Visited>();
  for (const kind of KINDS)
    for (const variant of VARIANTS)
      for (const v of generate(kind, variant, GENERATE).visited) {
        // An inline service's spec is an Agent spec: the Agent document checks its defaults.
        if (kind === 'Workflow' && v.generic[1] === 'services' && v.generic.length > 3) continue;
        if ('default' in v.schema && !cases.has(v.key)) cases.set(v.key, v);
      }

  for (const [key, v] of cases) {
    it(`${key}: ${JSON.stringify(v.schema.default)}`, async () => {
      const { doc, at } = omitting(v.kind, v.generic);
      const { dir, result } = await load(base, v.kind, [doc]);
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const project = result.project;
      const root = v.kind === 'Workflow' ? project?.workflows[0] : project?.agents[0];
      if (!root) throw new Error('no document in the project');
      const r = compare(MODEL[key], root, at, v.schema.default, { dir });
      expect({ key, model: r.actual, ok: r.ok }).toEqual({ key, model: r.expected, ok: true });
    });
  }

  it('checks every default of the schemas', () => {
    const checked = new Set([...cases.values()].map((v) => v.schema));
    const withDefault = KINDS.flatMap((kind) =>
      annotatedNodes(kind)
        .filter(({ node }) => 'default' in node)
        .map((n) => ({ kind, ...n })),
    );
    expect(withDefault.length).toBeGreaterThan(40);
    expect(
      withDefault.filter(({ node }) => !checked.has(node)).map((n) => `${n.kind}:${n.pointer}`),
    ).toEqual([]);
  });
});
