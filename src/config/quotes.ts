/**
 * Where an unclosed quote was opened. The `yaml` package reports a missing
 * closing quote at the end of the text it swallowed (often the end of the
 * file); the quoted scalar it composed ends there, and starts at the quote
 * that was never closed.
 */

import { type Document, isCollection, isPair, isScalar } from 'yaml';

/**
 * Offsets of the quoted scalar (`"..."` or `'...'`) of `doc` that ends at
 * `end`, i.e. the string a "missing closing quote" error at `end` belongs
 * to; undefined when there is none. Iterative.
 */
export function unclosedQuoteAt(doc: Document, end: number): [number, number] | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isScalar(node)) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (quoted && node.range && node.range[1] === end) return [node.range[0], node.range[1]];
      continue;
    }
    if (!isCollection(node)) continue;
    for (const item of node.items) {
      if (isPair(item)) stack.push(item.key, item.value);
      else stack.push(item);
    }
  }
  return undefined;
}
