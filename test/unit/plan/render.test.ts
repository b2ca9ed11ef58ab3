import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../../src/plan/compile.js';
import {
  formatCommand,
  formatDuration,
  planToJson,
  renderPlanDot,
  renderPlanMermaid,
  renderPlanText,
} from '../../../src/plan/render.js';
import { service, step, workflow } from './fixtures.js';

const retry = (maxAttempts: number) => ({
  maxAttempts,
  backoff: { initialMs: 1000, factor: 2, maxMs: 30_000 },
});

const plan = compilePlan(
  workflow({
    services: [
      service('api', { ports: [{ container: 8080, host: 8080, protocol: 'tcp' }] }),
      service('cache', {
        runtime: 'process',
        image: undefined,
        build: undefined,
        command: ['redis-server', '--port', '6379'],
        ports: [{ container: 6379, host: 0, protocol: 'tcp' }],
        environment: [],
        healthCheck: {
          probe: { kind: 'tcp', port: 6379 },
          intervalMs: 500,
          timeoutMs: 1000,
          retries: 3,
          startPeriodMs: 0,
        },
      }),
    ],
    steps: [
      step('smoke', {
        kind: 'container',
        image: 'local/busybox:latest',
        workdir: undefined,
        run: 'wget -qO- http://api:8080/health',
        needs: ['api', 'install'],
        timeoutMs: 60_000,
        retry: retry(3),
      }),
      step('install', { run: 'npm ci', env: { NODE_ENV: 'test', SECRET_TOKEN: 'hunter2' } }),
      step('report', {
        command: ['node', 'report.js', '--title', 'Smoke test'],
        needs: ['smoke', 'cache'],
      }),
    ],
  }),
);

describe('renderPlanText', () => {
  it('lists the nodes in plan order, one line each, without ANSI codes', () => {
    expect(renderPlanText(plan, { cwd: '/repo' })).toBe(
      [
        'workflow hello (examples/hello/workflow.yaml), 5 nodes, concurrency 2',
        '  1. service api      docker    local/node:20 (build ./agent)  node server.js  ports 8080:8080/tcp  health http :8080/health',
        '  2. service cache    process   redis-server --port 6379  ports 6379/tcp  health tcp :6379',
        '  3. step    install  process   sh -c "npm ci"',
        '  4. step    smoke    container local/busybox:latest  sh -c "wget -qO- http://api:8080/health"  needs api, install  timeout 1m  retry 3',
        '  5. step    report   process   node report.js --title "Smoke test"  needs cache, smoke',
        '',
      ].join('\n'),
    );
  });

  it('shows the absolute file without cwd, and never environment values', () => {
    const text = renderPlanText(plan);
    expect(text.split('\n')[0]).toBe(
      'workflow hello (/repo/examples/hello/workflow.yaml), 5 nodes, concurrency 2',
    );
    expect(text).not.toContain('hunter2');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for ANSI escapes
    expect(text).not.toMatch(/\u001b/);
  });

  it('shows replicas and a restart policy of a service', () => {
    const p = compilePlan(
      workflow({
        services: [
          service('api', { replicas: 2, restart: { policy: 'on-failure', maxRetries: 3 } }),
        ],
        steps: [step('use', { needs: ['api'] })],
      }),
    );
    expect(renderPlanText(p)).toMatch(/service api .* replicas 2 {2}restart on-failure \(max 3\)/);
  });

  it('says "1 node" for a single node', () => {
    const one = compilePlan(workflow({ steps: [step('only', { run: 'true' })], concurrency: 1 }));
    expect(renderPlanText(one)).toBe(
      [
        'workflow hello (/repo/examples/hello/workflow.yaml), 1 node, concurrency 1',
        '  1. step    only  process   sh -c true',
        '',
      ].join('\n'),
    );
  });
});

describe('planToJson', () => {
  it('has a stable shape, with environment variable names but not values', () => {
    const fp = (i: number) => plan.nodes[i]?.fingerprint;
    const json = planToJson(plan);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json).toEqual({
      workflow: 'hello',
      file: '/repo/examples/hello/workflow.yaml',
      concurrency: 2,
      fingerprint: plan.fingerprint,
      nodes: [
        {
          index: 0,
          id: 'api',
          kind: 'service',
          needs: [],
          dependents: ['smoke'],
          fingerprint: fp(0),
          runtime: 'docker',
          image: 'local/node:20',
          build: { context: '/repo/examples/hello/agent', dockerfile: 'Dockerfile' },
          command: ['node', 'server.js'],
          env: ['API_KEY', 'LOG_LEVEL'],
          ports: [{ container: 8080, host: 8080, protocol: 'tcp' }],
          healthCheck: {
            probe: { kind: 'http', path: '/health', port: 8080, status: 200 },
            intervalMs: 1000,
            timeoutMs: 2000,
            retries: 3,
            startPeriodMs: 0,
          },
        },
        {
          index: 1,
          id: 'cache',
          kind: 'service',
          needs: [],
          dependents: ['report'],
          fingerprint: fp(1),
          runtime: 'process',
          command: ['redis-server', '--port', '6379'],
          ports: [{ container: 6379, host: 0, protocol: 'tcp' }],
          healthCheck: {
            probe: { kind: 'tcp', port: 6379 },
            intervalMs: 500,
            timeoutMs: 1000,
            retries: 3,
            startPeriodMs: 0,
          },
        },
        {
          index: 2,
          id: 'install',
          kind: 'step',
          needs: [],
          dependents: ['smoke'],
          fingerprint: fp(2),
          runtime: 'process',
          command: ['sh', '-c', 'npm ci'],
          workdir: '/repo/examples/hello',
          env: ['NODE_ENV', 'SECRET_TOKEN'],
          retry: retry(1),
        },
        {
          index: 3,
          id: 'smoke',
          kind: 'step',
          needs: ['api', 'install'],
          dependents: ['report'],
          fingerprint: fp(3),
          runtime: 'container',
          image: 'local/busybox:latest',
          command: ['sh', '-c', 'wget -qO- http://api:8080/health'],
          timeoutMs: 60_000,
          retry: retry(3),
        },
        {
          index: 4,
          id: 'report',
          kind: 'step',
          needs: ['cache', 'smoke'],
          dependents: [],
          fingerprint: fp(4),
          runtime: 'process',
          command: ['node', 'report.js', '--title', 'Smoke test'],
          workdir: '/repo/examples/hello',
          retry: retry(1),
        },
      ],
    });
    expect(JSON.stringify(json)).not.toContain('hunter2');
  });
});

describe('graph renderers', () => {
  it('renders Mermaid: services in their own subgraph, dotted healthy edges out of them', () => {
    expect(renderPlanMermaid(plan)).toBe(
      [
        '---',
        'title: "hello"',
        '---',
        'flowchart LR',
        '  subgraph services["services"]',
        '    n0(["api"])',
        '    n1(["cache"])',
        '  end',
        '  n2["install"]',
        '  n3["smoke"]',
        '  n4["report"]',
        '  n0 -.->|healthy| n3',
        '  n1 -.->|healthy| n4',
        '  n2 --> n3',
        '  n3 --> n4',
        '',
      ].join('\n'),
    );
  });

  it('renders Graphviz dot: services in their own cluster, dashed healthy edges out of them', () => {
    expect(renderPlanDot(plan)).toBe(
      [
        'digraph "hello" {',
        '  rankdir=LR;',
        '  node [shape=box];',
        '  subgraph "cluster_services" {',
        '    label="services";',
        '    style=dashed;',
        '    "api" [shape=ellipse];',
        '    "cache" [shape=ellipse];',
        '  }',
        '  "install";',
        '  "smoke";',
        '  "report";',
        '  "api" -> "smoke" [style=dashed, label="healthy"];',
        '  "cache" -> "report" [style=dashed, label="healthy"];',
        '  "install" -> "smoke";',
        '  "smoke" -> "report";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('groups the combinations of each matrix step, in plan order', () => {
    const matrixPlan = compilePlan(
      workflow({
        steps: [
          step('lint'),
          step('test', { matrix: { axes: { node: [20, 22] }, include: [], exclude: [] } }),
          step('after', { needs: ['test'] }),
        ],
      }),
    );
    const mermaid = renderPlanMermaid(matrixPlan);
    expect(mermaid).toContain(
      ['  subgraph m0["test (matrix)"]', '    n1["test-20"]', '    n2["test-22"]', '  end'].join(
        '\n',
      ),
    );
    expect(mermaid).toContain('  n1 --> n3\n  n2 --> n3\n');
    expect(renderPlanDot(matrixPlan)).toContain(
      [
        '  subgraph "cluster_matrix_test" {',
        '    label="test (matrix)";',
        '    style=rounded;',
        '    "test-20";',
        '    "test-22";',
        '  }',
      ].join('\n'),
    );
  });
});

describe('formatting helpers', () => {
  it('quotes argv words only where a shell would need it', () => {
    expect(formatCommand(['sh', '-c', 'npm ci'])).toBe('sh -c "npm ci"');
    expect(formatCommand(['echo', '', 'a"b', 'x=1', './bin/run'])).toBe(
      'echo "" "a\\"b" x=1 ./bin/run',
    );
  });

  it('writes durations like the file format', () => {
    expect([0, 500, 1000, 60_000, 90_000, 3_600_000, 3_661_500].map(formatDuration)).toEqual([
      '0s',
      '500ms',
      '1s',
      '1m',
      '1m30s',
      '1h',
      '1h1m1s500ms',
    ]);
  });
});
