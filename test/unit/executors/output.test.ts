import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeLossless,
  encodeLossless,
  LineSplitter,
  LogFormatError,
  MAX_LINE_BYTES,
  maskText,
  openOutputSink,
  PieceSplitter,
  parseLog,
  RedactingPieces,
  streamBytesOfLog,
} from '../../../src/executors/output.js';
import type { OutputStream, Redactor } from '../../../src/executors/types.js';
import { literalRedactor } from '../../helpers/redactor.js';

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

describe('lossless decoding', () => {
  it('gives back any bytes; valid UTF-8 decodes as toString does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (array) => {
        const bytes = Buffer.from(array);
        expect(encodeLossless(decodeLossless(bytes)).equals(bytes)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeLossless(Buffer.from(text))).toBe(text);
      }),
    );
    // An overlong NUL, a surrogate (ED A0 80) and a lone continuation byte are bytes of their own.
    const invalid = Buffer.from([0x61, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x80, 0xe2, 0x82, 0xac]);
    expect(decodeLossless(invalid)).toBe('a\uDCC0\uDC80\uDCED\uDCA0\uDC80\uDC80€');
  });
});

describe('masking', () => {
  const hunter = literalRedactor(['hunter2']);

  /** Masked pieces of `chunks` as [text, newline]. */
  function masked(redactor: Redactor, chunks: string[], max: number): [string, boolean][] {
    const out: [string, boolean][] = [];
    const masking = new RedactingPieces(
      redactor,
      (bytes, newline) => out.push([bytes.toString(), newline]),
      max,
    );
    const splitter = new PieceSplitter(masking.piece, max);
    for (const chunk of chunks) splitter.push(chunk);
    splitter.flush();
    masking.flush();
    return out;
  }

  it('masks a value written in two writes, and one across a cut of a long line', () => {
    expect(masked(hunter, ['a hun', 'ter2 b\n'], 100)).toEqual([['a *** b', true]]);
    const pieces = masked(hunter, ['0123hunt', 'er2456789\n'], 8);
    expect(pieces.map(([p]) => p).join('')).toBe('0123***456789');
    for (const [piece] of pieces) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(8);
    expect(pieces.at(-1)?.[1]).toBe(true);
    expect(pieces.slice(0, -1).every(([, newline]) => !newline)).toBe(true);
  });

  it('keeps the last longest - 1 characters back when it passes on part of a line', () => {
    const out: [string, boolean][] = [];
    const masking = new RedactingPieces(
      hunter,
      (bytes, newline) => out.push([bytes.toString(), newline]),
      8,
    );
    // 11 bytes arrived: one piece of 8 could go, but "hunt" may be the start of a value.
    masking.piece(Buffer.from('abcdefghunt'), false);
    expect(out).toEqual([['abcde', false]]);
    masking.piece(Buffer.from('er2'), true);
    expect(out).toEqual([
      ['abcde', false],
      ['fg***', true],
    ]);
  });

  it('masks what is held of a stream that ends without a newline', () => {
    expect(masked(hunter, ['x hunter2'], 100)).toEqual([['x ***', false]]);
    const pieces = masked(hunter, ['abcdefgh', 'hunter'], 8);
    expect(pieces.map(([p]) => p).join('')).toBe('abcdefghhunter');
    expect(pieces.every(([, newline]) => !newline)).toBe(true);
  });

  it('passes pieces through untouched when there is nothing to mask', () => {
    const none = literalRedactor([]);
    expect(masked(none, ['abcdefghij\n'], 4)).toEqual([
      ['abcd', false],
      ['efgh', false],
      ['ij', true],
    ]);
  });

  it('masks every line, whatever the chunks and cuts, as redact(line) in pieces of at most max bytes', () => {
    const values = ['hunter2', 'sëcr€t', 'ab'];
    const redactor = literalRedactor(values);
    const text = fc.string({
      unit: fc.constantFrom(...values, 'a', 'b', 'hun', 'ter', '2', 'ë', '€', '😀', 'x', '\n'),
      maxLength: 60,
    });
    fc.assert(
      fc.property(
        text,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 4, max: 16 }),
        (input, cuts, max) => {
          const bytes = Buffer.from(input);
          const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let from = 0;
          for (const cut of [...at, bytes.length]) {
            chunks.push(bytes.subarray(from, cut));
            from = cut;
          }
          const out: Buffer[] = [];
          const lines: string[] = [];
          let line: Buffer[] = [];
          const masking = new RedactingPieces(
            redactor,
            (piece, newline) => {
              expect(piece.length).toBeLessThanOrEqual(max);
              expect(piece.includes(0x0a)).toBe(false);
              out.push(piece);
              line.push(piece);
              if (newline) {
                out.push(Buffer.from('\n'));
                lines.push(Buffer.concat(line).toString());
                line = [];
              }
            },
            max,
          );
          const splitter = new PieceSplitter(masking.piece, max);
          for (const chunk of chunks) splitter.push(chunk);
          splitter.flush();
          masking.flush();
          const expected = input
            .split('\n')
            .map((l) => redactor.redact(l))
            .join('\n');
          expect(Buffer.concat(out).toString()).toBe(expected);
          for (const l of lines) for (const v of values) expect(l).not.toContain(v);
        },
      ),
    );
  });

  it('the sink masks the log file, the listener and its own lines', async () => {
    const logFile = logPath();
    const shown: string[] = [];
    const sink = await openOutputSink({
      logFile,
      maxLineBytes: 8,
      redact: hunter,
      onOutput: (stream, line) => shown.push(`${stream}:${line}`),
    });
    sink.stdout.push('pw hun');
    sink.stdout.push('ter2\n0123hunt');
    sink.stderr.push('hunter2\n');
    sink.stdout.push('er2456789\n');
    sink.line('stdout', 'built with hunter2');
    sink.stdout.push('tail hunter2');
    await sink.close();
    const log = await readFile(logFile);
    expect(log.toString()).not.toContain('hunter2');
    expect(streamBytesOfLog(log, 'stdout').toString()).toBe(
      'pw ***\n0123***456789\nbuilt with ***\ntail ***',
    );
    expect(streamBytesOfLog(log, 'stderr').toString()).toBe('***\n');
    for (const record of parseLog(log)) expect(record.content.length).toBeLessThanOrEqual(8);
    expect(shown.join('\n')).not.toContain('hunter2');
    expect(shown.filter((l) => l.startsWith('stderr:'))).toEqual(['stderr:***']);
  });

  it('masks a value across the 64 KiB cut of a long line; the log reassembles to redact(line)', async () => {
    const logFile = logPath();
    const shown: string[] = [];
    const sink = await openOutputSink({
      logFile,
      redact: hunter,
      onOutput: (_stream, line) => shown.push(line),
    });
    const line = `${'a'.repeat(MAX_LINE_BYTES - 3)}hunter2${'b'.repeat(MAX_LINE_BYTES + 10)}hunter2`;
    // In 1000-byte writes, as a pipe would deliver it.
    for (let i = 0; i < line.length; i += 1000) sink.stdout.push(line.slice(i, i + 1000));
    sink.stdout.push('\n');
    await sink.close();
    const log = await readFile(logFile);
    expect(log.includes('hunter2')).toBe(false);
    expect(log.includes('hun')).toBe(false);
    const records = parseLog(log);
    expect(records.length).toBeGreaterThan(2);
    for (const record of records) expect(record.content.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(streamBytesOfLog(log, 'stdout').toString()).toBe(`${hunter.redact(line)}\n`);
    expect(shown.join('')).toBe(hunter.redact(line));
    for (const piece of shown) expect(piece).not.toContain('hun');
  });

  it('keeps the exact bytes of output in which nothing is masked', async () => {
    const chunk = fc.record({
      stream: fc.constantFrom<OutputStream>('stdout', 'stderr'),
      bytes: fc
        .array(fc.oneof(fc.constant(0x0a), fc.integer({ min: 0, max: 255 })), { maxLength: 30 })
        .map((b) => Buffer.from(b)),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 20 }), async (chunks) => {
        const logFile = logPath();
        const sink = await openOutputSink({ logFile, maxLineBytes: 8, redact: hunter });
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
      }),
      { numRuns: 50 },
    );
  });

  it('a redactor that throws masks the whole text', () => {
    const broken: Redactor = {
      longest: 7,
      redact() {
        throw new Error('bug');
      },
    };
    expect(masked(broken, ['hunter2 and more\n'], 100)).toEqual([['***', true]]);
    expect(maskText(broken, 'hunter2')).toBe('***');
    expect(maskText(undefined, 'hunter2')).toBe('hunter2');
    expect(maskText(hunter, 'x hunter2')).toBe('x ***');
  });
});
