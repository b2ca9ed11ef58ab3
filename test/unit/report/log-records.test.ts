import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogReader } from '../../../src/cli/log-reader.js';
import { type LogRecord, recordBytes, splitLogRecords } from '../../../src/report/log-records.js';

const bytesOf = (records: LogRecord[], stream: 'stdout' | 'stderr') =>
  Buffer.concat(records.filter((r) => r.stream === stream).map(recordBytes));

describe('splitLogRecords', () => {
  it('reads complete-line records of both streams in order', () => {
    const { records, consumed } = splitLogRecords(
      Buffer.from('stdout| hello\nstderr| oops\nstdout| world\n'),
      { final: false },
    );
    expect(records.map((r) => [r.stream, r.content.toString(), r.newline])).toEqual([
      ['stdout', 'hello', true],
      ['stderr', 'oops', true],
      ['stdout', 'world', true],
    ]);
    expect(consumed).toBe(41);
  });

  it('joins `+` pieces without a newline, so the bytes are exactly what the stream wrote', () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x41]);
    const file = Buffer.concat([
      Buffer.from('stdout+ '),
      binary,
      Buffer.from('\nstderr| err\nstdout| tail\nstdout+ no newline at the end\n'),
    ]);
    const { records } = splitLogRecords(file, { final: true });
    expect(bytesOf(records, 'stdout')).toEqual(
      Buffer.concat([binary, Buffer.from('tail\nno newline at the end')]),
    );
    expect(bytesOf(records, 'stderr').toString()).toBe('err\n');
  });

  it('leaves an incomplete last record for the next read unless final', () => {
    const data = Buffer.from('stdout| one\nstdout| tw');
    const partial = splitLogRecords(data, { final: false });
    expect(partial.records.map((r) => r.content.toString())).toEqual(['one']);
    expect(data.subarray(partial.consumed).toString()).toBe('stdout| tw');
    const last = splitLogRecords(data, { final: true });
    expect(last.records.map((r) => r.content.toString())).toEqual(['one', 'tw']);
    expect(last.consumed).toBe(data.length);
  });

  it('shows a line that is not a record as stdout, instead of hiding it', () => {
    const { records } = splitLogRecords(Buffer.from('garbage line\nstdout| ok\n'), {
      final: true,
    });
    expect(bytesOf(records, 'stdout').toString()).toBe('garbage line\nok\n');
  });
});

describe('LogReader', () => {
  it('reads a growing file from where it stopped, a record split across writes included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-log-'));
    const file = join(dir, 'step.1.log');
    const reader = new LogReader(file);
    const seen: string[] = [];
    const collect = (records: LogRecord[]) => {
      for (const r of records) seen.push(`${r.stream}:${r.content.toString()}`);
    };
    expect(await reader.read(collect, { final: false })).toBe(false); // not there yet
    await writeFile(file, 'stdout| first\nstdout| sec');
    expect(await reader.read(collect, { final: false })).toBe(true);
    expect(seen).toEqual(['stdout:first']);
    await appendFile(file, 'ond\nstderr| third\n');
    await reader.read(collect, { final: false });
    expect(seen).toEqual(['stdout:first', 'stdout:second', 'stderr:third']);
    await appendFile(file, 'stdout+ cut short');
    await reader.read(collect, { final: true });
    expect(seen.at(-1)).toBe('stdout:cut short');
  });

  it('reads a file larger than one chunk completely', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-log-'));
    const file = join(dir, 'big.1.log');
    const line = 'x'.repeat(999);
    await writeFile(file, `stdout| ${line}\n`.repeat(3000)); // ~3 MB, three chunks
    let n = 0;
    let bytes = 0;
    await new LogReader(file).read(
      (records) => {
        for (const r of records) {
          n += 1;
          bytes += recordBytes(r).length;
        }
      },
      { final: true },
    );
    expect(n).toBe(3000);
    expect(bytes).toBe(3000 * 1000);
  });
});
