/**
 * The JSON Schemas as editors load them: self-contained files.
 *
 * `schemas/workflow.schema.json` refers to `agent.schema.json` (its metadata,
 * Agent spec and duration definitions) relative to its `$id`
 * (`https://agentfile.dev/schemas/v1/…`), which an editor offline cannot
 * fetch. The bundle copies the Agent schema's definitions into the workflow
 * schema's `$defs` and points those references there; validation is the same
 * (test/unit/config/schema-bundle.test.ts). The Agent schemas refer only to
 * themselves and are printed as they are.
 */

import { readFileSync } from 'node:fs';
import { type DocumentFormat, type DocumentKind, schemaFile } from './schema.js';

type JsonSchema = Record<string, unknown>;

/** The file name of each schema, as `agent schema --output` writes it. */
export const SCHEMA_FILE_NAMES = {
  Agent: 'agent.schema.json',
  Workflow: 'workflow.schema.json',
  'agent.dev/v1': 'agent-dev-v1.schema.json',
} as const;

/** Which schema: an agentfile kind, or agent-as-code's Agent. */
export type SchemaName = keyof typeof SCHEMA_FILE_NAMES;

function read(kind: DocumentKind, format?: DocumentFormat): JsonSchema {
  return JSON.parse(readFileSync(schemaFile(kind, format), 'utf8')) as JsonSchema;
}

/** A copy of `value` with every `$ref` that starts with `from` starting with `to` instead. */
function rewriteRefs(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, from, to));
  if (typeof value !== 'object' || value === null) return value;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith(from)
        ? `${to}${v.slice(from.length)}`
        : rewriteRefs(v, from, to);
  }
  return out;
}

/**
 * The schema of `name`, self-contained: no `$ref` leaves the document. The
 * workflow schema gets the Agent schema's `$defs` beside its own (the names
 * do not collide; a collision throws, a bug in the package).
 */
export function bundledSchema(name: SchemaName): JsonSchema {
  if (name === 'agent.dev/v1') return read('Agent', 'agent.dev/v1');
  if (name === 'Agent') return read('Agent');
  const workflow = read('Workflow');
  const agent = read('Agent');
  const own = (workflow.$defs ?? {}) as JsonSchema;
  const borrowed = (agent.$defs ?? {}) as JsonSchema;
  const clash = Object.keys(borrowed).filter((k) => k in own);
  if (clash.length > 0) {
    throw new Error(`workflow and agent schemas both define ${clash.join(', ')}`);
  }
  const bundled = rewriteRefs(workflow, `${SCHEMA_FILE_NAMES.Agent}#`, '#') as JsonSchema;
  bundled.$defs = { ...(bundled.$defs as JsonSchema), ...borrowed };
  return bundled;
}

/**
 * The text `agent schema` prints for `name`: the shipped file byte for byte
 * when it is self-contained, the bundle (2-space JSON) for the workflow.
 */
export function schemaText(name: SchemaName): string {
  if (name === 'Workflow') return `${JSON.stringify(bundledSchema(name), null, 2)}\n`;
  return readFileSync(
    name === 'Agent' ? schemaFile('Agent') : schemaFile('Agent', 'agent.dev/v1'),
    'utf8',
  );
}
