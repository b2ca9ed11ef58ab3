/**
 * `agent run`: load, plan, run (or resume, or rerun from a step) with the
 * chosen reporters, and map the outcome to an exit code. SIGINT, SIGTERM and
 * SIGHUP (a closed terminal, a dropped ssh session) cancel the run; a second
 * signal exits at once and leaves cleanup to the next `--resume`.
 */

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError } from '../executors/types.js';
import { compilePlan, type Plan } from '../plan/compile.js';
import type { InputValue } from '../plan/inputs.js';
import { MatrixError } from '../plan/matrix.js';
import type { RunSummary } from '../report/summary.js';
import type { Reporter } from '../report/types.js';
import type { RunSecrets } from '../run/runner.js';
import { LockedError, StoreError } from '../store/types.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { loadWorkflow } from './load.js';
import { applyOverrides, type OverrideFlags } from './overrides.js';
import { axesFor, type InputFlags, runInputs, runSecrets, type SecretFlags } from './run-inputs.js';
import { openStore, statePathFor } from './state-store.js';

/** Options of `agent run`, as commander parses them. */
export interface RunOptions extends InputFlags, SecretFlags, OverrideFlags {
  workflow?: string;
  /** `-d`: agents only; see `detach.ts`. */
  detach?: boolean;
  resume?: true | string;
  from?: string;
  state?: string;
  output: string;
  junit?: string;
  /** `--report FILE`: the HTML report, written when the session ends. */
  report?: string;
  /** `--base-image LANG=IMAGE` for agent.dev/v1 agents (repeatable). */
  baseImage?: string[];
}

/** Signals that cancel a run (SIGHUP handled as SIGTERM). */
const CANCEL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What `--output MODE` comes to: `auto` is `tty` on a terminal outside CI, else `plain`. */
function effectiveMode(mode: string, io: CliIo): 'tty' | 'plain' | 'json' {
  const ci = Boolean(io.env.CI) && io.env.CI !== 'false';
  // The live tree goes to stdout (where listr2 renders), so `agent run > log`
  // gets plain lines even from a terminal.
  const effective = mode === 'auto' ? (io.stdout.isTTY && !ci ? 'tty' : 'plain') : mode;
  return effective === 'tty' || effective === 'json' ? effective : 'plain';
}

async function pickReporter(mode: string, io: CliIo): Promise<Reporter> {
  const { JsonReporter, PlainReporter } = await import('../report/plain.js');
  const effective = effectiveMode(mode, io);
  switch (effective) {
    case 'json':
      return new JsonReporter(io.stdout);
    case 'tty': {
      const { ListrReporter } = await import('../report/listr.js');
      return new ListrReporter({ out: io.stdout });
    }
    default: {
      // Under GitHub Actions or GitLab CI, each step's lines are folded (report/grouped.ts).
      const { detectCi } = await import('../report/run-end.js');
      const ci = detectCi(io.env);
      if (ci) {
        const { FoldingReporter } = await import('../report/grouped.js');
        const markers =
          ci === 'github'
            ? (await import('../report/github.js')).githubMarkers
            : (await import('../report/gitlab.js')).gitlabMarkers;
        return new FoldingReporter({ out: io.stdout, cwd: io.cwd, markers });
      }
      return new PlainReporter({ out: io.stdout, cwd: io.cwd });
    }
  }
}

/**
 * Runs `agent run FILE`; resolves with the exit code. A CliError's message
 * has the run's secret values masked.
 * @throws CliError
 */
export async function runCommand(
  file: string,
  opts: RunOptions,
  io: CliIo,
  /** The command line after `agent` (for `-d`, which starts the same run in the background). */
  argv: readonly string[] = [],
): Promise<number> {
  const loaded = await loadWorkflow(file, opts.workflow, io, opts.baseImage);
  const { serve } = loaded;
  if (!serve && (opts.publish?.length || opts.env?.length || opts.volume?.length || opts.name)) {
    throw new CliError(
      '-p, -e, -v and --name override an agent; this file has a workflow',
      ExitCode.invalid,
      'change the workflow file instead',
    );
  }
  const workflow = serve ? applyOverrides(loaded.workflow, opts, io.cwd) : loaded.workflow;
  if (opts.detach) {
    if (!serve) {
      throw new CliError(
        '-d starts the agents of a file of Agent documents in the background; this file has a workflow',
        ExitCode.invalid,
        'run a workflow in the foreground, or in the background with your shell (`agent run … &`)',
      );
    }
    const { detachRun } = await import('./detach.js');
    return detachRun(fileURLToPath(new URL('../../bin/agent.js', import.meta.url)), argv, io);
  }
  const resuming = opts.resume !== undefined || opts.from !== undefined;
  if (resuming && ((opts.input?.length ?? 0) > 0 || opts.inputs !== undefined)) {
    throw new CliError(
      'a resumed run keeps the inputs it started with; -i and --inputs cannot change them',
      ExitCode.invalid,
      'start a new run (without --resume or --from) to use other inputs',
    );
  }
  const secrets = await runSecrets(workflow, opts, io);
  const newInputs = resuming ? undefined : await runInputs(workflow, opts, io);
  const statePath = statePathFor(workflow.path, opts.state, io);
  try {
    return await execute(file, { workflow, serve, secrets, newInputs, statePath }, opts, io);
  } catch (error) {
    if (error instanceof CliError && Object.keys(secrets.values).length > 0) {
      throw new CliError(
        secrets.redactor.redact(error.message),
        error.exitCode,
        error.hint === undefined ? undefined : secrets.redactor.redact(error.hint),
      );
    }
    throw error;
  }
}

async function execute(
  file: string,
  prepared: {
    workflow: Awaited<ReturnType<typeof loadWorkflow>>['workflow'];
    serve: boolean;
    secrets: RunSecrets;
    newInputs: Record<string, InputValue> | undefined;
    statePath: string;
  },
  opts: RunOptions,
  io: CliIo,
): Promise<number> {
  const { workflow, serve, secrets, statePath } = prepared;
  const store = await openStore(statePath);
  const { ResumeError, runWorkflow, findRunToResume } = await import('../run/runner.js');
  const { FromError } = await import('../run/resume.js');
  let plan: Plan;
  let inputs: Record<string, InputValue>;
  try {
    inputs =
      prepared.newInputs ??
      (
        await findRunToResume(
          store,
          { file: workflow.path, workflow: workflow.name },
          opts.resume,
          opts.from,
        )
      )?.run.inputs ??
      {};
    plan = compilePlan(workflow, { evaluateAxis: axesFor(inputs) });
  } catch (error) {
    await store.close();
    if (error instanceof ResumeError)
      throw new CliError(error.message, ExitCode.invalid, error.hint);
    if (error instanceof MatrixError) throw new CliError(error.message, ExitCode.invalid);
    if (error instanceof StoreError)
      throw new CliError(error.message, ExitCode.unavailable, error.hint);
    throw error;
  }
  const reporters = [await pickReporter(opts.output, io)];
  if (opts.junit) {
    const { JunitReporter } = await import('../report/junit.js');
    reporters.push(new JunitReporter(resolve(io.cwd, opts.junit)));
  }
  if (opts.report) {
    const { HtmlReportReporter } = await import('../report/html/index.js');
    reporters.push(
      new HtmlReportReporter({ file: resolve(io.cwd, opts.report), statePath, open: openStore }),
    );
  }
  const reporter: Reporter = {
    onEvent: (event) => {
      for (const r of reporters) r.onEvent(event);
    },
    close: async () => {
      for (const r of reporters) {
        try {
          await r.close();
        } catch (error) {
          // A report that cannot be written fails the command, after the run
          // itself was recorded (exit 4, like any file the runner needs).
          if (error instanceof Error && error.name === 'ReportWriteError') {
            throw new CliError(error.message, ExitCode.unavailable, 'check the report path');
          }
          throw error;
        }
      }
    },
  };
  const { defaultExecutors } = await import('../wiring.js');
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      io.stderr.write(`\nagent: ${signal} received, cancelling the run (send it again to force)\n`);
      controller.abort();
    } else {
      io.stderr.write(
        `agent: ${signal} received again, exiting now; leftovers are removed by the next --resume\n`,
      );
      process.exit(ExitCode.interrupted);
    }
  };
  for (const s of CANCEL_SIGNALS) process.on(s, onSignal);
  let result: Awaited<ReturnType<typeof runWorkflow>>;
  let summary: RunSummary | undefined;
  try {
    result = await runWorkflow({
      plan,
      store,
      statePath,
      executors: defaultExecutors({ env: io.env }),
      ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
      ...(opts.from !== undefined ? { from: opts.from } : {}),
      serve,
      signal: controller.signal,
      onEvent: (e) => reporter.onEvent(e),
      env: io.env,
      inputs,
      secrets,
    });
    // The end-of-run summary is read from the store before it closes; it is
    // best effort: a run that was recorded is not failed by its summary.
    const { readRunSummary } = await import('../report/summary.js');
    summary = await readRunSummary(store, result.runId, plan, { cwd: io.cwd }).catch(
      () => undefined,
    );
  } catch (error) {
    // The run did not happen or broke off: the error says why, not the report.
    await reporter.close().catch(() => undefined);
    if (error instanceof LockedError) {
      const h = error.holder;
      throw new CliError(
        `workflow "${workflow.name}" (${file}) is already being run by run ${h.runId} (pid ${h.pid} on ${h.host})`,
        ExitCode.locked,
        'wait for that run to finish, or stop it; a run whose runner died is taken over automatically',
      );
    }
    if (error instanceof EngineUnavailableError)
      throw new CliError(
        error.message,
        ExitCode.unavailable,
        `${error.hint}; then continue with \`agent run --resume\``,
      );
    if (error instanceof StoreError)
      throw new CliError(error.message, ExitCode.unavailable, error.hint);
    if (error instanceof ResumeError || error instanceof FromError)
      throw new CliError(error.message, ExitCode.invalid, error.hint);
    throw error;
  } finally {
    for (const s of CANCEL_SIGNALS) process.off(s, onSignal);
    await store.close();
  }
  await reporter.close();
  if (summary) {
    const { detectCi, writeRunEnd } = await import('../report/run-end.js');
    await writeRunEnd(summary, {
      out: io.stdout,
      err: io.stderr,
      mode: effectiveMode(opts.output, io),
      ci: detectCi(io.env),
      env: io.env,
      cwd: io.cwd,
      plan,
      redact: (text) => secrets.redactor.redact(text),
    });
  }
  switch (result.status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'cancelled':
      return ExitCode.interrupted;
    case 'paused':
      io.stderr.write(
        `agent: run ${result.runId} paused; continue it with \`agent run --resume ${result.runId}\`\n`,
      );
      return ExitCode.paused;
    case 'waiting':
      io.stderr.write(
        `agent: run ${result.runId} waits for approval; \`agent status ${result.runId}\` says what it waits for\n`,
      );
      return ExitCode.waiting;
    case 'failed':
      return ExitCode.failed;
  }
}
