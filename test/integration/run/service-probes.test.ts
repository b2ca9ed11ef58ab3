/**
 * The `file` and `log` health checks in real runs: a process service and a
 * docker service that become healthy only once they wrote a file or printed
 * a line, and steps that start only after that.
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events.js';
import { plan, startRun } from '../../../src/index.js';
import { describeDocker } from '../../helpers/docker.js';

async function runYaml(yaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'agentfile-probes-'));
  const file = join(dir, 'agent.yaml');
  await writeFile(file, yaml);
  const handle = startRun({ plan: await plan(file), statePath: join(dir, 'state.db') });
  const events: StoredEvent[] = [];
  for await (const e of handle.events()) events.push(e);
  return { result: await handle.result, events };
}

const header = (name: string) =>
  `apiVersion: agentfile/v1\nkind: Workflow\nmetadata: { name: ${name} }\n`;

/** The step's output lines. */
function stepLines(events: StoredEvent[], step: string): string[] {
  return events.flatMap((e) => (e.type === 'step.output' && e.step === step ? e.lines : []));
}

/** Probe failures recorded before the service was healthy. */
function failures(events: StoredEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'service.probe_failed' ? [e.error] : []));
}

describe('file and log probes of a process service', () => {
  it('file: healthy once the file exists on the host (relative to its working directory)', async () => {
    const { result, events } = await runYaml(`${header('file-probe')}spec:
  services:
    slow:
      runtime: process
      command: [sh, -c, "sleep 0.6 && echo made > ready && exec sleep 300"]
      healthCheck:
        file: ready
        interval: 200ms
        retries: 20
  steps:
    use:
      needs: [slow]
      run: cat ready
`);
    expect(result.status, result.error).toBe('succeeded');
    expect(stepLines(events, 'use')).toEqual(['made']);
    expect(failures(events)[0]).toBe('file ready does not exist');
  });

  it('log: healthy once a line of its output matches', async () => {
    const { result, events } = await runYaml(`${header('log-probe')}spec:
  services:
    model:
      runtime: process
      command: [sh, -c, "echo loading; sleep 0.6; echo 'model loaded in 600 ms' >&2; exec sleep 300"]
      healthCheck:
        log: { pattern: "^model loaded in \\\\d+ ms$" }
        interval: 200ms
        retries: 20
  steps:
    use:
      needs: [model]
      run: echo using
`);
    expect(result.status, result.error).toBe('succeeded');
    expect(failures(events)[0]).toBe('no line of output matched /^model loaded in \\d+ ms$/ yet');
    const healthy = events.find((e) => e.type === 'service.status' && e.status === 'healthy');
    expect(healthy?.type === 'service.status' && healthy.durationMs).toBeGreaterThanOrEqual(500);
  });
});

describeDocker('file and log probes of a docker service', () => {
  it('file: test -f inside the container', async () => {
    const { result, events } = await runYaml(`${header('file-probe-docker')}spec:
  services:
    slow:
      image: local/busybox:latest
      command: "trap 'exit 0' TERM; sleep 1; touch /tmp/ready; while true; do sleep 0.1; done"
      healthCheck:
        file: /tmp/ready
        interval: 200ms
        retries: 30
  steps:
    use:
      needs: [slow]
      run: echo ok
`);
    expect(result.status, result.error).toBe('succeeded');
    expect(failures(events)).toContain('file /tmp/ready does not exist');
  });

  it('log: a line of the container output matches', async () => {
    const { result, events } = await runYaml(`${header('log-probe-docker')}spec:
  services:
    model:
      image: local/busybox:latest
      command: "trap 'exit 0' TERM; sleep 1; echo ready to serve; while true; do sleep 0.1; done"
      healthCheck:
        log: { pattern: "^ready to serve$" }
        interval: 200ms
        retries: 30
  steps:
    use:
      needs: [model]
      run: echo ok
`);
    expect(result.status, result.error).toBe('succeeded');
    expect(failures(events)[0]).toBe('no line of output matched /^ready to serve$/ yet');
  });
});
