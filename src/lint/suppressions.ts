/**
 * Suppression comments: `# agent-lint-ignore RULE[,RULE…] REASON` on the line
 * of a diagnostic, or alone on the line above it, silences those rules'
 * diagnostics on that line. A reason is required; only policy rules can be
 * suppressed (every other rule describes a file `agent run` rejects too).
 *
 * Comments are read from the YAML parser's concrete syntax tree
 * (`yaml`'s `Parser`), so a `#` inside a quoted string or a block scalar is
 * never taken for one.
 */

import { Parser } from 'yaml';
import type { Diagnostic } from '../config/diagnostics.js';
import { RULES, ruleInfo } from '../config/rules/index.js';
import { suggestion } from '../config/suggest.js';

/** The comment keyword. */
export const SUPPRESSION_KEYWORD = 'agent-lint-ignore';

/** One `# agent-lint-ignore` comment. */
export interface Suppression {
  /** 1-based position of the `#`. */
  line: number;
  column: number;
  /** One past the comment's last character, on `line`. */
  endColumn: number;
  /** The rule ids, as written. */
  rules: string[];
  /** The text after the rules; empty when none was given. */
  reason: string;
  /** The line it silences: its own line when it trails code, the next line when it stands alone. */
  appliesTo: number;
}

/** A comment token of the CST: its offset in the text and its source (`# …`). */
interface CommentToken {
  offset: number;
  source: string;
}

function collectComments(node: unknown, out: CommentToken[], seen: Set<object>): void {
  if (typeof node !== 'object' || node === null || seen.has(node)) return;
  seen.add(node);
  const token = node as { type?: unknown; offset?: unknown; source?: unknown };
  if (
    token.type === 'comment' &&
    typeof token.offset === 'number' &&
    typeof token.source === 'string'
  ) {
    out.push({ offset: token.offset, source: token.source });
    return;
  }
  for (const value of Object.values(node)) collectComments(value, out, seen);
}

const SUPPRESSION = new RegExp(
  `^#\\s*${SUPPRESSION_KEYWORD}(?:\\s+([A-Za-z0-9_./-]+(?:\\s*,\\s*[A-Za-z0-9_./-]+)*))?\\s*(.*)$`,
);

/**
 * Every suppression comment of a file's text, in order. Text that does not
 * parse still yields the comments the parser found. Pure.
 */
export function readSuppressions(text: string): Suppression[] {
  // Most files have none: skip parsing the text a second time for its comments.
  if (!text.includes(SUPPRESSION_KEYWORD)) return [];
  const comments: CommentToken[] = [];
  const seen = new Set<object>();
  for (const token of new Parser().parse(text)) collectComments(token, comments, seen);
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const linePos = (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] ?? 0) + 1 };
  };
  const out: Suppression[] = [];
  for (const c of comments.sort((a, b) => a.offset - b.offset)) {
    const m = SUPPRESSION.exec(c.source.trimEnd());
    if (!m) continue;
    const pos = linePos(c.offset);
    const lineStart = c.offset - (pos.col - 1);
    const alone = text.slice(lineStart, c.offset).trim() === '';
    out.push({
      line: pos.line,
      column: pos.col,
      endColumn: pos.col + c.source.trimEnd().length,
      rules: (m[1] ?? '')
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
      reason: (m[2] ?? '').replace(/^(--|:|-)\s*/, '').trim(),
      appliesTo: alone ? pos.line + 1 : pos.line,
    });
  }
  return out;
}

/** What {@link applySuppressions} returns. */
export interface SuppressionResult {
  /** The diagnostics that were not suppressed. */
  kept: Diagnostic[];
  /** `lint/invalid-suppression` and `lint/unused-suppression` diagnostics. */
  problems: Diagnostic[];
}

/**
 * Drops the diagnostics of `file` that a valid suppression in `text` names
 * (same rule, the diagnostic's start line), and reports the suppressions
 * that are invalid (no rule, an unknown rule with a did-you-mean, a rule
 * that is not a policy rule, no reason: these suppress nothing) or unused.
 * A suppression of a rule that is not enabled in this lint (`enabled` says
 * false, e.g. `policy/image-digest` without `--strict`) is not unused.
 *
 * The `lint/*` diagnostics have their rules' default severity (warning);
 * the caller applies `--strict` and `.agentlint.yaml` to them.
 *
 * @param options.diagnostics diagnostics to filter; those of other files
 *   pass through untouched.
 */
export function applySuppressions(options: {
  file: string;
  text: string;
  diagnostics: readonly Diagnostic[];
  enabled: (rule: string) => boolean;
}): SuppressionResult {
  const { file, text, diagnostics, enabled } = options;
  const problems: Diagnostic[] = [];
  const policyIds = RULES.filter((r) => r.category === 'policy').map((r) => r.id);
  const problem = (s: Suppression, code: string, message: string, hint?: string) => {
    problems.push({
      code,
      severity: 'warning',
      message,
      file,
      line: s.line,
      column: s.column,
      endLine: s.line,
      endColumn: s.endColumn,
      ...(hint ? { hint } : {}),
    });
  };
  /** `${line}\0${rule}` → used? */
  const active = new Map<string, { s: Suppression; rule: string; used: boolean }>();
  for (const s of readSuppressions(text)) {
    if (s.rules.length === 0) {
      problem(
        s,
        'lint/invalid-suppression',
        `"${SUPPRESSION_KEYWORD}" names no rule, so it suppresses nothing; write "# ${SUPPRESSION_KEYWORD} RULE reason"`,
      );
      continue;
    }
    if (s.reason === '') {
      problem(
        s,
        'lint/invalid-suppression',
        `the suppression of ${s.rules.map((r) => JSON.stringify(r)).join(', ')} gives no reason, so it suppresses nothing; say why after the rule`,
        `e.g. # ${SUPPRESSION_KEYWORD} ${s.rules.join(',')} the image is built and pinned by CI`,
      );
      continue;
    }
    for (const rule of s.rules) {
      const info = ruleInfo(rule);
      if (!info) {
        problem(
          s,
          'lint/invalid-suppression',
          `unknown rule ${JSON.stringify(rule)} in a suppression${suggestion(rule, policyIds)}`,
        );
        continue;
      }
      if (info.category !== 'policy') {
        problem(
          s,
          'lint/invalid-suppression',
          `${JSON.stringify(rule)} cannot be suppressed: only policy rules can; fix the problem instead`,
        );
        continue;
      }
      active.set(`${s.appliesTo}\0${rule}`, { s, rule, used: false });
    }
  }
  const kept: Diagnostic[] = [];
  for (const d of diagnostics) {
    const hit = d.file === file ? active.get(`${d.line}\0${d.code}`) : undefined;
    if (hit) {
      hit.used = true;
      continue;
    }
    kept.push(d);
  }
  for (const { s, rule, used } of active.values()) {
    if (used || !enabled(rule)) continue;
    problem(
      s,
      'lint/unused-suppression',
      `the suppression of ${JSON.stringify(rule)} is unused: line ${s.appliesTo} has no such problem; remove it`,
    );
  }
  return { kept, problems };
}
