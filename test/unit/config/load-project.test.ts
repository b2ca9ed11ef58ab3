import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  AgentSpec,
  HealthCheck,
  Project,
  ServiceSpec,
  StepSpec,
  WorkflowSpec,
} from '../../../src/config/index.js';
import { loadProject } from '../../../src/config/index.js';

const okDir = path.join('test', 'fixtures', 'lint', 'ok');
const root = process.cwd();
const abs = (...p: string[]) => path.resolve(root, okDir, ...p);

async function load(name: string): Promise<Project> {
  const result = await loadProject(path.posix.join('test', 'fixtures', 'lint', 'ok', name));
  expect(result.diagnostics).toEqual([]);
  if (!result.project) throw new Error(`${name} did not load`);
  return result.project;
}

function only<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('missing');
  return value;
}

describe('ok fixtures', () => {
  const files = [
    ...readdirSync(okDir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f),
    'agents/api.yaml',
    'agent-dev/agent.yaml',
  ];
  for (const name of files) {
    it(`${name} loads without diagnostics`, async () => {
      const project = await load(name);
      expect(project.agents.length + project.workflows.length).toBeGreaterThan(0);
    });
  }
});

describe('normalization of full.yaml', async () => {
  const project = await load('full.yaml');
  const workflow = only(project.workflows[0]);
  const api = only(workflow.services.api).agent;

  it('keeps the file as given and resolves its path', () => {
    expect(project.file).toBe('test/fixtures/lint/ok/full.yaml');
    expect(project.path).toBe(abs('full.yaml'));
    expect(project.agents.map((a) => a.name)).toEqual(['worker']);
    expect(workflow.name).toBe('full');
    expect(workflow.source).toEqual({ file: project.file, line: 6, column: 9 });
  });

  it('merges env and keeps numbers as written', () => {
    expect(workflow.concurrency).toBe(3);
    // `defaults.env` (TZ) merges over the workflow env.
    expect(workflow.env).toEqual({ NODE_ENV: 'test', VERSION: '1.10', CI: 'true', TZ: 'UTC' });
    expect(only(workflow.steps.build).env).toEqual({
      NODE_ENV: 'production',
      VERSION: '1.10',
      CI: 'true',
      TZ: 'UTC',
    });
    expect(only(workflow.steps.test).env).toEqual(workflow.env);
  });

  it('expands run to sh -c, keeps argv, sorts and dedupes needs', () => {
    const build = only(workflow.steps.build);
    const test = only(workflow.steps.test);
    const lint = only(workflow.steps.lint);
    expect(build.command).toEqual(['sh', '-c', 'npm run build']);
    expect(build.kind).toBe('process');
    expect(build.workdir).toBe(abs());
    expect(build.needs).toEqual([]);
    expect(build.retry).toEqual({
      maxAttempts: 1,
      backoff: { initialMs: 1000, factor: 2, maxMs: 30_000 },
    });
    expect(build.timeoutMs).toBe(1_800_000); // defaults.timeout
    expect(build.source).toEqual({ file: project.file, line: 36, column: 5 });

    expect(test.command).toEqual(['npm', 'test', '--', '--shard', '2']);
    expect(test.kind).toBe('container');
    expect(test.image).toBe('local/node:20');
    expect(test.workdir).toBe('/src');
    expect(test.needs).toEqual(['api', 'build', 'cache']);
    expect(test.timeoutMs).toBe(600_000);
    expect(test.retry).toEqual({
      maxAttempts: 3,
      backoff: { initialMs: 2000, factor: 3, maxMs: 60_000 },
    });

    expect(lint.needs).toEqual(['build']);
    expect(lint.workdir).toBe(abs('app'));
    expect(lint.retry.maxAttempts).toBe(2);
    expect(Object.keys(workflow.steps)).toEqual(['build', 'test', 'lint', 'release']);
  });

  it('resolves a service that uses another file', () => {
    const service = only(workflow.services.api);
    expect(service.source).toEqual({ file: project.file, line: 18, column: 5 });
    expect(api.name).toBe('api');
    expect(api.path).toBe(abs('agents', 'api.yaml'));
    expect(api.source).toEqual({
      file: 'test/fixtures/lint/ok/agents/api.yaml',
      line: 4,
      column: 9,
    });
    expect(api.runtime).toBe('docker');
    expect(api.image).toBe('local/node:20');
    expect(api.build).toEqual({
      context: abs('app'),
      dockerfile: 'Dockerfile.dev',
      args: { NODE_VERSION: '20', DEBUG: 'true' },
      target: 'runtime',
    });
    expect(api.command).toEqual(['node', 'server.js', '--port', '8080']);
    expect(api.workdir).toBe('/app');
    expect(api.ports).toEqual([
      { container: 8080, host: 0, protocol: 'tcp' },
      { container: 90, host: 9090, protocol: 'udp' },
      { container: 3000, host: 0, protocol: 'tcp' },
      { container: 7000, host: 17000, protocol: 'tcp' },
    ]);
    expect(api.environment).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'RATIO', value: '1.10' },
      { name: 'ENABLED', value: 'true' },
      { name: 'HOME', from: 'env' },
    ]);
    expect(api.volumes).toEqual([
      { type: 'bind', source: abs('agents', 'data'), target: '/app/data', readOnly: true },
      { type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: false },
      { type: 'bind', source: abs('app'), target: '/src', readOnly: false },
      { type: 'volume', source: 'cache', target: '/cache', readOnly: false },
      { type: 'tmpfs', source: '', target: '/tmp', readOnly: false },
    ]);
    expect(api.healthCheck).toEqual({
      probe: { kind: 'http', path: '/health', port: 8080, status: 204 },
      intervalMs: 500,
      timeoutMs: 1500,
      retries: 5,
      startPeriodMs: 90_000,
    } satisfies HealthCheck);
    expect(api.resources.limits).toEqual({ nanoCpus: 500_000_000, memoryBytes: 536_870_912 });
    expect(api.resources.requests).toEqual({ nanoCpus: 250_000_000, memoryBytes: 268_435_456 });
    expect(api.pull).toBe('never');
    expect(api.security).toEqual({
      runAsUser: 1000,
      runAsGroup: 1000,
      readOnlyRootFilesystem: true,
      capabilities: { add: ['NET_BIND_SERVICE'], drop: ['CHOWN', 'ALL'] },
      privileged: false,
      noNewPrivileges: true,
    });
    expect(api.network).toEqual({
      mode: 'bridge',
      aliases: ['api-v1'],
      dns: ['1.1.1.1', '2606:4700:4700::1111'],
    });
    expect(api.init).toBe(false);
    expect(api.stopGracePeriodMs).toBe(30_000);
  });

  it('resolves #name to an Agent of the same file', () => {
    const worker = only(workflow.services.worker).agent;
    expect(worker.name).toBe('worker');
    expect(worker.runtime).toBe('process');
    expect(worker.command).toEqual(['sh', '-c', 'node worker.js']);
    expect(worker.workdir).toBe(abs());
    expect(worker.healthCheck?.probe).toEqual({
      kind: 'command',
      command: ['test', '-f', '/tmp/ready'],
    });
    expect(worker).toEqual(project.agents[0]);
  });

  it('normalizes inline services with the service name as agent name', () => {
    const cache = only(workflow.services.cache).agent;
    expect(cache.name).toBe('cache');
    expect(cache.path).toBe(abs('full.yaml'));
    expect(cache.source).toEqual({ file: project.file, line: 22, column: 5 });
    expect(cache.runtime).toBe('docker');
    expect(cache.command).toEqual(['sh', '-c', 'httpd -f -p 8080']);
    expect(cache.ports).toEqual([{ container: 8080, host: 0, protocol: 'tcp' }]);
    expect(cache.healthCheck).toEqual({
      probe: { kind: 'tcp', port: 8080 },
      intervalMs: 5000,
      timeoutMs: 3000,
      retries: 3,
      startPeriodMs: 0,
    });
    expect(cache.resources.limits).toEqual({ nanoCpus: 1_500_000_000, memoryBytes: 64_000_000 });

    const probe = only(workflow.services.probe).agent;
    expect(probe.runtime).toBe('process');
    expect(probe.workdir).toBe(abs('tools'));
    expect(probe.healthCheck?.probe).toEqual({
      kind: 'command',
      command: ['sh', '-c', 'test -f /tmp/ready'],
    });
    expect(probe.environment).toEqual([]);
    expect(probe.volumes).toEqual([]);
    expect(probe.resources).toEqual({ limits: {} });
  });
});

describe('defaults', () => {
  it('concurrency defaults to the CPU count; build without image leaves image undefined', async () => {
    const minimal = await load('minimal.yaml');
    expect(only(minimal.workflows[0]).concurrency).toBe(availableParallelism());
    const agents = await load('agents-only.yaml');
    const [web, server] = agents.agents;
    expect(web?.runtime).toBe('docker');
    expect(web?.image).toBeUndefined();
    expect(web?.build).toEqual({ context: abs(), dockerfile: 'Dockerfile', args: {} });
    expect(server?.runtime).toBe('process');
    expect(server?.healthCheck?.probe).toEqual({
      kind: 'http',
      path: '/',
      port: 3000,
      status: 200,
    });
  });
});

describe('every field of the model is reachable from the file format', async () => {
  // Records typed against the model: adding a field to the model without
  // listing it here is a compile error, and full.yaml must set it.
  const agentKeys = {
    kind: true,
    name: true,
    path: true,
    source: true,
    metadata: true,
    runtime: true,
    image: true,
    build: true,
    command: true,
    workdir: true,
    ports: true,
    environment: true,
    volumes: true,
    healthCheck: true,
    restart: true,
    replicas: true,
    resources: true,
    pull: true,
    security: true,
    network: true,
    init: true,
    stopGracePeriodMs: true,
  } satisfies Record<keyof AgentSpec, true>;
  const stepKeys = {
    id: true,
    source: true,
    kind: true,
    command: true,
    image: true,
    needs: true,
    env: true,
    workdir: true,
    timeoutMs: true,
    retry: true,
    approval: true,
    continueOnError: true,
    if: true,
    outputs: true,
    matrix: true,
    timeoutExpr: true,
    combination: true,
    script: true,
  } satisfies Record<keyof StepSpec, true>;
  const serviceKeys = { name: true, source: true, agent: true } satisfies Record<
    keyof ServiceSpec,
    true
  >;
  const workflowKeys = {
    kind: true,
    name: true,
    path: true,
    source: true,
    metadata: true,
    concurrency: true,
    failFast: true,
    inputs: true,
    secrets: true,
    env: true,
    services: true,
    steps: true,
  } satisfies Record<keyof WorkflowSpec, true>;
  const project = await load('full.yaml');
  const workflow = only(project.workflows[0]);
  const api = only(workflow.services.api);
  const test = only(workflow.steps.test);

  it('sets every field', () => {
    // An inline service has no metadata of its own (test/unit/config/schema-model.test.ts
    // checks an Agent document's).
    for (const key of Object.keys(agentKeys).filter((k) => k !== 'metadata'))
      expect(api.agent).toHaveProperty(key);
    // `approval` is a step of its own kind: it cannot also run something.
    // Mutually exclusive with what `test` sets: `approval` (a step of its own
    // kind), `timeoutExpr` (timeoutMs), `matrix` (on `lint`), `combination`
    // (set by the plan compiler's expansion).
    const elsewhere = ['approval', 'timeoutExpr', 'matrix', 'combination', 'script'];
    for (const key of Object.keys(stepKeys).filter((k) => !elsewhere.includes(k)))
      expect(test).toHaveProperty(key);
    expect(workflow.steps.lint).toMatchObject({
      timeoutExpr: '${{ inputs.shards }}m',
      matrix: {
        axes: { node: [20, 22], os: ['linux'] },
        include: [{ node: 22, experimental: true }],
        exclude: [{ node: 20, os: 'mac' }],
        maxParallel: 1,
      },
    });
    expect(workflow.inputs.target).toMatchObject({
      type: 'choice',
      options: ['dev', 'prod'],
      default: 'dev',
    });
    expect(workflow.inputs.note).toMatchObject({ type: 'string', required: true });
    expect(workflow.secrets).toEqual(['NPM_TOKEN']);
    expect(workflow.failFast).toBe(false);
    expect(test.env.TZ).toBe('UTC');
    expect(workflow.steps.release).toMatchObject({
      kind: 'approval',
      approval: { message: 'Ship this build?', approvers: ['alice', 'bob'] },
    });
    for (const key of Object.keys(serviceKeys)) expect(api).toHaveProperty(key);
    for (const key of Object.keys(workflowKeys)) expect(workflow).toHaveProperty(key);
    expect(workflow.metadata).toEqual({
      version: '1.10',
      description: 'Every field of the file format',
      labels: { team: 'platform' },
    });
    expect(api.agent.resources.limits.nanoCpus).toBeDefined();
    expect(api.agent.resources.limits.memoryBytes).toBeDefined();
    const probes = Object.values(workflow.services).map((s) => s.agent.healthCheck?.probe.kind);
    expect(new Set(probes)).toEqual(new Set(['http', 'tcp', 'command']));
  });
});

describe('files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentfile-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file at 1:1 with a hint', async () => {
    const result = await loadProject('nope.yaml', { cwd: dir });
    expect(result.project).toBeUndefined();
    expect(result.diagnostics).toEqual([
      {
        code: 'file/not-found',
        severity: 'error',
        message: '"nope.yaml" does not exist',
        file: 'nope.yaml',
        line: 1,
        column: 1,
        hint: 'give the path of an agentfile YAML file (default: agent.yaml in the current directory)',
      },
    ]);
  });

  it('reports a directory as unreadable', async () => {
    const result = await loadProject('.', { cwd: dir });
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['file/not-found', '"." is a directory'],
    ]);
  });

  it('resolves the file and uses: against cwd, and reports uses files relative to cwd', async () => {
    writeFileSync(
      path.join(dir, 'wf.yaml'),
      [
        'apiVersion: agentfile/v1',
        'kind: Workflow',
        'metadata: { name: wf }',
        'spec:',
        '  services:',
        '    api: { uses: ./sub/api.yaml }',
        '  steps:',
        '    s: { run: "true", needs: api }',
        '',
      ].join('\n'),
    );
    rmSync(path.join(dir, 'sub'), { recursive: true, force: true });
    const missing = await loadProject('wf.yaml', { cwd: dir });
    expect(missing.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual([
      'wf.yaml:6:18 service/uses',
    ]);
    expect(missing.diagnostics[0]?.message).toContain('sub/api.yaml does not exist');

    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(
      path.join(dir, 'sub', 'api.yaml'),
      'apiVersion: agentfile/v1\nkind: Agent\nmetadata: { name: api }\nspec: { imag: x }\n',
    );
    const bad = await loadProject('wf.yaml', { cwd: dir });
    expect(bad.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual([
      'sub/api.yaml:4:9 schema/unknown-key',
    ]);
    expect(bad.sources.get('sub/api.yaml')).toContain('imag: x');
    expect(bad.sources.get('wf.yaml')).toContain('kind: Workflow');
  });

  it('follows uses between files that use each other without hanging', async () => {
    const a = [
      'apiVersion: agentfile/v1',
      'kind: Workflow',
      'metadata: { name: a }',
      'spec:',
      '  services: { svc: { uses: ./b.yaml#b } }',
      '  steps: { s: { run: "true", needs: svc } }',
      '---',
      'apiVersion: agentfile/v1',
      'kind: Agent',
      'metadata: { name: a }',
      'spec: { image: local/busybox:latest }',
      '',
    ].join('\n');
    const b = a.replace(/\bb\b/g, 'X').replace(/\ba\b/g, 'b').replace(/\bX\b/g, 'a');
    writeFileSync(path.join(dir, 'a.yaml'), a);
    writeFileSync(path.join(dir, 'b.yaml'), b);
    const result = await loadProject('a.yaml', { cwd: dir });
    expect(result.diagnostics).toEqual([]);
    expect(result.project?.workflows[0]?.services.svc?.agent.path).toBe(path.join(dir, 'b.yaml'));
  });

  it('keeps warnings without failing the load', async () => {
    writeFileSync(
      path.join(dir, 'warn.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: w }\nspec:\n  steps: { s: { run: !unknown "true" } }\n',
    );
    const result = await loadProject('warn.yaml', { cwd: dir });
    expect(result.diagnostics.map((d) => [d.code, d.severity, d.line])).toEqual([
      ['yaml/warning', 'warning', 5],
    ]);
    expect(result.project?.workflows[0]?.steps.s?.command).toEqual(['sh', '-c', 'true']);
  });
});
