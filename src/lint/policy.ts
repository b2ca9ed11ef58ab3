/**
 * The policy pass of `agent lint`: runs the policy rules
 * (src/config/rules/policy/) on every document without errors of its own,
 * sets each rule's severity from `.agentlint.yaml` and `--strict`, applies
 * suppression comments, and masks secret values in the texts that snippets
 * are printed from.
 *
 * Precedence of a rule's level: `.agentlint.yaml` `rules:` first (`off` does
 * not run the rule, even with `--strict`), else the rule's default
 * (`warning`; `off` for `policy/image-digest` unless `--strict`). Then
 * `--strict` raises every policy and lint warning to an error.
 */

import type { Diagnostic, Severity } from '../config/diagnostics.js';
import { findingDiagnostic, ruleInfo } from '../config/rules/index.js';
import { OFF_BY_DEFAULT, POLICY_RULES } from '../config/rules/policy/index.js';
import { secretLiteral } from '../config/rules/policy/secret-literal.js';
import type { ValidatedDocument } from '../config/validate.js';
import type { ProjectConfig, RuleLevel } from './project-config.js';
import { applySuppressions } from './suppressions.js';

/** How `agent lint` runs the policy rules. */
export interface PolicyOptions {
  /** `--strict`: policy and lint warnings become errors, and `policy/image-digest` runs. */
  strict?: boolean;
  /** The `.agentlint.yaml` that applies (rule levels, ignored files). */
  config?: ProjectConfig;
}

/** One loaded file, as the loader has it. */
export interface PolicyFile {
  /** Absolute path. */
  path: string;
  /** Name in diagnostics. */
  file: string;
  documents: readonly ValidatedDocument[];
}

/** The level of a policy or lint rule under `options` (see the module comment for the precedence). */
export function ruleLevel(id: string, options: PolicyOptions): RuleLevel {
  const configured = options.config?.rules.get(id);
  const base: RuleLevel =
    configured ??
    (OFF_BY_DEFAULT.has(id) && !options.strict ? 'off' : (ruleInfo(id)?.severity ?? 'warning'));
  return base === 'warning' && options.strict ? 'error' : base;
}

/**
 * Runs the policy pass over `files`. Returns the policy and `lint/*`
 * diagnostics; replaces, in `sources`, each file's text by one where the
 * values `policy/secret-literal` would flag are masked with `*` (same
 * length, so positions hold), so no output format prints them, even when the
 * rule is off. Never throws.
 */
export function runPolicy(
  files: readonly PolicyFile[],
  options: PolicyOptions,
  sources: Map<string, string>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of files) {
    const text = sources.get(f.file);
    if (options.config?.isIgnored(f.path)) {
      const secrets = secretRanges(f);
      if (text !== undefined && secrets.length > 0) sources.set(f.file, mask(text, secrets));
      continue;
    }
    const found: Diagnostic[] = [];
    // A file with a document the rules skipped: its suppressions may be for
    // problems not looked for, so none is reported unused.
    let skipped = false;
    for (const document of f.documents) {
      if (!document.kind || document.doc.broken) {
        skipped = true;
        continue;
      }
      if (document.diagnostics.some((d) => d.severity === 'error')) {
        skipped = true;
        continue;
      }
      const data = document.doc.data;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) continue;
      for (const rule of POLICY_RULES) {
        const level = ruleLevel(rule.id, options);
        if (level === 'off') continue;
        const ctx = { doc: document.doc, file: f.file };
        rule.check({
          ...ctx,
          path: f.path,
          kind: document.kind,
          ...(document.format ? { format: document.format } : {}),
          data: data as Record<string, unknown>,
          report: (finding) =>
            found.push({ ...findingDiagnostic(rule, ctx, finding), severity: level }),
        });
      }
    }
    if (text === undefined) {
      out.push(...found);
      continue;
    }
    const { kept, problems } = applySuppressions({
      file: f.file,
      text,
      diagnostics: found,
      enabled: (id) => !skipped && ruleLevel(id, options) !== 'off',
    });
    out.push(...kept);
    for (const p of problems) {
      const level = ruleLevel(p.code, options);
      if (level !== 'off') out.push({ ...p, severity: level as Severity });
    }
    const secrets = secretRanges(f);
    if (secrets.length > 0) sources.set(f.file, mask(text, secrets));
  }
  return out;
}

/**
 * Where the values `policy/secret-literal` flags are, in every document of
 * the file that has data, whether or not the rule is on, the file ignored or
 * the document in error: a snippet of any diagnostic never shows one.
 */
function secretRanges(f: PolicyFile): Diagnostic[] {
  const ranges: Diagnostic[] = [];
  for (const document of f.documents) {
    const data = document.doc.data;
    if (!document.kind || document.doc.broken) continue;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) continue;
    const ctx = { doc: document.doc, file: f.file };
    secretLiteral.check({
      ...ctx,
      path: f.path,
      kind: document.kind,
      ...(document.format ? { format: document.format } : {}),
      data: data as Record<string, unknown>,
      report: (finding) => ranges.push(findingDiagnostic(secretLiteral, ctx, finding)),
    });
  }
  return ranges;
}

/** `text` with the characters of each diagnostic's range (except line breaks) replaced by `*`. */
function mask(text: string, ranges: readonly Diagnostic[]): string {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const offset = (line: number, column: number) => (starts[line - 1] ?? text.length) + column - 1;
  // Columns count UTF-16 units, as `split('')` does.
  const units = text.split('');
  for (const d of ranges) {
    const a = offset(d.line, d.column);
    const b = offset(d.endLine ?? d.line, d.endColumn ?? d.column + 1);
    for (let i = a; i < Math.min(b, units.length); i++) {
      if (units[i] !== '\n' && units[i] !== '\r') units[i] = '*';
    }
  }
  return units.join('');
}
