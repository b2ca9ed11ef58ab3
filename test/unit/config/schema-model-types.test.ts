/**
 * The type-level half of the schema/model check (the runtime half is
 * schema-model.test.ts): every property of an agentfile/v1 schema
 * definition is a member of the model type it normalizes to
 * (src/config/model.ts, read with the TypeScript compiler API), under its
 * own name or the one {@link DEFINITIONS} gives, with a reason where it has
 * no member of its own. agent.dev/v1 maps to AgentSpec through a generated
 * build, not field by field: the runtime test covers it.
 */

import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type Json, SCHEMAS, type SchemaKind } from '../../helpers/schema-walk.js';

const modelFile = path.join(import.meta.dirname, '../../../src/config/model.ts');

/**
 * Schema definition → model type (an exported type of model.ts, or
 * `Type.member` for an inline member type), and the properties whose model
 * member has another name (or none: a string saying where the value goes).
 */
const DEFINITIONS: Array<{
  kind: SchemaKind;
  def: string;
  type: string;
  renamed?: Record<string, string | { none: string }>;
}> = [
  {
    kind: 'Agent',
    def: 'metadata',
    type: 'DocumentMetadata',
    renamed: { name: { none: 'AgentSpec.name and WorkflowSpec.name' } },
  },
  {
    kind: 'Agent',
    def: 'agentSpec',
    type: 'AgentSpec',
    renamed: { stopGracePeriod: 'stopGracePeriodMs' },
  },
  { kind: 'Agent', def: 'security', type: 'SecuritySpec' },
  { kind: 'Agent', def: 'network', type: 'NetworkSpec' },
  { kind: 'Agent', def: 'build', type: 'BuildSpec' },
  { kind: 'Agent', def: 'portMapping', type: 'PortMapping' },
  { kind: 'Agent', def: 'envVar', type: 'EnvVar' },
  { kind: 'Agent', def: 'volume', type: 'VolumeMount' },
  {
    kind: 'Agent',
    def: 'healthCheck',
    type: 'HealthCheck',
    renamed: {
      http: 'probe',
      tcp: 'probe',
      command: 'probe',
      file: 'probe',
      log: 'probe',
      interval: 'intervalMs',
      timeout: 'timeoutMs',
      startPeriod: 'startPeriodMs',
    },
  },
  { kind: 'Agent', def: 'restart', type: 'RestartPolicySpec' },
  { kind: 'Agent', def: 'resources', type: 'AgentSpec.resources' },
  {
    kind: 'Workflow',
    def: 'workflowSpec',
    type: 'WorkflowSpec',
    renamed: { defaults: { none: 'applied to every StepSpec that does not set its own' } },
  },
  {
    kind: 'Workflow',
    def: 'step',
    type: 'StepSpec',
    renamed: { run: 'command', timeout: 'timeoutMs' },
  },
  { kind: 'Workflow', def: 'approval', type: 'ApprovalSpec' },
  { kind: 'Workflow', def: 'retry', type: 'RetryPolicy' },
  { kind: 'Workflow', def: 'input', type: 'InputSpec' },
  { kind: 'Workflow', def: 'matrix', type: 'MatrixSpec' },
  {
    kind: 'Workflow',
    def: 'serviceUses',
    type: 'ServiceSpec',
    renamed: { uses: 'agent' },
  },
];

/** Inline objects of a definition, checked against a member's type: `def/properties/key` → type. */
const NESTED: Array<{
  kind: SchemaKind;
  pointer: string[];
  type: string;
  renamed?: Record<string, string>;
}> = [
  {
    kind: 'Workflow',
    pointer: ['retry', 'properties', 'backoff'],
    type: 'RetryPolicy.backoff',
    renamed: { initial: 'initialMs', max: 'maxMs' },
  },
  {
    kind: 'Agent',
    pointer: ['security', 'properties', 'capabilities'],
    type: 'SecuritySpec.capabilities',
  },
  {
    kind: 'Agent',
    pointer: ['resources', 'properties', 'limits'],
    type: 'ResourceLimits',
    renamed: { cpu: 'nanoCpus', memory: 'memoryBytes' },
  },
  {
    kind: 'Agent',
    pointer: ['resources', 'properties', 'requests'],
    type: 'ResourceRequests',
    renamed: { cpu: 'nanoCpus', memory: 'memoryBytes' },
  },
  ...(['http', 'tcp', 'log'] as const).map((probe) => ({
    kind: 'Agent' as const,
    pointer: ['healthCheck', 'properties', probe],
    type: 'ProbeSpec',
  })),
];

/** Objects with properties that have no model type of their own, and why. */
const UNTYPED: Record<string, string> = {
  'Workflow defaults': 'applied to every step that does not set its own: StepSpec members',
};

const program = ts.createProgram([modelFile], { strict: true, noEmit: true });
const checker = program.getTypeChecker();
const source = program.getSourceFile(modelFile);

function declared(name: string): ts.Type {
  if (!source) throw new Error('model.ts not found');
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const symbol =
    moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
  if (!symbol) throw new Error(`model.ts exports no type ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol);
}

/** The member names of a model type (`Name` or `Name.member`); of every branch for a union. */
function members(typeName: string): Set<string> {
  const [head, ...rest] = typeName.split('.');
  let type = declared(head ?? '');
  for (const member of rest) {
    const prop = type.getProperty(member);
    if (!prop) throw new Error(`${typeName}: no member ${member}`);
    type = checker.getNonNullableType(checker.getTypeOfSymbol(prop));
  }
  const types = type.isUnion() ? type.types : [type];
  return new Set(types.flatMap((t) => t.getProperties().map((p) => p.name)));
}

function at(kind: SchemaKind, pointer: string[]): Json {
  let node: unknown = SCHEMAS[kind].$defs;
  for (const seg of pointer) node = (node as Json)[seg];
  return node as Json;
}

describe('every schema property is a member of its model type', () => {
  const cases = [
    ...DEFINITIONS.map((d) => ({ ...d, pointer: [d.def] })),
    ...NESTED.map((n) => ({ ...n, def: n.pointer.join('/') })),
  ];
  it('covers every object of the agentfile/v1 schemas that has properties', () => {
    const covered = new Set(cases.map((c) => `${c.kind} ${c.pointer.join('/')}`));
    const objects: string[] = [];
    for (const kind of ['Agent', 'Workflow'] as const) {
      const walk = (node: unknown, pointer: string[]) => {
        if (typeof node !== 'object' || node === null) return;
        const props = (node as Json).properties as Record<string, unknown> | undefined;
        if (!props || Object.values(props).every((p) => p === true)) return;
        objects.push(`${kind} ${pointer.join('/')}`);
        for (const [k, v] of Object.entries(props)) walk(v, [...pointer, 'properties', k]);
      };
      for (const [def, node] of Object.entries((SCHEMAS[kind].$defs ?? {}) as Json))
        walk(node, [def]);
    }
    expect(objects.filter((o) => !covered.has(o) && !(o in UNTYPED))).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.kind} $defs/${c.def} → ${c.type}`, () => {
      const props = Object.keys((at(c.kind, c.pointer).properties ?? {}) as Json);
      expect(props.length).toBeGreaterThan(0);
      const model = members(c.type);
      const renamed = (c.renamed ?? {}) as Record<string, string | { none: string }>;
      const missing = props.flatMap((p) => {
        const target = renamed[p] ?? p;
        if (typeof target !== 'string') return [];
        return model.has(target)
          ? []
          : [`${c.kind} $defs/${c.def} property "${p}" has no member "${target}" in ${c.type}`];
      });
      const stale = Object.keys(renamed)
        .filter((p) => !props.includes(p))
        .map((p) => `renamed "${p}" is no property of $defs/${c.def}`);
      expect([...missing, ...stale]).toEqual([]);
    });
  }
});
