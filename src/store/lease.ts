/**
 * The one rule for whether a lease's holder is alive, shared by the SQLite
 * store (takeover, `interrupted`) and `agent doctor`: a lease is live unless
 * it expired (`expiresAt < now`, epoch ms) or its holder is on this host and
 * its pid is gone. A holder on another host is trusted until its lease
 * expires: its processes cannot be seen from here.
 */

import os from 'node:os';

/** Whether a process with this pid exists (`kill(pid, 0)`; any error but ESRCH means it exists, not ours). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** How {@link leaseIsLive} judges a holder; defaults are this host and {@link pidAlive}. */
export interface LivenessOptions {
  /** Epoch ms. */
  now: number;
  /** This machine's host name: a holder on it whose pid is gone is dead. */
  host?: string;
  pidAlive?: (pid: number) => boolean;
}

/** Whether the holder of a lease (`expiresAt` epoch ms, `host`, `pid`) is alive. */
export function leaseIsLive(
  lease: { expiresAt: number; host: string; pid: number },
  options: LivenessOptions,
): boolean {
  if (lease.expiresAt < options.now) return false;
  const host = options.host ?? os.hostname();
  const alive = options.pidAlive ?? pidAlive;
  return !(lease.host === host && !alive(lease.pid));
}
