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
 * values `policy/secret-literal` flags are masked with `*` (same length, so
 * positions hold), so no output format prints them. Never throws.
 */
export function runPolicy(
  files: readonly PolicyFile[],
  options: PolicyOptions,
  sources: Map<string, string>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of files) {
    if (options.config?.isIgnored(f.path)) continue;
    const text = sources.get(f.file);
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
    const secrets = found.filter((d) => d.code === 'policy/secret-literal');
    if (secrets.length > 0) sources.set(f.file, mask(text, secrets));
  }
  return out;
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
