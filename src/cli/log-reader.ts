/**
 * Reading one attempt's log file from where the last read stopped, for
 * `agent logs` and its `--follow`: in chunks (a log can be larger than
 * memory would like), carrying an incomplete last record over to the next
 * read while the file is still being written.
 */

import { open } from 'node:fs/promises';
import { type LogRecord, splitLogRecords } from '../report/log-records.js';

/** Bytes read from a log file at a time. */
const CHUNK_BYTES = 1024 * 1024;

/** An attempt's log file, read incrementally. */
export class LogReader {
  private offset = 0;
  private carry: Buffer = Buffer.alloc(0);

  constructor(readonly path: string) {}

  /**
   * Reads what was appended since the last call and hands its complete
   * records to `onRecords`, in file order. With `final` (the attempt has
   * ended), a last record without newline is handed over too.
   *
   * @param shouldStop checked between chunks: true stops reading early (stdout closed).
   * @returns false when the file does not exist (not yet, or never: an
   *   attempt that failed before its log was opened).
   * @throws the file system's error for anything but a missing file.
   */
  async read(
    onRecords: (records: LogRecord[]) => void,
    options: { final: boolean; shouldStop?: () => boolean },
  ): Promise<boolean> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    try {
      const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
      for (;;) {
        if (options.shouldStop?.()) return true;
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const data =
          this.carry.length > 0
            ? Buffer.concat([this.carry, buffer.subarray(0, bytesRead)])
            : buffer.subarray(0, bytesRead);
        const { records, consumed } = splitLogRecords(data, { final: false });
        // Copies: `buffer` is reused by the next read.
        this.carry = Buffer.from(data.subarray(consumed));
        if (records.length > 0) {
          onRecords(records.map((r) => ({ ...r, content: Buffer.from(r.content) })));
        }
      }
    } finally {
      await handle.close();
    }
    if (options.final && this.carry.length > 0) {
      const { records } = splitLogRecords(this.carry, { final: true });
      this.carry = Buffer.alloc(0);
      onRecords(records);
    }
    return true;
  }
}
