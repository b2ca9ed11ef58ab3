/**
 * Splitting a string into literal text and `${{ … }}` expressions. This is
 * the only part of the expression language agentfile implements itself; the
 * expressions are lexed, parsed and evaluated by `@actions/expressions`.
 *
 * The rule is GitHub Actions' (`TemplateReader.ParseScalar` in
 * actions/runner): an expression starts at `${{` and ends at the first `}}`
 * outside a single-quoted string literal, where every `'` toggles "inside a
 * string" (so the escape `''` toggles twice and changes nothing). There is no
 * escape for `${{` in literal text; write `${{ '${{' }}`.
 */

import type { ExprProblem } from './problems.js';

/** Literal text of a template, kept as is. */
export interface LiteralPart {
  kind: 'literal';
  text: string;
  /** UTF-16 index of the text's first character in the template. */
  offset: number;
  /** UTF-16 length; `text.length`. */
  length: number;
}

/** One `${{ … }}` of a template. */
export interface ExpressionPart {
  kind: 'expression';
  /** The text between `${{` and `}}`, untrimmed (may span lines). */
  source: string;
  /** UTF-16 index of the `${{` in the template. */
  offset: number;
  /** UTF-16 length from `${{` to `}}` inclusive: `source.length + 5`. */
  length: number;
  /** UTF-16 index of the source's first character in the template: `offset + 3`. */
  sourceOffset: number;
}

/** A piece of a template, in order; together they cover the whole text. */
export type TemplatePart = LiteralPart | ExpressionPart;

/** What {@link scanTemplate} returns. */
export interface ScannedTemplate {
  /** Literal and expression parts in order; no empty literal parts. */
  parts: TemplatePart[];
  /** `expr/unclosed` at most once; its offset is the `${{`'s. */
  errors: ExprProblem[];
}

const OPEN = '${{';

/**
 * Splits `text` into literal and expression parts. Pure, never throws.
 *
 * An unclosed `${{` gives one `expr/unclosed` problem (offset of the `${{`,
 * length 3) and the rest of the text, from the `${{`, as a literal part: the
 * parts always cover `text` exactly.
 */
export function scanTemplate(text: string): ScannedTemplate {
  const parts: TemplatePart[] = [];
  const errors: ExprProblem[] = [];
  const literal = (from: number, to: number): void => {
    if (to > from) {
      parts.push({ kind: 'literal', text: text.slice(from, to), offset: from, length: to - from });
    }
  };
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf(OPEN, index);
    if (start < 0) break;
    literal(index, start);
    const sourceOffset = start + OPEN.length;
    let inString = false;
    let end = -1;
    for (let i = sourceOffset; i < text.length; i++) {
      const c = text[i];
      if (c === "'") inString = !inString;
      else if (!inString && c === '}' && i > sourceOffset && text[i - 1] === '}') {
        end = i + 1;
        break;
      }
    }
    if (end < 0) {
      errors.push({
        code: 'expr/unclosed',
        message: `"\${{" is not closed by "}}"`,
        offset: start,
        length: OPEN.length,
        hint: inString
          ? "a ' in the expression starts a string literal that is never closed; write '' for a quote inside a string"
          : 'end the expression with "}}"',
      });
      literal(start, text.length);
      return { parts, errors };
    }
    parts.push({
      kind: 'expression',
      source: text.slice(sourceOffset, end - 2),
      offset: start,
      length: end - start,
      sourceOffset,
    });
    index = end;
  }
  literal(index, text.length);
  return { parts, errors };
}
