/**
 * A {@link Redactor} for tests: replaces every occurrence of each literal
 * value with `***`, longest values first (what a runner's secret masker
 * does, as GitHub Actions' does).
 */

import type { Redactor } from '../../src/executors/types.js';

/** A redactor masking `values` (empty strings are ignored). */
export function literalRedactor(values: string[]): Redactor {
  const sorted = [...new Set(values.filter((v) => v !== ''))].sort((a, b) => b.length - a.length);
  return {
    longest: sorted[0]?.length ?? 0,
    redact(text) {
      let out = text;
      for (const value of sorted) out = out.split(value).join('***');
      return out;
    },
  };
}
