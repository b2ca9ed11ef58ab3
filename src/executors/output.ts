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
 *
 * ## Masking
 *
 * With a {@link Redactor}, the log file, the listener and the ring buffer
 * get the masked stream instead ({@link RedactingPieces}): each line is
 * `redactor.redact(line)`, in the same record format. A line the stream
 * wrote in several writes is one line, masked as a whole; a line longer
 * than {@link MAX_LINE_BYTES} is masked as it streams, holding back
 * `redactor.longest - 1` characters at each cut so a value across a cut is
 * masked too (its pieces may then be a little shorter than the maximum).
 * Masking works on text: the bytes are decoded losslessly (an invalid UTF-8
 * byte is carried as a lone surrogate, Python's `surrogateescape`) and
 * encoded back, so output in which nothing is masked keeps its exact bytes.
 * Masking is per line: a value containing a newline is masked only as far
 * as the redactor masks its single lines.
 */

import { isUtf8 } from 'node:buffer';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import type { OutputListener, OutputStream, Redactor } from './types.js';

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

/** The mask {@link safeRedact} puts in place of text a redactor failed on. */
const MASK = '***';

/**
 * `redactor.redact(text)`, or `***` in place of all of `text` when the
 * redactor throws: a broken redactor must not let a secret through.
 */
function safeRedact(redactor: Redactor, text: string): string {
  try {
    return redactor.redact(text);
  } catch {
    return MASK;
  }
}

/** `text` masked by `redactor` when there is one, else `text`. For error messages built from output. */
export function maskText(redactor: Redactor | undefined, text: string): string {
  return redactor === undefined ? text : safeRedact(redactor, text);
}

/**
 * Length of the valid UTF-8 sequence at `bytes[i]` (1 to 4), or 0 when the
 * byte there does not start one (Unicode's well-formed table: no overlong
 * forms, surrogates or values above U+10FFFF).
 */
function sequenceLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i] ?? 0;
  if (b0 < 0x80) return 1;
  const inRange = (j: number, lo: number, hi: number): boolean => {
    const b = bytes[i + j];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return inRange(1, 0x80, 0xbf) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return inRange(1, lo, hi) && inRange(2, 0x80, 0xbf) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return inRange(1, lo, hi) && inRange(2, 0x80, 0xbf) && inRange(3, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

/**
 * Decodes UTF-8 losslessly: valid sequences as their characters, each byte
 * that is not part of one as the lone surrogate U+DC80..U+DCFF (0x80..0xFF
 * plus 0xDC00; Python's `surrogateescape`, PEP 383), which
 * {@link encodeLossless} turns back into that byte.
 */
export function decodeLossless(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let text = '';
  let run = 0;
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length > 0) {
      i += length;
      continue;
    }
    text += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + (bytes[i] ?? 0));
    i += 1;
    run = i;
  }
  return text + bytes.toString('utf8', run, i);
}

/** True for a UTF-16 high (leading) surrogate. */
function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** True for a UTF-16 low (trailing) surrogate. */
function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** True for a lone surrogate that {@link decodeLossless} made of a byte. */
function isEscapedByte(unit: number): boolean {
  return unit >= 0xdc80 && unit <= 0xdcff;
}

/**
 * The inverse of {@link decodeLossless}: UTF-8, with U+DC80..U+DCFF as lone
 * surrogates encoded as the bytes 0x80..0xFF. Other lone surrogates (which
 * only a redactor could add) become U+FFFD, as `Buffer.from` does.
 */
export function encodeLossless(text: string): Buffer {
  if (text.isWellFormed()) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (isHigh(unit) && isLow(text.charCodeAt(i + 1))) {
      i += 1;
    } else if (isEscapedByte(unit)) {
      parts.push(Buffer.from(text.slice(run, i), 'utf8'), Buffer.of(unit - 0xdc00));
      run = i + 1;
    }
  }
  parts.push(Buffer.from(text.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Masks the pieces of one stream (from a {@link PieceSplitter}) with a
 * {@link Redactor}, and passes on masked pieces of at most `maxLineBytes`
 * bytes, cut between characters, with the same `newline` semantics: for
 * each line, the concatenation of the pieces it passes on is
 * `redactor.redact(line)` (for a redactor that replaces occurrences of
 * literal values none of which overlaps another or the mask).
 *
 * A complete line is masked whole. Of a line still arriving (a cut piece),
 * what has arrived is masked and passed on in pieces of at most
 * `maxLineBytes`, except the last `redactor.longest - 1` characters of the
 * masked text (and the rest of an unfilled piece), which are kept and
 * masked again with what follows: a value that starts in them and ends in
 * the next piece is masked. Holds at most about `maxLineBytes` bytes plus
 * `longest` characters. `flush()` passes on what it holds of a stream that
 * ended without a newline.
 */
export class RedactingPieces {
  /** Masked text of the current line not passed on yet. */
  private carry = '';

  /**
   * @param redactor masks the text; read at every piece (`longest` may grow).
   * @param onPiece receives the masked pieces, in order.
   * @param maxLineBytes most bytes of one piece; default {@link MAX_LINE_BYTES}.
   * @throws RangeError when `maxLineBytes` < 4 (the longest UTF-8 character).
   */
  constructor(
    private readonly redactor: Redactor,
    private readonly onPiece: PieceListener,
    private readonly maxLineBytes: number = MAX_LINE_BYTES,
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 4) {
      throw new RangeError(`maxLineBytes must be an integer >= 4, got ${maxLineBytes}`);
    }
  }

  /** Takes the next piece of the stream ({@link PieceListener}'s arguments). */
  readonly piece: PieceListener = (bytes, newline) => {
    const longest = Number.isFinite(this.redactor.longest) ? Math.floor(this.redactor.longest) : 0;
    if (this.carry === '' && longest <= 0) {
      // Nothing to mask and nothing held: the piece as it is.
      this.onPiece(bytes, newline);
      return;
    }
    const masked = safeRedact(this.redactor, this.carry + decodeLossless(bytes));
    this.carry = '';
    if (newline) {
      this.sendAll(encodeLossless(masked), true);
      return;
    }
    let hold = Math.max(0, masked.length - Math.max(0, longest - 1));
    // Do not split a surrogate pair between what may be sent and what is kept.
    if (hold > 0 && isLow(masked.charCodeAt(hold)) && isHigh(masked.charCodeAt(hold - 1))) {
      hold -= 1;
    }
    this.carry = this.sendFull(masked.slice(0, hold), masked.slice(hold));
  };

  /** Passes on what is held (the stream ended without a newline), if anything. */
  flush(): void {
    const rest = this.carry;
    this.carry = '';
    if (rest !== '') this.sendAll(encodeLossless(rest), false);
  }

  /** Passes on all of `bytes` in pieces of at most `maxLineBytes`, the last with `newline`. */
  private sendAll(bytes: Buffer, newline: boolean): void {
    let offset = 0;
    while (bytes.length - offset > this.maxLineBytes) {
      const end = offset + cutPoint(bytes.subarray(offset), this.maxLineBytes);
      this.onPiece(bytes.subarray(offset, end), false);
      offset = end;
    }
    this.onPiece(bytes.subarray(offset), newline);
  }

  /**
   * Passes on pieces of `head` (at most `maxLineBytes` each) while more than
   * `maxLineBytes` bytes of `head` and `tail` together are left, so that
   * pieces are full where they can be; `tail` (the characters kept back) is
   * never sent.
   *
   * @returns the text not passed on: the rest of `head`, then `tail`.
   */
  private sendFull(head: string, tail: string): string {
    const bytes = encodeLossless(head);
    const tailBytes = encodeLossless(tail).length;
    let offset = 0;
    while (offset < bytes.length && bytes.length - offset + tailBytes > this.maxLineBytes) {
      const end =
        bytes.length - offset > this.maxLineBytes
          ? offset + cutPoint(bytes.subarray(offset), this.maxLineBytes)
          : bytes.length;
      this.onPiece(bytes.subarray(offset, end), false);
      offset = end;
    }
    // A cut between characters decodes back to the same text on either side.
    return offset === 0 ? head + tail : decodeLossless(bytes.subarray(offset)) + tail;
  }
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

/** Bytes in, pieces out: a {@link PieceSplitter}, masking or not. */
interface StreamSplitter extends StreamInput {
  flush(): void;
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
  /** Masks every line for the file, the listener and the ring (see the module docs). */
  redact?: Redactor;
}): Promise<OutputSink> {
  const { logFile, onOutput, ring, redact } = options;
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
  const splitter = (stream: OutputStream): StreamSplitter => {
    const toDisplay = display(stream);
    const out: PieceListener = (bytes, newline) => {
      record(stream, bytes, newline);
      toDisplay(bytes, newline);
    };
    if (redact === undefined) return new PieceSplitter(out, options.maxLineBytes);
    const masking = new RedactingPieces(redact, out, options.maxLineBytes);
    const pieces = new PieceSplitter(masking.piece, options.maxLineBytes);
    return {
      push: (chunk) => pieces.push(chunk),
      flush: () => {
        pieces.flush();
        masking.flush();
      },
    };
  };
  const splitters: Record<OutputStream, StreamSplitter> = {
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
      one.flush();
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
