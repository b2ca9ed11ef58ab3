/**
 * A runner that loses its lease mid-run (it stalled past the TTL and another
 * runner took the workflow over) stops instead of writing on: real store,
 * real processes.
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/index.js';
import { compilePlan } from '../../../src/plan/compile.js';
import { defaultExecutors } from '../../../src/run/executors.js';
import { leaseKey, runWorkflow } from '../../../src/run/runner.js';
import { Store } from '../../../src/store/store.js';
import { LockedError } from '../../../src/store/types.js';

describe('a lost lease', () => {
  it('ends the run with LockedError at the next heartbeat, and kills its running step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-lease-'));
    await writeFile(
      join(dir, 'agent.yaml'),
      'apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: held }\nspec:\n  steps:\n    wait:\n      run: sleep 30\n',
    );
    const { project } = await loadProject('agent.yaml', { cwd: dir });
    const workflow = project?.workflows[0];
    if (!workflow) throw new Error('the workflow loads');
    const plan = compilePlan(workflow);
    const statePath = join(dir, 'state.db');
    const store = Store.open({ path: statePath });
    const other = Store.open({ path: statePath });
    let started!: () => void;
    const stepStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const run = runWorkflow({
      plan,
      store,
      statePath,
      executors: defaultExecutors(),
      leaseTtlMs: 1500, // heartbeat every 1000 ms
      onEvent: (e) => {
        if (e.type === 'step.started') started();
      },
    });
    try {
      await stepStarted;
      // Another runner, a minute "later": our lease has expired by its clock, so it takes over.
      other.acquireLease({
        key: leaseKey(plan),
        runId: 'the-other-run',
        pid: process.pid,
        host: hostname(),
        ttlMs: 60_000,
        now: Date.now() + 60_000,
      });
      const began = Date.now();
      await expect(run).rejects.toBeInstanceOf(LockedError);
      expect(Date.now() - began).toBeLessThan(10_000); // generous: one heartbeat plus the kill
      const [wait] = store.getSteps(store.listRuns()[0]?.id ?? '');
      expect(wait?.status).toBe('cancelled');
      expect(other.getLease(leaseKey(plan))?.runId).toBe('the-other-run');
    } finally {
      store.close();
      other.close();
    }
  });
});
