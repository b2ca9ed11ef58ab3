/** "Did you mean" suggestions and lists of allowed values for messages. */

import { distance } from 'fastest-levenshtein';

/**
 * The candidate nearest to `word` by edit distance (case-insensitive), when it
 * is close enough to be a likely typo: at most 2 edits, or a third of the
 * word's length for longer words, and never more than half the word's length
 * (at least 1), so a one- or two-letter name is not "corrected" to an
 * unrelated one (`zz` → `a`). Ties go to the earlier candidate.
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(
    Math.max(2, Math.floor(word.length / 3)),
    Math.max(1, Math.floor(word.length / 2)),
  );
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `"a", "b", "c"`: each value JSON-quoted, joined by commas. */
export function quoteList(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/**
 * `; did you mean "image"?` when a candidate is close to `word`, otherwise
 * `; expected one of "a", "b"` (or the given text when there are no candidates).
 */
export function suggestion(
  word: string,
  candidates: readonly string[],
  options: { none?: string } = {},
): string {
  const near = nearest(word, candidates);
  if (near !== undefined) return `; did you mean ${JSON.stringify(near)}?`;
  if (candidates.length === 0) return options.none ? `; ${options.none}` : '';
  return `; expected one of ${quoteList(candidates)}`;
}
