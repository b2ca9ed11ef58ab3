/**
 * Several replicas of one service behind one handle: what `services.ts`
 * keeps for a service with `replicas: N` (N > 1), so the watch, the stop and
 * the steps' environment treat it as one service.
 */

import type { ServiceEndpoint, ServiceHandle } from '../executors/types.js';

/**
 * N running replicas as one {@link ServiceHandle}. `endpoint`, `id`, `exec`
 * and `probeAddress` are the first replica's (`_URL`, `_HOST`, `_PORT` keep
 * the first; `replicas` has them all); `exited` resolves as soon as any
 * replica exits, with its code (one replica down is the service failing, as
 * a Kubernetes Deployment counts an unready pod); `logTail` gives every
 * replica's last lines, those of replica 2 and up prefixed `[i] `; `stop`
 * stops them all at once.
 */
export class ReplicaSet implements ServiceHandle {
  readonly name: string;
  readonly exited: Promise<{ exitCode: number | null }>;

  constructor(
    /** The replicas, in order; at least one. */
    readonly replicas: readonly ServiceHandle[],
  ) {
    const first = replicas[0];
    if (!first) throw new Error('internal: a replica set needs a replica');
    this.name = first.name;
    this.exited = Promise.race(replicas.map((r) => r.exited));
  }

  private get first(): ServiceHandle {
    return this.replicas[0] as ServiceHandle;
  }

  get endpoint(): ServiceEndpoint {
    return this.first.endpoint;
  }

  get id(): string {
    return this.first.id;
  }

  logTail(n: number): string[] {
    return this.replicas.flatMap((r, i) =>
      i === 0 ? r.logTail(n) : r.logTail(n).map((line) => `[${i + 1}] ${line}`),
    );
  }

  exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    return this.first.exec(command, timeoutMs);
  }

  probeAddress(port: number): { host: string; port: number } {
    return this.first.probeAddress(port);
  }

  async stop(graceMs?: number): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.stop(graceMs)));
  }
}
