/**
 * What an expression reads: its context accesses as property paths, and the
 * functions it calls. Read from the library's syntax tree, for lint and for
 * GitHub's `if:` rule (a condition without a status function is
 * `success() && (...)`).
 */

import {
  Binary,
  ContextAccess,
  type Expr,
  FunctionCall,
  Grouping,
  IndexAccess,
  Literal,
  Logical,
  Unary,
} from '@actions/expressions/ast';
import { type Token, TokenType } from '@actions/expressions/lexer';
import { STATUS_FUNCTIONS } from './contexts.js';
import type { ParsedExpression } from './parse.js';
import type { Span } from './problems.js';

/**
 * One context access, e.g. `steps.build.outputs['version']`.
 *
 * The path is the context name then each literal key, up to the first index
 * that is not a literal (`matrix[inputs.k]` → `['matrix']`, and `inputs.k` is
 * a reference of its own; `steps.*.status` → `['steps']`). A literal key is
 * the string the evaluator looks it up by: `.name` and `['name']` give
 * `name`, `[0]` gives `0`. Names keep the source's spelling; the language
 * matches them case-insensitively.
 */
export interface Reference {
  /** Context name, then the literal keys: `['steps', 'build', 'outputs', 'version']`. */
  path: string[];
  /**
   * The whole access in the expression source, from the context name to its
   * last literal key (a closing `]` included): `steps.build.outputs['version']`.
   */
  offset: number;
  length: number;
  /**
   * One span per path element: the context name, the identifier after a
   * `.`, or the literal inside `[ ]` (quotes included).
   */
  keys: Span[];
}

/** One function call: its name as written, and the span of the name. */
export interface FunctionCallRef extends Span {
  name: string;
}

/** Every context access of the expression, in source order. Pure. */
export function references(expr: ParsedExpression): Reference[] {
  const out: Reference[] = [];
  const span = (token: Token): Span => {
    const s = expr.spans.get(token);
    return s ? { offset: s.offset, length: s.length } : { offset: 0, length: 0 };
  };
  /** The neighbour of a token in source order. */
  const neighbour = (token: Token, delta: number): Token | undefined => {
    const s = expr.spans.get(token);
    return s ? expr.tokens[s.index + delta] : undefined;
  };
  const visit = (node: Expr): void => {
    if (node instanceof ContextAccess || node instanceof IndexAccess) {
      const chain: IndexAccess[] = [];
      let base: Expr = node;
      while (base instanceof IndexAccess) {
        chain.unshift(base);
        base = base.expr;
      }
      if (!(base instanceof ContextAccess)) {
        visit(base);
        for (const access of chain) visit(access.index);
        return;
      }
      const first = span(base.name);
      const ref: Reference = { path: [base.name.lexeme], ...first, keys: [first] };
      let open = true;
      for (const access of chain) {
        const index = access.index;
        if (open && index instanceof Literal) {
          const key = span(index.token);
          ref.path.push(index.literal.coerceString());
          ref.keys.push(key);
          const closing = neighbour(index.token, 1);
          const end =
            neighbour(index.token, -1)?.type === TokenType.LEFT_BRACKET &&
            closing?.type === TokenType.RIGHT_BRACKET
              ? span(closing).offset + 1
              : key.offset + key.length;
          ref.length = end - ref.offset;
        } else {
          open = false;
          visit(index);
        }
      }
      out.push(ref);
      return;
    }
    for (const child of children(node)) visit(child);
  };
  visit(expr.ast);
  return out.sort((a, b) => a.offset - b.offset);
}

/** Every function call of the expression, in source order. Pure. */
export function functionCalls(expr: ParsedExpression): FunctionCallRef[] {
  const out: FunctionCallRef[] = [];
  const visit = (node: Expr): void => {
    if (node instanceof FunctionCall) {
      const s = expr.spans.get(node.functionName);
      out.push({
        name: node.functionName.lexeme,
        offset: s?.offset ?? 0,
        length: s?.length ?? node.functionName.lexeme.length,
      });
    }
    for (const child of children(node)) visit(child);
  };
  visit(expr.ast);
  return out.sort((a, b) => a.offset - b.offset);
}

/**
 * True when the expression calls `success()`, `failure()`, `always()` or
 * `cancelled()` anywhere (names are case-insensitive). GitHub's rule: an
 * `if:` condition that calls none of them is evaluated as
 * `success() && (condition)` (languageservices' `ensureStatusFunction`).
 */
export function usesStatusFunction(expr: ParsedExpression): boolean {
  return functionCalls(expr).some((call) => isStatusFunction(call.name));
}

/** True for the name of a status function, in any case. */
export function isStatusFunction(name: string): boolean {
  return (STATUS_FUNCTIONS as readonly string[]).includes(name.toLowerCase());
}

/**
 * The sub-expressions of a node, left to right. `Star` (the `*` of `a.*`)
 * and literals have none; so does a bare `ContextAccess`.
 */
export function children(node: Expr): Expr[] {
  if (node instanceof IndexAccess) return [node.expr, node.index];
  if (node instanceof FunctionCall) return node.args;
  if (node instanceof Logical) return node.args;
  if (node instanceof Binary) return [node.left, node.right];
  if (node instanceof Unary) return [node.expr];
  if (node instanceof Grouping) return [node.group];
  return [];
}

/**
 * The path of a node that is a context access with literal keys only
 * (`inputs.count`, `steps['a'].status`), or undefined for anything else.
 */
export function accessPath(node: Expr): string[] | undefined {
  const keys: string[] = [];
  let n: Expr = node;
  while (n instanceof IndexAccess) {
    if (!(n.index instanceof Literal)) return undefined;
    keys.unshift(n.index.literal.coerceString());
    n = n.expr;
  }
  return n instanceof ContextAccess ? [n.name.lexeme, ...keys] : undefined;
}
