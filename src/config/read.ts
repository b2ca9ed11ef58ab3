/**
 * Bytes → text, before any YAML is parsed: a file that is too large, binary,
 * or not UTF-8 is refused here with one diagnostic, so the parser only ever
 * sees bounded, decoded text.
 */

import { open } from 'node:fs/promises';
import type { Diagnostic } from './diagnostics.js';

/**
 * The largest file read, in bytes (4 MiB). An agentfile document is a few
 * kilobytes, a file of a thousand generated steps some 60 KiB, and the
 * 50,000-step chain of bench/lint.sh 2.8 MB, which lints in about 5 s. The
 * `yaml` parser reads about 1 MiB a second (less for long comment blocks), so
 * the limit bounds how long one file can stall `agent lint`; a larger file is
 * refused unread (`file/too-large`).
 */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** A file's text, or the one diagnostic that refuses it. */
export type SourceText =
  | { text: string }
  | {
      diagnostic: Diagnostic;
      /** Text to show in the snippet under the diagnostic, when there is any worth showing. */
      text?: string;
    };

/**
 * Reads at most {@link MAX_FILE_BYTES} + 1 bytes of a file (so `/dev/zero` or
 * a huge file is never read whole) and decodes them with {@link decodeSource}.
 * Throws what `fs` throws for a file that cannot be opened or read (`ENOENT`,
 * `EISDIR`, `EACCES`); the caller reports those.
 *
 * @param abs absolute path
 * @param file the name used in diagnostics
 */
export async function readSource(abs: string, file: string): Promise<SourceText> {
  const handle = await open(abs, 'r');
  try {
    const info = await handle.stat();
    if (info.isFile() && info.size > MAX_FILE_BYTES) return tooLarge(file, info.size, true);
    const limit = MAX_FILE_BYTES + 1;
    const buffer = Buffer.allocUnsafe(info.isFile() ? Math.min(info.size + 1, limit) : 64 * 1024);
    let chunks: Buffer[] = [];
    let total = 0;
    let chunk = buffer;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, limit - total));
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
      total += bytesRead;
      if (total >= limit) break;
      chunk = Buffer.allocUnsafe(64 * 1024);
    }
    if (total > MAX_FILE_BYTES) return tooLarge(file, total, false);
    const bytes = Buffer.concat(chunks, total);
    chunks = [];
    return decodeSource(bytes, file);
  } finally {
    await handle.close();
  }
}

function tooLarge(file: string, size: number, exact: boolean): SourceText {
  return {
    diagnostic: {
      code: 'file/too-large',
      severity: 'error',
      message: `the file is ${exact ? '' : 'more than '}${formatBytes(size)}; agentfile reads files up to ${formatBytes(MAX_FILE_BYTES)}`,
      file,
      line: 1,
      column: 1,
      hint: 'an agentfile document is a few kilobytes; check that this is the file you meant, or split it and connect the parts with "uses:"',
    },
  };
}

/** `12345678` → `11.8 MiB (12345678 bytes)`. */
function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  const short =
    mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${short} (${bytes} bytes)`;
}

/**
 * Decodes a file's bytes as UTF-8. A leading byte order mark is dropped (it
 * is not part of the text, and editors do not count it in columns). Refuses,
 * with one diagnostic at the line and column of the offending byte:
 *
 * - `file/encoding`: a UTF-16 or UTF-32 byte order mark, or bytes that are
 *   not valid UTF-8 (at the first invalid byte);
 * - `file/binary`: a NUL byte, which no YAML text contains (checked after
 *   the byte order marks, since UTF-16 text is full of them).
 *
 * Columns count UTF-16 code units, like every other diagnostic's.
 */
export function decodeSource(bytes: Uint8Array, file: string): SourceText {
  const utf16 =
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  const utf32 =
    bytes.length >= 4 &&
    ((bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff) ||
      (bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0));
  if (utf16 || utf32) {
    return {
      diagnostic: {
        code: 'file/encoding',
        severity: 'error',
        message: `the file is ${utf32 ? 'UTF-32' : 'UTF-16'} text (it starts with a byte order mark); agentfile reads UTF-8`,
        file,
        line: 1,
        column: 1,
        hint: 'save the file as UTF-8 in your editor, or convert it: iconv -f UTF-16 -t UTF-8',
      },
    };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const at = positionOf(bytes, nul);
    return {
      diagnostic: {
        code: 'file/binary',
        severity: 'error',
        message: `the file contains binary data (a NUL byte at line ${at.line}, column ${at.column}), not YAML text`,
        file,
        ...at,
        hint: 'give the path of an agentfile YAML file; a YAML file is text and never contains NUL bytes',
      },
    };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const at = positionOf(bytes, bad);
    return {
      diagnostic: {
        code: 'file/encoding',
        severity: 'error',
        message: `the file is not valid UTF-8: byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} at line ${at.line}, column ${at.column} does not fit`,
        file,
        ...at,
        endLine: at.line,
        endColumn: at.column + 1,
        hint: 'save the file as UTF-8 (it may be Latin-1 or Windows-1252), e.g. iconv -f WINDOWS-1252 -t UTF-8',
      },
      // For the snippet: the text with U+FFFD for each invalid sequence.
      text: new TextDecoder('utf-8').decode(bytes),
    };
  }
}

/**
 * 1-based line and column of byte `offset`: lines split at LF, the column
 * counts the UTF-16 code units of the decoded text before it on its line
 * (a leading byte order mark is not counted). The bytes before `offset`
 * must be valid UTF-8, as they are for the first invalid or NUL byte.
 */
function positionOf(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  // The decoder drops a byte order mark at the start of its input, which is where it belongs.
  const before = new TextDecoder('utf-8').decode(bytes.subarray(start, offset));
  return { line, column: before.length + 1 };
}

/**
 * Offset of the first byte of the first invalid UTF-8 sequence (a bad lead
 * byte, or the lead byte of a truncated or malformed sequence) (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF). The bytes must hold one; returns their length otherwise.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = b === 0xe0 ? 0xa0 : 0x80;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = b === 0xf0 ? 0x90 : 0x80;
      if (b === 0xf4) max = 0x8f;
    } else {
      return i;
    }
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      const lo = k === 1 ? min : 0x80;
      const hi = k === 1 ? max : 0xbf;
      if (c === undefined || c < lo || c > hi) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}
