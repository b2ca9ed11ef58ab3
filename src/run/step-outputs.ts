/**
 * A step's outputs file (`$AGENT_OUTPUT`), in GitHub Actions' `$GITHUB_OUTPUT`
 * format (the runner's `SetOutputFileCommand`):
 *
 * ```
 * version=1.2.3            NAME=VALUE: the value is everything after the first `=`, as is
 * notes<<EOF               NAME<<DELIMITER: the value is the lines up to a line
 * first line               equal to DELIMITER, joined with "\n" (no trailing
 * second line              newline)
 * EOF
 * ```
 *
 * Which form a line is, is decided by whichever of `=` and `<<` comes first
 * in it (as GitHub's runner does): `a=b<<c` sets `a` to `b<<c`, `a<<b=c`
 * opens a heredoc closed by the line `b=c`. Lines end at LF; a CR before it
 * is dropped (CRLF files read the same). Empty lines between entries are
 * ignored; inside a heredoc they are part of the value. A name set twice
 * keeps its last value. A name is `[A-Za-z_][A-Za-z0-9_-]*` (GitHub requires
 * only a non-empty name; this keeps names usable in expressions).
 *
 * {@link parseOutputFile} is pure; {@link readOutputFile} reads a file for it.
 */

import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Most bytes an outputs file may have by default: 1 MiB (GitHub's limit for a job's outputs). */
export const MAX_OUTPUT_BYTES = 1_048_576;

/** Limits of {@link parseOutputFile} and {@link readOutputFile}. */
export interface OutputFileLimits {
  /** Most bytes (UTF-8) the file may have; default {@link MAX_OUTPUT_BYTES}. */
  maxBytes: number;
}

/**
 * The outputs of a step, or why its outputs file is not valid: one line
 * naming the line (1-based), or the size limit.
 */
export type OutputFileResult = { outputs: Record<string, string> } | { error: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Bytes of one read of an outputs file. */
const READ_CHUNK_BYTES = 64 * 1024;

/** A name for a message: JSON-quoted, cut at 40 characters. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

/** The size error: `the outputs file has N bytes, more than the limit of M bytes`. */
function tooLarge(bytes: number, maxBytes: number): { error: string } {
  return { error: `the outputs file has ${bytes} bytes, more than the limit of ${maxBytes} bytes` };
}

/**
 * Parses the contents of an outputs file (see the module docs). Values are
 * returned whole, however long, within the size limit. The result's
 * `outputs` is a null-prototype object, so a name like `__proto__` is an
 * output like any other.
 *
 * Errors (the first one found):
 * - `the outputs file has N bytes, more than the limit of M bytes`
 * - `line N: expected NAME=VALUE or NAME<<DELIMITER` (the line is not shown:
 *   it may hold a value)
 * - `line N: invalid output name "1x" (a letter or _, then letters, digits, _ or -)`
 * - `line N: empty heredoc delimiter after "name<<"`
 * - `line N: the value of "name" (NAME<<"EOF") has no closing line "EOF"`
 */
export function parseOutputFile(
  text: string,
  limits: OutputFileLimits = { maxBytes: MAX_OUTPUT_BYTES },
): OutputFileResult {
  // A UTF-16 unit is at most three UTF-8 bytes: short texts need no count.
  if (text.length * 3 > limits.maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limits.maxBytes) return tooLarge(bytes, limits.maxBytes);
  }
  const lines = text.split('\n');
  // The empty piece after a final LF is not a line.
  if (lines[lines.length - 1] === '') lines.pop();
  const line = (i: number): string => {
    const raw = lines[i] ?? '';
    return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  };
  const outputs: Record<string, string> = Object.create(null);
  for (let i = 0; i < lines.length; i++) {
    const current = line(i);
    if (current === '') continue;
    const number = i + 1;
    const equals = current.indexOf('=');
    const heredoc = current.indexOf('<<');
    const isHeredoc = heredoc >= 0 && (equals < 0 || heredoc < equals);
    if (equals < 0 && !isHeredoc) {
      return { error: `line ${number}: expected NAME=VALUE or NAME<<DELIMITER` };
    }
    const name = current.slice(0, isHeredoc ? heredoc : equals);
    if (!NAME.test(name)) {
      return {
        error: `line ${number}: invalid output name ${quoted(name)} (a letter or _, then letters, digits, _ or -)`,
      };
    }
    if (!isHeredoc) {
      outputs[name] = current.slice(equals + 1);
      continue;
    }
    const delimiter = current.slice(heredoc + 2);
    if (delimiter === '') {
      return { error: `line ${number}: empty heredoc delimiter after ${quoted(`${name}<<`)}` };
    }
    const value: string[] = [];
    let closed = false;
    for (i += 1; i < lines.length; i++) {
      const next = line(i);
      if (next === delimiter) {
        closed = true;
        break;
      }
      value.push(next);
    }
    if (!closed) {
      return {
        error: `line ${number}: the value of ${quoted(name)} (${name}<<${quoted(delimiter)}) has no closing line ${quoted(delimiter)}`,
      };
    }
    outputs[name] = value.join('\n');
  }
  return { outputs };
}

/**
 * Reads and parses the outputs file at `path`. Refuses, without reading
 * it, a file larger than `limits.maxBytes` (by `fstat`), then reads it to
 * its end but never more than that many bytes plus one (a file that grew
 * past the limit meanwhile is refused too). The bytes
 * are decoded as UTF-8 (invalid bytes become U+FFFD). It is opened without
 * following a symbolic link (`O_NOFOLLOW`) and without blocking
 * (`O_NONBLOCK`): a step that replaced its outputs file with a link or a
 * FIFO gets an error, not the link's target or a runner that hangs.
 *
 * @returns `{ outputs: {} }` when the file does not exist; `{ error }` for
 *   what {@link parseOutputFile} refuses, and for a file that is not a
 *   regular file or cannot be read (`cannot read the outputs file: ...`).
 *   Never rejects.
 */
export async function readOutputFile(
  path: string,
  limits: OutputFileLimits = { maxBytes: MAX_OUTPUT_BYTES },
): Promise<OutputFileResult> {
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { outputs: {} };
    if (code === 'ELOOP') return { error: 'the outputs file is a symbolic link' };
    return { error: `cannot read the outputs file: ${(error as Error).message}` };
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { error: 'the outputs file is not a regular file' };
    if (info.size > limits.maxBytes) return tooLarge(info.size, limits.maxBytes);
    // Read to the end, not to the size seen: a step's leftover may still write.
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= limits.maxBytes) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, limits.maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > limits.maxBytes) {
      return {
        error: `the outputs file has more than ${limits.maxBytes} bytes, the limit (it grew while being read)`,
      };
    }
    return parseOutputFile(Buffer.concat(chunks, length).toString('utf8'), limits);
  } catch (error) {
    return { error: `cannot read the outputs file: ${(error as Error).message}` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}
