import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { findRunProcesses, sweepRunProcesses } from '../../../src/executors/sweep.js';
import { processAlive, spawnWithRunEnv, waitFor, waitForOutput } from '../../helpers/processes.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/bin');
/** Run ids unique to this test process, so parallel test files cannot match them. */
const runA = `sweep-a-${randomBytes(4).toString('hex')}`;
const runB = `sweep-b-${randomBytes(4).toString('hex')}`;

afterEach(async () => {
  // Whatever a failed test left behind.
  await sweepRunProcesses({ runId: runA });
  await sweepRunProcesses({ runId: runB });
});

/**
 * The processes found for the query once their commands are exactly
 * `commands` (in any order): forks in flight (a subshell before its exec)
 * are waited out.
 */
async function waitForProcesses(
  query: Parameters<typeof findRunProcesses>[0],
  commands: string[],
): Promise<ReturnType<typeof findRunProcesses>['processes']> {
  const expected = JSON.stringify([...commands].sort());
  let found = findRunProcesses(query).processes;
  await waitFor(
    () => {
      found = findRunProcesses(query).processes;
      return JSON.stringify(found.map((p) => p.command).sort()) === expected;
    },
    { message: `expected ${expected} for ${JSON.stringify(query)}` },
  );
  return found;
}

describe('sweepRunProcesses on real processes', () => {
  test('kills escaped (setsid) and double-forked processes of a run, and only those', async () => {
    // In the group: sh and a plain background sleep. Out of it: a setsid
    // sleep, and a sleep whose parent (a setsid sh) exits at once, so it is
    // re-parented: a double fork.
    const script = 'sleep 3001 & setsid sleep 3002 & setsid sh -c "sleep 3003 &"; wait';
    const leader = spawnWithRunEnv(['sh', '-c', script], { runId: runA, stepId: 's', attempt: 1 });
    const other = spawnWithRunEnv(['sleep', '3004'], { runId: runB, stepId: 's', attempt: 1 });
    const found = await waitForProcesses({ runId: runA }, [
      `sh -c ${script}`,
      'sleep 3001',
      'sleep 3002',
      'sleep 3003',
    ]);
    await waitForProcesses({ runId: runB }, ['sleep 3004']);

    const escaped = found.filter((p) => p.pgid !== leader.pid);
    expect(escaped.map((p) => p.command).sort()).toEqual(['sleep 3002', 'sleep 3003']);
    const orphan = found.find((p) => p.command === 'sleep 3003');
    expect(found.some((p) => p.pid === orphan?.ppid)).toBe(false);

    const result = await sweepRunProcesses({ runId: runA });
    expect(result.supported).toBe(true);
    expect(result.processes.map((p) => p.pid).sort()).toEqual(found.map((p) => p.pid).sort());
    expect(result.processes.every((p) => p.outcome === 'killed')).toBe(true);
    expect(result.processes.every((p) => p.runId === runA && p.stepId === 's')).toBe(true);
    for (const p of found) {
      await waitFor(() => !processAlive(p.pid), { message: `${p.command} survived the sweep` });
    }
    expect(findRunProcesses({ runId: runA }).processes).toEqual([]);

    // The other run's process is untouched.
    expect(processAlive(other.pid)).toBe(true);
    expect(findRunProcesses({ runId: runB }).processes.map((p) => p.pid)).toEqual([other.pid]);
  });

  test('step and attempt narrow the sweep', async () => {
    spawnWithRunEnv(['sleep', '3011'], { runId: runA, stepId: 'one', attempt: 1 });
    spawnWithRunEnv(['sleep', '3012'], { runId: runA, stepId: 'one', attempt: 2 });
    spawnWithRunEnv(['sleep', '3013'], { runId: runA, stepId: 'two', attempt: 1 });
    await waitForProcesses({ runId: runA }, ['sleep 3011', 'sleep 3012', 'sleep 3013']);

    const first = await sweepRunProcesses({ runId: runA, stepId: 'one', attempt: 1 });
    expect(first.processes.map((p) => p.command)).toEqual(['sleep 3011']);
    await waitFor(() => findRunProcesses({ runId: runA }).processes.length === 2);
    const second = await sweepRunProcesses({ runId: runA, stepId: 'one' });
    expect(second.processes.map((p) => p.command)).toEqual(['sleep 3012']);
    await waitFor(() => findRunProcesses({ runId: runA }).processes.length === 1);
    expect(findRunProcesses({ runId: runA }).processes.map((p) => p.command)).toEqual([
      'sleep 3013',
    ]);
  });

  test('with a grace: SIGTERM first; what ignores it is killed after the grace', async () => {
    const polite = spawnWithRunEnv(['sleep', '3021'], { runId: runA });
    const stubborn = spawnWithRunEnv(
      [process.execPath, join(fixtures, 'ignore-sigterm.mjs')],
      { runId: runA },
      { stdout: 'pipe' },
    );
    await waitForOutput(stubborn.child, 'ready');
    await waitForProcesses({ runId: runA }, [
      'sleep 3021',
      `${process.execPath} ${join(fixtures, 'ignore-sigterm.mjs')}`,
    ]);
    const result = await sweepRunProcesses({ runId: runA, graceMs: 300, pollMs: 20 });
    const outcome = (pid: number | undefined) =>
      result.processes.find((p) => p.pid === pid)?.outcome;
    expect(outcome(polite.pid)).toBe('exited');
    expect(outcome(stubborn.pid)).toBe('killed');
    await waitFor(() => !processAlive(stubborn.pid));
  });

  test('finds nothing, and kills nothing, for a run without processes', async () => {
    const result = await sweepRunProcesses({ runId: `${runA}-none`, graceMs: 100 });
    expect(result).toMatchObject({ supported: true, processes: [] });
  });
});
