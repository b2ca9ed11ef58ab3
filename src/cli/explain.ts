/**
 * `agent plan --resume [RUN]` and `agent plan --from STEP`: which steps the
 * matching `agent run` would run and why (never ran, failed, not finished,
 * changed since, downstream of a rerun), and which it would reuse. Reads
 * the store; runs nothing.
 */

import type { Plan } from '../plan/compile.js';
import { formatTable } from '../report/status.js';
import { decideSession, FromError } from '../run/resume.js';
import { findRunToResume, ResumeError } from '../run/runner.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { openStore, statePathFor } from './state-store.js';

/** Prints the decisions of the session `--resume` / `--from` would start. @throws CliError (exit 2) */
export async function explainSession(
  plan: Plan,
  opts: { resume?: true | string; from?: string; state?: string; format: 'text' | 'json' },
  io: CliIo,
): Promise<number> {
  const store = await openStore(statePathFor(plan.file, opts.state, io), {
    mustExist: true,
    cwd: io.cwd,
  });
  try {
    const previous = await findRunToResume(store, plan, opts.resume, opts.from);
    const decision = decideSession(plan, previous?.steps, {
      ...(opts.from !== undefined ? { from: opts.from } : {}),
    });
    if (opts.format === 'json') {
      io.stdout.write(
        `${JSON.stringify({ run: previous?.run.id ?? null, steps: decision.steps }, null, 2)}\n`,
      );
      return ExitCode.ok;
    }
    io.stdout.write(
      `run ${previous?.run.id}: ${decision.rerun.length} of ${decision.steps.length} steps would run\n`,
    );
    const rows = decision.steps.map((s) => [s.id, s.action, s.reason ?? 'succeeded, unchanged']);
    for (const line of formatTable(['STEP', 'ACTION', 'WHY'], rows)) io.stdout.write(`${line}\n`);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof ResumeError || error instanceof FromError)
      throw new CliError(error.message, ExitCode.invalid, error.hint);
    throw error;
  } finally {
    await store.close();
  }
}
