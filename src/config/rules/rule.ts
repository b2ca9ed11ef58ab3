/**
 * What every lint rule is: an id, a one-line summary, the anchor of its
 * section in `docs/diagnostics.md`, a default severity and a category. Rules
 * are registered in one list ({@link RULES} in `./index.ts`), as rhysd/actionlint
 * organises its rules; SARIF output, the docs test and `.agentlint.yaml`
 * read their metadata from there.
 *
 * A rule that checks a validated document is a {@link DocumentRule}: its
 * `check` reads the raw document data defensively (a value of the wrong shape
 * is the schema's to report, so a rule skips it) and reports through
 * {@link DocumentRuleContext.report}; it never throws.
 */

import type { ErrorObject } from 'ajv';
import type { Diagnostic, Severity } from '../diagnostics.js';
import type { SourceDocument } from '../load.js';

/**
 * Where a rule belongs. `policy` rules flag risky but valid configurations;
 * they run only in `agent lint`, as warnings (errors with `--strict`). All
 * others describe configurations that cannot run and are errors everywhere.
 */
export type RuleCategory =
  | 'file'
  | 'yaml'
  | 'schema'
  | 'units'
  | 'agent'
  | 'workflow'
  | 'expression'
  | 'agent-dev'
  | 'policy'
  | 'lint';

/** A rule's metadata: what SARIF's `reportingDescriptor` and the docs need. */
export interface RuleInfo {
  /** Stable id, `category/name`, e.g. `schema/unknown-key`, `policy/privileged`. Never renamed once released. */
  id: string;
  category: RuleCategory;
  /** One sentence, no trailing period, e.g. "a key that the schema does not define". */
  summary: string;
  /** Anchor of the rule's section in docs/diagnostics.md, without `#`, e.g. `schema` or `policy-privileged`. */
  docs: string;
  /** Severity when no flag or `.agentlint.yaml` changes it. */
  severity: Severity;
}

/** Where a checker that is not a rule module reports: the document and the file name as the user gave it. */
export interface RuleContext {
  doc: SourceDocument;
  file: string;
}

/** A JSON path into a document: keys and (decimal) sequence indices. */
export type Path = readonly string[];

/** What a {@link DocumentRule} reports; file and position are filled in from `at`. */
export interface Finding {
  /** Where the problem is. */
  at: Path;
  /** Point at the key or at the value (default `value`). */
  target?: 'key' | 'value';
  message: string;
  hint?: string;
  /** Overrides the rule's severity for this finding (e.g. an unknown key in an agent.dev/v1 file is a warning). */
  severity?: Severity;
}

/** What a {@link DocumentRule} sees of one document. */
export interface DocumentRuleContext {
  doc: SourceDocument;
  /** File name as the user gave it; the `file` of diagnostics. */
  file: string;
  /** Absolute path of the file, when it was read from disk. */
  path?: string;
  kind: 'Agent' | 'Workflow';
  /** `agent.dev/v1` for an agent-as-code Agent; undefined for agentfile/v1. */
  format?: 'agent.dev/v1';
  /** The whole document as plain data (a mapping). */
  data: Record<string, unknown>;
  /** Records a problem under the rule's id and default severity. */
  report(finding: Finding): void;
}

/** A rule that checks one validated document. */
export interface DocumentRule extends RuleInfo {
  check(ctx: DocumentRuleContext): void;
}

/**
 * What a schema rule knows about the ajv errors of one document, beyond the
 * error it explains: facts about the other errors that decide whether this
 * one is worth a message.
 */
export interface SchemaErrorContext {
  doc: SourceDocument;
  file: string;
  kind: 'Agent' | 'Workflow';
  format?: 'agent.dev/v1';
  /** Instance paths of objects with an unknown key (a misspelt key is one mistake, not also a missing one). */
  unknownKeyParents: ReadonlySet<string>;
  /** `${instancePath}\0${propertyName}` → the schema of the map whose key failed `propertyNames`. */
  keyMaps: ReadonlyMap<string, Record<string, unknown>>;
  /** The unit definition (`duration`, `cpu`, `memory`, `port`, `hostPort`, `portMapping`) an error is about, if any. */
  unitOf(e: ErrorObject): { code: string; def: string } | undefined;
}

/**
 * A rule that turns ajv errors into findings. `explain` returns undefined
 * for an error that is not its own, and null for one of its own that another
 * error already says (it is dropped); the first rule in {@link RULES} order
 * that claims an error reports it.
 */
export interface SchemaRule extends RuleInfo {
  explain(e: ErrorObject, ctx: SchemaErrorContext): Finding | null | undefined;
}

/** A rule module: metadata and what it checks (schema errors, documents, or both). */
export type Rule = RuleInfo &
  Partial<Pick<SchemaRule, 'explain'>> &
  Partial<Pick<DocumentRule, 'check'>>;

/** Builds the {@link Diagnostic} for a finding of `rule` in `ctx`. Pure. */
export function findingDiagnostic(
  rule: RuleInfo,
  ctx: { doc: SourceDocument; file: string },
  finding: Finding,
): Diagnostic {
  return {
    code: rule.id,
    severity: finding.severity ?? rule.severity,
    message: finding.message,
    file: ctx.file,
    ...ctx.doc.locate(finding.at, finding.target ?? 'value'),
    ...(finding.hint !== undefined ? { hint: finding.hint } : {}),
  };
}

/** Where the rule docs live, for SARIF `helpUri`: `${DOCS_URL}#${rule.docs}`. */
export const DOCS_URL = 'https://agentfile.dev/docs/diagnostics';

/** The help URI of a rule. */
export function helpUri(rule: RuleInfo): string {
  return `${DOCS_URL}#${rule.docs}`;
}
