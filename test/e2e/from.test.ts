/**
 * `agent run --from STEP` on a finished run of the bundled example: exactly
 * the chosen step and its dependents run again, in the same run; `agent
 * plan --from` and `--resume` say so beforehand. Real Docker engine.
 */

import { expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { agent, copyExample, readState } from './cli.js';

function attempts(dir: string): Record<string, number> {
  return readState(dir, (db) =>
    Object.fromEntries(
      (
        db.prepare("SELECT id, attempts FROM steps WHERE kind = 'step'").all() as {
          id: string;
          attempts: number;
        }[]
      ).map((r) => [r.id, r.attempts]),
    ),
  );
}

describeDocker('agent run --from on the bundled example', () => {
  it('reruns exactly the chosen step and what depends on it', async () => {
    const dir = await copyExample('hello-agent');
    const first = await agent(['run', 'workflow.yaml'], { cwd: dir, timeoutMs: 180_000 });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(attempts(dir)).toEqual({ prepare: 1, 'in-network': 1, 'from-host': 1, report: 1 });

    const plan = await agent(['plan', 'workflow.yaml', '--from', 'in-network'], { cwd: dir });
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/2 of 4 steps would run/);
    expect(plan.stdout).toMatch(/prepare\s+reuse\s+succeeded, unchanged/);
    expect(plan.stdout).toMatch(/in-network\s+run\s+chosen by --from/);
    expect(plan.stdout).toMatch(/from-host\s+reuse/);
    expect(plan.stdout).toMatch(/report\s+run\s+downstream of --from/);

    const again = await agent(['run', 'workflow.yaml', '--from', 'in-network'], {
      cwd: dir,
      timeoutMs: 180_000,
    });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/reusing succeeded steps prepare, from-host/);
    expect(attempts(dir)).toEqual({ prepare: 1, 'in-network': 2, 'from-host': 1, report: 2 });
    const runs = readState(dir, (db) => db.prepare('SELECT status FROM runs').all());
    expect(runs).toEqual([{ status: 'succeeded' }]);

    const unknown = await agent(['run', 'workflow.yaml', '--from', 'nope'], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/--from nope: workflow "hello" has no step "nope"/);
    const resume = await agent(['plan', 'workflow.yaml', '--resume'], { cwd: dir });
    expect(resume.exitCode).toBe(2);
    expect(resume.stderr).toMatch(/no failed, cancelled, paused, waiting or interrupted run/);
  });
});
