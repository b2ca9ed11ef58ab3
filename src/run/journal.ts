/**
 * The one way from the runner into the store: {@link Journal.emit} appends
 * an event (the store applies it to its rows in the same transaction), and
 * only once it is stored do the listeners see it, in `seq` order. Appends
 * are serialised, so events reach the store in the order they were emitted,
 * whatever the store's latency.
 *
 * A store that refuses a write (disk full, locked, gone) makes the journal
 * fail: that emit rejects with the store's error, {@link Journal.failure}
 * holds it, and every later emit rejects with it at once, so nothing is
 * started after the store stopped taking writes.
 *
 * Every event passes through `redact` first (the run's secret masking), so
 * neither the store nor any listener ever holds a secret value.
 */

import type { EventListener, RunEvent, StoredEvent } from '../core/events.js';
import type { StateStore } from '../store/types.js';

/** Serialised event writing with listeners. */
export class Journal {
  private tail: Promise<unknown> = Promise.resolve();
  private failed: unknown;
  private readonly listeners: EventListener[] = [];
  /** Highest `seq` this journal wrote. */
  lastSeq = 0;

  /**
   * @param redact returns the event with every secret value masked (default:
   *   the event as it is).
   */
  constructor(
    private readonly store: StateStore,
    private readonly redact: (event: RunEvent) => RunEvent = (e) => e,
  ) {}

  /** Adds a listener; listeners are called in the order they were added. */
  listen(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /** The store error that stopped the journal, if any. */
  get failure(): unknown {
    return this.failed;
  }

  /**
   * Appends `event`; resolves with it as stored once it is durable and every
   * listener has seen it.
   * @throws the store's error (`StoreError`) when it cannot be written, and
   *   for every emit after that.
   */
  emit(event: RunEvent): Promise<StoredEvent> {
    const next = this.tail.then(async () => {
      if (this.failed !== undefined) throw this.failed;
      let stored: StoredEvent;
      try {
        stored = await this.store.append(this.redact(event));
      } catch (error) {
        this.failed ??= error;
        throw error;
      }
      if (stored.seq > this.lastSeq) this.lastSeq = stored.seq;
      this.deliver(stored);
      return stored;
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  /**
   * Stops the journal: every later emit rejects with `error`. For a runner
   * that lost its lease: another runner owns the run now, so this one must
   * not write another row.
   */
  fence(error: unknown): void {
    this.failed ??= error;
  }

  /**
   * Delivers an event that another process stored (a cancel request, an
   * approval), read back from the store, to the listeners.
   */
  deliver(event: StoredEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure is not the run's failure.
      }
    }
  }

  /** Resolves when every emit so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
