/**
 * Diagnostics are data: every stage (load, validate, plan) reports problems as
 * {@link Diagnostic} values, never as thrown errors or printed text. Formatting
 * (`file:line:col: message [rule]` plus a caret snippet, or JSON) is separate,
 * in {@link formatDiagnostic}.
 *
 * Model: rhysd/actionlint's `file:line:col: message [rule]`.
 */

import { escapeGithubData, escapeGithubProperty } from '../core/workflow-commands.js';

/** How bad a problem is. `error` fails `agent lint` (exit 1) and stops `agent run` (exit 2). */
export type Severity = 'error' | 'warning';

/**
 * One problem in a configuration file.
 *
 * Positions are 1-based (line and column), as editors show them; `endLine` /
 * `endColumn` point one past the last character of the offending token.
 */
export interface Diagnostic {
  /** Rule id, e.g. `yaml/syntax`, `schema/unknown-key`, `workflow/unknown-need`, `workflow/cycle`. */
  code: string;
  severity: Severity;
  /** Lower-case, concrete, quotes the bad token and says what is allowed. No ANSI codes. */
  message: string;
  /** Path of the file as given by the user (relative paths stay relative). */
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  /** How to fix it, when there is something more to say than the message. */
  hint?: string;
}

/** Sorts by file, line, column, code, message and drops exact duplicates. Pure. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const sorted = [...list].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
  const out: Diagnostic[] = [];
  let last = '';
  for (const d of sorted) {
    const key = `${d.file}\0${d.line}\0${d.column}\0${d.code}\0${d.message}`;
    if (key !== last) out.push(d);
    last = key;
  }
  return out;
}

/** True when any diagnostic is an error. */
export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === 'error');
}

/**
 * How {@link formatDiagnostic} styles the parts of its output (e.g. with ANSI
 * colours). Each function returns its text with the styling added; the
 * default adds nothing.
 */
export interface DiagnosticStyle {
  /** The caret under an error. */
  error(text: string): string;
  /** The `warning:` label and the caret under a warning. */
  warning(text: string): string;
  /** The rule id in brackets, e.g. `[schema/unknown-key]`. */
  rule(text: string): string;
  /** The gutter of the snippet and the `hint:` label. */
  dim(text: string): string;
}

const unstyled: DiagnosticStyle = {
  error: (t) => t,
  warning: (t) => t,
  rule: (t) => t,
  dim: (t) => t,
};

/**
 * Formats one diagnostic as `file:line:col: message [rule]`, and, when the
 * source text is given, the offending line with a caret underline:
 *
 * ```
 * agent.yaml:4:5: unknown key "imgae"; did you mean "image"? [schema/unknown-key]
 *   4 |     imgae: local/node:20
 *     |     ^~~~~
 * ```
 *
 * A warning says `warning: ` before its message; an error has no label.
 * `style` adds styling (colours) to the severity, caret, rule id and gutter;
 * without it the text is plain.
 */
export function formatDiagnostic(
  d: Diagnostic,
  source?: string,
  style: DiagnosticStyle = unstyled,
): string {
  const severity = d.severity === 'warning' ? style.warning : style.error;
  const head = `${d.file}:${d.line}:${d.column}: ${d.severity === 'warning' ? `${style.warning('warning:')} ` : ''}${d.message} ${style.rule(`[${d.code}]`)}`;
  const lines = [head];
  if (source !== undefined) {
    const text = source.split(/\r?\n/)[d.line - 1];
    if (text !== undefined) {
      const gutter = String(d.line).length;
      const width =
        d.endLine === d.line && d.endColumn !== undefined && d.endColumn > d.column
          ? d.endColumn - d.column
          : 1;
      lines.push(`${style.dim(`  ${d.line} |`)} ${text}`);
      lines.push(
        `${style.dim(`  ${' '.repeat(gutter)} |`)} ${' '.repeat(Math.max(0, d.column - 1))}${severity(`^${'~'.repeat(Math.max(0, width - 1))}`)}`,
      );
    }
  }
  if (d.hint) lines.push(`  ${style.dim('hint:')} ${d.hint}`);
  return lines.join('\n');
}

/**
 * Formats one diagnostic as a GitHub Actions workflow command, which the
 * Actions runner turns into an annotation on the file and line:
 * `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=RULE::MESSAGE`.
 * Property values and the message are escaped as the runner expects
 * (`%`, CR, LF; plus `:` and `,` in properties).
 * Source: GitHub Docs, "Workflow commands for GitHub Actions".
 */
export function formatDiagnosticGithub(d: Diagnostic): string {
  const data = escapeGithubData;
  const prop = escapeGithubProperty;
  const props = [
    `file=${prop(d.file)}`,
    `line=${d.line}`,
    `col=${d.column}`,
    ...(d.endLine !== undefined ? [`endLine=${d.endLine}`] : []),
    ...(d.endColumn !== undefined ? [`endColumn=${d.endColumn}`] : []),
    `title=${prop(d.code)}`,
  ];
  const message = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
  return `::${d.severity === 'warning' ? 'warning' : 'error'} ${props.join(',')}::${data(message)}`;
}
