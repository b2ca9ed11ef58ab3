/**
 * What editors load: `agent schema --output .agentfile` writes the schemas,
 * a YAML file names one with `# yaml-language-server: $schema=…`, and
 * yaml-language-server (the engine of the VS Code YAML extension and of
 * most editors' YAML support) resolves the line, loads the file from disk
 * and completes keys, shows the schema's title, description and examples on
 * hover, and reports mistakes, including in the Agent definitions the
 * workflow bundle carries (an inline service).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService, type LanguageService } from 'yaml-language-server';
import { main } from '../../../src/cli/main.js';

const dir = mkdtempSync(path.join(tmpdir(), 'agentfile-editor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every schema URI the language service asked for. */
const requested: string[] = [];
let ls: LanguageService;

beforeAll(async () => {
  const out: string[] = [];
  const sink = {
    write: (t: string) => {
      out.push(t);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const code = await main(['schema', '--output', '.agentfile'], {
    stdout: sink,
    stderr: sink,
    env: {},
    cwd: dir,
  });
  expect(code).toBe(0);
  ls = getLanguageService({
    // What an editor does: read the file the modeline names, here from disk only.
    schemaRequestService: async (uri) => {
      requested.push(uri);
      if (!uri.startsWith('file:')) throw new Error(`no network: ${uri}`);
      return readFile(fileURLToPath(uri), 'utf8');
    },
    workspaceContext: { resolveRelativePath: (rel, resource) => new URL(rel, resource).href },
  });
  ls.configure({ validate: true, hover: true, completion: true, schemas: [] });
});

let opened = 0;

/**
 * A document in the temporary project, with a cursor where `|` is (removed
 * from the text). Each gets a version of its own: the language service
 * caches parsed documents by URI and version.
 */
function open(
  name: string,
  text: string,
): { doc: TextDocument; at: { line: number; character: number } } {
  const offset = text.indexOf('|');
  const clean = offset < 0 ? text : text.slice(0, offset) + text.slice(offset + 1);
  opened++;
  const uri = pathToFileURL(path.join(dir, `${opened}-${name}`)).href;
  const doc = TextDocument.create(uri, 'yaml', opened, clean);
  return { doc, at: doc.positionAt(Math.max(0, offset)) };
}

const WORKFLOW_LINE = '# yaml-language-server: $schema=./.agentfile/workflow.schema.json\n';
const AGENT_LINE = '# yaml-language-server: $schema=./.agentfile/agent.schema.json\n';

describe('yaml-language-server with the schemas `agent schema --output` writes', () => {
  it('completes the keys of a step', async () => {
    const { doc, at } = open(
      'workflow.yaml',
      `${WORKFLOW_LINE}apiVersion: agentfile/v1\nkind: Workflow\nmetadata:\n  name: ci\nspec:\n  steps:\n    build:\n      run: make\n      |\n`,
    );
    const list = await ls.doComplete(doc, at, false);
    const labels = list.items.map((i) => i.label);
    expect(labels).toEqual(
      expect.arrayContaining(['needs', 'retry', 'timeout', 'continueOnError']),
    );
    expect(requested).toContain(
      pathToFileURL(path.join(dir, '.agentfile/workflow.schema.json')).href,
    );
    expect(requested.filter((u) => !u.startsWith('file:'))).toEqual([]);
  });

  it('completes an inline service from the Agent definitions in the bundle', async () => {
    const { doc, at } = open(
      'workflow.yaml',
      `${WORKFLOW_LINE}apiVersion: agentfile/v1\nkind: Workflow\nmetadata:\n  name: ci\nspec:\n  services:\n    db:\n      image: postgres:16\n      |\n  steps:\n    build:\n      run: make\n`,
    );
    const labels = (await ls.doComplete(doc, at, false)).items.map((i) => i.label);
    expect(labels).toEqual(
      expect.arrayContaining(['healthCheck', 'ports', 'environment', 'resources']),
    );
  });

  it('shows the title, description and example of a key on hover', async () => {
    const { doc, at } = open(
      'workflow.yaml',
      `${WORKFLOW_LINE}apiVersion: agentfile/v1\nkind: Workflow\nmetadata:\n  name: ci\nspec:\n  steps:\n    build:\n      run: make\n      retry:\n        maxA|ttempts: 3\n`,
    );
    const hover = await ls.doHover(doc, at);
    const text = JSON.stringify(hover?.contents);
    expect(text).toContain('Maximum attempts');
    expect(text).toContain('Attempts in total, the first included. Default: 1 (no retry).');
    expect(text).toContain('Example');
  });

  it('reports an unknown key and a bad duration in an inline service; a valid file has no problem', async () => {
    const bad = open(
      'workflow.yaml',
      `${WORKFLOW_LINE}apiVersion: agentfile/v1\nkind: Workflow\nmetadata:\n  name: ci\nspec:\n  services:\n    db:\n      image: postgres:16\n      healthCheck:\n        tcp: { port: 5432 }\n        interval: 5x\n  steps:\n    build:\n      runn: make\n`,
    );
    const problems = (await ls.doValidation(bad.doc, false)).map(
      (d) => `${d.range.start.line + 1}: ${d.message}`,
    );
    expect(problems).toContain('15: Property runn is not allowed.');
    expect(problems.filter((p) => p.startsWith('12:') && p.includes('pattern'))).toHaveLength(1);

    const good = open(
      'agent.yaml',
      `${AGENT_LINE}apiVersion: agentfile/v1\nkind: Agent\nmetadata:\n  name: api\nspec:\n  image: node:20\n  ports: ["8080"]\n  healthCheck:\n    http: { path: /health, port: 8080 }\n`,
    );
    expect(await ls.doValidation(good.doc, false)).toEqual([]);
  });
});
