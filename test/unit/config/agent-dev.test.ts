import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadProject } from '../../../src/config/index.js';

// agent.dev/v1 (agent-as-code) documents: the template fixtures lint clean,
// and the golden cases in test/fixtures/lint/agent-dev (each <name>.yaml
// beside its exact lint output <name>.out; folders for the cases that need
// their own files) keep their diagnostics. UPDATE_GOLDEN=1 rewrites the .out files.
const goldenDir = path.join('test', 'fixtures', 'lint', 'agent-dev');
const templatesDir = path.join('test', 'fixtures', 'agent-as-code');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = path.posix.join(dir.split(path.sep).join('/'), name);
      if (statSync(p).isDirectory()) return yamlFiles(p);
      return name.endsWith('.yaml') ? [p] : [];
    })
    .sort();
}

describe('agent.dev/v1 templates', () => {
  const templates = yamlFiles(templatesDir).filter((f) => f.endsWith('/agent.yaml'));
  it('has the templates of agent-as-code', () => {
    for (const name of [
      'chatbot',
      'summarizer',
      'translator',
      'sentiment',
      'data-analyzer',
      'content-generator',
    ]) {
      expect(templates).toContain(`${templatesDir}/${name}/agent.yaml`);
    }
  });
  for (const file of templates) {
    it(`${file} lints clean`, async () => {
      const result = await loadProject(file);
      expect(result.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
      expect(result.project?.agents).toHaveLength(1);
    });
  }
});

describe('agent.dev/v1 golden diagnostics', () => {
  const cases = yamlFiles(goldenDir);
  it('has the typical mistakes', () => {
    for (const name of [
      'bad-runtime.yaml',
      'missing-model-name.yaml',
      'bad-port.yaml',
      'bad-dependency-python.yaml',
      'bad-dependency-nodejs.yaml',
      'unknown-key.yaml',
      'mismatch/agent.yaml',
      'no-entry/agent.yaml',
    ]) {
      expect(cases).toContain(`${goldenDir}/${name}`);
    }
  });
  for (const file of cases) {
    it(file, async () => {
      const result = await loadProject(file);
      expect(result.diagnostics.length).toBeGreaterThan(0);
      const output = `${result.diagnostics
        .map((d) => formatDiagnostic(d, result.sources.get(d.file)))
        .join('\n')}\n`;
      const golden = file.replace(/\.yaml$/, '.out');
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, output);
      expect(output).toBe(readFileSync(golden, 'utf8'));
    });
  }

  it('reports unknown keys and manifest disagreements as warnings only', async () => {
    for (const file of ['unknown-key.yaml', 'mismatch/agent.yaml', 'node-mismatch/agent.yaml']) {
      const result = await loadProject(path.join(goldenDir, file));
      expect(result.diagnostics.every((d) => d.severity === 'warning')).toBe(true);
      expect(result.project?.agents).toHaveLength(1);
    }
  });
});

describe('agent.dev/v1 → AgentSpec', () => {
  it('maps the chatbot template to a docker agent built from a generated Dockerfile', async () => {
    const file = path.join(templatesDir, 'chatbot', 'agent.yaml');
    const result = await loadProject(file);
    const agent = result.project?.agents[0];
    expect(agent).toBeDefined();
    if (!agent) return;
    expect(agent.runtime).toBe('docker');
    expect(agent.image).toBe('chatbot:1.0.0');
    expect(agent.build?.context).toBe(path.resolve(templatesDir, 'chatbot'));
    expect(agent.build?.dockerfile).toBe('.agentfile-build/Dockerfile');
    const files = agent.build?.files ?? {};
    // The folder has no requirements.txt: it is generated, in memory.
    expect(files['requirements.txt']).toBe(
      'openai==1.0.0\nfastapi==0.104.0\nuvicorn[standard]==0.24.0\npydantic>=2.0,<3\n',
    );
    expect(JSON.parse(files['.agentfile-build/config.json'] ?? '')).toEqual({
      max_history: 10,
      system_prompt: 'You are a helpful customer support agent.',
    });
    const dockerfile = files['.agentfile-build/Dockerfile'] ?? '';
    expect(dockerfile).toContain('FROM python:3.11-slim\n');
    expect(dockerfile).toContain('ENV MODEL_NAME="gpt-4"\n');
    expect(dockerfile).toContain(
      'ENV MODEL_CONFIG="{\\"temperature\\":0.7,\\"max_tokens\\":500}"\n',
    );
    expect(dockerfile).toContain('CMD ["python","main.py"]\n');
    expect(agent.ports).toEqual([{ container: 8080, host: 8080, protocol: 'tcp' }]);
    expect(agent.environment).toEqual([
      { name: 'OPENAI_API_KEY', from: 'secret', secretName: 'OPENAI_API_KEY' },
      { name: 'LOG_LEVEL', value: 'INFO' },
    ]);
    expect(agent.healthCheck).toEqual({
      probe: { kind: 'command', command: ['curl', '-f', 'http://localhost:8080/health'] },
      intervalMs: 30_000,
      timeoutMs: 10_000,
      retries: 3,
      startPeriodMs: 5000,
    });
    expect(agent.resources.limits).toEqual({ nanoCpus: 1e9, memoryBytes: 1024 ** 3 });
  });

  it('takes base images from loadProject, and the folder manifest over a generated one', async () => {
    const file = path.join(goldenDir, 'mismatch', 'agent.yaml');
    const result = await loadProject(file, { baseImages: { python: 'local/python:3' } });
    const files = result.project?.agents[0]?.build?.files ?? {};
    expect(files['requirements.txt']).toBeUndefined();
    expect(files['.agentfile-build/Dockerfile']).toContain('FROM local/python:3\n');
    expect(files['.agentfile-build/Dockerfile']).toContain('CMD ["python","app.py"]\n');
  });

  it('lets a workflow service use an agent.dev/v1 file', async () => {
    const result = await loadProject(path.join(templatesDir, 'workflow.yaml'));
    expect(result.diagnostics).toEqual([]);
    const service = result.project?.workflows[0]?.services.writer;
    expect(service?.agent.image).toBe('content-generator:1.1.0');
    expect(service?.agent.build?.files?.['package.json']).toContain('"express": "^4.18.0"');
    expect(result.project?.workflows[0]?.secrets).toEqual(['OPENAI_API_KEY']);
  });
});

describe('schemas/agent-dev-v1.schema.json', () => {
  it('describes every field of every object', () => {
    const schema = JSON.parse(
      readFileSync(path.join('schemas', 'agent-dev-v1.schema.json'), 'utf8'),
    ) as Record<string, unknown>;
    const missing: string[] = [];
    const visit = (node: unknown, at: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const s = node as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, Record<string, unknown>>;
      if (!/\/oneOf\/[0-9]+$/.test(at)) {
        for (const [name, field] of Object.entries(props)) {
          if (typeof field.description !== 'string' && typeof field.$ref !== 'string') {
            missing.push(`${at}/properties/${name}`);
          }
          visit(field, `${at}/properties/${name}`);
        }
      }
      for (const [name, def] of Object.entries((s.$defs ?? {}) as object)) {
        visit(def, `${at}/$defs/${name}`);
      }
      if (Array.isArray(s.oneOf)) {
        for (const [i, b] of s.oneOf.entries()) visit(b, `${at}/oneOf/${i}`);
      }
      visit(s.items, `${at}/items`);
    };
    visit(schema, '');
    expect(missing).toEqual([]);
  });
});
