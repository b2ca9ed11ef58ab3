import type { AgentSpec, ServiceSpec, StepSpec, WorkflowSpec } from '../../../src/config/model.js';

export const FILE = '/repo/examples/hello/workflow.yaml';

/** A process step running `sh -c <run>`, with the defaults the config stage fills in. */
export function step(id: string, overrides: Partial<StepSpec> & { run?: string } = {}): StepSpec {
  const { run, ...rest } = overrides;
  return {
    id,
    source: { file: 'workflow.yaml', line: 10, column: 5 },
    kind: 'process',
    command: ['sh', '-c', run ?? `echo ${id}`],
    needs: [],
    env: {},
    workdir: '/repo/examples/hello',
    retry: { maxAttempts: 1, backoff: { initialMs: 1000, factor: 2, maxMs: 30_000 } },
    continueOnError: false,
    ...rest,
  };
}

/** A docker service built from ./agent with an http health check. */
export function service(name: string, overrides: Partial<AgentSpec> = {}): ServiceSpec {
  return {
    name,
    source: { file: 'workflow.yaml', line: 4, column: 5 },
    agent: {
      kind: 'Agent',
      name,
      path: FILE,
      source: { file: 'workflow.yaml', line: 5, column: 7 },
      runtime: 'docker',
      image: 'local/node:20',
      build: { context: '/repo/examples/hello/agent', dockerfile: 'Dockerfile', args: {} },
      command: ['node', 'server.js'],
      ports: [{ container: 8080, host: 0, protocol: 'tcp' }],
      environment: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'API_KEY', from: 'env' },
      ],
      volumes: [],
      healthCheck: {
        probe: { kind: 'http', path: '/health', port: 8080, status: 200 },
        intervalMs: 1000,
        timeoutMs: 2000,
        retries: 3,
        startPeriodMs: 0,
      },
      resources: { limits: {} },
      ...overrides,
    },
  };
}

/** A workflow from lists of services and steps, in the given (declaration) order. */
export function workflow(
  parts: { services?: ServiceSpec[]; steps?: StepSpec[]; concurrency?: number; name?: string } = {},
): WorkflowSpec {
  return {
    kind: 'Workflow',
    name: parts.name ?? 'hello',
    path: FILE,
    source: { file: 'workflow.yaml', line: 1, column: 1 },
    concurrency: parts.concurrency ?? 2,
    failFast: true,
    inputs: {},
    secrets: [],
    env: {},
    services: Object.fromEntries((parts.services ?? []).map((s) => [s.name, s])),
    steps: Object.fromEntries((parts.steps ?? []).map((s) => [s.id, s])),
  };
}
