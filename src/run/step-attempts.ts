/**
 * One step of a run, to its end: attempts up to `retry.maxAttempts`, backing
 * off between them (`backoff.ts`), each attempt recorded as started (with
 * its log file) before its process or container exists, its pid or
 * container id recorded as soon as it has one, and its end recorded with the
 * step's outcome. Everything goes through the journal; nothing here touches
 * the store or a reporter directly.
 */

import { rm } from 'node:fs/promises';
import type { RunEvent } from '../core/events.js';
import type { StepStatus } from '../core/status.js';
import {
  type AttemptResult,
  type AttemptSpec,
  EngineUnavailableError,
  type StepExecutor,
} from '../executors/types.js';
import type { StepNode } from '../plan/compile.js';
import { StoreError } from '../store/types.js';
import { backoffDelay } from './backoff.js';
import type { Clock } from './clock.js';
import { formatMs } from './format.js';
import { OutputBatcher } from './output-batcher.js';
import type { ResolvedStep } from './resolve.js';
import { readOutputFile } from './step-outputs.js';

/** What {@link runStep} needs from the run. */
export interface StepContext {
  runId: string;
  clock: Clock;
  emit: (event: RunEvent) => Promise<unknown>;
  /** The executor for this step (process, or containers on the run's network). */
  executor: StepExecutor;
  /** Environment of one attempt (AGENT_* variables, service addresses). */
  env: (attempt: number) => Record<string, string>;
  /** Absolute path of an attempt's log file. */
  logFile: (attempt: number) => string;
  /** Attempts recorded before this session (a resumed run counts on). */
  attemptsBefore: number;
  /** Aborting kills the running attempt and stops retrying. */
  signal: AbortSignal;
  /** The step's fields with their expressions rendered (`resolve.ts`). */
  resolved: ResolvedStep;
  /**
   * Absolute path of an attempt's `$AGENT_OUTPUT` file (the executor creates
   * it before the attempt); read after it succeeds.
   */
  outputFile: (attempt: number) => string;
  /** Masks secret values in output lines, before logs and events see them. */
  redact?: AttemptSpec['redact'];
  /** Files for container steps at `/run/secrets/NAME`. */
  secretFiles?: AttemptSpec['secretFiles'];
}

/** How a step ended. */
export interface StepOutcome {
  status: Extract<StepStatus, 'succeeded' | 'failed' | 'timed_out' | 'cancelled'>;
  error?: string;
  /** What a succeeded step wrote to `$AGENT_OUTPUT`. */
  outputs?: Record<string, string>;
}

/**
 * Runs `node` to its end and records every attempt.
 *
 * @throws EngineUnavailableError / StoreError: infrastructure failed; the
 *   attempt and the step are recorded `failed` where the store still takes
 *   writes, and the run should end (exit 4).
 */
export async function runStep(node: StepNode, ctx: StepContext): Promise<StepOutcome> {
  const { step } = node;
  const { clock, runId, signal } = ctx;
  const stepStartedAt = clock.now();
  for (let i = 1; ; i++) {
    const attempt = ctx.attemptsBefore + i;
    const result = await runAttempt(node, attempt, stepStartedAt, ctx);
    let outcome = attemptOutcome(result, ctx.resolved.timeoutMs);
    if (outcome.status === 'succeeded')
      outcome = await collectOutputs(node, ctx.outputFile(attempt));
    // The file may hold secret values: what is kept is the stored (masked) outputs.
    await rm(ctx.outputFile(attempt), { force: true }).catch(() => undefined);
    const finishedAt = clock.now();
    const retry =
      (outcome.status === 'failed' || outcome.status === 'timed_out') &&
      i < step.retry.maxAttempts &&
      !signal.aborted;
    if (!retry) {
      await ctx.emit({
        type: 'step.finished',
        runId,
        at: finishedAt,
        step: node.id,
        status: outcome.status,
        attempt,
        durationMs: finishedAt - stepStartedAt,
        exitCode: result.exitCode,
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
        ...(outcome.outputs !== undefined ? { outputs: outcome.outputs } : {}),
      });
      return outcome;
    }
    const delayMs = backoffDelay(i, { ...step.retry.backoff, jitter: true });
    await ctx.emit({
      type: 'step.retrying',
      runId,
      at: finishedAt,
      step: node.id,
      attempt,
      attemptStatus: outcome.status === 'timed_out' ? 'timed_out' : 'failed',
      exitCode: result.exitCode,
      delayMs,
      error: outcome.error ?? '',
    });
    await clock.sleep(delayMs, signal);
    if (signal.aborted) {
      const at = clock.now();
      await ctx.emit({
        type: 'step.finished',
        runId,
        at,
        step: node.id,
        status: 'cancelled',
        attempt,
        durationMs: at - stepStartedAt,
        error: 'cancelled',
        attemptOpen: false,
      });
      return { status: 'cancelled', error: 'cancelled' };
    }
  }
}

/**
 * A succeeded attempt's outputs: the `$AGENT_OUTPUT` file parsed
 * (`step-outputs.ts`, GitHub's format, at most 1 MiB), and every key the
 * step declares in `outputs:` present. Either problem fails the attempt.
 */
async function collectOutputs(node: StepNode, file: string): Promise<StepOutcome> {
  const read = await readOutputFile(file);
  if ('error' in read) return { status: 'failed', error: `$AGENT_OUTPUT: ${read.error}` };
  const missing = (node.step.outputs ?? []).filter((k) => !Object.hasOwn(read.outputs, k));
  if (missing.length > 0) {
    return {
      status: 'failed',
      error: `declared output${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')} not written to $AGENT_OUTPUT`,
    };
  }
  return { status: 'succeeded', outputs: read.outputs };
}

/**
 * One attempt: `step.started` is stored before the executor spawns anything
 * (so a kill -9 at any moment leaves a record that `--resume` cleans up
 * after), `step.spawned` as soon as the attempt has a pid or container.
 * Resolves with the executor's result; an executor error that is not
 * infrastructure becomes this attempt's failure.
 */
async function runAttempt(
  node: StepNode,
  attempt: number,
  stepStartedAt: number,
  ctx: StepContext,
): Promise<AttemptResult> {
  const { step } = node;
  const { runId, clock, signal } = ctx;
  const logFile = ctx.logFile(attempt);
  const at = clock.now();
  await ctx.emit({
    type: 'step.started',
    runId,
    at,
    step: node.id,
    attempt,
    maxAttempts: step.retry.maxAttempts,
    stepStartedAt: attempt === ctx.attemptsBefore + 1 ? at : stepStartedAt,
    logFile,
  });
  const output = new OutputBatcher({
    runId,
    node: { kind: 'step', step: node.id, attempt },
    emit: ctx.emit,
    now: () => clock.now(),
  });
  const { resolved } = ctx;
  try {
    // The executor creates the file (and its directory) before the attempt starts.
    const outputFile = ctx.outputFile(attempt);
    return await ctx.executor.runAttempt({
      runId,
      stepId: node.id,
      attempt,
      command: resolved.command,
      env: { ...resolved.env, ...ctx.env(attempt) },
      ...(resolved.workdir !== undefined ? { workdir: resolved.workdir } : {}),
      ...(resolved.image !== undefined ? { image: resolved.image } : {}),
      ...(resolved.timeoutMs !== undefined ? { timeoutMs: resolved.timeoutMs } : {}),
      outputFile,
      ...(ctx.redact ? { redact: ctx.redact } : {}),
      ...(ctx.secretFiles && ctx.secretFiles.length > 0 ? { secretFiles: ctx.secretFiles } : {}),
      signal,
      logFile,
      onOutput: (stream, line) => output.add(stream, line),
      onStarted: (handle) => {
        void ctx
          .emit({
            type: 'step.spawned',
            runId,
            at: clock.now(),
            step: node.id,
            attempt,
            handle: {
              ...(handle.pid !== undefined ? { pid: handle.pid } : {}),
              ...(handle.containerId !== undefined ? { containerId: handle.containerId } : {}),
            },
          })
          .catch(() => undefined);
      },
    });
  } catch (error) {
    if (signal.aborted && !(error instanceof StoreError)) {
      // Cancelled mid-call: an aborted engine request can look like a broken connection.
      return cancelledResult(clock.now() - at);
    }
    if (error instanceof EngineUnavailableError || error instanceof StoreError) {
      await output.close();
      const finishedAt = clock.now();
      await ctx
        .emit({
          type: 'step.finished',
          runId,
          at: finishedAt,
          step: node.id,
          status: 'failed',
          attempt,
          durationMs: finishedAt - stepStartedAt,
          error: errorMessage(error),
        })
        .catch(() => undefined); // The store itself may be what failed.
      throw error;
    }
    // Anything else (a log file it cannot open, an engine call that failed
    // for this container) is this attempt's failure.
    return {
      exitCode: null,
      timedOut: false,
      cancelled: signal.aborted,
      error: errorMessage(error),
      durationMs: clock.now() - at,
    };
  } finally {
    await output.close();
  }
}

function cancelledResult(durationMs: number): AttemptResult {
  return { exitCode: null, timedOut: false, cancelled: true, error: 'cancelled', durationMs };
}

/**
 * What an attempt's result means for the step: a status and, unless it
 * succeeded, a one-line reason (`exit code 2`, `timed out after 1.0s`,
 * `command not found: foo`, `cancelled`). Pure.
 */
export function attemptOutcome(result: AttemptResult, timeoutMs: number | undefined): StepOutcome {
  if (result.cancelled) return { status: 'cancelled', error: 'cancelled' };
  if (result.timedOut)
    return { status: 'timed_out', error: `timed out after ${formatMs(timeoutMs ?? 0)}` };
  if (result.exitCode === 0) return { status: 'succeeded' };
  return { status: 'failed', error: result.error ?? `exit code ${result.exitCode}` };
}

/** The one-line message of any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
