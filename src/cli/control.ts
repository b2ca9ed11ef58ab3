/**
 * Commands that control a run from another terminal, by appending requests
 * to the run's event stream in the state store: `agent cancel`, `pause`,
 * `approve`, `reject`. A live runner notices a request on its heartbeat
 * tick (within a second) and acts on it; a run with no live runner
 * (interrupted, paused, waiting) is changed here directly, under the
 * workflow's lease so that a runner resuming it at the same moment cannot
 * interleave.
 */

import os from 'node:os';
import { type Command, Option } from 'commander';
import type { RunEvent } from '../core/events.js';
import { isFinalRunState } from '../core/status.js';
import { formatMs } from '../run/format.js';
import { workflowLeaseKey } from '../store/paths.js';
import { LockedError, type RunRecord, type StateStore } from '../store/types.js';
import { CliError, type CliIo, ExitCode, whoAmI } from './common.js';
import { findRun, newestRunWith, withExistingStore } from './read-store.js';

interface ControlOptions {
  state?: string;
  as?: string;
  wait: boolean;
  timeout: string;
}

interface DecisionOptions {
  state?: string;
  as?: string;
  comment?: string;
}

/** Registers the control commands on `program`. */
export function registerControlCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const common = (c: Command) =>
    c
      .argument('[file]', 'workflow file whose store to use', 'agent.yaml')
      .option('--state <path>', 'state database (default: .agentfile/state.db beside the file)')
      .option('--as <name>', 'who asks (default: $AGENT_USER, $USER, the OS user)');
  /** A control command that waits for its effect: `--no-wait`, `--timeout`, and its action. */
  const waiting = (
    name: string,
    description: string,
    target: [string, string],
    timeoutHelp: string,
    run: (arg: string, file: string, opts: ControlOptions) => Promise<number>,
  ) =>
    common(
      program
        .command(name)
        .description(description)
        .argument(...target),
    )
      .option('--no-wait', 'return once the request is recorded')
      .addOption(new Option('--timeout <seconds>', timeoutHelp).default('300'))
      .action(async (arg: string, file: string, opts: ControlOptions) => {
        setExit(await run(arg, file, opts));
      });
  waiting(
    'cancel',
    'cancel a run: its runner stops it as SIGINT would (exit 130 there)',
    ['<run>', 'run id'],
    'how long to wait for the run to stop',
    (run, file, opts) => cancelCommand(run, file, opts, io),
  );
  waiting(
    'pause',
    'pause a run: no new step starts, running ones finish; `agent run --resume` continues',
    ['<run>', 'run id'],
    'how long to wait for the run to pause',
    (run, file, opts) => pauseCommand(run, file, opts, io),
  );
  waiting(
    'stop',
    'stop an agent by name: cancels the live run that serves it (as Ctrl-C in its terminal would)',
    ['<name>', 'agent (service) or step name'],
    'how long to wait for it to stop',
    (name, file, opts) => stopCommand(name, file, opts, io),
  );
  for (const decision of ['approve', 'reject'] as const) {
    common(
      program
        .command(decision)
        .description(
          decision === 'approve'
            ? 'approve an approval step a run waits at; `agent run --resume` then continues (a live runner goes on by itself)'
            : 'reject an approval step: the step fails with your comment, and the run with it',
        )
        .argument('<run>', 'run id')
        .argument('<step>', 'the approval step'),
    )
      .option('-m, --comment <text>', 'why (shown by `agent status`)')
      .action(async (run: string, step: string, file: string, opts: DecisionOptions) => {
        setExit(await decideCommand(decision, run, step, file, opts, io));
      });
  }
}

/**
 * Runs `fn` holding the run's workflow lease, when no runner holds it.
 * Resolves with false (and runs nothing) when a live runner has it.
 */
async function whileNoRunner(
  store: StateStore,
  run: RunRecord,
  fn: () => Promise<void>,
): Promise<boolean> {
  const key = workflowLeaseKey({ file: run.file, workflow: run.workflow });
  const holder = { pid: process.pid, host: os.hostname() };
  try {
    await store.acquireLease({ key, runId: run.id, ...holder, ttlMs: 30_000, now: Date.now() });
  } catch (error) {
    if (error instanceof LockedError) return false;
    throw error;
  }
  try {
    await fn();
    return true;
  } finally {
    await store.releaseLease(key, run.id, holder);
  }
}

function ended(run: RunRecord, status: 'cancelled' | 'failed', error: string): RunEvent {
  const at = Date.now();
  return {
    type: 'run.finished',
    runId: run.id,
    at,
    status,
    durationMs: run.startedAt === null ? 0 : at - run.startedAt,
    error,
  };
}

/** Polls the run until `done(run)`, every 200 ms, for at most `timeoutS` seconds. */
async function waitUntil(
  store: StateStore,
  id: string,
  timeoutS: number,
  done: (run: RunRecord) => boolean,
): Promise<RunRecord | undefined> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const run = await store.getRun(id);
    if (run && done(run)) return run;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(
      `--timeout must be a positive number of seconds, got "${value}"`,
      ExitCode.invalid,
    );
  return n;
}

/**
 * `agent stop NAME`: the newest running (or interrupted) run with an agent or
 * step NAME is cancelled, as `agent cancel RUN` does.
 * @throws CliError (exit 2) when no such run is live.
 */
async function stopCommand(
  name: string,
  file: string,
  opts: ControlOptions,
  io: CliIo,
): Promise<number> {
  const run = await withExistingStore(
    file,
    { ...(opts.state !== undefined ? { state: opts.state } : {}) },
    io,
    (store) =>
      newestRunWith(store, name, (r) => r.status === 'running' || r.status === 'interrupted'),
  );
  if (!run) {
    throw new CliError(
      `no running run has an agent or step "${name}"`,
      ExitCode.invalid,
      'see `agent ps` for what runs, and `agent runs` for the store',
    );
  }
  io.stdout.write(`stopping ${name}: cancelling run ${run.id}\n`);
  return cancelCommand(run.id, file, opts, io);
}

async function cancelCommand(
  id: string,
  file: string,
  opts: ControlOptions,
  io: CliIo,
): Promise<number> {
  const timeoutS = parseTimeout(opts.timeout);
  const by = await whoAmI(opts.as, io.env);
  return withExistingStore(
    file,
    { ...(opts.state !== undefined ? { state: opts.state } : {}) },
    io,
    async (store) => {
      const run = await findRun(store, id);
      if (isFinalRunState(run.status)) {
        throw new CliError(
          `run ${id} has already ended (${run.status}); nothing to cancel`,
          ExitCode.invalid,
        );
      }
      const requested: RunEvent = { type: 'run.cancel_requested', runId: id, at: Date.now(), by };
      if (run.status !== 'running') {
        // Nobody works on it: record the cancellation here.
        const done = await whileNoRunner(store, run, async () => {
          await store.append(requested);
          await store.append(ended(run, 'cancelled', `cancelled by ${by} (agent cancel)`));
        });
        if (done) {
          io.stdout.write(
            `run ${id}: cancelled (it was ${run.status}; \`agent doctor --fix\` removes anything it left)\n`,
          );
          return ExitCode.ok;
        }
      }
      const sent = Date.now();
      await store.append(requested);
      if (!opts.wait) {
        io.stdout.write(`run ${id}: cancel requested\n`);
        return ExitCode.ok;
      }
      const after = await waitUntil(store, id, timeoutS, (r) => r.status !== 'running');
      if (!after) {
        io.stderr.write(`agent: run ${id} did not stop within ${timeoutS} s\n`);
        return ExitCode.failed;
      }
      io.stdout.write(
        `run ${id}: ${after.status} ${formatMs(Date.now() - sent)} after the request\n`,
      );
      return ExitCode.ok;
    },
  );
}

async function pauseCommand(
  id: string,
  file: string,
  opts: ControlOptions,
  io: CliIo,
): Promise<number> {
  const timeoutS = parseTimeout(opts.timeout);
  const by = await whoAmI(opts.as, io.env);
  return withExistingStore(
    file,
    { ...(opts.state !== undefined ? { state: opts.state } : {}) },
    io,
    async (store) => {
      const run = await findRun(store, id);
      if (run.status !== 'running') {
        throw new CliError(
          `run ${id} is ${run.status}, not running; only a running run can be paused`,
          ExitCode.invalid,
        );
      }
      await store.append({ type: 'run.pause_requested', runId: id, at: Date.now(), by });
      if (!opts.wait) {
        io.stdout.write(`run ${id}: pause requested; running steps finish, no new ones start\n`);
        return ExitCode.ok;
      }
      const after = await waitUntil(store, id, timeoutS, (r) => r.status !== 'running');
      if (!after) {
        io.stderr.write(`agent: run ${id} did not pause within ${timeoutS} s\n`);
        return ExitCode.failed;
      }
      io.stdout.write(
        after.status === 'paused'
          ? `run ${id}: paused; continue it with \`agent run --resume ${id}\`\n`
          : `run ${id}: ${after.status} (it ended before it could pause)\n`,
      );
      return ExitCode.ok;
    },
  );
}

async function decideCommand(
  decision: 'approve' | 'reject',
  id: string,
  stepId: string,
  file: string,
  opts: DecisionOptions,
  io: CliIo,
): Promise<number> {
  const by = await whoAmI(opts.as, io.env);
  return withExistingStore(
    file,
    { ...(opts.state !== undefined ? { state: opts.state } : {}) },
    io,
    async (store) => {
      const run = await findRun(store, id);
      const step = (await store.getSteps(id)).find((s) => s.id === stepId);
      if (!step) throw new CliError(`run ${id} has no step "${stepId}"`, ExitCode.invalid);
      if (step.status !== 'waiting' || !step.waitingFor) {
        throw new CliError(
          `step "${stepId}" of run ${id} is not waiting for approval (it is ${step.status})`,
          ExitCode.invalid,
          'see `agent status` for what the run waits for',
        );
      }
      const { approvers } = step.waitingFor;
      if (approvers.length > 0 && !approvers.includes(by)) {
        throw new CliError(
          `${by} may not ${decision} step "${stepId}"; its approvers are ${approvers.join(', ')}`,
          ExitCode.invalid,
          'run it as one of them (--as NAME names who you are)',
        );
      }
      const event: RunEvent = {
        type: decision === 'approve' ? 'step.approved' : 'step.rejected',
        runId: id,
        at: Date.now(),
        step: stepId,
        by,
        ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
      };
      const reason = `step "${stepId}" was rejected by ${by}${opts.comment ? `: ${opts.comment}` : ''}`;
      let live = true;
      if (run.status !== 'running') {
        live = !(await whileNoRunner(store, run, async () => {
          await store.append(event);
          if (decision === 'reject') await store.append(ended(run, 'failed', reason));
        }));
      }
      if (live) await store.append(event);
      io.stdout.write(
        decision === 'approve'
          ? live
            ? `run ${id}: step ${stepId} approved by ${by}; the run goes on\n`
            : `run ${id}: step ${stepId} approved by ${by}; continue with \`agent run --resume ${id}\`\n`
          : `run ${id}: step ${stepId} rejected by ${by}; the run fails\n`,
      );
      return ExitCode.ok;
    },
  );
}
