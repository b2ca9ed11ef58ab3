/**
 * Walking the JSON Schemas in `schemas/` the way a document is written:
 * every property, map value and list item, with the path a document gives
 * it. Used by the schema/model tests (test/unit/config/schema-model.test.ts)
 * and the annotation checks.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A schema or any object in one. */
export type Json = Record<string, unknown>;

/** One segment of a document path: a mapping key or a list index. */
export type Segment = string | number;

const root = path.join(import.meta.dirname, '../..');

/** The three schema files by a short name. */
export const SCHEMA_FILES = {
  Agent: 'schemas/agent.schema.json',
  Workflow: 'schemas/workflow.schema.json',
  AgentDev: 'schemas/agent-dev-v1.schema.json',
} as const;

/** The kinds of document a schema describes: agentfile's Agent and Workflow, and agent.dev/v1's Agent. */
export type SchemaKind = keyof typeof SCHEMA_FILES;

/** Each schema as parsed from its file, by kind. */
export const SCHEMAS: Record<SchemaKind, Json> = {
  Agent: JSON.parse(readFileSync(path.join(root, SCHEMA_FILES.Agent), 'utf8')),
  Workflow: JSON.parse(readFileSync(path.join(root, SCHEMA_FILES.Workflow), 'utf8')),
  AgentDev: JSON.parse(readFileSync(path.join(root, SCHEMA_FILES.AgentDev), 'utf8')),
};

const byId = new Map(Object.values(SCHEMAS).map((s) => [String(s.$id), s]));

/** A generic path as text: segments joined with `.`, list items as `[]` (`spec.ports[].host`). */
export function joinPath(segments: readonly string[]): string {
  return segments.join('.').replace(/\.\[\]/g, '[]');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A schema node and the schema document it lives in (for resolving its own `$ref`s). */
export interface Located {
  doc: Json;
  node: Json;
}

/** Follows `$ref` (local `#/...` or another schema file's URI, relative to `$id`) until a node without one. */
export function resolve(doc: Json, node: Json): Located {
  let current: Located = { doc, node };
  for (let i = 0; typeof current.node.$ref === 'string'; i++) {
    if (i > 20) throw new Error(`$ref loop at ${String(current.node.$ref)}`);
    const url = new URL(current.node.$ref, String(current.doc.$id));
    const target = byId.get(`${url.origin}${url.pathname}`);
    if (!target) throw new Error(`unknown schema ${url.href}`);
    let at: unknown = target;
    for (const seg of url.hash.replace(/^#\/?/, '').split('/').filter(Boolean)) {
      at = (at as Json)[decodeURIComponent(seg)];
    }
    if (!isObject(at)) throw new Error(`$ref ${url.href} does not resolve`);
    current = { doc: target, node: at };
  }
  return current;
}

/**
 * A schema node a document can set a value for, found while generating a
 * document: a property, a map value (`*`) or an extension key (`x-*`).
 */
export interface Visited {
  kind: SchemaKind;
  /** Kind and path with map keys as `*` and list indices as `[]`: `Workflow:spec.steps.*.retry.maxAttempts`. */
  key: string;
  /** The generic path's segments (`*` and `[]` included). */
  generic: string[];
  /** Where the value is in the generated document. */
  at: Segment[];
  /** The property's own schema (its annotations), before `$ref` is followed. */
  schema: Json;
  /** The value generated: its first example, or an object or list built from its parts. */
  value: unknown;
  /** True when the value is an example as a whole (not built from properties). */
  leaf: boolean;
}

/**
 * Options of {@link generate}: which map keys to use, and properties that
 * only make sense together with a sibling (left out otherwise).
 */
export interface GenerateOptions {
  /** Map key to use, by generic path of the map (default: the map's first example's first key). */
  mapKeys?: Record<string, string>;
  /** `title.property` → sibling it needs: the property is generated only when the sibling is. */
  needs?: Record<string, string>;
}

/**
 * Builds a document for `kind` from the schemas' `examples`: every property
 * is set, objects are built from their properties, lists of objects hold one
 * object per `oneOf` branch of the item, and every other value is the
 * property's first example. `variant` picks a `oneOf` branch (index
 * `variant % branches`) and an `if`/`then`/`else` branch (`else` on even
 * variants), so variants 0..4 reach every branch of the schemas (at most 5).
 * Returns the document and every property set, in document order.
 */
export function generate(
  kind: SchemaKind,
  variant: number,
  options: GenerateOptions = {},
): { document: Json; visited: Visited[] } {
  const visited: Visited[] = [];
  const schema = SCHEMAS[kind];

  const firstExample = (own: Json, target: Json): unknown => {
    const examples = (own.examples ?? target.examples) as unknown[] | undefined;
    if (!Array.isArray(examples) || examples.length === 0) {
      throw new Error(`${kind}: no examples for a property (${JSON.stringify(own).slice(0, 80)})`);
    }
    return structuredClone(examples[0]);
  };

  const value = (doc: Json, own: Json, at: Segment[], generic: string[], v: number): unknown => {
    let { doc: d, node: t } = resolve(doc, own);
    if (isObject(t.if)) {
      const branch = (v % 2 === 0 ? t.else : t.then) as Json;
      ({ doc: d, node: t } = resolve(d, branch));
    }
    const key = `${kind}:${joinPath(generic)}`;
    const record = (val: unknown, leaf: boolean) => {
      if (at.length > 0) visited.push({ kind, key, generic, at, schema: own, value: val, leaf });
      return val;
    };
    const properties = isObject(t.properties) ? (t.properties as Record<string, Json>) : undefined;
    const map = isObject(t.additionalProperties) ? (t.additionalProperties as Json) : undefined;
    if (properties || map || isObject(t.patternProperties)) {
      const out: Json = {};
      record(out, false);
      const branches = Array.isArray(t.oneOf) ? (t.oneOf as Json[]) : [];
      const discriminators = new Set(branches.map((b) => String((b.required as string[])[0])));
      const chosenBranch = branches[v % Math.max(1, branches.length)];
      const chosen = chosenBranch ? String((chosenBranch.required as string[])[0]) : undefined;
      const wanted = (k: string): boolean => {
        if (discriminators.has(k) && k !== chosen) return false;
        const sibling = options.needs?.[`${String(t.title)}.${k}`];
        return sibling === undefined || wanted(sibling);
      };
      for (const [k, p] of Object.entries(properties ?? {})) {
        if (!wanted(k)) continue;
        out[k] = value(d, p, [...at, k], [...generic, k], v);
      }
      for (const p of Object.values((t.patternProperties ?? {}) as Record<string, Json>)) {
        out['x-example'] = value(d, p, [...at, 'x-example'], [...generic, 'x-*'], v);
      }
      if (map) {
        const mapPath = joinPath(generic);
        const example = firstExample(own, t);
        const mapKey =
          options.mapKeys?.[mapPath] ??
          Object.keys(isObject(example) ? example : {}).find((k) => !(k in (properties ?? {})));
        if (mapKey === undefined) throw new Error(`${key}: no map key in the examples`);
        out[mapKey] = value(d, map, [...at, mapKey], [...generic, '*'], v);
      }
      return out;
    }
    const items = isObject(t.items) ? resolve(d, t.items as Json) : undefined;
    if (items && isObject(items.node.properties)) {
      const list: unknown[] = [];
      record(list, false);
      const n = Array.isArray(items.node.oneOf) ? items.node.oneOf.length : 1;
      for (let b = 0; b < n; b++) {
        list.push(value(d, t.items as Json, [...at, b], [...generic, '[]'], n > 1 ? b : v));
      }
      // The item itself is not a property: only what is inside it is.
      return list;
    }
    return record(firstExample(own, t), true);
  };

  const document = value(schema, schema, [], [], variant) as Json;
  // The list items were recorded as properties of the generic path `[]`; drop those records.
  return { document, visited: visited.filter((x) => x.generic[x.generic.length - 1] !== '[]') };
}

/**
 * Every annotated node of a schema file, with its JSON pointer: each
 * `properties` entry, `additionalProperties` and `patternProperties` schema,
 * and each `$defs` entry, however deep (inside list items, `oneOf`
 * branches, map values). `oneOf` branches name their discriminating key with
 * a `true` schema, which carries nothing: those are not included.
 */
export function annotatedNodes(kind: SchemaKind): Array<{ pointer: string; node: Json }> {
  const out: Array<{ pointer: string; node: Json }> = [];
  const esc = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
  const walk = (node: unknown, pointer: string, annotated: boolean): void => {
    if (!isObject(node)) return;
    if (annotated) out.push({ pointer, node });
    for (const [k, v] of Object.entries((node.properties ?? {}) as Json))
      walk(v, `${pointer}/properties/${esc(k)}`, true);
    for (const [k, v] of Object.entries((node.patternProperties ?? {}) as Json))
      walk(v, `${pointer}/patternProperties/${esc(k)}`, true);
    for (const [k, v] of Object.entries((node.$defs ?? {}) as Json))
      walk(v, `${pointer}/$defs/${esc(k)}`, true);
    if (isObject(node.additionalProperties))
      walk(node.additionalProperties, `${pointer}/additionalProperties`, true);
    if (isObject(node.items)) walk(node.items, `${pointer}/items`, false);
    for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
      const list = node[key];
      if (!Array.isArray(list)) continue;
      for (const [i, b] of list.entries()) walk(b, `${pointer}/${key}/${i}`, false);
    }
    for (const key of ['if', 'then', 'else'] as const) walk(node[key], `${pointer}/${key}`, false);
  };
  walk(SCHEMAS[kind], '', false);
  return out;
}
