/**
 * Parsing one expression (the text between `${{` and `}}`) with
 * `@actions/expressions`, GitHub's own lexer and parser, and locating its
 * tokens in the source so problems and references carry UTF-16 offsets.
 *
 * Two things of the library's lexer (0.3.61) are corrected here, without
 * touching its grammar:
 *
 * - a string literal's value replaces only the first `''` with `'`
 *   (`'a''b''c'` would be `a'b''c`); the value is recomputed from the
 *   lexeme, replacing every `''`, as GitHub's runner does;
 * - a string literal spanning lines moves the token line on without moving
 *   the line start, so the (line, column) of the tokens after it are wrong;
 *   token offsets are therefore found by walking the tokens in order through
 *   the source (only whitespace lies between tokens), not from (line, column).
 */

import { type Expr, ExpressionError, Lexer, Parser } from '@actions/expressions';
import { type Token, TokenType } from '@actions/expressions/lexer';
import { CONTEXT_NAMES, FUNCTION_NAMES, STATUS_FUNCTIONS } from './contexts.js';
import type { ExprProblem, Span } from './problems.js';
import { hint } from './suggest.js';

/** Where a token lies in the expression source, and its place in the token list. */
export interface TokenSpan extends Span {
  /** Index of the token in {@link ParsedExpression.tokens}. */
  index: number;
}

/** A parsed expression: the library's tree plus the position of each of its tokens. */
export interface ParsedExpression {
  /** The expression text as given (between `${{` and `}}`, untrimmed). */
  readonly source: string;
  /** The library's syntax tree (`Literal`, `ContextAccess`, `IndexAccess`, `FunctionCall`, ...). */
  readonly ast: Expr;
  /** Every token in source order, the library's `EOF` token last. */
  readonly tokens: readonly Token[];
  /** Where each token of {@link tokens} (and so of the tree) lies in {@link source}. */
  readonly spans: ReadonlyMap<Token, TokenSpan>;
}

/** What {@link parseExpression} returns: the expression, or the first problem. */
export type ParseResult = { expr: ParsedExpression } | { problem: ExprProblem };

/** The status functions as the parser's extension functions: no arguments, as GitHub registers them. */
const STATUS_FUNCTION_INFO = STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 }));

/**
 * Lexes and parses `source` with the library, knowing the contexts of
 * {@link CONTEXT_NAMES} and the status functions besides the library's
 * built-in functions (`contains`, `startsWith`, `endsWith`, `format`, `join`,
 * `toJSON`, `fromJSON`, `case`). Pure, never throws.
 *
 * The problem, when there is one, is the first the library found, with its
 * offset and length relative to `source`:
 *
 * - `expr/unknown-context` at the unknown name (`foo` in `foo.bar`), the
 *   library's "Unrecognized named-value";
 * - `expr/unknown-function` at the function name, its "Unrecognized function";
 * - `expr/syntax` for the rest, with the library's message lower-cased
 *   (`unexpected symbol: '='`, `too few parameters supplied: 'contains'`),
 *   at the offending token; and for an empty expression (the library returns
 *   no tree for it; GitHub reports "an expression was expected").
 */
export function parseExpression(source: string): ParseResult {
  let tokens: Token[];
  try {
    tokens = new Lexer(source).lex().tokens;
  } catch (error) {
    return { problem: lexerProblem(source, error) };
  }
  for (const token of tokens) {
    if (token.type === TokenType.STRING)
      token.value = token.lexeme.slice(1, -1).replaceAll("''", "'");
  }
  const spans = tokenSpans(source, tokens);
  let ast: Expr | undefined;
  try {
    ast = new Parser(tokens, [...CONTEXT_NAMES], STATUS_FUNCTION_INFO).parse();
  } catch (error) {
    return { problem: parserProblem(source, tokens, spans, error) };
  }
  if (ast === undefined) {
    return {
      problem: {
        code: 'expr/syntax',
        message: 'an expression was expected',
        offset: 0,
        length: source.length,
        hint: `write an expression between "\${{" and "}}", or remove them`,
      },
    };
  }
  return { expr: { source, ast, tokens, spans } };
}

/** Offsets of the tokens, found in order: between two tokens there is only whitespace. */
function tokenSpans(source: string, tokens: readonly Token[]): Map<Token, TokenSpan> {
  const spans = new Map<Token, TokenSpan>();
  let cursor = 0;
  tokens.forEach((token, index) => {
    if (token.type === TokenType.EOF) {
      spans.set(token, { offset: cursor, length: 0, index });
      return;
    }
    const found = source.indexOf(token.lexeme, cursor);
    const offset = found >= 0 && source.slice(cursor, found).trim() === '' ? found : cursor;
    spans.set(token, { offset, length: token.lexeme.length, index });
    cursor = offset + token.lexeme.length;
  });
  return spans;
}

/**
 * A parser error as a problem. The library's `ExpressionError` gives the
 * (line, column) of the offending token; it is the first token starting
 * there (the `EOF` token may share the last token's start).
 */
function parserProblem(
  source: string,
  tokens: readonly Token[],
  spans: ReadonlyMap<Token, TokenSpan>,
  error: unknown,
): ExprProblem {
  const message = error instanceof Error ? error.message : String(error);
  let span: Span = { offset: 0, length: source.length };
  if (error instanceof ExpressionError) {
    const { line, column } = error.pos;
    const token = tokens.find(
      (t) => t.range.start.line === line && t.range.start.column === column,
    );
    const found = token ? spans.get(token) : undefined;
    if (found) span = { offset: found.offset, length: found.length };
  }
  const name = source.slice(span.offset, span.offset + span.length);
  if (message.startsWith('Unrecognized named-value')) {
    return {
      code: 'expr/unknown-context',
      message: `unknown context ${JSON.stringify(name)}`,
      ...span,
      hint: hint(name, CONTEXT_NAMES, 'the contexts are'),
    };
  }
  if (message.startsWith('Unrecognized function')) {
    return {
      code: 'expr/unknown-function',
      message: `unknown function ${JSON.stringify(name)}`,
      ...span,
      hint: hint(name, FUNCTION_NAMES, 'the functions are'),
    };
  }
  return { code: 'expr/syntax', message: lowerFirst(message), ...span };
}

/** The lexer's `Unexpected symbol: 'X'. Located at position N within expression: SOURCE`. */
const LEXER_MESSAGE = /^Unexpected symbol: '([\s\S]*)'\. Located at position (\d+)$/;

/** A lexer error (a plain `Error` whose message gives a 1-based position) as a problem. */
function lexerProblem(source: string, error: unknown): ExprProblem {
  const message = error instanceof Error ? error.message : String(error);
  const tail = ` within expression: ${source}`;
  const m = message.endsWith(tail) ? LEXER_MESSAGE.exec(message.slice(0, -tail.length)) : null;
  if (m?.[1] !== undefined && m[2] !== undefined) {
    const symbol = m[1];
    const problem: ExprProblem = {
      code: 'expr/syntax',
      message: `unexpected symbol: '${symbol}'`,
      offset: Number(m[2]) - 1,
      length: symbol.length,
    };
    const fix = symbolHint(symbol);
    return fix ? { ...problem, hint: fix } : problem;
  }
  if (message === 'ErrorExceededMaxLength') {
    return {
      code: 'expr/syntax',
      message: `the expression is ${source.length} characters long, more than the 21000 allowed`,
      offset: 0,
      length: source.length,
    };
  }
  return { code: 'expr/syntax', message: lowerFirst(message), offset: 0, length: source.length };
}

/** How to fix the usual unexpected symbols. */
function symbolHint(symbol: string): string | undefined {
  if (symbol.startsWith("'")) {
    return "the string literal is never closed; write '' for a quote inside a string";
  }
  if (symbol.startsWith('"')) return "string literals take single quotes: 'text'";
  if (symbol === '=') return 'compare with ==';
  if (symbol === '&') return 'write && for "and"';
  if (symbol === '|') return 'write || for "or"';
  if (symbol === '+' || symbol === '-') {
    return 'expressions have no arithmetic; use format() to build strings';
  }
  return undefined;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
