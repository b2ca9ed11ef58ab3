/**
 * `replicas: N` against the real engine: two containers behind one service
 * name, each reachable by its own alias and its published port, and the
 * service healthy only when both are.
 */

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events.js';
import { plan, startRun } from '../../../src/index.js';
import { describeDocker } from '../../helpers/docker.js';

async function runYaml(yaml: string) {
  const dir = await mkdtemp(join(tmpdir(), 'agentfile-replicas-'));
  const file = join(dir, 'agent.yaml');
  await writeFile(file, yaml);
  const handle = startRun({ plan: await plan(file), statePath: join(dir, 'state.db') });
  const events: StoredEvent[] = [];
  for await (const e of handle.events()) events.push(e);
  return { result: await handle.result, events };
}

function stepLines(events: StoredEvent[], step: string): string[] {
  return events.flatMap((e) => (e.type === 'step.output' && e.step === step ? e.lines : []));
}

describeDocker('a docker service with replicas: 2', () => {
  it('answers from two containers, by URLS from a container step and from the host', async () => {
    const { result, events } = await runYaml(`apiVersion: agentfile/v1
kind: Workflow
metadata: { name: replicas }
spec:
  services:
    web:
      image: local/busybox:latest
      command: "mkdir -p /www && hostname > /www/index.html && httpd -f -p 8080 -h /www & trap 'exit 0' TERM; wait"
      ports: ["8080"]
      replicas: 2
      healthCheck:
        tcp: { port: 8080 }
        interval: 200ms
        retries: 20
  steps:
    inside:
      needs: [web]
      image: local/busybox:latest
      run: |
        echo "urls $AGENT_SERVICE_WEB_URLS"
        for u in $(echo "$AGENT_SERVICE_WEB_URLS" | tr , ' '); do echo "from $(wget -qO- $u)"; done
    outside:
      needs: [web]
      run: node -e "Promise.all(process.env.AGENT_SERVICE_WEB_URLS.split(',').map(u => fetch(u).then(r => r.text()))).then(a => console.log('host', a.map(s => s.trim()).join(' ')))"
`);
    expect(result.status, result.error).toBe('succeeded');
    const inside = stepLines(events, 'inside');
    expect(inside[0]).toBe('urls http://web-1:8080,http://web-2:8080');
    const answers = inside.filter((l) => l.startsWith('from ')).map((l) => l.slice(5));
    expect(answers).toHaveLength(2);
    expect(new Set(answers).size).toBe(2);
    const outside = stepLines(events, 'outside')[0]?.split(' ').slice(1) ?? [];
    expect(new Set(outside)).toEqual(new Set(answers));
    const started = events.find((e) => e.type === 'service.started');
    expect(started?.type === 'service.started' && started.endpoint.split(', ')).toHaveLength(2);
  });
});
