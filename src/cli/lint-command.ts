/**
 * `agent lint FILE...`: loads every file (and the files its services use),
 * and prints every diagnostic in the chosen format. Exit 0 when no
 * diagnostic is an error, 1 otherwise (docs/cli.md).
 */

import { resolve } from 'node:path';
import {
  type Diagnostic,
  formatDiagnostic,
  formatDiagnosticGithub,
  hasErrors,
  sortDiagnostics,
} from '../config/diagnostics.js';
import { loadProject } from '../config/index.js';
import { lintPolicy } from '../lint/lint-policy.js';
import { type CliIo, ExitCode } from './common.js';

/** The options of `agent lint`. */
export interface LintOptions {
  /** `pretty` (default): `file:line:col: message [rule]` with a snippet; `json`: an array of diagnostics; `github`: Actions workflow commands. */
  format: 'pretty' | 'json' | 'github';
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
  const failed = hasErrors(all);
  if (opts.format === 'json') {
    io.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
  } else if (opts.format === 'github') {
    for (const d of all) io.stdout.write(`${formatDiagnosticGithub(d)}\n`);
  } else {
    for (const d of all) io.stdout.write(`${formatDiagnostic(d, sources.get(d.file))}\n`);
    if (all.length === 0) {
      io.stdout.write(`${files.join(', ')}: no problems found\n`);
    } else {
      const errors = all.filter((d) => d.severity === 'error').length;
      io.stdout.write(`${errors} error(s), ${all.length - errors} warning(s)\n`);
    }
  }
  return failed ? ExitCode.failed : ExitCode.ok;
}
