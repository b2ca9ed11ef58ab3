/**
 * How an `if:` text is read (GitHub Actions' rules, see `evaluateCondition`):
 * blank, one expression, or a string template. Shared by evaluation and lint.
 */

import type { ExprProblem } from './problems.js';
import { type ExpressionPart, scanTemplate } from './template.js';

/**
 * How `evaluateCondition` and lint read an `if:` text. Offsets are into
 * the text as given (untrimmed).
 */
export type ConditionSource =
  /** Blank: `success()`. */
  | { kind: 'empty' }
  /** One expression: the whole trimmed text, or the inside of its only `${{ }}`; `offset`: where `source` starts. */
  | { kind: 'expression'; source: string; offset: number }
  /** Text around or between `${{ }}`: a string template; its expression parts. */
  | { kind: 'template'; parts: ExpressionPart[] }
  /** A `${{` without its `}}`. */
  | { kind: 'unclosed'; problem: ExprProblem };

/** Classifies an `if:` text; see `evaluateCondition`. Pure. */
export function conditionSource(text: string): ConditionSource {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'empty' };
  const lead = text.length - text.trimStart().length;
  const scanned = scanTemplate(trimmed);
  const shift = <T extends { offset: number }>(x: T): T => ({ ...x, offset: x.offset + lead });
  const error = scanned.errors[0];
  if (error) return { kind: 'unclosed', problem: shift(error) };
  const expressions = scanned.parts.flatMap((p) =>
    p.kind === 'expression' ? [{ ...shift(p), sourceOffset: p.sourceOffset + lead }] : [],
  );
  const only = expressions[0];
  if (scanned.parts.length === 1 && only) {
    return { kind: 'expression', source: only.source, offset: only.sourceOffset };
  }
  if (expressions.length === 0) return { kind: 'expression', source: trimmed, offset: lead };
  return { kind: 'template', parts: expressions };
}
