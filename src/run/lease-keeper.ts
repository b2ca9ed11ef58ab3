/**
 * Lease keeping for one run: takes the workflow's lease before the run
 * writes anything, renews it on a heartbeat (every third of its TTL), and on
 * every tick (default every 500 ms) reads the run's event stream for
 * requests that other processes stored: `agent cancel`, `agent pause`,
 * `agent approve`, `agent reject`. A renewal that fails (another runner took
 * the lease over after this one stalled, or the store stopped taking writes)
 * is reported once through `onLost`.
 */

import os from 'node:os';
import type { RunEventType, StoredEvent } from '../core/events.js';
import type { LeaseHolder, StateStore } from '../store/types.js';
import type { Clock } from './clock.js';

/** Event types that other processes write into a run's stream. */
export const EXTERNAL_EVENT_TYPES: ReadonlySet<RunEventType> = new Set([
  'run.cancel_requested',
  'run.pause_requested',
  'step.approved',
  'step.rejected',
]);

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  store: StateStore;
  clock: Clock;
  key: string;
  runId: string;
  /** Lease time-to-live in ms. Default 30 000. */
  ttlMs?: number;
  /** How often to look for requests, in ms. Default 500 (a request is noticed within a second). */
  tickMs?: number;
  /** This runner's identity. Default this process. */
  holder?: LeaseHolder;
  /** Called with requests other processes stored, in `seq` order. */
  onRequests: (events: StoredEvent[]) => void;
  /** Called once when the lease cannot be renewed, with the error (`LockedError`, `StoreError`). */
  onLost: (error: unknown) => void;
}

/** Holds a run's lease while it runs. */
export class LeaseKeeper {
  readonly holder: LeaseHolder;
  private readonly ttlMs: number;
  private stopTicking: (() => void) | undefined;
  private lastRenewal = 0;
  private polledSeq = 0;
  private busy = false;
  private lost = false;

  constructor(private readonly options: LeaseKeeperOptions) {
    this.holder = options.holder ?? { pid: process.pid, host: os.hostname() };
    this.ttlMs = options.ttlMs ?? 30_000;
  }

  /**
   * Takes the lease.
   * @throws LockedError when another live runner holds it; StoreError.
   */
  async acquire(): Promise<void> {
    const now = this.options.clock.now();
    await this.options.store.acquireLease({
      key: this.options.key,
      runId: this.options.runId,
      ...this.holder,
      ttlMs: this.ttlMs,
      now,
    });
    this.lastRenewal = now;
  }

  /** Starts the heartbeat; requests stored after `afterSeq` are reported. */
  start(afterSeq: number): void {
    this.polledSeq = afterSeq;
    const tickMs = Math.min(this.options.tickMs ?? 500, Math.max(1, Math.floor(this.ttlMs / 3)));
    this.stopTicking = this.options.clock.every(tickMs, () => {
      void this.tick();
    });
  }

  /** One heartbeat: renew when due, then read new requests. Exposed for tests. */
  async tick(): Promise<void> {
    if (this.busy || this.lost) return;
    this.busy = true;
    const { store, clock, key, runId } = this.options;
    try {
      const now = clock.now();
      if (now - this.lastRenewal >= this.ttlMs / 3) {
        await store.renewLease(key, runId, this.ttlMs, now, this.holder);
        this.lastRenewal = now;
      }
      const requests = await store.getEvents(runId, {
        afterSeq: this.polledSeq,
        types: [...EXTERNAL_EVENT_TYPES],
      });
      const last = requests[requests.length - 1];
      if (last) {
        this.polledSeq = last.seq;
        this.options.onRequests(requests);
      }
    } catch (error) {
      this.lost = true;
      this.stopTicking?.();
      this.options.onLost(error);
    } finally {
      this.busy = false;
    }
  }

  /** Stops the heartbeat and gives the lease up; never throws (an unreleased lease expires). */
  async release(): Promise<void> {
    this.stopTicking?.();
    try {
      await this.options.store.releaseLease(this.options.key, this.options.runId, this.holder);
    } catch {
      // It expires on its own, or was taken over already.
    }
  }
}
