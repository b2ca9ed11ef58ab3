/**
 * The output formats of `agent lint` (docs/cli.md): `pretty` for people,
 * `json` for scripts, `github` for Actions annotations, `sarif` for code
 * scanning; and the verdict (`--max-warnings`). The CLI decides where the
 * text goes and what the exit code is; this module only renders.
 */

import {
  type Diagnostic,
  formatDiagnostic,
  formatDiagnosticGithub,
} from '../../config/diagnostics.js';
import { painter } from './color.js';
import { toSarif } from './sarif.js';

export { colorsEnabled, type Painter, painter } from './color.js';
export { fingerprint, ruleName, SARIF_SCHEMA_URI, toSarif } from './sarif.js';

/** The values of `agent lint --format`. */
export const LINT_FORMATS = ['pretty', 'json', 'github', 'sarif'] as const;

/** One of {@link LINT_FORMATS}. */
export type LintFormat = (typeof LINT_FORMATS)[number];

/** The counts of one lint run and whether it fails. */
export interface LintVerdict {
  errors: number;
  warnings: number;
  /** `--max-warnings N`, when given. */
  maxWarnings?: number;
  /** True when `maxWarnings` is given and `warnings` is more than it. */
  tooManyWarnings: boolean;
  /** Any error, or too many warnings: `agent lint` exits 1. */
  failed: boolean;
}

/**
 * Counts errors and warnings (of the list as reported, i.e. after
 * suppressions) and decides the outcome: failed on any error, or on more
 * than `maxWarnings` warnings (ESLint's `--max-warnings`).
 */
export function lintVerdict(diagnostics: readonly Diagnostic[], maxWarnings?: number): LintVerdict {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const tooManyWarnings = maxWarnings !== undefined && warnings > maxWarnings;
  return {
    errors,
    warnings,
    ...(maxWarnings !== undefined ? { maxWarnings } : {}),
    tooManyWarnings,
    failed: errors > 0 || tooManyWarnings,
  };
}

/** Why a run failed on warnings, e.g. `too many warnings: 3 is more than --max-warnings 2`. */
export function tooManyWarningsText(verdict: LintVerdict): string {
  return `too many warnings: ${verdict.warnings} is more than --max-warnings ${verdict.maxWarnings}`;
}

/**
 * Parses the value of `--max-warnings`: a whole number ≥ 0 in decimal.
 * @throws Error with a user-facing message for anything else (`-1`, `1.5`, `x`).
 */
export function parseMaxWarnings(value: string): number {
  if (!/^\d+$/.test(value.trim())) {
    throw new Error(`expected a whole number of warnings, 0 or more, got "${value}"`);
  }
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new Error(`"${value}" is too large`);
  return n;
}

/** What {@link renderLint} needs besides the diagnostics. */
export interface RenderOptions {
  format: LintFormat;
  /** The files as named on the command line (the pretty "no problems found" line). */
  files: readonly string[];
  /** Absolute working directory; file names of diagnostics are relative to it. */
  cwd: string;
  /** Source text by diagnostic `file`: snippets (pretty) and fingerprints (sarif). */
  sources: ReadonlyMap<string, string>;
  /** ANSI colours in `pretty` (see `colorsEnabled`); other formats are never coloured. */
  color: boolean;
  /** agentfile's version, for SARIF's `tool.driver.version`. */
  version: string;
  verdict: LintVerdict;
}

/**
 * Renders the (sorted) diagnostics of one lint run in `opts.format`: the
 * complete text for stdout, ending in a newline. `json` is the array of
 * {@link Diagnostic}s; `github` one workflow command a line; `sarif` a SARIF
 * 2.1.0 log (`toSarif`); `pretty` each diagnostic with its snippet and a
 * summary line, plus why the run failed on warnings when it did.
 */
export function renderLint(diagnostics: readonly Diagnostic[], opts: RenderOptions): string {
  switch (opts.format) {
    case 'json':
      return `${JSON.stringify(diagnostics, null, 2)}\n`;
    case 'github':
      return diagnostics.map((d) => `${formatDiagnosticGithub(d)}\n`).join('');
    case 'sarif':
      return `${JSON.stringify(toSarif(diagnostics, opts), null, 2)}\n`;
    case 'pretty':
      return renderPretty(diagnostics, opts);
  }
}

function renderPretty(diagnostics: readonly Diagnostic[], opts: RenderOptions): string {
  const paint = painter(opts.color);
  const lines = diagnostics.map((d) => formatDiagnostic(d, opts.sources.get(d.file), paint));
  const { errors, warnings } = opts.verdict;
  if (diagnostics.length === 0) {
    lines.push(`${opts.files.join(', ')}: no problems found`);
  } else {
    const e = `${errors} error(s)`;
    const w = `${warnings} warning(s)`;
    lines.push(`${errors > 0 ? paint.error(e) : e}, ${warnings > 0 ? paint.warning(w) : w}`);
  }
  if (opts.verdict.tooManyWarnings) lines.push(paint.warning(tooManyWarningsText(opts.verdict)));
  return `${lines.join('\n')}\n`;
}
