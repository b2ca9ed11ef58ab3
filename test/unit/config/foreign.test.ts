import { describe, expect, it } from 'vitest';
import { describeForeign } from '../../../src/config/foreign.js';

describe('describeForeign', () => {
  it.each([
    [{ services: { web: { image: 'nginx' } } }, 'a docker compose file', 'services'],
    [{ version: '3.8', services: { db: null } }, 'a docker compose file', 'services'],
    [
      { on: 'push', jobs: { test: { 'runs-on': 'ubuntu-latest' } } },
      'a GitHub Actions workflow',
      'jobs',
    ],
    [{ version: '3', tasks: { build: { cmds: ['go build'] } } }, 'a go-task Taskfile', 'tasks'],
    [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } },
      'a Kubernetes Service manifest',
      'apiVersion',
    ],
    [{ apiVersion: 'batch/v1', kind: 'Job' }, 'a Kubernetes Job manifest', 'apiVersion'],
    [
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow' },
      'an Argo Workflows document',
      'apiVersion',
    ],
  ])('recognizes %j', (data, what, key) => {
    expect(describeForeign(data)).toMatchObject({ what, key });
    expect(describeForeign(data)?.hint).toContain('docs/file-format.md');
  });

  it.each([
    // agentfile documents with mistakes get the schema's messages, not "foreign".
    { apiVersion: 'agentfile/v1', kind: 'Workflow', spec: { services: {} } },
    { apiVersion: 'agentfile/v2', kind: 'Agent', metadata: { name: 'a' }, spec: { image: 'x' } },
    { apiVersion: 'apps/v1', kind: 'Agent', spec: { image: 'x' } },
    { apiVersion: 'v1', kind: 'Deployment', spec: { steps: {} } },
    { kind: 'Workflow', spec: { services: { db: { image: 'x' } } } },
    { kind: 'Workflow', services: { db: { image: 'x' } } },
    { services: {} },
    { services: { web: 'nginx' } },
    { jobs: { a: {} } },
    { tasks: { a: {} } },
    null,
    [],
    'text',
  ])('does not call %j foreign', (data) => {
    expect(describeForeign(data)).toBeUndefined();
  });
});
