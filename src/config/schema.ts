/**
 * The JSON Schemas in `schemas/` (the source of truth for the file format),
 * compiled with ajv, and the post-processing that turns raw ajv errors into
 * one diagnostic per mistake.
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
import type { Diagnostic } from './diagnostics.js';
import type { SourceDocument } from './load.js';
import { pointerSegments } from './load.js';
import { nearest, quoteList, suggestion } from './suggest.js';
import { MAX_LIMIT, type QuantityProblem, readMemory } from './units.js';

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

/** How the value at a JSON path is named in messages: the key, or `list[i]` for list items. */
export function fieldLabel(path: string | readonly string[]): string {
  const segments = pointerSegments(path);
  const last = segments[segments.length - 1];
  if (last === undefined) return 'document';
  if (/^[0-9]+$/.test(last) && segments.length >= 2) {
    return `${segments[segments.length - 2]}[${last}]`;
  }
  return last;
}

/** `string "four"`, `number 4`, `boolean true`, `a list`, `a mapping`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  return `${typeof value} ${String(value)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'a mapping',
  array: 'a list',
  null: 'empty',
};

function typeList(types: unknown): string {
  const list = (Array.isArray(types) ? types : [types]).map((t) => TYPE_NAMES[String(t)] ?? t);
  if (list.length <= 1) return String(list[0]);
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

/** Human descriptions of the schema's patterns, keyed by the pattern text. */
const PATTERNS: Record<string, string> = {
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$':
    'a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'a variable name: letters, digits and "_", not starting with a digit',
  '^[A-Za-z_][A-Za-z0-9_-]*$': 'letters, digits, "_" and "-", starting with a letter or "_"',
  '^/': 'an absolute path (starting with "/")',
  '^[A-Za-z0-9_][A-Za-z0-9_.-]*$':
    'a Docker image tag: letters, digits, "_", "." and "-", not starting with "." or "-"',
  '^(\\.{1,2}(/[^:]*)?|/[^:]*):/[^:]*(:(ro|rw))?$':
    '"SOURCE:TARGET" or "SOURCE:TARGET:ro", where SOURCE is a host path (".", "..", or starting with "./", "../" or "/") and TARGET an absolute path in the container (only bind mounts are supported)',
  '^([^#]+|[^#]*#[a-z0-9]([-a-z0-9]*[a-z0-9])?)$':
    '"./file.yaml", "./file.yaml#name" or "#name", where name is an Agent\'s name',
};

/** What the keys of a map are called, by the map schema's title. */
const KEY_NOUNS: Record<string, string> = {
  steps: 'step id',
  services: 'service name',
  env: 'variable name',
};

/** Titles of schemas whose objects are entries of a named map: messages name the entry. */
const NAMED_ENTRIES = new Set(['step', 'service']);

interface Context {
  doc: SourceDocument;
  file: string;
  kind: DocumentKind;
  format?: DocumentFormat;
}

function at(
  ctx: Context,
  path: string | readonly string[],
  target: 'key' | 'value',
  rest: Omit<Diagnostic, 'file' | 'line' | 'column' | 'endLine' | 'endColumn' | 'severity'>,
): Diagnostic {
  return { ...rest, severity: 'error', file: ctx.file, ...ctx.doc.locate(path, target) };
}

function objectName(e: ErrorObject, ctx: Context): string {
  const segments = pointerSegments(e.instancePath);
  if (
    ctx.kind === 'Workflow' &&
    segments.length === 3 &&
    segments[0] === 'spec' &&
    segments[1] === 'services'
  ) {
    return `service ${JSON.stringify(segments[2])}`;
  }
  const title = String((e.parentSchema as JsonSchema | undefined)?.title ?? 'mapping');
  if (NAMED_ENTRIES.has(title)) return `${title} ${JSON.stringify(fieldLabel(e.instancePath))}`;
  return title;
}

/**
 * The message for a CPU or memory quantity that has the right shape but is
 * not a usable limit (see {@link QuantityProblem}); `label` is the quoted
 * field name, `value` the value as written. `undefined` for `syntax`, which
 * the schema's pattern reports.
 */
export function limitMessage(
  kind: 'cpu' | 'memory',
  problem: QuantityProblem,
  label: string,
  value: unknown,
): { message: string; hint?: string } | undefined {
  const got = describeValue(value);
  if (kind === 'cpu') {
    switch (problem) {
      case 'not-positive':
        return { message: `${label} must be more than 0, got ${got}` };
      case 'too-small':
        return {
          message: `${label} must be at least 1 nano-CPU (0.000000001), got ${got}`,
          hint: 'it rounds to 0 nano-CPUs, which Docker reads as no limit; 10m is a hundredth of a CPU',
        };
      case 'too-large':
        return { message: `${label} must be at most ${Math.floor(MAX_LIMIT / 1e9)}, got ${got}` };
      default:
        return undefined;
    }
  }
  switch (problem) {
    case 'not-positive':
      return { message: `${label} must be at least 1 byte, got ${got}` };
    case 'too-small':
      return {
        message: `${label} must be at least 1 byte, got ${got}`,
        hint: 'it rounds to 0 bytes, which Docker reads as no limit',
      };
    case 'too-large':
      return {
        message: `${label} must be at most ${MAX_LIMIT} bytes (just under 8Pi), got ${got}`,
      };
    case 'fraction':
      return {
        message: `${label} must be a whole number of bytes, got ${got}`,
        hint: `a number without a suffix is bytes; add a suffix, e.g. ${String(value)}Gi`,
      };
    default:
      return undefined;
  }
}

function unitMessage(def: string, e: ErrorObject): { message: string; hint?: string } | undefined {
  const label = JSON.stringify(fieldLabel(e.instancePath));
  const got = describeValue(e.data);
  switch (def) {
    case 'duration':
      if (typeof e.data === 'number') {
        return {
          message: `${label} must be a duration with a unit, got ${got}`,
          hint: `add a unit, e.g. ${e.data}s`,
        };
      }
      return {
        message: `${label} must be a duration like 500ms, 30s, 5m or 1h30m, got ${got}`,
        hint: 'units are ms, s, m and h; combine them as in 1m30s',
      };
    case 'cpu':
      if (typeof e.data === 'number')
        return { message: `${label} must be more than 0, got ${got}` };
      return { message: `${label} must be a CPU quantity like 500m, 1 or 1.5, got ${got}` };
    case 'memory':
      if (typeof e.data === 'number') {
        // The schema checks numbers (type integer, minimum, maximum); the
        // quantity reader names the problem the same way the rules do.
        const r = readMemory(e.data);
        return r.ok ? undefined : limitMessage('memory', r.problem, label, e.data);
      }
      return {
        message: `${label} must be a memory quantity like 512Mi, 2Gi or 1G, got ${got}`,
        hint: 'suffixes are k, M, G, T (powers of 1000) and Ki, Mi, Gi, Ti (powers of 1024); no suffix means bytes',
      };
    case 'port':
      return { message: `${label} must be a port number from 1 to 65535, got ${got}` };
    case 'hostPort':
      return {
        message: `${label} must be a port number from 0 to 65535 (0: any free port), got ${got}`,
      };
    case 'portMapping':
      if (e.keyword === 'pattern') {
        return {
          message: `invalid port ${JSON.stringify(e.data)} in ${label}; expected "CONTAINER" or "HOST:CONTAINER", optionally with "/tcp" or "/udp", e.g. "8080:80"`,
        };
      }
      if (e.keyword === 'minimum' || e.keyword === 'maximum') {
        return { message: `${label} must be a port number from 1 to 65535, got ${got}` };
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Validates one document against the schema of its kind and returns one
 * diagnostic per mistake:
 *
 * - `schema/unknown-key` at the key, with the nearest valid key or the list of keys;
 * - `schema/type`, `schema/enum`, `schema/pattern`, `schema/range`, `schema/required`
 *   (at the key of the object that misses it);
 * - `schema/one-of` (`step/run-or-command` for steps) once for an "exactly one of" group;
 * - `units/duration`, `units/cpu`, `units/memory`, `units/port` for unit fields.
 *
 * `if`/`then` wrapper errors and the branch errors of "exactly one of" groups
 * are dropped.
 *
 * With `format: 'agent.dev/v1'` the document is checked against
 * schemas/agent-dev-v1.schema.json, and an unknown key is a warning, not an
 * error: agent-as-code's own parser ignores unknown keys, so a file it runs
 * must load here too (the did-you-mean still points at the likely typo).
 */
export function validateSchema(options: {
  doc: SourceDocument;
  file: string;
  kind: DocumentKind;
  format?: DocumentFormat;
}): Diagnostic[] {
  const ctx: Context = options;
  const set = compileSchemas();
  const validate =
    ctx.format === 'agent.dev/v1' ? set.agentDev : ctx.kind === 'Agent' ? set.agent : set.workflow;
  if (validate(ctx.doc.data)) return [];
  const errors = validate.errors ?? [];
  const units = unitDefinitions(set);
  const out: Diagnostic[] = [];

  // Branch schemas of failing "exactly one of" groups, by instance path.
  const oneOfBranches = new Map<string, Set<unknown>>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' && Array.isArray(e.schema)) {
      const set = oneOfBranches.get(e.instancePath) ?? new Set<unknown>();
      for (const branch of e.schema) set.add(branch);
      oneOfBranches.set(e.instancePath, set);
    }
  }
  const unknownKeyParents = new Set(
    errors.filter((e) => e.keyword === 'additionalProperties').map((e) => e.instancePath),
  );
  const keyMaps = new Map<string, JsonSchema>();
  for (const e of errors) {
    if (e.keyword === 'propertyNames') {
      keyMaps.set(
        `${e.instancePath}\0${String(e.params.propertyName)}`,
        e.parentSchema as JsonSchema,
      );
    }
  }

  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    if (oneOfBranches.get(e.instancePath)?.has(e.parentSchema)) continue;

    const unit = units.get(e.parentSchema);
    if (unit) {
      const m = unitMessage(unit.def, e);
      if (m) {
        out.push(at(ctx, e.instancePath, 'value', { code: unit.code, ...m }));
        continue;
      }
    }

    const label = JSON.stringify(fieldLabel(e.instancePath));
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(e.params.additionalProperty);
        const parent = e.parentSchema as JsonSchema;
        const present = new Set(Object.keys((e.data ?? {}) as object));
        const allowed = Object.keys((parent.properties ?? {}) as object).filter(
          (k) => !present.has(k),
        );
        const name = objectName(e, ctx);
        let tail = suggestion(key, allowed);
        if (parent.title === 'document' && allowed.length === 0) {
          tail = '; extension keys must start with "x-"';
        }
        if (parent.title === 'service' && present.has('uses')) {
          tail =
            '; a service with "uses" takes no other keys (set them in the Agent document, or drop "uses" to define the agent inline)';
        }
        const unknown = at(ctx, [...pointerSegments(e.instancePath), key], 'key', {
          code: 'schema/unknown-key',
          message: `unknown key ${JSON.stringify(key)} in ${name}${tail}`,
        });
        if (ctx.format === 'agent.dev/v1') {
          unknown.severity = 'warning';
          unknown.hint = 'agent.dev/v1 documents ignore unknown keys; agentfile ignores it too';
        }
        out.push(unknown);
        break;
      }
      case 'type':
        out.push(
          at(ctx, e.instancePath, 'value', {
            code: 'schema/type',
            message: `${label} must be ${typeList(e.params.type)}, got ${describeValue(e.data)}`,
          }),
        );
        break;
      case 'enum':
      case 'const': {
        const allowed: unknown[] =
          e.keyword === 'enum' ? (e.params.allowedValues as unknown[]) : [e.params.allowedValue];
        const near = typeof e.data === 'string' ? nearest(e.data, allowed.map(String)) : undefined;
        const expected = allowed.length === 1 ? quoteList(allowed) : `one of ${quoteList(allowed)}`;
        out.push(
          at(ctx, e.instancePath, 'value', {
            code: 'schema/enum',
            message: `${label} must be ${expected}, got ${describeValue(e.data)}${
              near !== undefined ? `; did you mean ${JSON.stringify(near)}?` : ''
            }`,
          }),
        );
        break;
      }
      case 'required': {
        const missing = String(e.params.missingProperty);
        out.push(
          at(ctx, e.instancePath, 'key', {
            code: 'schema/required',
            message: `missing required key ${JSON.stringify(missing)} in ${objectName(e, ctx)}`,
          }),
        );
        break;
      }
      case 'oneOf': {
        // On a value that is not a mapping, the type error says it all.
        if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) break;
        // A misspelt key (`runn:`) is one mistake: the unknown-key message
        // (with its did-you-mean) says it, not also "must have one of".
        if (unknownKeyParents.has(e.instancePath)) break;
        const branches = (e.schema as JsonSchema[]).map((b) =>
          String((b.required as string[] | undefined)?.[0]),
        );
        const data = (e.data ?? {}) as Record<string, unknown>;
        const present = branches.filter((b) => b in data);
        const title = String((e.parentSchema as JsonSchema).title ?? 'mapping');
        const name = objectName(e, ctx);
        const isStep = ctx.kind === 'Workflow' && title === 'step';
        const choices =
          branches.length === 2
            ? `${JSON.stringify(branches[0])} or ${JSON.stringify(branches[1])}`
            : quoteList(branches);
        let message: string;
        if (present.length > 1) {
          message = `${name} has ${present.map((p) => JSON.stringify(p)).join(' and ')}; use exactly one of ${choices}`;
        } else {
          message = `${name} must have one of ${choices}`;
        }
        if (title === 'environment entry' && typeof data.name === 'string') {
          message = message.replace(name, `${name} ${JSON.stringify(data.name)}`);
        }
        out.push(
          at(ctx, e.instancePath, 'key', {
            code: isStep ? 'step/run-or-command' : 'schema/one-of',
            message,
            ...(isStep
              ? {
                  hint: '"run" takes a script for sh -c; "command" takes an argv list run without a shell; "approval" waits for `agent approve`',
                }
              : {}),
          }),
        );
        break;
      }
      case 'pattern': {
        const pattern = String(e.params.pattern);
        const description = PATTERNS[pattern] ?? `text matching ${pattern}`;
        if (e.propertyName !== undefined) {
          const mapSchema = keyMaps.get(`${e.instancePath}\0${e.propertyName}`);
          const noun = KEY_NOUNS[String(mapSchema?.title)] ?? 'key';
          out.push(
            at(ctx, [...pointerSegments(e.instancePath), e.propertyName], 'key', {
              code: 'schema/pattern',
              message: `invalid ${noun} ${JSON.stringify(e.propertyName)}; expected ${description}`,
            }),
          );
        } else {
          out.push(
            at(ctx, e.instancePath, 'value', {
              code: 'schema/pattern',
              message: `${label} must be ${description}, got ${describeValue(e.data)}`,
            }),
          );
        }
        break;
      }
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const words: Record<string, string> = {
          minimum: 'at least',
          maximum: 'at most',
          exclusiveMinimum: 'more than',
          exclusiveMaximum: 'less than',
        };
        out.push(
          at(ctx, e.instancePath, 'value', {
            code: 'schema/range',
            message: `${label} must be ${words[e.keyword]} ${String(e.params.limit)}, got ${describeValue(e.data)}`,
          }),
        );
        break;
      }
      case 'minLength':
      case 'minItems':
      case 'minProperties':
        out.push(
          at(ctx, e.instancePath, 'value', {
            code: 'schema/range',
            message: `${label} must not be empty`,
          }),
        );
        break;
      case 'maxLength':
        out.push(
          at(ctx, e.instancePath, 'value', {
            code: 'schema/range',
            message: `${label} must be at most ${String(e.params.limit)} characters long, got ${String(
              typeof e.data === 'string' ? e.data.length : '?',
            )}`,
          }),
        );
        break;
      default:
        out.push(
          at(ctx, e.instancePath, 'value', {
            code: 'schema/invalid',
            message: `${label} ${e.message ?? 'is invalid'}`,
          }),
        );
    }
  }
  return out;
}
