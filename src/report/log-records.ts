/**
 * Reading the log files the executors write (`src/executors/output.ts` is
 * the writer and documents the format): one record per line of the file,
 * `<stream><marker> <content>\n`, with stream `stdout` or `stderr` and
 * marker `|` (the content was followed by a newline in the stream) or `+`
 * (it was not: a piece of a long line, or the end of the stream without a
 * newline). So a stream's bytes are its records' contents, each followed by
 * an LF when its marker is `|`.
 *
 * Every reader of log files (`agent logs`, its `--follow`) goes through
 * {@link splitLogRecords}, so a change of the format touches this file only.
 * It reads records incrementally, for a file that is still being written.
 */

import type { OutputStream } from '../executors/types.js';

/** One record of a log file. */
export interface LogRecord {
  stream: OutputStream;
  /** The bytes the stream wrote, without the newline. */
  content: Buffer;
  /** True when a newline followed `content` in the stream. */
  newline: boolean;
}

const LF = 0x0a;
const HEAD = /^(stdout|stderr)([|+]) /;
/** Length of a record's head (`stdout| `). */
const HEAD_BYTES = 8;

/**
 * Splits the bytes of a log file (or the part of it not read yet) into
 * records. Without `final`, bytes after the last LF are an incomplete record
 * still being written: they are left unread, and `consumed` says how many
 * bytes were used, to carry the rest over to the next read. With `final`
 * (the writer is done, or died), a last record without LF is taken as
 * written.
 *
 * A line that is not a record (a file written by something else) is taken as
 * stdout content followed by a newline, so nothing is hidden.
 */
export function splitLogRecords(
  data: Buffer,
  options: { final: boolean },
): { records: LogRecord[]; consumed: number } {
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset < data.length) {
    const nl = data.indexOf(LF, offset);
    if (nl < 0 && !options.final) break;
    const end = nl < 0 ? data.length : nl;
    const head = HEAD.exec(data.toString('latin1', offset, Math.min(end, offset + HEAD_BYTES)));
    if (head) {
      records.push({
        stream: head[1] as OutputStream,
        content: data.subarray(offset + HEAD_BYTES, end),
        newline: head[2] === '|',
      });
    } else {
      records.push({ stream: 'stdout', content: data.subarray(offset, end), newline: nl >= 0 });
    }
    offset = nl < 0 ? data.length : nl + 1;
  }
  return { records, consumed: offset };
}

/** The bytes of a record as the stream wrote them: its content, and an LF when a newline followed it. */
export function recordBytes(record: LogRecord): Buffer {
  return record.newline ? Buffer.concat([record.content, Buffer.from([LF])]) : record.content;
}
