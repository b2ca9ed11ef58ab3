/**
 * Reporters turn run events into something a person or a machine reads.
 * They are swappable (listr2's model: `default`, `simple`, `silent`): the
 * runner knows only {@link Reporter.onEvent}, which receives each event once
 * it is stored, so a report rebuilt from the store reads the same stream.
 */

import type { StoredEvent } from '../core/events.js';

/** A sink for run events. `onEvent` must not throw; `close` flushes and stops rendering. */
export interface Reporter {
  onEvent(event: StoredEvent): void;
  close(): Promise<void>;
}

/** Where a reporter writes: a stream-like object, so tests can capture output. */
export interface Output {
  write(text: string): unknown;
}
