/**
 * Output plumbing shared by the executors: byte chunks → bounded pieces of
 * lines → log file (exact bytes), listener and ring buffer (decoded text).
 *
 * ## Log file format
 *
 * A log file is a sequence of records, one per line of the file, each the
 * name of the stream, a marker, a space, the raw bytes and a newline:
 *
 * ```
 * record  = stream marker " " content LF
 * stream  = "stdout" / "stderr"
 * marker  = "|"   ; in the stream, content was followed by a newline (LF)
 *         / "+"   ; it was not: the next record of the same stream continues
 *                 ; the line, or the stream ended without a newline
 * content = *(any byte but LF)   ; exactly as written: CR, NUL, invalid UTF-8
 * ```
 *
 * So `stdout| hello` is the line `hello\n` on stdout, as before; the bytes
 * of one stream are the concatenation, over its records in order, of the
 * content plus an LF for every `|` record ({@link streamBytesOfLog}). A
 * line longer than {@link MAX_LINE_BYTES} is written as `+` records of at
 * most that many bytes, as it arrives, then a `|` record with its end (the
 * split is the Kubernetes CRI log format's partial/full tag, with the
 * previous `stdout| ` prefix kept for complete lines). The two streams are
 * interleaved in the order their lines (or pieces) completed. Lines the
 * executor writes itself (`sink.line()`, e.g. image build output) are `|`
 * records of the stream they are given. A file cut short by a crash may end
 * in a record without its LF; readers take its content as written. Files of
 * the previous format read the same, except that a last line without
 * newline was written as a `|` record.
 *
 * What the log does not have: the exact interleaving of the two streams
 * within a line, and bytes of an unfinished line shorter than
 * {@link MAX_LINE_BYTES} until its newline or the end of the attempt (a
 * prompt without newline appears when the step ends).
 *
 * ## Lines for the listener
 *
 * `onOutput(stream, line)` and the ring buffer get the same pieces, decoded
 * as UTF-8 (invalid bytes become U+FFFD), without the newline and a
 * trailing CR. A line longer than {@link MAX_LINE_BYTES} bytes arrives as
 * several calls, each of at most that many bytes, cut at a character
 * boundary: nothing is dropped from the display (as a terminal wraps a long
 * line), and no call holds more than 64 KiB, whatever the step writes.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import type { OutputListener, OutputStream } from './types.js';

/**
 * Most bytes of one piece of a line (64 KiB): what a listener gets in one
 * call and a log record holds at most. 64 KiB is Linux's default pipe
 * capacity and the size of one read by Node, so an unfinished line is held
 * back for at most about one read. (Docker and containerd cut log lines at
 * 16 KiB; a larger piece keeps ordinary long lines, minified JSON and the
 * like, whole.)
 */
export const MAX_LINE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Called with each piece of a byte stream: its bytes (never containing LF)
 * and whether a newline ended it in the stream (false: a cut long line, or
 * the end of the stream without newline).
 */
export type PieceListener = (bytes: Buffer, newline: boolean) => void;

/**
 * Splits a byte stream at LF into lines, and lines longer than
 * `maxLineBytes` into pieces of at most that many bytes, cut before a UTF-8
 * continuation byte so no character is split. Linear in the input; holds at
 * most `maxLineBytes` bytes plus the last chunk.
 */
export class PieceSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /**
   * @param onPiece receives every piece, in order.
   * @param maxLineBytes most bytes of one piece; default {@link MAX_LINE_BYTES}.
   * @throws RangeError when `maxLineBytes` < 4 (the longest UTF-8 character).
   */
  constructor(
    private readonly onPiece: PieceListener,
    private readonly maxLineBytes: number = MAX_LINE_BYTES,
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 4) {
      throw new RangeError(`maxLineBytes must be an integer >= 4, got ${maxLineBytes}`);
    }
  }

  /** Feeds a chunk (a string is taken as UTF-8); emits every piece it completes. */
  push(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = bytes.indexOf(LF, start); nl >= 0; nl = bytes.indexOf(LF, start)) {
      this.append(bytes.subarray(start, nl));
      this.emit(this.take(), true);
      start = nl + 1;
    }
    if (start < bytes.length) this.append(bytes.subarray(start));
  }

  /** Emits what is left (the end of a stream without newline), if anything. */
  flush(): void {
    if (this.pendingBytes > 0) this.emit(this.take(), false);
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > this.maxLineBytes) {
      const line = this.take();
      let offset = 0;
      while (line.length - offset > this.maxLineBytes) {
        const end = offset + cutPoint(line.subarray(offset), this.maxLineBytes);
        this.onPiece(line.subarray(offset, end), false);
        offset = end;
      }
      this.append(line.subarray(offset));
    }
  }

  /** Emits a complete line, in pieces when it is too long. */
  private emit(line: Buffer, newline: boolean): void {
    let offset = 0;
    while (line.length - offset > this.maxLineBytes) {
      const end = offset + cutPoint(line.subarray(offset), this.maxLineBytes);
      this.onPiece(line.subarray(offset, end), false);
      offset = end;
    }
    this.onPiece(line.subarray(offset), newline);
  }

  private take(): Buffer {
    const line =
      this.pending.length === 1
        ? (this.pending[0] as Buffer)
        : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return line;
  }
}

/**
 * Where to cut `bytes` (longer than `max`) so the piece has at most `max`
 * bytes and does not end inside a UTF-8 character: back before up to 3
 * continuation bytes (10xxxxxx). Invalid input is cut at `max`.
 */
function cutPoint(bytes: Buffer, max: number): number {
  let cut = max;
  while (cut > max - 3 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  return ((bytes[cut] ?? 0) & 0xc0) === 0x80 ? max : cut;
}

/**
 * Turns pieces into display lines: decoded as UTF-8 (invalid bytes become
 * U+FFFD), without a trailing CR of a complete line; the empty end of a line
 * that was cut exactly at its newline (or CR LF) is not a line of its own.
 */
function lineDecoder(onLine: (line: string) => void): PieceListener {
  let afterCut = false;
  return (bytes, newline) => {
    const wasCut = afterCut;
    afterCut = !newline;
    const end = newline && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    if (newline && end === 0 && wasCut) return;
    onLine(bytes.toString('utf8', 0, end));
  };
}

/**
 * Splits a byte stream into display lines (see the module docs): at `\n`
 * (a trailing `\r` dropped), a line longer than `maxLineBytes` (default
 * {@link MAX_LINE_BYTES}) delivered in pieces. `flush()` emits a last line
 * that had no newline.
 */
export class LineSplitter {
  private readonly pieces: PieceSplitter;

  constructor(onLine: (line: string) => void, options: { maxLineBytes?: number } = {}) {
    this.pieces = new PieceSplitter(lineDecoder(onLine), options.maxLineBytes);
  }

  /** Feeds a chunk (a string is taken as UTF-8); emits every line it completes. */
  push(chunk: Buffer | string): void {
    this.pieces.push(chunk);
  }

  /** Emits what is left (a last line without newline), if anything. */
  flush(): void {
    this.pieces.flush();
  }
}

/** Keeps the last `capacity` lines written to it. */
export class RingBuffer {
  private readonly lines: string[] = [];

  constructor(private readonly capacity: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** The last `n` lines, oldest first. */
  tail(n: number): string[] {
    return n <= 0 ? [] : this.lines.slice(-n);
  }
}

/** Takes the raw bytes of one stream. */
export interface StreamInput {
  /** Feeds raw bytes (a string is taken as UTF-8). */
  push(chunk: Buffer | string): void;
}

/** Where the output of one step attempt or service goes. */
export interface OutputSink {
  /** Feed raw bytes of stdout. */
  readonly stdout: StreamInput;
  /** Feed raw bytes of stderr. */
  readonly stderr: StreamInput;
  /**
   * A Writable of raw bytes for `stream` that applies backpressure: its
   * write callback waits while the log file's buffer is full, so a
   * `readable.pipe(sink.writable('stdout'))` stops reading a step that
   * writes faster than the disk takes it (memory stays bounded).
   */
  writable(stream: OutputStream): Writable;
  /** Writes one complete line of text directly (e.g. image build output), as if `stream` had written it. */
  line(stream: OutputStream, line: string): void;
  /** Writes what is left of unfinished lines (as `+` records) and closes the log file. Idempotent. */
  close(): Promise<void>;
}

const MARKER_NEWLINE = '|' as const;
const MARKER_CONTINUED = '+' as const;
const PREFIXES: Record<OutputStream, Record<'|' | '+', Buffer>> = {
  stdout: { '|': Buffer.from('stdout| '), '+': Buffer.from('stdout+ ') },
  stderr: { '|': Buffer.from('stderr| '), '+': Buffer.from('stderr+ ') },
};
const NEWLINE = Buffer.from('\n');

/**
 * Opens `logFile` for appending (creating its parent directories) and returns
 * a sink whose output goes to the file in the format of the module docs, and
 * as display lines to `onOutput` and to `ring` when given. A listener that
 * throws does not stop the output; a log file that fails to write (disk
 * full) stops the file, not the output.
 *
 * @throws the `mkdir`/open error when the log file cannot be created.
 */
export async function openOutputSink(options: {
  /** Absolute path of the log file. */
  logFile: string;
  onOutput?: OutputListener;
  ring?: RingBuffer;
  /** Most bytes of one piece of a line; default {@link MAX_LINE_BYTES}. */
  maxLineBytes?: number;
}): Promise<OutputSink> {
  const { logFile, onOutput, ring } = options;
  await mkdir(dirname(logFile), { recursive: true });
  const file: WriteStream = createWriteStream(logFile, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve());
    file.once('error', reject);
  });
  let fileError: Error | undefined;
  let full = false;
  let drainWaiters: (() => void)[] = [];
  const wake = (): void => {
    full = false;
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const waiter of waiters) waiter();
  };
  file.on('drain', wake);
  file.on('error', (error) => {
    fileError = error;
    wake();
  });
  const whenWritable = (callback: () => void): void => {
    if (full && fileError === undefined) drainWaiters.push(callback);
    else callback();
  };

  const record = (stream: OutputStream, bytes: Buffer, newline: boolean): void => {
    if (fileError !== undefined) return;
    const prefix = PREFIXES[stream][newline ? MARKER_NEWLINE : MARKER_CONTINUED];
    if (!file.write(Buffer.concat([prefix, bytes, NEWLINE]))) full = true;
  };
  const display = (stream: OutputStream) =>
    lineDecoder((line) => {
      ring?.push(line);
      if (onOutput) {
        try {
          onOutput(stream, line);
        } catch {
          // A reporter's bug must not kill the step it reports on.
        }
      }
    });
  const splitter = (stream: OutputStream): PieceSplitter => {
    const toDisplay = display(stream);
    return new PieceSplitter((bytes, newline) => {
      record(stream, bytes, newline);
      toDisplay(bytes, newline);
    }, options.maxLineBytes);
  };
  const splitters: Record<OutputStream, PieceSplitter> = {
    stdout: splitter('stdout'),
    stderr: splitter('stderr'),
  };

  let closing: Promise<void> | undefined;
  return {
    stdout: splitters.stdout,
    stderr: splitters.stderr,
    writable(stream) {
      return new Writable({
        write(chunk: Buffer, _encoding, callback) {
          splitters[stream].push(chunk);
          whenWritable(() => callback());
        },
      });
    },
    line(stream, line) {
      const one = splitter(stream);
      one.push(`${line}\n`);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        splitters.stdout.flush();
        splitters.stderr.flush();
        file.end(() => resolve());
      });
      return closing;
    },
  };
}

/** One record of a log file (see the module docs). */
export interface LogRecord {
  stream: OutputStream;
  /** The bytes as the stream wrote them, without the newline. */
  content: Buffer;
  /** True when a newline followed `content` in the stream (marker `|`). */
  newline: boolean;
}

/** A log file that is not in the format of the module docs. */
export class LogFormatError extends Error {
  override name = 'LogFormatError';
  constructor(
    message: string,
    /** Byte offset of the bad record in the file. */
    readonly offset: number,
  ) {
    super(message);
  }
}

const RECORD_HEAD = /^(stdout|stderr)([|+]) $/;

/**
 * Parses the contents of a log file into its records, in file order. The
 * contents are views into `data`, not copies. A last record without its LF
 * (a file cut short) is returned as written.
 *
 * @throws LogFormatError when a record does not start with `stdout| `,
 *   `stdout+ `, `stderr| ` or `stderr+ `, with its byte offset.
 */
export function parseLog(data: Buffer): LogRecord[] {
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset < data.length) {
    const nl = data.indexOf(LF, offset);
    const end = nl < 0 ? data.length : nl;
    const head = RECORD_HEAD.exec(data.toString('latin1', offset, Math.min(end, offset + 8)));
    if (head === null) {
      throw new LogFormatError(`not a log record at byte ${offset}`, offset);
    }
    records.push({
      stream: head[1] as OutputStream,
      content: data.subarray(offset + 8, end),
      newline: head[2] === MARKER_NEWLINE,
    });
    offset = end + 1;
  }
  return records;
}

/**
 * The exact bytes `stream` wrote, from the contents of a log file: each
 * record's content, plus an LF after every `|` record.
 *
 * @throws LogFormatError for contents not in the log format.
 */
export function streamBytesOfLog(data: Buffer, stream: OutputStream): Buffer {
  const parts: Buffer[] = [];
  for (const r of parseLog(data)) {
    if (r.stream !== stream) continue;
    parts.push(r.content);
    if (r.newline) parts.push(NEWLINE);
  }
  return Buffer.concat(parts);
}
