/**
 * A workflow whose only service is busybox httpd (as PID 1 it ignores
 * SIGTERM): with `init` (the default) the run ends right after its last
 * step; with `init: false` the stop waits out the grace period.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import { agent, readState, tempDir } from './cli.js';

/** ms from the end of the last step to the end of the run (the service's stop). */
async function tailMs(init: boolean | undefined): Promise<number> {
  const dir = await tempDir();
  await writeFile(
    join(dir, 'agent.yaml'),
    `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: httpd }
spec:
  services:
    web:
      image: local/busybox:latest
      command: httpd -f -p 8080
${init === undefined ? '' : `      init: ${init}\n`}      healthCheck:
        tcp: { port: 8080 }
        interval: 100ms
  steps:
    check:
      needs: [web]
      run: "true"
`,
  );
  const r = await agent(['run'], { cwd: dir, timeoutMs: 60_000 });
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  const row = readState(dir, (db) =>
    db
      .prepare(
        `SELECT (SELECT finished_at FROM runs) AS run_end,
                (SELECT finished_at FROM steps WHERE id = 'check') AS step_end`,
      )
      .get(),
  ) as { run_end: number; step_end: number };
  return row.run_end - row.step_end;
}

describeDocker('a service whose PID 1 ignores SIGTERM', () => {
  it('with init (the default), the run ends less than 3 s after its last step', async () => {
    const ms = await tailMs(undefined);
    console.log(`httpd run tail with init: ${ms} ms`);
    expect(ms).toBeLessThan(3000);
  });

  it('without init, the stop waits out the 10 s grace period', async () => {
    const ms = await tailMs(false);
    console.log(`httpd run tail without init: ${ms} ms`);
    expect(ms).toBeGreaterThanOrEqual(9000);
  });
});
