/**
 * The JSON Schemas in `schemas/` (the source of truth for the file format),
 * compiled with ajv. The rules in `rules/` turn raw ajv errors into one
 * diagnostic per mistake.
 */

import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
// Generated at build time (scripts/build-schemas.mjs, run by `npm run build`)
// from schemas/*.json: loading it costs a few ms, where compiling the
// schemas with ajv at start-up cost about 100 ms. There is no fallback to
// compiling at run time; bin/agent.js turns a missing module into a message
// that says to build. (A static import, not a top-level await, so that the
// package stays loadable with require().)
import * as generated from '../../generated/schema-validators.js';

export { describeValue, fieldLabel, limitMessage } from './describe.js';

/** The kinds of document the file format knows. */
export type DocumentKind = 'Agent' | 'Workflow';

/**
 * The formats a document may be written in, by its `apiVersion`: agentfile's
 * own (`agentfile/v1`) or agent-as-code's (`agent.dev/v1`, Agents only;
 * docs/agent-as-code.md).
 */
export type DocumentFormat = 'agentfile/v1' | 'agent.dev/v1';

/** Absolute path of the JSON Schema file for a kind (shipped in the package's `schemas/`). */
export function schemaFile(kind: DocumentKind, format: DocumentFormat = 'agentfile/v1'): string {
  const name =
    format === 'agent.dev/v1'
      ? 'agent-dev-v1.schema.json'
      : kind === 'Agent'
        ? 'agent.schema.json'
        : 'workflow.schema.json';
  return fileURLToPath(new URL(`../../schemas/${name}`, import.meta.url));
}

type JsonSchema = Record<string, unknown>;

/** The compiled schemas. */
export interface SchemaSet {
  agent: ValidateFunction;
  workflow: ValidateFunction;
  /** An agent.dev/v1 Agent (schemas/agent-dev-v1.schema.json). */
  agentDev: ValidateFunction;
  /** The schema documents as loaded (ajv keeps these objects; errors point into them). */
  documents: Record<DocumentKind | 'AgentDev', JsonSchema>;
}

let cached: SchemaSet | undefined;

/**
 * The validators of the three schemas, compiled ahead of time by ajv's
 * standalone code generation (scripts/build-schemas.mjs) with its draft
 * 2020-12 validator in strict mode, `allErrors` and `verbose` (errors carry
 * the schema and data they are about; the schema objects are those of
 * `documents`). Union types (`type: [string, object]`) are allowed: they
 * keep short and long forms in one schema without `anyOf` noise. The
 * returned set is the same object on every call.
 *
 * This module fails to load (ERR_MODULE_NOT_FOUND for
 * generated/schema-validators.js) when the validators were not generated:
 * run `npm run build`.
 */
export function compileSchemas(): SchemaSet {
  if (cached) return cached;
  const { agent, workflow, agentDev, documents } = generated;
  cached = {
    agent,
    workflow,
    agentDev,
    documents: {
      Agent: documents.Agent,
      Workflow: documents.Workflow,
      AgentDev: documents.AgentDev,
    },
  };
  return cached;
}

type UnitCode = 'units/duration' | 'units/cpu' | 'units/memory' | 'units/port';

/** Schema definitions whose failures are unit problems, by identity of the definition object. */
function unitDefinitions(set: SchemaSet): Map<unknown, { code: UnitCode; def: string }> {
  const defs = (set.documents.Agent.$defs ?? {}) as Record<string, unknown>;
  const map = new Map<unknown, { code: UnitCode; def: string }>();
  const add = (def: string, code: UnitCode) => {
    if (defs[def]) map.set(defs[def], { code, def });
  };
  add('duration', 'units/duration');
  add('cpu', 'units/cpu');
  add('memory', 'units/memory');
  add('port', 'units/port');
  add('hostPort', 'units/port');
  add('portMapping', 'units/port');
  const devDefs = (set.documents.AgentDev.$defs ?? {}) as Record<string, unknown>;
  for (const [def, code] of [
    ['duration', 'units/duration'],
    ['port', 'units/port'],
    ['hostPort', 'units/port'],
  ] as const) {
    if (devDefs[def]) map.set(devDefs[def], { code, def });
  }
  // A step timeout: a duration, or an expression that renders to one.
  const timeout = (set.documents.Workflow.$defs as Record<string, unknown> | undefined)?.timeout;
  if (timeout) map.set(timeout, { code: 'units/duration', def: 'duration' });
  return map;
}

/**
 * The ajv errors of a document against the schema of its kind and format
 * (an empty list when it is valid). {@link explainSchemaErrors} in
 * `rules/apply.ts` turns them into diagnostics.
 */
export function schemaErrors(
  data: unknown,
  kind: DocumentKind,
  format: DocumentFormat = 'agentfile/v1',
): ErrorObject[] {
  const set = compileSchemas();
  const validate =
    format === 'agent.dev/v1' ? set.agentDev : kind === 'Agent' ? set.agent : set.workflow;
  if (validate(data)) return [];
  return [...(validate.errors ?? [])];
}

/**
 * The unit definition an ajv error is about (`duration`, `cpu`, `memory`,
 * `port`, `hostPort`, `portMapping`) and its rule id, or undefined.
 */
export function unitOf(e: ErrorObject): { code: UnitCode; def: string } | undefined {
  units ??= unitDefinitions(compileSchemas());
  return units.get(e.parentSchema);
}

let units: Map<unknown, { code: UnitCode; def: string }> | undefined;
