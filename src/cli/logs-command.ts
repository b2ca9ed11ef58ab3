/**
 * `agent logs RUN [STEP] [FILE]`, or `agent logs NAME [FILE]` for the agent
 * (service) or step NAME of the newest run that has one (`docker compose
 * logs SERVICE`): the output of a run's steps and services,
 * from their log files (one per attempt, referenced from the store), as
 * `docker logs` prints a container's: what the step wrote on stdout goes to
 * stdout, what it wrote on stderr to stderr.
 *
 * - One attempt (a STEP with one attempt, or `--attempt N`) to a
 *   non-terminal: its exact bytes, nothing added, so `agent logs R s >
 *   out.bin` reproduces what the step wrote.
 * - Otherwise every attempt in plan order, each after a header line
 *   (`==> step build, attempt 2: failed (exit code 1) in 1.2s <==`).
 * - `--follow`: reads the log files as they grow (polling the store for new
 *   attempts every 200 ms) until the step has ended, or, without STEP, until
 *   the run's runner is gone; without STEP every line is prefixed with its
 *   step (`build | ...`), since steps run side by side.
 */

import type { OutputStream } from '../executors/types.js';
import { type LogRecord, recordBytes } from '../report/log-records.js';
import { formatMs } from '../run/format.js';
import type { AttemptRecord, RunRecord, StateStore, StepRecord } from '../store/types.js';
import { type StdoutWatch, watchStdout } from './closed-stdout.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { LogReader } from './log-reader.js';
import {
  FOLLOW_POLL_MS,
  findRun,
  newestRunWith,
  runsWithLiveLease,
  type StoreOptions,
  sleepUnlessAborted,
  splitFileArgument,
  withExistingStore,
} from './read-store.js';

/** Options of `agent logs`, as commander parses them. */
export interface LogsOptions extends StoreOptions {
  attempt?: string;
  follow?: boolean;
}

const USAGE = 'agent logs RUN [STEP] [FILE] [--attempt N] [--follow]';

/** Runs `agent logs`; resolves with the exit code. @throws CliError */
export async function logsCommand(
  runId: string,
  rest: (string | undefined)[],
  opts: LogsOptions,
  io: CliIo,
): Promise<number> {
  const { names, file } = splitFileArgument(rest, 1, USAGE);
  let step = names[0];
  const attempt = opts.attempt === undefined ? undefined : parseAttempt(opts.attempt);
  if (attempt !== undefined && step === undefined) {
    throw new CliError('--attempt needs a STEP', ExitCode.invalid, `usage: ${USAGE}`);
  }
  const watch = watchStdout(io);
  return withExistingStore(file, opts, io, async (store) => {
    // `agent logs NAME`: an agent (service) or step by name, in the newest run that has it.
    const byName =
      step === undefined && !RUN_ID.test(runId) ? await newestRunWith(store, runId) : undefined;
    const run = byName ?? (await findRun(store, runId));
    if (byName) step = runId;
    const nodes = await store.getSteps(run.id);
    if (step !== undefined && !nodes.some((n) => n.id === step)) {
      throw new CliError(
        `run ${run.id} has no step or service "${step}"`,
        ExitCode.invalid,
        `it has: ${nodes.map((n) => n.id).join(', ') || 'nothing'}`,
      );
    }
    const selection: Selection = {
      run,
      nodes,
      ...(step !== undefined ? { step } : {}),
      ...(attempt !== undefined ? { attempt } : {}),
    };
    if (opts.follow) {
      await followLogs(store, selection, io, watch);
      return ExitCode.ok;
    }
    return printLogs(store, selection, io, watch);
  });
}

/** The shape of a run id (`store/paths.ts` newRunId). */
const RUN_ID = /^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/;

function parseAttempt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) {
    throw new CliError(`--attempt must be a positive integer, got "${text}"`, ExitCode.invalid);
  }
  return n;
}

/** What to show: one run, maybe one step, maybe one attempt of it. */
interface Selection {
  run: RunRecord;
  nodes: StepRecord[];
  step?: string;
  attempt?: number;
}

async function selectedAttempts(store: StateStore, sel: Selection): Promise<AttemptRecord[]> {
  const all = await store.getAttempts(sel.run.id, sel.step);
  return sel.attempt === undefined ? all : all.filter((a) => a.attempt === sel.attempt);
}

function kindOf(sel: Selection, id: string): 'step' | 'service' {
  return sel.nodes.find((n) => n.id === id)?.kind ?? 'step';
}

/**
 * `step build, attempt 2: failed (exit code 1) in 1.2s`, or `step build,
 * attempt 2: running`; with `outcome: false` (`--follow` prints the header
 * before the output, when the outcome is not known yet) just `step build,
 * attempt 2`.
 */
export function attemptTitle(
  kind: 'step' | 'service',
  a: AttemptRecord,
  options: { outcome: boolean } = { outcome: true },
): string {
  const head = `${kind} ${a.stepId}, attempt ${a.attempt}`;
  if (!options.outcome) return head;
  if (a.finishedAt === null) return `${head}: ${a.status}`;
  const exit = a.exitCode !== null && a.status !== 'succeeded' ? ` (exit code ${a.exitCode})` : '';
  return `${head}: ${a.status.replace('_', ' ')}${exit} in ${formatMs(a.finishedAt - a.startedAt)}`;
}

/**
 * Where log bytes go: stdout records to stdout, stderr records to stderr;
 * with `headers`, a header line before each attempt and a newline after an
 * attempt whose output did not end in one; with `prefix`, every line
 * prefixed by its step.
 */
class LogOutput {
  /** Per stream: the attempt whose line is unfinished there, if any. */
  private readonly openLine: Record<OutputStream, string | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };

  constructor(
    private readonly io: CliIo,
    private readonly options: { headers: boolean; prefix: boolean },
  ) {}

  header(title: string): void {
    if (!this.options.headers) return;
    this.endLines();
    this.io.stdout.write(`==> ${title} <==\n`);
  }

  records(key: string, label: string, records: readonly LogRecord[]): void {
    for (const r of records) {
      const out = r.stream === 'stdout' ? this.io.stdout : this.io.stderr;
      if (this.options.prefix) {
        const owner = this.openLine[r.stream];
        if (owner !== undefined && owner !== key) out.write('\n');
        if (owner !== key) out.write(`${label} | `);
      }
      out.write(recordBytes(r));
      this.openLine[r.stream] = r.newline ? undefined : key;
    }
  }

  /** After an attempt: ends its unfinished lines, unless bytes must stay exact. */
  endAttempt(key: string): void {
    if (!this.options.headers && !this.options.prefix) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.openLine[stream] === key) {
        (stream === 'stdout' ? this.io.stdout : this.io.stderr).write('\n');
        this.openLine[stream] = undefined;
      }
    }
  }

  private endLines(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const key = this.openLine[stream];
      if (key !== undefined) this.endAttempt(key);
    }
  }
}

const keyOf = (a: AttemptRecord) => `${a.stepId}#${a.attempt}`;

async function printLogs(
  store: StateStore,
  sel: Selection,
  io: CliIo,
  watch: StdoutWatch,
): Promise<number> {
  const attempts = await selectedAttempts(store, sel);
  if (attempts.length === 0) {
    const node = sel.nodes.find((n) => n.id === sel.step);
    io.stderr.write(
      sel.attempt !== undefined && node
        ? `agent: ${node.kind} ${node.id} has no attempt ${sel.attempt} (it has ${node.attempts})\n`
        : node
          ? `agent: ${node.kind} ${node.id} has no attempts yet (${node.status})\n`
          : `agent: no step of run ${sel.run.id} has started\n`,
    );
    return sel.attempt !== undefined ? ExitCode.invalid : ExitCode.ok;
  }
  const out = new LogOutput(io, {
    headers: attempts.length > 1 || io.stdout.isTTY === true,
    prefix: false,
  });
  for (const a of attempts) {
    if (watch.closed()) break;
    const kind = kindOf(sel, a.stepId);
    out.header(attemptTitle(kind, a));
    await readAttempt(a, io, watch, (records) => out.records(keyOf(a), a.stepId, records), true);
    out.endAttempt(keyOf(a));
  }
  return ExitCode.ok;
}

async function readAttempt(
  a: AttemptRecord,
  io: CliIo,
  watch: StdoutWatch,
  onRecords: (records: LogRecord[]) => void,
  final: boolean,
  reader?: LogReader,
): Promise<void> {
  if (a.logFile === null) {
    if (final) io.stderr.write(`agent: ${a.stepId} attempt ${a.attempt} has no log file\n`);
    return;
  }
  const r = reader ?? new LogReader(a.logFile);
  const found = await r.read(onRecords, { final, shouldStop: watch.closed });
  if (!found && final) {
    io.stderr.write(
      `agent: the log file of ${a.stepId} attempt ${a.attempt} is gone (${a.logFile})\n`,
    );
  }
}

/** Whether a node will not start another attempt in this session. */
function nodeDone(node: StepRecord | undefined): boolean {
  if (!node) return true;
  switch (node.status) {
    case 'succeeded':
    case 'failed':
    case 'timed_out':
    case 'cancelled':
    case 'skipped':
    case 'stopped':
    case 'unhealthy':
      return true;
    case 'pending':
    case 'running':
    case 'waiting':
    case 'starting':
    case 'healthy':
      return false;
  }
}

/**
 * `--follow`: polls the store for the selected attempts and reads their log
 * files as they grow, each to its end once the store says it finished.
 * Stops when the step has ended (every attempt read, the step in a final
 * state), when the run's runner is gone (no live lease: then every log is
 * read to its end), or when stdout is closed.
 */
async function followLogs(
  store: StateStore,
  sel: Selection,
  io: CliIo,
  watch: StdoutWatch,
): Promise<void> {
  const out = new LogOutput(io, {
    headers: sel.attempt === undefined || io.stdout.isTTY === true,
    prefix: sel.step === undefined,
  });
  const following = new Map<string, { reader: LogReader | undefined; done: boolean }>();
  for (;;) {
    // Liveness first: whatever is read after the runner is seen gone is complete.
    const live = (await runsWithLiveLease(store)).has(sel.run.id);
    const attempts = await selectedAttempts(store, sel);
    for (const a of attempts) {
      if (watch.closed()) return;
      const key = keyOf(a);
      let entry = following.get(key);
      if (!entry) {
        entry = { reader: a.logFile === null ? undefined : new LogReader(a.logFile), done: false };
        following.set(key, entry);
        out.header(attemptTitle(kindOf(sel, a.stepId), a, { outcome: false }));
      }
      if (entry.done) continue;
      const final = a.finishedAt !== null || !live;
      const label = a.stepId;
      await readAttempt(a, io, watch, (r) => out.records(key, label, r), final, entry.reader);
      if (final) {
        entry.done = true;
        out.endAttempt(key);
      }
    }
    if (watch.closed()) return;
    const allRead = [...following.values()].every((e) => e.done);
    if (!live && allRead) return;
    if (sel.step !== undefined && allRead) {
      const node = (await store.getSteps(sel.run.id)).find((n) => n.id === sel.step);
      const wanted = sel.attempt;
      if (wanted !== undefined && following.size > 0) return;
      if (nodeDone(node)) return;
    }
    await sleepUnlessAborted(FOLLOW_POLL_MS, watch.signal);
  }
}
