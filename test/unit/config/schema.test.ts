import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { compileSchemas, schemaFile } from '../../../src/config/schema.js';

type Schema = Record<string, unknown>;

function readSchema(kind: 'Agent' | 'Workflow'): Schema {
  return JSON.parse(readFileSync(schemaFile(kind), 'utf8')) as Schema;
}

/** Every subschema with the JSON pointer it sits at. */
function* walk(schema: unknown, at = ''): Generator<[string, Schema]> {
  if (typeof schema !== 'object' || schema === null) return;
  if (Array.isArray(schema)) {
    for (const [i, s] of schema.entries()) yield* walk(s, `${at}/${i}`);
    return;
  }
  const s = schema as Schema;
  yield [at, s];
  for (const key of ['properties', '$defs', 'patternProperties']) {
    const map = s[key];
    if (map && typeof map === 'object') {
      for (const [name, sub] of Object.entries(map)) yield* walk(sub, `${at}/${key}/${name}`);
    }
  }
  for (const key of ['items', 'additionalProperties', 'propertyNames', 'if', 'then', 'else']) {
    if (typeof s[key] === 'object') yield* walk(s[key], `${at}/${key}`);
  }
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    if (Array.isArray(s[key])) yield* walk(s[key], `${at}/${key}`);
  }
}

describe('schemas', () => {
  it('compile in ajv strict mode', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    ajv.addSchema(readSchema('Agent'));
    ajv.addSchema(readSchema('Workflow'));
    expect(ajv.getSchema('https://agentfile.dev/schemas/v1/agent.schema.json')).toBeTypeOf(
      'function',
    );
    expect(ajv.getSchema('https://agentfile.dev/schemas/v1/workflow.schema.json')).toBeTypeOf(
      'function',
    );
    expect(compileSchemas().agent).toBeTypeOf('function');
  });

  it('are draft 2020-12 with an $id', () => {
    for (const kind of ['Agent', 'Workflow'] as const) {
      const schema = readSchema(kind);
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toMatch(/^https:\/\/agentfile\.dev\/schemas\/v1\/[a-z]+\.schema\.json$/);
    }
  });

  it('close every object with a fixed set of keys and describe every field', () => {
    for (const kind of ['Agent', 'Workflow'] as const) {
      for (const [at, s] of walk(readSchema(kind))) {
        // A matrix is open: its keys are the axes the user names.
        if (s.properties && !/\/(oneOf\/[0-9]+|if)$/.test(at) && at !== '/$defs/matrix') {
          expect(s.additionalProperties, `${kind} ${at}`).toBe(false);
        }
        const fields = (s.properties ?? {}) as Record<string, Schema>;
        if (/\/(oneOf\/[0-9]+|if)$/.test(at)) continue;
        for (const [name, field] of Object.entries(fields)) {
          const described = typeof field.description === 'string' || typeof field.$ref === 'string';
          expect(described, `${kind} ${at}/properties/${name}`).toBe(true);
        }
      }
    }
  });

  it('accept the documented examples of each unit and reject bare durations', () => {
    const { agent } = compileSchemas();
    const doc = (spec: Schema) => ({
      apiVersion: 'agentfile/v1',
      kind: 'Agent',
      metadata: { name: 'a' },
      spec: { image: 'x', ...spec },
    });
    expect(
      agent(
        doc({
          healthCheck: { tcp: { port: 1 }, interval: '1h30m', timeout: '500ms' },
          resources: { limits: { cpu: '500m', memory: '2Gi' } },
          ports: ['8080', '8080:80', '0:80/udp', 80, { container: 80, host: 0 }],
        }),
      ),
    ).toBe(true);
    expect(agent(doc({ healthCheck: { tcp: { port: 1 }, interval: 30 } }))).toBe(false);
    expect(agent(doc({ resources: { limits: { cpu: 2, memory: 1024 } } }))).toBe(true);
  });
});
