/**
 * Step output made safe to print: a line a step wrote can carry terminal
 * control sequences (colours, cursor moves, "erase line", window titles,
 * OSC 52 clipboard writes, hyperlinks) and raw control characters that
 * would let it move the cursor over the reporter's own prefix or status
 * lines. Reporters pass every line through {@link sanitizeOutputLine}
 * before printing it; log files keep the raw bytes.
 *
 * The input is a line as the executors deliver it: decoded from UTF-8, with
 * invalid bytes already U+FFFD (see `src/executors/output.ts`), no newline.
 *
 * What is done, in one pass, linear in the length of the line:
 * - escape sequences are removed, with their parameters: CSI (`ESC [` …
 *   final byte 0x40–0x7E), OSC (`ESC ]` … BEL or ST), the string sequences
 *   DCS, SOS, PM, APC (`ESC P`, `ESC X`, `ESC ^`, `ESC _` … ST), and the
 *   other escapes (`ESC` intermediates 0x20–0x2F, final 0x30–0x7E); the
 *   8-bit C1 forms of CSI, OSC, DCS, SOS, PM and APC (U+009B, U+009D,
 *   U+0090, U+0098, U+009E, U+009F) likewise. The grammar is ECMA-48's
 *   (5th edition, sections 5.3–5.6). A sequence left unterminated at the end
 *   of the line is removed to the end; a CSI broken by a character outside
 *   its grammar ends before that character. A lone ESC is removed.
 * - a carriage return keeps only what follows it, as a terminal shows a
 *   progress bar that redraws itself (`10%\r50%\r100%` → `100%`); a CR at
 *   the end of the line is ignored.
 * - every other C0 control (U+0000–U+001F except TAB), DEL (U+007F) and C1
 *   control (U+0080–U+009F) is shown as `\xNN` (its code point in two
 *   lower-case hex digits), so it is visible but inert.
 * - TAB and every other character, printable ASCII and Unicode (including
 *   U+FFFD), pass unchanged.
 *
 * With `keepColors`, SGR sequences (`ESC [` digits, `;`, `:` … `m`: colours
 * and text attributes) are kept and `ESC[0m` is appended to a line that
 * kept any, so a colour cannot leak into what is printed after it.
 * Everything else is handled as above.
 *
 * Not handled: Unicode format characters such as the bidirectional
 * overrides (U+202A–U+202E, U+2066–U+2069) pass unchanged; terminals
 * mostly do not reorder text, but a viewer that does could.
 */

/** Options of {@link sanitizeOutputLine}. */
export interface SanitizeOptions {
  /** Keep SGR colour/attribute sequences (for a colour terminal) and reset them at the end. Default false. */
  keepColors?: boolean;
}

const TAB = 0x09;
const BEL = 0x07;
const CR = 0x0d;
const ESC = 0x1b;
const DEL = 0x7f;
const C1_DCS = 0x90;
const C1_SOS = 0x98;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
const C1_OSC = 0x9d;
const C1_PM = 0x9e;
const C1_APC = 0x9f;
const SGR_RESET = '\u001b[0m';

/** True for a character that passes unchanged: not C0 (but TAB), DEL or C1. */
function isPlain(code: number): boolean {
  return (code >= 0x20 && code < DEL) || code > C1_APC || code === TAB;
}

/** `\xNN` for a control character. */
function visible(code: number): string {
  return `\\x${code.toString(16).padStart(2, '0')}`;
}

/** Index after a CSI whose parameters start at `i`; `sgr` when it was a pure SGR (`…m`). */
function endOfCsi(line: string, i: number): { end: number; sgr: boolean } {
  let j = i;
  let sgr = true;
  while (j < line.length) {
    const c = line.charCodeAt(j);
    if (c >= 0x30 && c <= 0x3f) {
      // Parameter bytes; an SGR has only digits, ';' and ':'.
      if (c > 0x3b) sgr = false;
      j += 1;
    } else break;
  }
  while (j < line.length) {
    const c = line.charCodeAt(j);
    if (c >= 0x20 && c <= 0x2f) {
      sgr = false;
      j += 1;
    } else break;
  }
  const final = line.charCodeAt(j);
  if (final >= 0x40 && final <= 0x7e) return { end: j + 1, sgr: sgr && final === 0x6d };
  // Broken or unterminated: it ends before the offending character.
  return { end: j, sgr: false };
}

/**
 * Index after a control string (OSC, DCS, SOS, PM, APC) whose content
 * starts at `i`: after its terminator (ST as `ESC \` or U+009C, or BEL),
 * or the end of the line.
 */
function endOfString(line: string, i: number): number {
  for (let j = i; j < line.length; j += 1) {
    const c = line.charCodeAt(j);
    if (c === BEL || c === C1_ST) return j + 1;
    if (c === ESC && line.charCodeAt(j + 1) === 0x5c) return j + 2;
  }
  return line.length;
}

/** Index after an escape sequence starting with ESC at `i` (not CSI or a string). */
function endOfEscape(line: string, i: number): number {
  let j = i + 1;
  while (j < line.length) {
    const c = line.charCodeAt(j);
    if (c >= 0x20 && c <= 0x2f) j += 1;
    else break;
  }
  const final = line.charCodeAt(j);
  if (final >= 0x30 && final <= 0x7e) return j + 1;
  // A lone ESC, or intermediates without a final: drop what was read.
  return j;
}

/**
 * Turns one line of step output into text that is safe to print on a
 * terminal: escape sequences removed, a carriage return keeping only what
 * follows it, other control characters shown as `\xNN`, TAB and printable
 * text unchanged (the rules in the module docs). Pure; never throws.
 *
 * @param line one line of output, without its newline.
 * @returns text with no C0, DEL or C1 control character but TAB (with
 *   `keepColors`, and ESC only as the start of SGR sequences).
 */
export function sanitizeOutputLine(line: string, options: SanitizeOptions = {}): string {
  let parts: string[] = [];
  let keptColor = false;
  // A CR after the last other character is trailing, and ignored.
  let lastContent = line.length - 1;
  while (lastContent >= 0 && line.charCodeAt(lastContent) === CR) lastContent -= 1;

  let i = 0;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (isPlain(c)) {
      let j = i + 1;
      while (j < line.length && isPlain(line.charCodeAt(j))) j += 1;
      parts.push(line.slice(i, j));
      i = j;
      continue;
    }
    if (c === CR) {
      if (i < lastContent) {
        parts = [];
        keptColor = false;
      }
      i += 1;
      continue;
    }
    if (c === ESC || c === C1_CSI) {
      const introducer = c === ESC ? line.charCodeAt(i + 1) : 0x5b;
      const start = c === ESC ? i + 2 : i + 1;
      if (introducer === 0x5b) {
        const { end, sgr } = endOfCsi(line, start);
        if (sgr && options.keepColors) {
          parts.push(`\u001b[${line.slice(start, end)}`);
          keptColor = true;
        }
        i = end;
      } else if (
        introducer === 0x5d || // OSC
        introducer === 0x50 || // DCS
        introducer === 0x58 || // SOS
        introducer === 0x5e || // PM
        introducer === 0x5f // APC
      ) {
        i = endOfString(line, start);
      } else {
        i = endOfEscape(line, i);
      }
      continue;
    }
    if (c === C1_OSC || c === C1_DCS || c === C1_SOS || c === C1_PM || c === C1_APC) {
      i = endOfString(line, i + 1);
      continue;
    }
    parts.push(visible(c));
    i += 1;
  }
  if (keptColor) parts.push(SGR_RESET);
  return parts.join('');
}
