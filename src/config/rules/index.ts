/**
 * The one list of lint rules. Every diagnostic code agentfile reports is
 * registered here with its metadata ({@link RuleInfo}); a test fails when a
 * code is reported that is not in the list, or when a rule has no section in
 * docs/diagnostics.md. Schema and semantic rules are modules under this
 * directory, one per rule, each with its id, docs anchor and check, as
 * rhysd/actionlint organises its rules.
 */

import { capabilityRule } from './agent/capability.js';
import { logPatternRule } from './agent/log-pattern.js';
import { networkRule } from './agent/network.js';
import { replicasRule } from './agent/replicas.js';
import { runtimeRule } from './agent/runtime.js';
import { volumeRule } from './agent/volume.js';
import { agentWorkdirRule } from './agent/workdir.js';
import { LINT_RULES } from './lint.js';
import { POLICY_RULES } from './policy/index.js';
import type { DocumentRule, Rule, RuleInfo, SchemaRule } from './rule.js';
import { notAllowed } from './schema/enum.js';
import { invalid } from './schema/invalid.js';
import { oneOf, runOrCommand } from './schema/one-of.js';
import { pattern } from './schema/pattern.js';
import { range } from './schema/range.js';
import { missingKey } from './schema/required.js';
import { wrongType } from './schema/type.js';
import { unknownKey } from './schema/unknown-key.js';
import { durationRule } from './units/duration.js';
import { portRule } from './units/port.js';
import { cpuRule, memoryRule } from './units/quantity.js';
import { cycleRule } from './workflow/cycle.js';
import { nameClashRule } from './workflow/name-clash.js';
import { stepWorkdirRule } from './workflow/step-workdir.js';
import { unknownNeedRule } from './workflow/unknown-need.js';

export type {
  DocumentRule,
  DocumentRuleContext,
  Finding,
  Rule,
  RuleCategory,
  RuleInfo,
  SchemaErrorContext,
  SchemaRule,
} from './rule.js';
export { DOCS_URL, findingDiagnostic, helpUri } from './rule.js';

/**
 * The rule modules, in the order schema errors are offered to them: unit
 * rules first (a duration's pattern failure is a units/duration problem,
 * not a schema/pattern one), `step/run-or-command` before `schema/one-of`,
 * `schema/invalid` (which explains anything) last.
 */
const MODULES: readonly Rule[] = [
  durationRule,
  cpuRule,
  memoryRule,
  portRule,
  unknownKey,
  wrongType,
  notAllowed,
  missingKey,
  runOrCommand,
  oneOf,
  pattern,
  range,
  invalid,
  runtimeRule,
  agentWorkdirRule,
  logPatternRule,
  volumeRule,
  capabilityRule,
  networkRule,
  replicasRule,
  stepWorkdirRule,
  nameClashRule,
  unknownNeedRule,
  cycleRule,
];

/** The rules that explain ajv errors, in the order they are offered an error. */
export const SCHEMA_RULES: readonly SchemaRule[] = MODULES.filter(
  (r): r is SchemaRule => r.explain !== undefined,
);

/** The rules that check every agentfile/v1 document (errors everywhere, also for `agent run`). */
export const DOCUMENT_RULES: readonly DocumentRule[] = MODULES.filter(
  (r): r is DocumentRule => r.check !== undefined,
);

const info = (
  id: string,
  category: RuleInfo['category'],
  docs: string,
  summary: string,
  severity: RuleInfo['severity'] = 'error',
): RuleInfo => ({ id, category, docs, summary, severity });

/**
 * Rules reported by checkers that cover many codes at once: the loader
 * (`file/*`, `yaml/*`), the uses: resolver, the expression checks
 * (`expr/*`, `input/*`, src/config/expressions.ts) and the agent.dev/v1
 * checks (`agent-dev/*`, src/config/agent-dev.ts).
 */
const REPORTED_ELSEWHERE: readonly RuleInfo[] = [
  info('file/not-found', 'file', 'files', 'a file that does not exist or cannot be read'),
  info('file/empty', 'file', 'files', 'a file without YAML documents'),
  info('file/too-large', 'file', 'files', 'a file larger than the size limit, refused unread'),
  info('file/binary', 'file', 'files', 'a file with NUL bytes, which is not text'),
  info('file/encoding', 'file', 'files', 'a file that is not valid UTF-8'),
  info('yaml/too-deep', 'yaml', 'yaml', 'data nested deeper than the nesting limit'),
  info(
    'yaml/alias-limit',
    'yaml',
    'yaml',
    'more alias expansions than the limit (a billion laughs)',
  ),
  info('yaml/alias-cycle', 'yaml', 'yaml', 'an alias inside its own anchor'),
  info(
    'document/foreign',
    'workflow',
    'workflows-steps-and-services',
    'a YAML document of another tool, such as a compose file or a GitHub workflow',
  ),
  info('yaml/syntax', 'yaml', 'yaml', 'text that is not valid YAML'),
  info('yaml/duplicate-key', 'yaml', 'yaml', 'a key that appears twice in one mapping'),
  info('yaml/warning', 'yaml', 'yaml', 'a YAML construct the parser warns about', 'warning'),
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
  info(
    'input/default',
    'expression',
    'expressions-and-inputs',
    'an input default that does not fit its type',
  ),
  info(
    'input/options',
    'expression',
    'expressions-and-inputs',
    'choice input options that are missing or do not fit',
  ),
  info('expr/syntax', 'expression', 'expressions-and-inputs', 'an expression that does not parse'),
  info('expr/unclosed', 'expression', 'expressions-and-inputs', 'a ${{ without its closing }}'),
  info(
    'expr/unknown-context',
    'expression',
    'expressions-and-inputs',
    'a context that does not exist',
  ),
  info(
    'expr/unknown-function',
    'expression',
    'expressions-and-inputs',
    'a function that does not exist',
  ),
  info(
    'expr/unknown-input',
    'expression',
    'expressions-and-inputs',
    'an input that the workflow does not declare',
  ),
  info(
    'expr/unknown-secret',
    'expression',
    'expressions-and-inputs',
    'a secret that the workflow does not declare',
  ),
  info('expr/unknown-step', 'expression', 'expressions-and-inputs', 'a step that does not exist'),
  info(
    'expr/unknown-step-field',
    'expression',
    'expressions-and-inputs',
    'a step field that does not exist',
  ),
  info(
    'expr/unknown-output',
    'expression',
    'expressions-and-inputs',
    'a step output that the step does not declare',
  ),
  info(
    'expr/unknown-service',
    'expression',
    'expressions-and-inputs',
    'a service that does not exist',
  ),
  info(
    'expr/unknown-service-field',
    'expression',
    'expressions-and-inputs',
    'a service field that does not exist',
  ),
  info(
    'expr/unknown-matrix-key',
    'expression',
    'expressions-and-inputs',
    'a matrix key that the step does not have',
  ),
  info(
    'expr/unknown-run-field',
    'expression',
    'expressions-and-inputs',
    'a run field that does not exist',
  ),
  info(
    'expr/not-a-need',
    'expression',
    'expressions-and-inputs',
    'a step or service read without being needed',
  ),
  info(
    'expr/status-function-here',
    'expression',
    'expressions-and-inputs',
    'a status function outside if:',
  ),
  info(
    'expr/type',
    'expression',
    'expressions-and-inputs',
    'a comparison that is always false for its types',
  ),
  info(
    'expr/eval',
    'expression',
    'expressions-and-inputs',
    'an expression that fails when it is evaluated',
  ),
  info(
    'expr/condition-always-true',
    'expression',
    'expressions-and-inputs',
    'an if: whose text around ${{ }} makes it always true',
  ),
];

/** Every rule, sorted by id: the modules above, the policy rules (`./policy/`), the lint rules (`./lint.ts`) and the rules reported elsewhere. Only the metadata: SARIF and the docs read RULES. */
export const RULES: readonly RuleInfo[] = [
  ...MODULES,
  ...POLICY_RULES,
  ...LINT_RULES,
  ...REPORTED_ELSEWHERE,
]
  .map(({ id, category, docs, summary, severity }) => ({ id, category, docs, summary, severity }))
  .sort((a, b) => a.id.localeCompare(b.id));

const byId = new Map(RULES.map((r) => [r.id, r]));

/** The rule with this id, or undefined. */
export function ruleInfo(id: string): RuleInfo | undefined {
  return byId.get(id);
}
