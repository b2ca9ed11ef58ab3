import { describe, expect, it } from 'vitest';
import type { ServiceHandle } from '../../../src/executors/types.js';
import { ReplicaSet } from '../../../src/run/replicas.js';

function replica(i: number, exited: Promise<{ exitCode: number | null }> = new Promise(() => {})) {
  const stopped: number[] = [];
  const handle: ServiceHandle = {
    name: 'web',
    endpoint: { host: '127.0.0.1', ports: { 8080: 49_000 + i } },
    id: `c${i}`,
    exited,
    logTail: (n) => [`line of ${i}`].slice(0, n),
    exec: async () => ({ exitCode: i, output: '' }),
    probeAddress: (port) => ({ host: '127.0.0.1', port: port + i }),
    stop: async (graceMs) => {
      stopped.push(graceMs ?? -1);
    },
  };
  return { handle, stopped };
}

describe('ReplicaSet', () => {
  it("is the first replica's address, every replica's lines, and stops them all", async () => {
    const a = replica(1);
    const b = replica(2);
    const set = new ReplicaSet([a.handle, b.handle]);
    expect(set.name).toBe('web');
    expect(set.id).toBe('c1');
    expect(set.endpoint.ports).toEqual({ 8080: 49_001 });
    expect(set.probeAddress(80)).toEqual({ host: '127.0.0.1', port: 81 });
    expect((await set.exec(['true'], 100)).exitCode).toBe(1);
    expect(set.logTail(5)).toEqual(['line of 1', '[2] line of 2']);
    await set.stop(0);
    expect([a.stopped, b.stopped]).toEqual([[0], [0]]);
  });

  it('exits as soon as any replica exits', async () => {
    const set = new ReplicaSet([
      replica(1).handle,
      replica(2, Promise.resolve({ exitCode: 9 })).handle,
    ]);
    expect(await set.exited).toEqual({ exitCode: 9 });
  });

  it('needs a replica', () => {
    expect(() => new ReplicaSet([])).toThrow(/needs a replica/);
  });
});
