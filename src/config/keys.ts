/**
 * Duplicate keys, found in linear time. The `yaml` package's own check
 * (`uniqueKeys`) compares each new key with every earlier key of its
 * mapping, which takes minutes for a mapping of some 50,000 keys (a 1 MiB
 * file); this one keeps a set per mapping.
 */

import { type Document, isCollection, isMap, isPair, isScalar } from 'yaml';

/** A key that appears again in the same mapping. */
export interface DuplicateKey {
  /** The key as text. */
  key: string;
  /** Offsets of the repeated (second or later) key in the text. */
  range: [number, number];
}

/**
 * Every repeated scalar key of every mapping in the document, at its second
 * and later occurrences, in document order. Keys are equal when their values
 * are (`1` and `"1"` differ; `.nan` never repeats), as in the `yaml` package; a merge key (`<<`)
 * may repeat. Aliases are not followed. Iterative.
 */
export function duplicateKeys(doc: Document): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isCollection(node)) continue;
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        if (!isScalar(key) || typeof key.value === 'symbol' || isMergeKey(key)) continue;
        // .nan never equals itself (a Set would say it does), as in the yaml package.
        if (Number.isNaN(key.value)) continue;
        if (seen.has(key.value) && key.range) {
          found.push({ key: String(key.value), range: [key.range[0], key.range[1]] });
        }
        seen.add(key.value);
      }
    }
    for (let i = node.items.length - 1; i >= 0; i--) {
      const item = node.items[i];
      if (isPair(item)) stack.push(item.value, item.key);
      else stack.push(item);
    }
  }
  return found.sort((a, b) => a.range[0] - b.range[0]);
}

function isMergeKey(key: { value: unknown; type?: string }): boolean {
  return key.value === '<<' && (key.type === undefined || key.type === 'PLAIN');
}
