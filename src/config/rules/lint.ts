/**
 * The rules of the lint machinery itself: suppression comments and
 * `.agentlint.yaml` (src/lint/). Registered in {@link RULES}.
 */

import type { RuleInfo } from './rule.js';

const lint = (name: string, summary: string, severity: RuleInfo['severity']): RuleInfo => ({
  id: `lint/${name}`,
  category: 'lint',
  summary,
  docs: `lint-${name}`,
  severity,
});

/** `lint/*` rules. */
export const LINT_RULES: readonly RuleInfo[] = [
  lint('config', 'an .agentlint.yaml that is malformed or names an unknown rule', 'error'),
  lint(
    'invalid-suppression',
    'an agent-lint-ignore comment without a reason, or for a rule it cannot suppress',
    'warning',
  ),
  lint('unused-suppression', 'an agent-lint-ignore comment that suppresses nothing', 'warning'),
];
