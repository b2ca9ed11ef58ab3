import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileSchemas } from '../../../src/config/schema.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Every .yaml file under test/fixtures and examples/. */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return e.name.endsWith('.yaml') ? [p] : [];
  });
}

/** Paths of every object in a schema document, by identity. */
function objectPaths(doc: unknown): Map<unknown, string> {
  const out = new Map<unknown, string>();
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object' || out.has(v)) return;
    out.set(v, path);
    for (const [k, child] of Object.entries(v)) walk(child, `${path}/${k}`);
  };
  walk(doc, '');
  return out;
}

describe('validators generated ahead of time (scripts/build-schemas.mjs)', () => {
  const set = compileSchemas();
  // The same schemas compiled at run time, with the options the generator uses.
  const text = (f: string) => JSON.parse(readFileSync(join(root, 'schemas', f), 'utf8'));
  const runtimeDocs = {
    Agent: text('agent.schema.json'),
    Workflow: text('workflow.schema.json'),
    AgentDev: text('agent-dev-v1.schema.json'),
  };
  const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true });
  for (const d of Object.values(runtimeDocs)) ajv.addSchema(d);
  const runtime = (doc: Record<string, unknown>) =>
    ajv.getSchema(String(doc.$id)) as ValidateFunction;

  const generatedPaths = new Map<unknown, string>();
  const runtimePaths = new Map<unknown, string>();
  for (const key of ['Agent', 'Workflow', 'AgentDev'] as const) {
    for (const [o, p] of objectPaths(set.documents[key])) generatedPaths.set(o, `${key}${p}`);
    for (const [o, p] of objectPaths(runtimeDocs[key])) runtimePaths.set(o, `${key}${p}`);
  }
  /** An error with its schema objects replaced by where they are in the documents. */
  const comparable = (e: ErrorObject, paths: Map<unknown, string>) => {
    const where = (v: unknown) =>
      v !== null && typeof v === 'object' ? (paths.get(v) ?? 'NOT IN documents') : v;
    return { ...e, schema: where(e.schema), parentSchema: where(e.parentSchema) };
  };

  it('embed the schema files as they are now', () => {
    expect(set.documents).toEqual(runtimeDocs);
  });

  it('give the errors of ajv compiling the schemas at run time, pointing into the same schema objects', () => {
    const files = [...yamlFiles(join(root, 'test/fixtures')), ...yamlFiles(join(root, 'examples'))];
    let failing = 0;
    for (const file of files) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        if (!('toJS' in doc) || doc.errors.length > 0) continue;
        let data: Record<string, unknown> | null;
        try {
          data = doc.toJS() as Record<string, unknown> | null;
        } catch {
          continue; // the hostile-input fixtures (an alias bomb), which the loader refuses
        }
        const kind = data?.kind === 'Agent' ? 'Agent' : 'Workflow';
        const key = data?.apiVersion === 'agent.dev/v1' ? 'AgentDev' : kind;
        const ours = key === 'AgentDev' ? set.agentDev : key === 'Agent' ? set.agent : set.workflow;
        const theirs = runtime(runtimeDocs[key]);
        const ok = ours(data);
        expect([file, ok]).toEqual([file, theirs(data)]);
        if (!ok) failing += 1;
        expect([file, (ours.errors ?? []).map((e) => comparable(e, generatedPaths))]).toEqual([
          file,
          (theirs.errors ?? []).map((e) => comparable(e, runtimePaths)),
        ]);
      }
    }
    // The fixtures exercise the error paths, not only valid files.
    expect(failing).toBeGreaterThan(10);
  });
});
