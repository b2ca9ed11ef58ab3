import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LineSplitter,
  LogFormatError,
  openOutputSink,
  PieceSplitter,
  parseLog,
  streamBytesOfLog,
} from '../../../src/executors/output.js';
import type { OutputStream } from '../../../src/executors/types.js';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentfile-output-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
function logPath(): string {
  counter += 1;
  return join(dir, `${counter}.log`);
}

function pieces(chunks: (Buffer | string)[], max: number): [string, boolean][] {
  const out: [string, boolean][] = [];
  const splitter = new PieceSplitter(
    (bytes, newline) => out.push([bytes.toString(), newline]),
    max,
  );
  for (const chunk of chunks) splitter.push(chunk);
  splitter.flush();
  return out;
}

function lines(chunks: (Buffer | string)[], maxLineBytes?: number): string[] {
  const out: string[] = [];
  const splitter = new LineSplitter((line) => out.push(line), { maxLineBytes });
  for (const chunk of chunks) splitter.push(chunk);
  splitter.flush();
  return out;
}

describe('PieceSplitter', () => {
  it('splits at LF across chunks; a last piece without newline says so', () => {
    expect(pieces(['one\ntw', 'o\r\n', '\nthr', 'ee'], 100)).toEqual([
      ['one', true],
      ['two\r', true],
      ['', true],
      ['three', false],
    ]);
  });

  it('cuts a long line into pieces of at most max bytes as it arrives', () => {
    const seen: [string, boolean][] = [];
    const splitter = new PieceSplitter((b, nl) => seen.push([b.toString(), nl]), 4);
    splitter.push('abcdefghij');
    // Held back: at most max bytes of an unfinished line.
    expect(seen).toEqual([
      ['abcd', false],
      ['efgh', false],
    ]);
    splitter.push('k\nxy');
    splitter.flush();
    expect(seen.slice(2)).toEqual([
      ['ijk', true],
      ['xy', false],
    ]);
  });

  it('never cuts inside a UTF-8 character', () => {
    // é is 2 bytes, € 3, 😀 4.
    const text = 'aé€😀b€';
    const got = pieces([Buffer.from(text)], 4);
    expect(got.map(([piece]) => piece).join('')).toBe(text);
    for (const [piece] of got) {
      expect(piece).not.toContain('\uFFFD');
      expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(4);
    }
  });

  it('refuses a maximum below the longest UTF-8 character', () => {
    expect(() => new PieceSplitter(() => {}, 3)).toThrow(RangeError);
  });
});

describe('LineSplitter', () => {
  it('gives lines without newline and trailing CR, decoding UTF-8 across chunks', () => {
    const euro = Buffer.from('€');
    expect(
      lines([Buffer.from('a\r\nb'), euro.subarray(0, 1), euro.subarray(1), Buffer.from('\nc')]),
    ).toEqual(['a', 'b€', 'c']);
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    expect(lines([Buffer.from([0x61, 0xff, 0x62, 0x0a])])).toEqual(['a\uFFFDb']);
  });

  it('delivers a line longer than the maximum in pieces, with no empty line after an exact cut', () => {
    expect(lines(['abcdefgh\n', 'ij\n'], 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(lines(['abcd', 'efgh', '\nij\n'], 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(lines(['abcd\r\n', 'e\n'], 4)).toEqual(['abcd', 'e']);
    expect(lines(['\n\n'], 4)).toEqual(['', '']);
  });
});

describe('openOutputSink and the log format', () => {
  it('writes the documented records; the listener gets the same pieces as text', async () => {
    const logFile = logPath();
    const shown: string[] = [];
    const sink = await openOutputSink({
      logFile,
      maxLineBytes: 4,
      onOutput: (stream, line) => shown.push(`${stream}:${line}`),
    });
    sink.stdout.push('one\nabcdef');
    sink.stderr.push('oops\r\n');
    sink.stdout.push('g\nlast');
    sink.line('stdout', 'built');
    await sink.close();
    expect(await readFile(logFile, 'latin1')).toBe(
      [
        'stdout| one',
        'stdout+ abcd',
        'stderr+ oops',
        'stderr| \r',
        'stdout| efg',
        'stdout+ buil',
        'stdout| t',
        'stdout+ last',
        '',
      ].join('\n'),
    );
    expect(shown).toEqual([
      'stdout:one',
      'stdout:abcd',
      'stderr:oops',
      'stdout:efg',
      'stdout:buil',
      'stdout:t',
      'stdout:last',
    ]);
  });

  it('keeps the exact bytes of each stream, whatever they are', async () => {
    const chunk = fc.record({
      stream: fc.constantFrom<OutputStream>('stdout', 'stderr'),
      bytes: fc
        .array(fc.oneof(fc.constant(0x0a), fc.constant(0x0d), fc.integer({ min: 0, max: 255 })), {
          maxLength: 30,
        })
        .map((b) => Buffer.from(b)),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 20 }), async (chunks) => {
        const logFile = logPath();
        const shown: [OutputStream, string][] = [];
        const sink = await openOutputSink({
          logFile,
          maxLineBytes: 8,
          onOutput: (stream, line) => shown.push([stream, line]),
        });
        for (const c of chunks) sink[c.stream].push(c.bytes);
        await sink.close();
        const data = await readFile(logFile);
        for (const stream of ['stdout', 'stderr'] as const) {
          const written = Buffer.concat(
            chunks.filter((c) => c.stream === stream).map((c) => c.bytes),
          );
          expect(streamBytesOfLog(data, stream).equals(written)).toBe(true);
        }
        for (const record of parseLog(data)) expect(record.content.length).toBeLessThanOrEqual(8);
        // A piece of at most 8 bytes decodes to at most 8 UTF-16 code units.
        for (const [, line] of shown) expect(line.length).toBeLessThanOrEqual(8);
      }),
    );
  });

  it('a listener that throws stops neither the output nor the log', async () => {
    const logFile = logPath();
    const sink = await openOutputSink({
      logFile,
      onOutput: () => {
        throw new Error('reporter bug');
      },
    });
    sink.stdout.push('a\nb\n');
    await sink.close();
    await sink.close(); // idempotent
    expect(await readFile(logFile, 'utf8')).toBe('stdout| a\nstdout| b\n');
  });
});

describe('parseLog', () => {
  it('takes a record cut short by a crash as written', () => {
    expect(parseLog(Buffer.from('stdout| a\nstderr+ partial'))).toEqual([
      { stream: 'stdout', content: Buffer.from('a'), newline: true },
      { stream: 'stderr', content: Buffer.from('partial'), newline: false },
    ]);
  });

  it('rejects what is not a log record, with its offset', () => {
    expect(() => parseLog(Buffer.from('stdout| a\nhello\n'))).toThrow(LogFormatError);
    try {
      parseLog(Buffer.from('stdout| a\nstdout|x\n'));
    } catch (error) {
      expect(error).toMatchObject({ name: 'LogFormatError', offset: 10 });
    }
    expect.assertions(2);
  });
});
