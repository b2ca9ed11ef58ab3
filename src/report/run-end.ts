/**
 * What `agent run` writes once the run is over: the summary text (on a
 * terminal and in plain mode, never into `--output json`), and under GitHub
 * Actions the annotations (on stdout, in plain mode) and the Markdown job
 * summary (appended to `$GITHUB_STEP_SUMMARY`, whatever the output mode).
 * Everything written is masked with the run's redactor, on top of the
 * masking the store already did.
 */

import { appendFile } from 'node:fs/promises';
import type { Plan } from '../plan/compile.js';
import { githubAnnotations, renderStepSummary } from './github.js';
import { formatRunSummary, type RunSummary } from './summary.js';
import type { Output } from './types.js';

/** The CI system whose log features `agent run` uses. */
export type CiSystem = 'github' | 'gitlab';

/** `github` when `GITHUB_ACTIONS=true`, `gitlab` when `GITLAB_CI=true`, else undefined. */
export function detectCi(env: Readonly<Record<string, string | undefined>>): CiSystem | undefined {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.GITLAB_CI === 'true') return 'gitlab';
  return undefined;
}

/** Options of {@link writeRunEnd}. */
export interface RunEndOptions {
  /** Where the summary and annotations go (the command's stdout). */
  out: Output;
  /** Where a problem writing the job summary is reported. */
  err: Output;
  /** The reporter's mode: `json` prints nothing on `out`; `plain` with GitHub adds annotations. */
  mode: 'tty' | 'plain' | 'json';
  ci: CiSystem | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  plan: Plan;
  redact: (text: string) => string;
}

/**
 * Writes the end of a run (see the module comment). A job summary that
 * cannot be appended is reported on `err` and does not change the outcome.
 */
export async function writeRunEnd(summary: RunSummary, options: RunEndOptions): Promise<void> {
  const { out, redact } = options;
  const workspace = options.env.GITHUB_WORKSPACE || options.cwd;
  if (options.mode !== 'json') {
    const lines = ['', ...formatRunSummary(summary, { cwd: options.cwd })];
    if (options.ci === 'github' && options.mode === 'plain') {
      lines.push(...githubAnnotations(summary, { workspace }));
    }
    out.write(`${lines.map(redact).join('\n')}\n`);
  }
  const file = options.env.GITHUB_STEP_SUMMARY;
  if (options.ci === 'github' && file) {
    try {
      await appendFile(file, redact(renderStepSummary(summary, options.plan, { workspace })));
    } catch (error) {
      options.err.write(
        `agent: cannot append the job summary to $GITHUB_STEP_SUMMARY (${file}): ${(error as Error).message}\n`,
      );
    }
  }
}
