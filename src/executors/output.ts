/**
 * Output plumbing shared by the executors: byte chunks → complete lines →
 * listener, log file and ring buffer.
 *
 * A log file holds one line per output line, prefixed by its stream
 * (`stdout| hello`, `stderr| oops`), so the interleaving of the two streams is
 * kept and either can be filtered out again.
 */

import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { OutputListener, OutputStream } from './types.js';

/**
 * Splits a byte stream into lines (`\n` or `\r\n`), decoding UTF-8 across
 * chunk boundaries. `flush()` emits a last line that had no newline.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Feeds a chunk; emits every line it completes. */
  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let index = this.pending.indexOf('\n');
    while (index >= 0) {
      const line = this.pending.slice(0, index);
      this.pending = this.pending.slice(index + 1);
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      index = this.pending.indexOf('\n');
    }
  }

  /** Emits what is left (a last line without newline), if anything. */
  flush(): void {
    this.pending += this.decoder.end();
    if (this.pending.length > 0) {
      const line = this.pending;
      this.pending = '';
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
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

/** Where the lines of one step attempt or service go. */
export interface OutputSink {
  /** Feed raw bytes of stdout. */
  readonly stdout: LineSplitter;
  /** Feed raw bytes of stderr. */
  readonly stderr: LineSplitter;
  /** Writes one complete line directly (e.g. image build output). */
  line(stream: OutputStream, line: string): void;
  /** Flushes partial lines and closes the log file. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens `logFile` for appending (creating its parent directories) and returns
 * a sink whose lines go to the file as `stream| line`, to `onOutput` and to
 * `ring` when given. A listener that throws does not stop the output.
 *
 * @throws the `mkdir`/open error when the log file cannot be created.
 */
export async function openOutputSink(options: {
  logFile: string;
  onOutput?: OutputListener;
  ring?: RingBuffer;
}): Promise<OutputSink> {
  const { logFile, onOutput, ring } = options;
  await mkdir(dirname(logFile), { recursive: true });
  const file: WriteStream = createWriteStream(logFile, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve());
    file.once('error', reject);
  });
  let fileError: Error | undefined;
  file.on('error', (error) => {
    fileError = error;
  });

  const write = (stream: OutputStream, line: string): void => {
    if (fileError === undefined) file.write(`${stream}| ${line}\n`);
    ring?.push(line);
    if (onOutput) {
      try {
        onOutput(stream, line);
      } catch {
        // A reporter's bug must not kill the step it reports on.
      }
    }
  };
  const stdout = new LineSplitter((line) => write('stdout', line));
  const stderr = new LineSplitter((line) => write('stderr', line));
  let closing: Promise<void> | undefined;
  return {
    stdout,
    stderr,
    line: write,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stdout.flush();
        stderr.flush();
        file.end(() => resolve());
      });
      return closing;
    },
  };
}
