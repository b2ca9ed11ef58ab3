import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';

describe('the library API', () => {
  it('exports load, plan and run entry points', () => {
    for (const name of [
      'loadProject',
      'compilePlan',
      'runWorkflow',
      'defaultExecutors',
      'openStateStore',
      'SqliteStateStore',
      'MemoryStateStore',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('loads and plans a workflow without printing', async () => {
    const { project, diagnostics } = await api.loadProject('examples/hello-agent/workflow.yaml');
    expect(diagnostics).toEqual([]);
    const workflow = project?.workflows[0];
    expect(workflow?.name).toBe('hello');
    if (!workflow) return;
    const plan = api.compilePlan(workflow);
    expect(plan.nodes.map((n) => n.id)).toEqual([
      'api',
      'prepare',
      'in-network',
      'from-host',
      'report',
    ]);
  });
});
