/** A small constructor for policy rules: category `policy`, severity `warning`, docs anchor `policy-NAME`. */

import type { DocumentRule, DocumentRuleContext } from '../rule.js';

/**
 * Makes the policy rule `policy/NAME`: category `policy`, default severity
 * `warning` (an error with `agent lint --strict`), documented under the
 * heading whose GitHub anchor is `policy-NAME` in docs/diagnostics.md.
 */
export function policyRule(
  name: string,
  summary: string,
  check: (ctx: DocumentRuleContext) => void,
): DocumentRule {
  return {
    id: `policy/${name}`,
    category: 'policy',
    summary,
    docs: `policy-${name}`,
    severity: 'warning',
    check,
  };
}
