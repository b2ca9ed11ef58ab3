import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeOutputLine } from '../../../src/report/sanitize.js';

/** The C0 controls but TAB, DEL and the C1 controls found in `text`. */
function controls(text: string): string[] {
  return [...text].filter((ch) => {
    const code = ch.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f);
  });
}

/** `text` without its SGR sequences (ESC [ digits ; : ... m). */
function withoutSgr(text: string): string {
  return text
    .split('\u001b')
    .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;:]*m/, '')))
    .join('');
}

/** Strings rich in what the sanitizer must handle: controls, sequence pieces, Unicode. */
const hostile = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '\u001b',
      '\u001b[',
      '\u001b]',
      '\u001bP',
      '\u001b\\',
      '\u009b',
      '\u009d',
      '\u009c',
      '\u0007',
      '\r',
      '\t',
      '\u0000',
      '\u007f',
      '\b',
      '[',
      ';',
      '1',
      'm',
      'H',
      '(',
      'é',
      '😀',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 60,
});

describe('sanitizeOutputLine properties', () => {
  it('never lets a control character through but TAB', () => {
    fc.assert(
      fc.property(hostile, (line) => {
        expect(controls(sanitizeOutputLine(line))).toEqual([]);
      }),
    );
  });

  it('with keepColors, an ESC only ever starts an SGR sequence', () => {
    fc.assert(
      fc.property(hostile, (line) => {
        const out = sanitizeOutputLine(line, { keepColors: true });
        expect(controls(withoutSgr(out))).toEqual([]);
        if (out.includes('\u001b')) expect(out.endsWith('\u001b[0m')).toBe(true);
      }),
    );
  });

  it('printable ASCII and TAB pass unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('\t', ...printableAscii()) }), (line) => {
        expect(sanitizeOutputLine(line)).toBe(line);
      }),
    );
  });

  it('text without controls passes unchanged, whatever its script', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (line) => {
        fc.pre(controls(line).length === 0);
        expect(sanitizeOutputLine(line)).toBe(line);
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(hostile, (line) => {
        const once = sanitizeOutputLine(line);
        expect(sanitizeOutputLine(once)).toBe(once);
      }),
    );
  });
});

function printableAscii(): string[] {
  return Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
}

describe('sanitizeOutputLine examples', () => {
  it.each([
    ['colours are removed', '\u001b[1;31merror\u001b[0m: bad', 'error: bad'],
    ['cursor moves and erase are removed', '\u001b[2K\u001b[1Gdone\u001b[?25h', 'done'],
    ['a window title (OSC, BEL) is removed', 'a\u001b]0;pwned\u0007b', 'ab'],
    ['a clipboard write (OSC 52, ST) is removed', '\u001b]52;c;ZXZpbA==\u001b\\ok', 'ok'],
    [
      'a hyperlink keeps its text',
      '\u001b]8;;https://example.com\u001b\\link\u001b]8;;\u001b\\',
      'link',
    ],
    ['a DCS string is removed', 'x\u001bPq#0;2;0;0;0\u001b\\y', 'xy'],
    ['8-bit CSI and OSC are removed', '\u009b31mred\u009d0;t\u009c.', 'red.'],
    ['charset and keypad escapes are removed', '\u001b(B\u001b=text\u001b>', 'text'],
    ['an unterminated OSC is removed to the end', 'keep\u001b]0;never ends', 'keep'],
    ['a broken CSI ends before the bad character', '\u001b[12\u0007x', '\\x07x'],
    ['a lone ESC is removed', 'a\u001b', 'a'],
    ['a progress bar shows its last state', '10%\r50%\r100%', '100%'],
    ['a trailing CR is ignored', 'line\r', 'line'],
    [
      'backspace, bell, NUL, DEL, C1 are shown',
      'a\bb\u0007\u0000\u007f\u0085',
      'a\\x08b\\x07\\x00\\x7f\\x85',
    ],
    ['tabs and Unicode stay', 'a\tb é 😀 \uFFFD', 'a\tb é 😀 \uFFFD'],
    ['empty stays empty', '', ''],
  ])('%s', (_name, line, expected) => {
    expect(sanitizeOutputLine(line)).toBe(expected);
  });

  it('keeps SGR colours on request, resets them at the end, and still removes the rest', () => {
    expect(
      sanitizeOutputLine('\u001b[1;31merror\u001b[K\u001b]0;t\u0007 x', { keepColors: true }),
    ).toBe('\u001b[1;31merror x\u001b[0m');
    expect(sanitizeOutputLine('\u009b32mok', { keepColors: true })).toBe('\u001b[32mok\u001b[0m');
    expect(sanitizeOutputLine('plain', { keepColors: true })).toBe('plain');
    // Private-mode CSI ending in m is not SGR.
    expect(sanitizeOutputLine('\u001b[>4;2mx', { keepColors: true })).toBe('x');
  });

  it('handles a long line of sequences and CRs (600 000 characters)', () => {
    const line = `${'\u001b[31m\r'.repeat(100_000)}end`;
    expect(sanitizeOutputLine(line)).toBe('end');
  });
});
