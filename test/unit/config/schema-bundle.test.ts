/**
 * `agent schema workflow` prints a self-contained bundle (the Agent schema's
 * definitions copied in, src/config/schema-bundle.ts). It must validate
 * exactly as the shipped pair of files does: same verdict and same errors on
 * every Workflow document of the fixtures, the examples and the generated
 * example documents.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileSchemas } from '../../../src/config/schema.js';
import { bundledSchema, schemaText } from '../../../src/config/schema-bundle.js';
import { generate } from '../../helpers/schema-walk.js';

const root = path.join(import.meta.dirname, '../../..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [v] : refs(v),
  );
}

/** Workflow documents (as data) of every YAML file under the fixtures and the examples. */
function workflowDocuments(): Array<{ name: string; data: unknown }> {
  const out: Array<{ name: string; data: unknown }> = [];
  for (const file of [
    ...yamlFiles(path.join(root, 'test/fixtures')),
    ...yamlFiles(path.join(root, 'examples')),
  ]) {
    let docs: ReturnType<typeof parseAllDocuments>;
    try {
      docs = parseAllDocuments(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    if (!Array.isArray(docs)) continue;
    docs.forEach((d, i) => {
      if (d.errors.length > 0) return;
      const data = d.toJS({ maxAliasCount: -1 }) as { kind?: unknown } | null;
      if (data && data.kind === 'Workflow')
        out.push({ name: `${path.relative(root, file)}#${i}`, data });
    });
  }
  return out;
}

describe('the bundled workflow schema', () => {
  const bundle = bundledSchema('Workflow');

  it('is self-contained: every $ref is local and resolves', () => {
    const all = refs(bundle);
    expect(all.length).toBeGreaterThan(10);
    expect(all.filter((r) => !r.startsWith('#/'))).toEqual([]);
    const defs = bundle.$defs as Record<string, unknown>;
    expect(all.filter((r) => !(r.replace('#/$defs/', '') in defs))).toEqual([]);
    // It compiles alone, without the Agent schema beside it.
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    expect(() => ajv.compile(bundle)).not.toThrow();
  });

  it('is what `agent schema workflow` prints', () => {
    expect(JSON.parse(schemaText('Workflow'))).toEqual(bundle);
  });

  it('validates every Workflow document as the shipped schemas do', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
    const standalone = ajv.compile(bundle);
    const shipped = compileSchemas().workflow;
    const docs = [
      ...workflowDocuments(),
      ...[0, 1, 2, 3, 4].map((v) => ({
        name: `generated ${v}`,
        data: generate('Workflow', v).document,
      })),
    ];
    expect(docs.length).toBeGreaterThan(30);
    const verdicts = { valid: 0, invalid: 0 };
    for (const { name, data } of docs) {
      const a = shipped(data);
      const aErrors = (shipped.errors ?? [])
        .map((e) => `${e.instancePath} ${e.keyword} ${e.message}`)
        .sort();
      const b = standalone(data);
      const bErrors = (standalone.errors ?? [])
        .map((e) => `${e.instancePath} ${e.keyword} ${e.message}`)
        .sort();
      expect({ name, valid: b, errors: bErrors }).toEqual({ name, valid: a, errors: aErrors });
      verdicts[a ? 'valid' : 'invalid']++;
    }
    // Both verdicts occur: the comparison covers errors too.
    expect(verdicts.valid).toBeGreaterThan(5);
    expect(verdicts.invalid).toBeGreaterThan(5);
  });
});
