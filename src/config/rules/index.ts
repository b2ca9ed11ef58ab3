/**
 * The one list of lint rules. Every diagnostic code agentfile reports is
 * registered here with its metadata ({@link RuleInfo}); a test fails when a
 * code is reported that is not in the list, or when a rule has no section in
 * docs/diagnostics.md.
 */

import { LINT_RULES } from './lint.js';
import { POLICY_RULES } from './policy/index.js';
import type { RuleInfo } from './rule.js';

export type { DocumentRule, DocumentRuleContext, Finding, RuleCategory, RuleInfo } from './rule.js';
export { DOCS_URL, findingDiagnostic, helpUri } from './rule.js';

const info = (
  id: string,
  category: RuleInfo['category'],
  docs: string,
  summary: string,
  severity: RuleInfo['severity'] = 'error',
): RuleInfo => ({ id, category, docs, summary, severity });

/** Rules of the loader, the schemas and the semantic checks (errors everywhere). */
const CORE_RULES: readonly RuleInfo[] = [
  info('file/not-found', 'file', 'files', 'a file that does not exist or cannot be read'),
  info('file/empty', 'file', 'files', 'a file without YAML documents'),
  info('yaml/syntax', 'yaml', 'yaml', 'text that is not valid YAML'),
  info('yaml/duplicate-key', 'yaml', 'yaml', 'a key that appears twice in one mapping'),
  info('yaml/warning', 'yaml', 'yaml', 'a YAML construct the parser warns about', 'warning'),
  info('schema/unknown-key', 'schema', 'schema', 'a key that the schema does not define'),
  info('schema/type', 'schema', 'schema', 'a value of the wrong type'),
  info('schema/enum', 'schema', 'schema', 'a value that is not one of the allowed ones'),
  info('schema/required', 'schema', 'schema', 'a required key that is missing'),
  info('schema/pattern', 'schema', 'schema', 'a string that does not have the required form'),
  info('schema/range', 'schema', 'schema', 'a number, string or list out of its allowed range'),
  info('schema/one-of', 'schema', 'schema', 'keys that exclude each other, or none of several'),
  info('schema/invalid', 'schema', 'schema', 'any other schema violation'),
  info('units/duration', 'units', 'units', 'a duration that is malformed, zero or out of range'),
  info('units/cpu', 'units', 'units', 'a CPU quantity that is malformed or out of range'),
  info('units/memory', 'units', 'units', 'a memory quantity that is malformed or out of range'),
  info('units/port', 'units', 'units', 'a port or port mapping that is malformed or out of range'),
  info('agent/runtime', 'agent', 'agents', 'fields that do not fit the agent runtime'),
  info('agent/workdir', 'agent', 'agents', 'a container working directory that is not absolute'),
  info(
    'agent/log-pattern',
    'agent',
    'agents',
    'a log health check pattern that is not a valid regular expression',
  ),
  info('agent/volume', 'agent', 'agents', 'a volume that is malformed'),
  info('agent/capability', 'agent', 'agents', 'a Linux capability that does not exist'),
  info('agent/network', 'agent', 'agents', 'a network setting that is malformed'),
  info('agent/replicas', 'agent', 'agents', 'replicas on an agent that cannot have them'),
  info(
    'agent-dev/runtime',
    'agent-dev',
    'agentdevv1-agents',
    'an agent.dev/v1 runtime that is not supported',
  ),
  info(
    'agent-dev/dependency',
    'agent-dev',
    'agentdevv1-agents',
    'an agent.dev/v1 dependency that is malformed',
  ),
  info(
    'agent-dev/entrypoint',
    'agent-dev',
    'agentdevv1-agents',
    'an agent.dev/v1 agent without an entry file',
  ),
  info(
    'agent-dev/manifest',
    'agent-dev',
    'agentdevv1-agents',
    'an agent.dev/v1 dependency that disagrees with the manifest beside it',
    'warning',
  ),
  info(
    'step/run-or-command',
    'workflow',
    'workflows-steps-and-services',
    'a step with both or neither of run and command',
  ),
  info(
    'step/workdir',
    'workflow',
    'workflows-steps-and-services',
    'a container step working directory that is not absolute',
  ),
  info(
    'workflow/unknown-need',
    'workflow',
    'workflows-steps-and-services',
    'a need that is neither a step nor a service',
  ),
  info('workflow/cycle', 'workflow', 'workflows-steps-and-services', 'steps that need each other'),
  info(
    'workflow/name-clash',
    'workflow',
    'workflows-steps-and-services',
    'a step id that is also a service name',
  ),
  info(
    'service/uses',
    'workflow',
    'workflows-steps-and-services',
    'a service uses reference that cannot be followed',
  ),
  info(
    'document/duplicate-name',
    'workflow',
    'workflows-steps-and-services',
    'two documents of one kind with the same name',
  ),
  info('input/default', 'expression', 'expressions', 'an input default that does not fit its type'),
  info(
    'input/options',
    'expression',
    'expressions',
    'choice input options that are missing or do not fit',
  ),
  info('expr/syntax', 'expression', 'expressions', 'an expression that does not parse'),
  info('expr/unclosed', 'expression', 'expressions', 'a ${{ without its closing }}'),
  info('expr/unknown-context', 'expression', 'expressions', 'a context that does not exist'),
  info('expr/unknown-function', 'expression', 'expressions', 'a function that does not exist'),
  info(
    'expr/unknown-input',
    'expression',
    'expressions',
    'an input that the workflow does not declare',
  ),
  info(
    'expr/unknown-secret',
    'expression',
    'expressions',
    'a secret that the workflow does not declare',
  ),
  info('expr/unknown-step', 'expression', 'expressions', 'a step that does not exist'),
  info('expr/unknown-step-field', 'expression', 'expressions', 'a step field that does not exist'),
  info(
    'expr/unknown-output',
    'expression',
    'expressions',
    'a step output that the step does not declare',
  ),
  info('expr/unknown-service', 'expression', 'expressions', 'a service that does not exist'),
  info(
    'expr/unknown-service-field',
    'expression',
    'expressions',
    'a service field that does not exist',
  ),
  info(
    'expr/unknown-matrix-key',
    'expression',
    'expressions',
    'a matrix key that the step does not have',
  ),
  info('expr/unknown-run-field', 'expression', 'expressions', 'a run field that does not exist'),
  info(
    'expr/not-a-need',
    'expression',
    'expressions',
    'a step or service read without being needed',
  ),
  info('expr/status-function-here', 'expression', 'expressions', 'a status function outside if:'),
  info('expr/type', 'expression', 'expressions', 'a comparison that is always false for its types'),
  info('expr/eval', 'expression', 'expressions', 'an expression that fails when it is evaluated'),
  info(
    'expr/condition-always-true',
    'expression',
    'expressions',
    'an if: whose text around ${{ }} makes it always true',
  ),
];

/**
 * Every rule, in a stable order: the core rules, then the policy rules
 * (`./policy/`, by id), then the lint rules (`./lint.ts`).
 */
export const RULES: readonly RuleInfo[] = [
  ...CORE_RULES,
  // Only the metadata: SARIF and the docs read RULES, not the check functions.
  ...POLICY_RULES.map(({ id, category, summary, docs, severity }) => ({
    id,
    category,
    summary,
    docs,
    severity,
  })),
  ...LINT_RULES,
];

const byId = new Map(RULES.map((r) => [r.id, r]));

/** The rule with this id, or undefined. */
export function ruleInfo(id: string): RuleInfo | undefined {
  return byId.get(id);
}
