/** Hints for expression problems, on top of the config stage's "did you mean" helper. */

import { nearest, quoteList } from '../config/suggest.js';

/**
 * `did you mean "inputs"?` when a candidate is a likely typo of `word`
 * ({@link nearest}: case-insensitive edit distance), otherwise
 * `${lead} "a", "b"`, or `none` when there are no candidates.
 */
export function hint(
  word: string,
  candidates: readonly string[],
  lead: string,
  none?: string,
): string | undefined {
  const near = nearest(word, candidates);
  if (near !== undefined) return `did you mean ${JSON.stringify(near)}?`;
  if (candidates.length === 0) return none;
  return `${lead} ${quoteList(candidates)}`;
}

/** True when `list` holds `name`, compared case-insensitively as the expression language compares keys. */
export function hasName(list: readonly string[] | undefined, name: string): boolean {
  return findName(list, name) !== undefined;
}

/** The element of `list` equal to `name` case-insensitively. */
export function findName(list: readonly string[] | undefined, name: string): string | undefined {
  const lower = name.toLowerCase();
  return list?.find((n) => n.toLowerCase() === lower);
}
