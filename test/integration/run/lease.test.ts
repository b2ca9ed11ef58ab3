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
import { leaseKey, runWorkflow } from '../../../src/run/runner.js';
import { SqliteStateStore } from '../../../src/store/sqlite-state-store.js';
import { LockedError } from '../../../src/store/types.js';
import { defaultExecutors } from '../../../src/wiring.js';
import { pgidAlive, waitFor } from '../../helpers/processes.js';

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
    const store = SqliteStateStore.open({ path: statePath });
    const other = SqliteStateStore.open({ path: statePath });
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
      await other.acquireLease({
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
      const [wait] = await store.getSteps((await store.listRuns())[0]?.id ?? '');
      // The other runner owns the run now: this one records nothing more, and kills its step.
      expect(wait?.status).toBe('running');
      const [attempt] = await store.getAttempts((await store.listRuns())[0]?.id ?? '');
      expect(attempt?.pid).toBeGreaterThan(0);
      // The step's process group is killed (a generous deadline: the kill's grace).
      await waitFor(() => !pgidAlive(attempt?.pid ?? 0), { timeoutMs: 10_000 });
      expect((await other.getLease(leaseKey(plan)))?.runId).toBe('the-other-run');
    } finally {
      await store.close();
      await other.close();
    }
  });
});
