import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AgentSpec } from '../../../src/config/model.js';
import { ProcessExecutor } from '../../../src/executors/process.js';
import { sweepRunProcesses } from '../../../src/executors/sweep.js';
import type { AttemptSpec } from '../../../src/executors/types.js';
import { pidsCarrying, processAlive, waitFor } from '../../helpers/processes.js';

/** A run id of this test process only, so parallel test files cannot match it. */
const runId = `leftovers-${randomBytes(4).toString('hex')}`;
/** Generous: catches a hang (the bug made these take 20 s), times nothing. */
const HANG_MS = 15_000;
let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentfile-leftovers-'));
});
afterAll(async () => {
  await sweepRunProcesses({ runId });
  await rm(dir, { recursive: true, force: true });
});

function attempt(script: string, overrides: Partial<AttemptSpec> = {}): AttemptSpec {
  counter += 1;
  return {
    runId,
    stepId: `step-${counter}`,
    attempt: 1,
    command: ['sh', '-c', script],
    env: {},
    signal: new AbortController().signal,
    logFile: join(dir, `step-${counter}.1.log`),
    ...overrides,
  };
}

/** Runs the attempt; returns its result, its output lines and how long it took. */
async function run(spec: AttemptSpec, executor = new ProcessExecutor()) {
  const lines: string[] = [];
  const started = Date.now();
  const result = await executor.runAttempt({ ...spec, onOutput: (_s, line) => lines.push(line) });
  return { result, lines, elapsedMs: Date.now() - started };
}

/** The processes still carrying this attempt's markers. */
const leftOf = (spec: AttemptSpec) =>
  pidsCarrying(
    `AGENT_RUN_ID=${spec.runId}`,
    `AGENT_STEP_ID=${spec.stepId}`,
    `AGENT_ATTEMPT=${spec.attempt}`,
  );

describe('the markers of an attempt', () => {
  test('every process of an attempt carries AGENT_RUN_ID, AGENT_STEP_ID and AGENT_ATTEMPT', async () => {
    const spec = attempt('echo "$AGENT_RUN_ID $AGENT_STEP_ID $AGENT_ATTEMPT"', {
      attempt: 3,
      // The executor's markers win: the sweep relies on them.
      env: { AGENT_RUN_ID: 'not-this-run', AGENT_ATTEMPT: '9' },
    });
    const { lines } = await run(spec);
    expect(lines).toEqual([`${runId} ${spec.stepId} 3`]);
  });
});

describe('an escaped grandchild holding the pipes', () => {
  test('with a timeout: the attempt ends when its main process exits, and the sleep is killed', async () => {
    const spec = attempt('setsid sleep 20 & echo started', { timeoutMs: 2000 });
    const { result, lines, elapsedMs } = await run(spec);
    expect(result).toEqual({
      exitCode: 0,
      timedOut: false,
      cancelled: false,
      durationMs: result.durationMs,
    });
    expect(elapsedMs).toBeLessThan(HANG_MS);
    expect(lines).toEqual(['started']);
    expect(leftOf(spec)).toEqual([]);
  });

  test('without a timeout: it succeeds promptly and leaves no sleep behind', async () => {
    const spec = attempt('setsid sleep 20 & echo "started $!"');
    const { result, lines, elapsedMs } = await run(spec);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    expect(result.error).toBeUndefined();
    expect(elapsedMs).toBeLessThan(HANG_MS);
    const sleepPid = Number(/^started (\d+)$/.exec(lines[0] ?? '')?.[1]);
    expect(sleepPid).toBeGreaterThan(1);
    expect(processAlive(sleepPid)).toBe(false);
    expect(leftOf(spec)).toEqual([]);
  });

  test('a main process that times out: timedOut, and its escaped child is killed too', async () => {
    const spec = attempt('setsid sleep 20 & echo "started $!"; sleep 30', { timeoutMs: 500 });
    const { result, lines, elapsedMs } = await run(spec);
    const sleepPid = Number(/^started (\d+)$/.exec(lines[0] ?? '')?.[1]);
    expect(sleepPid).toBeGreaterThan(1);
    expect(processAlive(sleepPid)).toBe(false);
    expect(result).toMatchObject({
      timedOut: true,
      cancelled: false,
      exitCode: null,
      signal: 'SIGTERM',
      error: 'timed out after 500 ms',
    });
    expect(elapsedMs).toBeLessThan(HANG_MS);
    expect(leftOf(spec)).toEqual([]);
  });

  test('output the escaped process wrote before the end is kept', async () => {
    const spec = attempt(
      'setsid sh -c "echo from-escaped; echo to-stderr >&2; exec sleep 20" & ' +
        'while ! grep -q from-escaped "$LOG"; do sleep 0.01; done; echo main-done',
    );
    spec.env = { LOG: spec.logFile };
    const { result, lines } = await run(spec);
    expect(result.exitCode).toBe(0);
    expect(lines.sort()).toEqual(['from-escaped', 'main-done', 'to-stderr']);
    const log = await readFile(spec.logFile, 'utf8');
    expect(log).toContain('stdout| from-escaped\n');
    expect(log).toContain('stderr| to-stderr\n');
    expect(log).toContain('stdout| main-done\n');
    expect(leftOf(spec)).toEqual([]);
  });

  test('a double-forked daemon that keeps neither the group nor the pipes is left to the run sweep', async () => {
    // Looking for it after every attempt would cost every attempt a /proc
    // scan; the attempt cannot tell it from nothing, so the end-of-run sweep
    // (by AGENT_RUN_ID) is what removes it, as GitHub Actions cleans up
    // orphans at the end of a job.
    const pidFile = join(dir, 'daemon.pid');
    const spec = attempt(
      `(setsid sleep 21 >/dev/null 2>&1 & echo $! > ${pidFile}); echo "daemon $(cat ${pidFile})"`,
    );
    const { result, lines, elapsedMs } = await run(spec);
    expect(result.exitCode).toBe(0);
    expect(elapsedMs).toBeLessThan(HANG_MS);
    const daemon = Number(/^daemon (\d+)$/.exec(lines[0] ?? '')?.[1]);
    expect(daemon).toBeGreaterThan(1);
    // Killed with the attempt when the scan ran anyway (the subshell that
    // forked it was still exiting, so the group was not empty yet), else
    // still there for the run's sweep: never anything else.
    const left = leftOf(spec);
    expect(left.length === 0 ? processAlive(daemon) : left).toEqual(
      left.length === 0 ? false : [daemon],
    );
    await sweepRunProcesses({ runId: spec.runId });
    expect(processAlive(daemon)).toBe(false);
    expect(leftOf(spec)).toEqual([]);
  });

  test('a holder the sweep cannot see (environment cleared) delays the end by at most the drain time', async () => {
    // Reports the holder once it runs with the cleared environment (after
    // setsid and both execs), so that no scan can catch it earlier.
    const spec = attempt(
      'setsid env -i sleep 20 & pid=$!; ' +
        'while grep -q AGENT_RUN_ID /proc/$pid/environ; do sleep 0.01; done; echo "started $pid"',
    );
    const { result, lines, elapsedMs } = await run(spec);
    const holder = Number(/^started (\d+)$/.exec(lines[0] ?? '')?.[1]);
    try {
      expect(result).toMatchObject({ exitCode: 0, timedOut: false });
      expect(elapsedMs).toBeLessThan(HANG_MS);
      // Documented limitation: without the markers it outlives the attempt.
      expect(processAlive(holder)).toBe(true);
    } finally {
      if (holder > 1) process.kill(holder, 'SIGKILL');
    }
  });

  test('another attempt of the same step is not touched', async () => {
    // Attempt 1 leaves a process that holds its pipes: swept when it ends.
    const first = attempt('setsid sleep 22 & echo "$!"', { attempt: 1 });
    const executor = new ProcessExecutor();
    // Attempt 2 of the same step, still running, while attempt 1 ends.
    const controller = new AbortController();
    const second = executor.runAttempt({
      ...first,
      attempt: 2,
      command: ['sh', '-c', 'sleep 23'],
      signal: controller.signal,
      logFile: `${first.logFile}.2`,
    });
    await waitFor(() => leftOf({ ...first, attempt: 2 }).length > 0);
    const { result } = await run(first, executor);
    expect(result.exitCode).toBe(0);
    expect(leftOf(first)).toEqual([]);
    expect(leftOf({ ...first, attempt: 2 }).length).toBeGreaterThan(0);
    controller.abort();
    expect(await second).toMatchObject({ cancelled: true });
    expect(leftOf({ ...first, attempt: 2 })).toEqual([]);
  });
});

describe('process services with an escaped grandchild', () => {
  const agent = (command: string[]): AgentSpec => ({
    kind: 'Agent',
    name: 'escaping',
    path: join(dir, 'agent.yaml'),
    source: { file: 'agent.yaml', line: 1, column: 1 },
    runtime: 'process',
    command,
    ports: [],
    environment: [],
    volumes: [],
    resources: { limits: {} },
  });

  test('a service that exits resolves exited at once, not when the grandchild lets go', async () => {
    const executor = new ProcessExecutor();
    const started = Date.now();
    const handle = await executor.startService({
      runId,
      name: 'svc-exits',
      agent: { ...agent(['sh', '-c', 'setsid sleep 20 & echo up; exit 3']), workdir: dir },
      env: {},
      logFile: join(dir, 'svc-exits.1.log'),
      signal: new AbortController().signal,
    });
    expect(await handle.exited).toEqual({ exitCode: 3 });
    expect(Date.now() - started).toBeLessThan(HANG_MS);
    expect(handle.logTail(5)).toEqual(['up']);
    await handle.stop(1000);
  });

  test('a command probe ends when its process exits, output kept', async () => {
    const executor = new ProcessExecutor();
    const handle = await executor.startService({
      runId,
      name: 'svc-probe',
      agent: { ...agent(['sleep', '30']), workdir: dir },
      env: {},
      logFile: join(dir, 'svc-probe.1.log'),
      signal: new AbortController().signal,
    });
    try {
      const started = Date.now();
      // The holder writes its pid once it has left the probe's group.
      const script =
        "setsid sh -c 'echo $$ > holder.pid; exec sleep 20' & " +
        'while [ ! -s holder.pid ]; do sleep 0.01; done; echo "ok $(cat holder.pid)"';
      const probe = await handle.exec(['sh', '-c', script], 5000);
      expect(Date.now() - started).toBeLessThan(HANG_MS);
      expect(probe.exitCode).toBe(0);
      const holder = Number(/^ok (\d+)\n$/.exec(probe.output)?.[1]);
      expect(holder).toBeGreaterThan(1);
      // It left the probe's group; the run's sweep at the end of the run is what kills it.
      const gone = await sweepRunProcesses({ runId });
      expect(gone.processes.map((p) => p.pid)).toContain(holder);
    } finally {
      await handle.stop(1000);
    }
  });
});
