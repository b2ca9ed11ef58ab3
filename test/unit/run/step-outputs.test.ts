import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_OUTPUT_BYTES,
  parseOutputFile,
  readOutputFile,
} from '../../../src/run/step-outputs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentfile-step-outputs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `outputs` the way a step would: every value as a heredoc with a delimiter it does not contain as a line. */
function serialize(outputs: Record<string, string>): string {
  let text = '';
  for (const [name, value] of Object.entries(outputs)) {
    let delimiter = 'EOF';
    while (value.split('\n').includes(delimiter)) delimiter += '_';
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  return text;
}

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,11}$/);

describe('parseOutputFile', () => {
  it('reads NAME=VALUE lines: the value is everything after the first =, spaces kept', () => {
    expect(parseOutputFile('version=1.2.3\nargs= a=b  c \nempty=\n')).toEqual({
      outputs: { version: '1.2.3', args: ' a=b  c ', empty: '' },
    });
  });

  it('reads heredocs: the lines up to the delimiter, joined with \\n', () => {
    const text = ['notes<<EOF', 'first', '', '  second', 'EOF', 'after=1', ''].join('\n');
    expect(parseOutputFile(text)).toEqual({
      outputs: { notes: 'first\n\n  second', after: '1' },
    });
    expect(parseOutputFile('empty<<END\nEND')).toEqual({ outputs: { empty: '' } });
    expect(parseOutputFile('one<<X\n\nX\n')).toEqual({ outputs: { one: '' } });
  });

  it('tolerates CRLF, ignores empty lines, and a later name wins', () => {
    expect(parseOutputFile('a=1\r\n\r\n\nb<<EOF\r\nx\r\ny\r\nEOF\r\na=2\r\n')).toEqual({
      outputs: { a: '2', b: 'x\ny' },
    });
  });

  it('decides the form by whichever of = and << comes first, as GitHub does', () => {
    expect(parseOutputFile('a=b<<c')).toEqual({ outputs: { a: 'b<<c' } });
    expect(parseOutputFile('a<<b=c\nvalue\nb=c\n')).toEqual({ outputs: { a: 'value' } });
  });

  it('keeps names that are Object.prototype keys as ordinary outputs', () => {
    const result = parseOutputFile('__proto__=x\nconstructor=y\n');
    expect(result).toEqual({ outputs: { ['__proto__']: 'x', constructor: 'y' } });
    if (!('outputs' in result)) throw new Error('expected outputs');
    expect(Object.keys(result.outputs)).toEqual(['__proto__', 'constructor']);
  });

  it('refuses what is neither form, naming the line but not showing it', () => {
    expect(parseOutputFile('a=1\n\nhunter2\n')).toEqual({
      error: 'line 3: expected NAME=VALUE or NAME<<DELIMITER',
    });
  });

  it('refuses invalid names', () => {
    for (const [text, shown] of [
      ['=x', '""'],
      ['1a=x', '"1a"'],
      ['a b=x', '"a b"'],
      ['a.b<<EOF\nEOF', '"a.b"'],
    ] as const) {
      expect(parseOutputFile(`ok=1\n${text}\n`)).toEqual({
        error: `line 2: invalid output name ${shown} (a letter or _, then letters, digits, _ or -)`,
      });
    }
    expect(parseOutputFile('a-b_C9=1\n_x=2')).toEqual({ outputs: { 'a-b_C9': '1', _x: '2' } });
  });

  it('refuses a heredoc without its closing line, or without a delimiter', () => {
    expect(parseOutputFile('a=1\nnotes<<EOF\nline\nEOF \n')).toEqual({
      error: 'line 2: the value of "notes" (notes<<"EOF") has no closing line "EOF"',
    });
    expect(parseOutputFile('notes<<\nx\n')).toEqual({
      error: 'line 1: empty heredoc delimiter after "notes<<"',
    });
  });

  it('keeps a value just under 1 MiB byte for byte; one byte over the limit is an error naming it', () => {
    expect(MAX_OUTPUT_BYTES).toBe(1_048_576);
    const head = 'big<<EOF\n';
    const tail = '\nEOF\n';
    // Multi-byte characters too: the limit counts UTF-8 bytes.
    const unit = 'abc€😀\n';
    const room = MAX_OUTPUT_BYTES - Buffer.byteLength(head + tail);
    let value = unit.repeat(Math.floor(room / Buffer.byteLength(unit)));
    value += 'x'.repeat(room - Buffer.byteLength(value));
    const text = head + value + tail;
    expect(Buffer.byteLength(text)).toBe(MAX_OUTPUT_BYTES);
    const result = parseOutputFile(text);
    if (!('outputs' in result)) throw new Error(result.error);
    expect(Buffer.from(result.outputs.big ?? '').equals(Buffer.from(value))).toBe(true);

    expect(parseOutputFile(`${head}${value}x${tail}`)).toEqual({
      error: 'the outputs file has 1048577 bytes, more than the limit of 1048576 bytes',
    });
    expect(parseOutputFile('a=12345', { maxBytes: 6 })).toEqual({
      error: 'the outputs file has 7 bytes, more than the limit of 6 bytes',
    });
  });

  it('round-trips any outputs written as heredocs', () => {
    const value = fc.string({
      unit: fc.constantFrom('a', 'Z', ' ', '=', '<<', '\n', 'EOF', '€', '😀', '\t'),
      maxLength: 40,
    });
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 8 }), (outputs) => {
        expect(parseOutputFile(serialize(outputs))).toEqual({ outputs: { ...outputs } });
      }),
    );
  });

  it('round-trips NAME=VALUE lines for values without newlines', () => {
    const value = fc.string({
      unit: fc.constantFrom('a', ' ', '=', '<<', '\t', '€'),
      maxLength: 20,
    });
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 8 }), (outputs) => {
        const text = Object.entries(outputs)
          .map(([key, v]) => `${key}=${v}\n`)
          .join('');
        expect(parseOutputFile(text)).toEqual({ outputs: { ...outputs } });
      }),
    );
  });
});

describe('readOutputFile', () => {
  it('parses a file; a missing file has no outputs', async () => {
    const path = join(dir, 'outputs');
    await writeFile(path, 'version=1.2.3\nnotes<<EOF\na\nb\nEOF\n');
    expect(await readOutputFile(path)).toEqual({ outputs: { version: '1.2.3', notes: 'a\nb' } });
    expect(await readOutputFile(join(dir, 'missing'))).toEqual({ outputs: {} });
  });

  it('refuses a file above the limit by its size, without reading it', async () => {
    const path = join(dir, 'huge');
    await writeFile(path, '');
    // Sparse: 1 GiB that reading would take a while to go through.
    await truncate(path, 1024 ** 3);
    expect(await readOutputFile(path)).toEqual({
      error: 'the outputs file has 1073741824 bytes, more than the limit of 1048576 bytes',
    });
    const small = join(dir, 'small');
    await writeFile(small, 'a=123');
    expect(await readOutputFile(small, { maxBytes: 4 })).toEqual({
      error: 'the outputs file has 5 bytes, more than the limit of 4 bytes',
    });
    expect(await readOutputFile(small, { maxBytes: 5 })).toEqual({ outputs: { a: '123' } });
  });

  it('refuses a symbolic link and what is not a regular file', async () => {
    const target = join(dir, 'target');
    await writeFile(target, 'a=1\n');
    const link = join(dir, 'link');
    await symlink(target, link);
    expect(await readOutputFile(link)).toEqual({ error: 'the outputs file is a symbolic link' });
    expect(await readOutputFile(dir)).toEqual({ error: 'the outputs file is not a regular file' });
  });
});
