/**
 * `agent lint FILE...`: loads every file (and the files its services use),
 * and prints every diagnostic in the chosen format (`src/lint/format`).
 * Exit 0 when no diagnostic is an error and the warnings are within
 * `--max-warnings`, 1 otherwise (docs/cli.md).
 */

import { resolve } from 'node:path';
import { type Diagnostic, sortDiagnostics } from '../config/diagnostics.js';
import { loadProject } from '../config/index.js';
import {
  colorsEnabled,
  type LintFormat,
  lintVerdict,
  renderLint,
  tooManyWarningsText,
} from '../lint/format/index.js';
import { lintPolicy } from '../lint/lint-policy.js';
import { type CliIo, ExitCode, packageVersion } from './common.js';

/** The options of `agent lint`. */
export interface LintOptions {
  /**
   * `pretty` (default): `file:line:col: message [rule]` with a snippet,
   * coloured on a terminal; `json`: an array of diagnostics; `github`:
   * Actions workflow commands; `sarif`: a SARIF 2.1.0 log.
   */
  format: LintFormat;
  /** Fail (exit 1) when there are more warnings than this (a whole number ≥ 0). */
  maxWarnings?: number;
  /** `--strict`: policy and lint warnings are errors, and `policy/image-digest` runs. */
  strict?: boolean;
  /** `--config FILE`: the `.agentlint.yaml` to use instead of the one found beside each file. */
  config?: string;
}

/** Runs `agent lint` and resolves with its exit code. */
export async function lintCommand(files: string[], opts: LintOptions, io: CliIo): Promise<number> {
  // One list across all files: a file named twice, or reached both directly
  // and through another file's `uses:`, reports each problem once.
  const collected: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const seen = new Set<string>();
  for (const file of files) {
    const key = resolve(io.cwd, file);
    if (seen.has(key)) continue;
    seen.add(key);
    const policy = await lintPolicy(file, opts, io.cwd);
    collected.push(...policy.diagnostics);
    for (const [name, text] of policy.sources) sources.set(name, text);
    const result = await loadProject(file, { cwd: io.cwd, policy: policy.options });
    collected.push(...result.diagnostics);
    for (const [name, text] of result.sources) sources.set(name, text);
  }
  const all = sortDiagnostics(collected);
  const verdict = lintVerdict(all, opts.maxWarnings);
  io.stdout.write(
    renderLint(all, {
      format: opts.format,
      files,
      cwd: resolve(io.cwd),
      sources,
      color: opts.format === 'pretty' && colorsEnabled(io.stdout, io.env),
      version: packageVersion(),
      verdict,
    }),
  );
  // Machine formats keep stdout parseable; the reason goes to stderr.
  if (verdict.tooManyWarnings && opts.format !== 'pretty') {
    io.stderr.write(`agent: ${tooManyWarningsText(verdict)}\n`);
  }
  return verdict.failed ? ExitCode.failed : ExitCode.ok;
}
