/**
 * Crash test (issue 6): `agent run` is killed with SIGKILL at 50 random
 * moments of a 23-step workflow (three parallel chains joined at the end,
 * container steps, a process service and a container service, each behind a
 * health check), each time in a fresh directory; then `agent run --resume`
 * must end `succeeded`, every step must have exactly one succeeded attempt
 * across the sessions, no step that had succeeded before the kill may run
 * again, and nothing of the run (container, network, process) may be left.
 *
 * Kill moments are drawn from a seed (printed; set AGENTFILE_CRASH_SEED to
 * replay one) in fixed proportions: right after the k-th `step.started`
 * (the step announced, its process or container maybe not yet there), after
 * the k-th `step.spawned` or `step.finished`, right after a service event,
 * as the k-th process of the run appears (polled in /proc, so before the
 * runner may have recorded its pid), and at a time offset after
 * `run.created`. The event triggers read the runner's `--output json`
 * stream, which carries each event only once it is stored.
 *
 * Each process step lingers (sleep 600) instead of finishing when its
 * runner died, as a long step would: so a process the resume fails to remove
 * is still there at the end, not gone on its own a moment later.
 *
 * What ran is read three ways, so the store is not its own witness: the
 * store (`runs`, `steps`, `attempts`), a ledger file every process step
 * appends `<step> <attempt>` to, and Docker's own event log of container
 * starts (each step container is labelled with its step and attempt).
 *
 * Knobs: AGENTFILE_CRASH_SEED (the seed), AGENTFILE_CRASH_KILLS (how many
 * moments, default 50), AGENTFILE_CRASH_ONLY (comma-separated 1-based
 * iteration numbers to run, e.g. to replay a failure with its seed),
 * AGENTFILE_CRASH_PARALLEL (iterations at once, default 2),
 * AGENTFILE_CRASH_KILL_RESUME=n (every n-th iteration also kills its first
 * `--resume`, then resumes again; default 0, off: beyond the acceptance).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { describeDocker } from '../helpers/docker.js';
import {
  describeLeftovers,
  isClean,
  removeRunLeftovers,
  runLeftovers,
} from '../helpers/leftovers.js';
import { agent, freePort, readState, repoRoot, spawnAgent, tempDir } from './cli.js';

// ---- the workflow -------------------------------------------------------------

/** One step of the crash workflow. */
interface StepSpec {
  id: string;
  needs: string[];
  /** A container step (busybox) or a local process that appends to the ledger. */
  kind: 'process' | 'container';
  run: string;
}

/** Sleep of the i-th step, 0.05 s to 0.30 s, the same in every iteration. */
function sleepSeconds(i: number): string {
  return (0.05 + ((i * 37) % 26) / 100).toFixed(2);
}

/** The steps: `prep`, then chains a1–a7, b1–b7, c1–c7 (c5 also needs a4), then `join`. */
function crashSteps(): StepSpec[] {
  const steps: StepSpec[] = [];
  const fetchWeb = 'curl -fsS "$AGENT_SERVICE_WEB_URL/health" >/dev/null && ';
  // A step whose runner died stays on as a long one would (builds take
  // minutes, these steps a fraction of a second): it lingers instead of
  // finishing, so an orphan the resume fails to remove is still there at the
  // end. `$PPID` is the runner that spawned it; `kill -0` fails once it died.
  const lingerIfOrphaned = '{ kill -0 "$PPID" 2>/dev/null || exec sleep 600; }';
  const proc = (id: string, needs: string[], before = '') =>
    steps.push({
      id,
      needs,
      kind: 'process',
      run: `${before}sleep ${sleepSeconds(steps.length)} && ${lingerIfOrphaned} && echo "$AGENT_STEP_ID $AGENT_ATTEMPT" >> ledger.txt`,
    });
  const container = (id: string, needs: string[], run: string) =>
    steps.push({ id, needs, kind: 'container', run });
  const fetchCache = 'wget -qO- http://cache:8080/';

  proc('prep', []);
  proc('a1', ['prep']);
  proc('a2', ['a1', 'web'], fetchWeb);
  proc('a3', ['a2']);
  proc('a4', ['a3']);
  proc('a5', ['a4', 'web'], fetchWeb);
  proc('a6', ['a5']);
  proc('a7', ['a6']);
  proc('b1', ['prep']);
  container('b2', ['b1', 'cache'], `${fetchCache} && sleep 0.1`);
  proc('b3', ['b2']);
  proc('b4', ['b3']);
  proc('b5', ['b4']);
  container('b6', ['b5', 'cache'], fetchCache);
  proc('b7', ['b6']);
  proc('c1', ['prep']);
  proc('c2', ['c1']);
  container('c3', ['c2'], 'sleep 0.1 && echo "c3 attempt $AGENT_ATTEMPT"');
  proc('c4', ['c3', 'web'], fetchWeb);
  proc('c5', ['c4', 'a4']);
  container('c6', ['c5'], 'echo "c6 attempt $AGENT_ATTEMPT"');
  proc('c7', ['c6']);
  proc('join', ['a7', 'b7', 'c7']);
  return steps;
}

const STEPS = crashSteps();
const STEP_IDS = STEPS.map((s) => s.id);

/**
 * The workflow file. `web`: test/fixtures/bin/http-server.mjs as a process
 * service on `port`, gated on GET /health; `cache`: busybox httpd in a
 * container, gated on a tcp probe (the shell as PID 1 traps SIGTERM, so
 * stopping it takes no 10 s grace).
 */
function crashWorkflow(port: number): string {
  const server = join(repoRoot, 'test/fixtures/bin/http-server.mjs');
  const steps = STEPS.map((s) => {
    const lines = [`    ${s.id}:`];
    if (s.needs.length > 0) lines.push(`      needs: [${s.needs.join(', ')}]`);
    if (s.kind === 'container') lines.push('      image: busybox:1.36');
    lines.push(`      run: ${JSON.stringify(s.run)}`);
    return lines.join('\n');
  });
  return `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: crash }
spec:
  concurrency: 3
  services:
    web:
      runtime: process
      command: [node, ${JSON.stringify(server)}]
      ports: ["${port}:${port}"]
      environment:
        - { name: PORT, value: "${port}" }
      healthCheck:
        http: { path: /health, port: ${port} }
        interval: 100ms
        retries: 100
    cache:
      image: busybox:1.36
      command: "mkdir -p /www && echo ok > /www/index.html && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"
      ports: ["8080"]
      healthCheck:
        tcp: { port: 8080 }
        interval: 100ms
        retries: 100
  steps:
${steps.join('\n')}
`;
}

// ---- kill moments -------------------------------------------------------------

type StepEventType = 'step.started' | 'step.spawned' | 'step.finished';
type ServiceMoment = 'starting' | 'started' | 'healthy' | 'stopped';

/** When to send SIGKILL to the first session. */
type KillMoment =
  /** Right after the `nth` event of this type is read from the runner's output. */
  | { kind: 'step-event'; type: StepEventType; nth: number }
  /** Right after this service event. */
  | { kind: 'service-event'; service: 'web' | 'cache'; moment: ServiceMoment }
  /** `fraction` × the calibration run's duration after `run.created`. */
  | { kind: 'delay'; fraction: number }
  /**
   * As soon as the runner's `nth` child process of the run (a process step
   * or the process service) exists, seen in /proc: before the runner may
   * have recorded its pid.
   */
  | { kind: 'process'; nth: number };

/** The slice of a stored event this test reads. */
interface EventLine {
  type: string;
  runId: string;
  at: number;
  step?: string;
  service?: string;
  status?: string;
  attempt?: number;
  reused?: string[];
  resumed?: boolean;
  error?: string;
}

/**
 * Out of every ten moments: four right after a step is announced, one as a
 * process of the run appears, one after a step's process or container is
 * recorded, two after a step finished, one at a service event, one at a time
 * offset.
 */
const SLOTS = [
  'started',
  'finished',
  'delay',
  'started',
  'service',
  'started',
  'spawned',
  'finished',
  'started',
  'process',
] as const;

/** Processes the runner spawns in a session at most: the process steps and the process service. */
const PROCESS_COUNT = STEPS.filter((s) => s.kind === 'process').length + 1;

/** What one iteration kills: the first session, and maybe its first `--resume` too. */
interface IterationPlan {
  iteration: number;
  first: KillMoment;
  /** Set on iterations chosen by AGENTFILE_CRASH_KILL_RESUME. */
  resume?: KillMoment;
}

/**
 * `count` iterations drawn from `seed`, the same for the same seed. With
 * `killResumeEvery` n > 0, every n-th iteration also kills its first
 * `--resume`, at a moment of the same slot.
 */
function crashPlans(seed: number, count: number, killResumeEvery: number): IterationPlan[] {
  const moment = fc.record({
    nth: fc.integer({ min: 1, max: STEPS.length }),
    fraction: fc.integer({ min: 0, max: 999 }).map((n) => n / 1000),
    service: fc.constantFrom('web' as const, 'cache' as const),
    moment: fc.constantFrom<ServiceMoment>('starting', 'started', 'healthy', 'stopped'),
  });
  // Unbiased: fast-check leans towards edge values (0, the maximum) otherwise.
  const draws = fc.sample(fc.noBias(fc.tuple(moment, moment)), { seed, numRuns: count });
  return draws.map(([first, resume], i) => {
    const slot = SLOTS[i % SLOTS.length] ?? 'delay';
    const plan: IterationPlan = { iteration: i + 1, first: toMoment(slot, first) };
    if (killResumeEvery > 0 && (i + 1) % killResumeEvery === 0)
      plan.resume = toMoment(slot, resume);
    return plan;
  });
}

function toMoment(
  slot: (typeof SLOTS)[number],
  d: { nth: number; fraction: number; service: 'web' | 'cache'; moment: ServiceMoment },
): KillMoment {
  switch (slot) {
    case 'started':
    case 'spawned':
    case 'finished':
      return { kind: 'step-event', type: `step.${slot}`, nth: d.nth };
    case 'service':
      return { kind: 'service-event', service: d.service, moment: d.moment };
    case 'delay':
      return { kind: 'delay', fraction: d.fraction };
    case 'process':
      return { kind: 'process', nth: 1 + ((d.nth - 1) % PROCESS_COUNT) };
  }
}

function describeMoment(m: KillMoment, calibrationMs: number): string {
  switch (m.kind) {
    case 'step-event':
      return `right after ${ordinal(m.nth)} ${m.type}`;
    case 'service-event':
      return `right after service ${m.service} ${m.moment}`;
    case 'delay':
      return `${Math.round(m.fraction * calibrationMs)} ms after run.created`;
    case 'process':
      return `as ${ordinal(m.nth)} process of the run appears`;
  }
}

function ordinal(n: number): string {
  const suffix =
    n % 10 === 1 && n !== 11
      ? 'st'
      : n % 10 === 2 && n !== 12
        ? 'nd'
        : n % 10 === 3 && n !== 13
          ? 'rd'
          : 'th';
  return `the ${n}${suffix}`;
}

/** True when `event` (the `count`-th of its type) is the moment. */
function isMoment(m: KillMoment, event: EventLine, count: number): boolean {
  switch (m.kind) {
    case 'step-event':
      return event.type === m.type && count === m.nth;
    case 'service-event':
      if (event.service !== m.service) return false;
      if (m.moment === 'starting' || m.moment === 'started')
        return event.type === `service.${m.moment}`;
      return event.type === 'service.status' && event.status === m.moment;
    case 'delay':
    case 'process':
      return false;
  }
}

/**
 * Children of process `pid` whose environment carries `AGENT_RUN_ID`, from
 * `/proc/<pid>/task/<tid>/children`; pids not in `seen` are added to it.
 */
function noteRunChildren(pid: number, seen: Set<number>): void {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // gone
  }
  for (const task of tasks) {
    let children: string;
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean).map(Number)) {
      if (seen.has(child)) continue;
      try {
        if (readFileSync(`/proc/${child}/environ`, 'utf8').includes('AGENT_RUN_ID='))
          seen.add(child);
      } catch {
        // gone already, or not readable yet
      }
    }
  }
}

// ---- one session ---------------------------------------------------------------

/** One `agent run` session, as the test saw it. */
interface Session {
  /** True when the test killed it; false when it ended on its own. */
  killed: boolean;
  runId: string | undefined;
  /** ms from the session's first event (`run.created`, or `run.started` when resuming) to the kill. */
  killedAfterMs: number;
  /** The last event read before the kill, e.g. `step.started b4`. */
  lastEvent: string;
  /** Every event read (up to the kill). */
  events: EventLine[];
  exitCode: number | undefined;
  /** The signal that ended it, when one did (SIGKILL when the test killed it). */
  signal: string | undefined;
  stderr: string;
}

/**
 * Runs `agent ...args --output json` in `dir`; with a `moment`, sends it
 * SIGKILL then (or when `guardMs` passed without it).
 */
async function runSession(
  dir: string,
  args: string[],
  moment: KillMoment | undefined,
  calibrationMs: number,
  guardMs = 180_000,
): Promise<Session> {
  const child = spawnAgent([...args, '--output', 'json'], { cwd: dir });
  const counts = new Map<string, number>();
  const events: EventLine[] = [];
  let firstAt = 0;
  let killedAt = 0;
  let lastEvent = '';
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (killedAt !== 0) return;
    killedAt = Date.now();
    child.kill('SIGKILL');
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    if (killedAt !== 0) return;
    pending += chunk.toString();
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let event: EventLine;
      try {
        event = JSON.parse(line) as EventLine;
      } catch {
        continue;
      }
      events.push(event);
      const count = (counts.get(event.type) ?? 0) + 1;
      counts.set(event.type, count);
      lastEvent = [event.type, event.step ?? event.service, event.status].filter(Boolean).join(' ');
      if (firstAt === 0) {
        firstAt = Date.now();
        if (moment?.kind === 'delay') timer = setTimeout(kill, moment.fraction * calibrationMs);
      }
      if (moment && isMoment(moment, event, count)) {
        kill();
        return;
      }
    }
  });
  // Polled, not evented: nothing announces a spawn before the runner records it.
  const children = new Set<number>();
  let poller: NodeJS.Timeout | undefined;
  if (moment?.kind === 'process' && child.pid !== undefined) {
    const pid = child.pid;
    poller = setInterval(() => {
      if (killedAt !== 0) return;
      noteRunChildren(pid, children);
      if (children.size >= moment.nth) {
        lastEvent += ` (then process ${[...children].pop()})`;
        kill();
      }
    }, 1);
  }
  // Never wait forever: a session that does not end in time is killed (and reported).
  const guard = setTimeout(() => {
    lastEvent += ` (still running after ${guardMs} ms)`;
    kill();
  }, guardMs);
  const result = await child;
  clearTimeout(timer);
  clearTimeout(guard);
  clearInterval(poller);
  return {
    killed: killedAt !== 0 && result.signal === 'SIGKILL',
    runId: events.find((e) => e.runId)?.runId,
    killedAfterMs: killedAt === 0 ? -1 : killedAt - firstAt,
    lastEvent,
    events,
    exitCode: result.exitCode,
    signal: result.signal,
    stderr: String(result.stderr),
  };
}

// ---- what was recorded, what ran ----------------------------------------------

interface StepRow {
  id: string;
  kind: 'step' | 'service';
  status: string;
}
interface AttemptRow {
  step_id: string;
  attempt: number;
  status: string;
}
interface StoreSnapshot {
  runStatus: string | undefined;
  steps: StepRow[];
  attempts: AttemptRow[];
}

function snapshot(dir: string, runId: string): StoreSnapshot {
  return readState(dir, (db) => ({
    runStatus: (
      db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as
        | { status: string }
        | undefined
    )?.status,
    steps: db
      .prepare('SELECT id, kind, status FROM steps WHERE run_id = ? ORDER BY position')
      .all(runId) as StepRow[],
    attempts: db
      .prepare(
        'SELECT step_id, attempt, status FROM attempts WHERE run_id = ? ORDER BY step_id, attempt',
      )
      .all(runId) as AttemptRow[],
  }));
}

/** Ledger lines as `[step, attempt]`. */
async function readLedger(dir: string): Promise<[string, number][]> {
  const text = await readFile(join(dir, 'ledger.txt'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [step = '', attempt = ''] = line.split(' ');
      return [step, Number(attempt)];
    });
}

/** A step container's start, from Docker's event log. */
interface ContainerStart {
  step: string;
  attempt: number;
}

/**
 * Docker's log of step container starts, streamed from the first iteration
 * on. `docker events --since` reads the engine's in-memory event buffer,
 * which holds only the last few hundred events: with other tests starting
 * containers in parallel, a run's starts can be gone from it before the
 * check asks. The stream keeps every one.
 */
const containerStarts: ContainerStart[] = [];
const startRuns: string[] = [];
let watcher: ReturnType<typeof execa> | undefined;
let watchBuffer = '';

/** Starts the `docker events` stream once; resolves when it is listening. */
async function watchContainerStarts(): Promise<void> {
  if (watcher) return;
  const child = execa(
    'docker',
    [
      'events',
      '--filter',
      'type=container',
      '--filter',
      'event=start',
      '--filter',
      'label=agentfile.kind=step',
      '--format',
      '{{json .}}',
    ],
    { reject: false, buffer: false },
  );
  watcher = child;
  child.stdout?.on('data', (b: Buffer) => {
    watchBuffer += b.toString('utf8');
    for (let nl = watchBuffer.indexOf('\n'); nl >= 0; nl = watchBuffer.indexOf('\n')) {
      const line = watchBuffer.slice(0, nl);
      watchBuffer = watchBuffer.slice(nl + 1);
      try {
        const e = JSON.parse(line) as { Actor: { Attributes: Record<string, string> } };
        containerStarts.push({
          step: e.Actor.Attributes['agentfile.step'] ?? '',
          attempt: Number(e.Actor.Attributes['agentfile.attempt']),
        });
        startRuns.push(e.Actor.Attributes['agentfile.run'] ?? '');
      } catch {
        // not an event line
      }
    }
  });
  // `docker events` prints nothing until an event: give it a moment to subscribe.
  await new Promise((r) => setTimeout(r, 500));
}

/** Stops the stream (after the test). */
function stopWatchingContainerStarts(): void {
  watcher?.kill();
  watcher = undefined;
}

/** Starts of the run's step containers, from the stream (after a moment for it to catch up). */
async function stepContainerStarts(runId: string): Promise<ContainerStart[]> {
  await new Promise((r) => setTimeout(r, 300));
  return containerStarts.filter((_, i) => startRuns[i] === runId);
}

function parseEvents(stdout: string): EventLine[] {
  return stdout.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as EventLine];
    } catch {
      return [];
    }
  });
}

// ---- one iteration ------------------------------------------------------------

/** What the store and the ledger said right after a kill. */
interface KillSnapshot {
  /** Steps recorded succeeded, with their succeeded attempt. */
  succeeded: Map<string, number>;
  runStatus: string | undefined;
  ledgerLength: number;
}

async function afterKill(dir: string, runId: string): Promise<KillSnapshot> {
  const store = snapshot(dir, runId);
  const steps = new Set(
    store.steps.filter((s) => s.kind === 'step' && s.status === 'succeeded').map((s) => s.id),
  );
  const succeeded = new Map(
    store.attempts
      .filter((a) => steps.has(a.step_id) && a.status === 'succeeded')
      .map((a) => [a.step_id, a.attempt]),
  );
  for (const id of steps) if (!succeeded.has(id)) succeeded.set(id, -1);
  return { succeeded, runStatus: store.runStatus, ledgerLength: (await readLedger(dir)).length };
}

/** The outcome of one iteration: its kills and the final resume. */
interface IterationReport {
  iteration: number;
  /** One line per kill: the moment, when it landed, what had succeeded, what the kill left. */
  kills: string[];
  dir: string;
  runId: string | undefined;
  resumeMs: number;
  /** Broken promises, one line each; empty when the iteration passed. */
  problems: string[];
}

/** Writes the workflow into a fresh directory. */
async function freshWorkflowDir(): Promise<string> {
  const dir = await tempDir('agentfile-crash-');
  await writeFile(join(dir, 'agent.yaml'), crashWorkflow(await freePort()));
  await writeFile(join(dir, 'ledger.txt'), '');
  return dir;
}

/**
 * The first session, killed at `moment`. A moment that comes after the run
 * ended (a late time offset on a fast machine) kills nothing: then again in
 * a fresh directory, at a time offset half as late.
 */
async function firstSessionKilled(
  moment: KillMoment,
  calibrationMs: number,
): Promise<{ dir: string; session: Session; moment: string; startedAt: number }> {
  let current = moment;
  let described = describeMoment(moment, calibrationMs);
  for (let tries = 1; ; tries++) {
    const dir = await freshWorkflowDir();
    const startedAt = Date.now();
    const session = await runSession(dir, ['run'], current, calibrationMs);
    if (session.killed || session.exitCode !== 0 || tries === 4)
      return { dir, session, moment: described, startedAt };
    if (session.runId) await removeRunLeftovers(session.runId);
    await rm(dir, { recursive: true, force: true });
    current = { kind: 'delay', fraction: current.kind === 'delay' ? current.fraction / 2 : 0.5 };
    described += ` (came too late; then ${describeMoment(current, calibrationMs)})`;
  }
}

/** `resumeMoment` for a resumed session: the nth step event counted among the steps left to run. */
function forResume(m: KillMoment, stepsLeft: number): KillMoment {
  if (m.kind !== 'step-event') return m;
  return { ...m, nth: 1 + ((m.nth - 1) % Math.max(1, stepsLeft)) };
}

async function crashIteration(
  plan: IterationPlan,
  calibrationMs: number,
  seed: number,
): Promise<IterationReport> {
  const report: IterationReport = {
    iteration: plan.iteration,
    kills: [],
    dir: '',
    runId: undefined,
    resumeMs: 0,
    problems: [],
  };
  const problems = report.problems;
  await watchContainerStarts();
  const first = await firstSessionKilled(plan.first, calibrationMs);
  const dir = first.dir;
  report.dir = dir;
  const runId = first.session.runId;
  report.runId = runId;
  if (!first.session.killed || runId === undefined) {
    problems.push(
      `the first session (${first.moment}) ended on its own (exit ${first.session.exitCode}, signal ${first.session.signal ?? 'none'}), run ${runId ?? 'never created'}: ${first.session.stderr.trim().split('\n').pop() ?? ''}`,
    );
    if (runId) await removeRunLeftovers(runId);
    return report;
  }

  /** Every session in order, and the snapshot after each kill (`snapshots[k]` after `sessions[k]`). */
  const sessions: Session[] = [first.session];
  const snapshots: KillSnapshot[] = [];
  const describeKill = async (moment: string, session: Session) => {
    const snap = await afterKill(dir, runId);
    snapshots.push(snap);
    const left = describeLeftovers(await runLeftovers(runId));
    report.kills.push(
      `${moment}: killed ${session.killedAfterMs} ms after the first event, after "${session.lastEvent}"; ${snap.succeeded.size} steps succeeded; left: ${left}`,
    );
    if (snap.runStatus === 'succeeded')
      problems.push(`the run was already recorded succeeded at the kill (${moment})`);
  };
  try {
    await describeKill(first.moment, first.session);
    let final: Session | undefined;
    if (plan.resume) {
      const moment = forResume(plan.resume, STEPS.length - (snapshots[0]?.succeeded.size ?? 0));
      const resumedAt = Date.now();
      const killedResume = await runSession(dir, ['run', '--resume'], moment, calibrationMs);
      sessions.push(killedResume);
      if (killedResume.killed) {
        await describeKill(`--resume ${describeMoment(moment, calibrationMs)}`, killedResume);
      } else {
        // It ended before the moment came: it is the final resume.
        final = killedResume;
        report.resumeMs = Date.now() - resumedAt;
      }
    }
    if (!final) {
      const resumedAt = Date.now();
      final = await runSession(dir, ['run', '--resume'], undefined, calibrationMs);
      report.resumeMs = Date.now() - resumedAt;
      sessions.push(final);
    }
    checkIteration({ dir, runId, sessions, snapshots, final, problems });
    await checkLedgerAndContainers({ dir, runId, snapshots, startedAt: first.startedAt, problems });
    const left = await runLeftovers(runId);
    if (!isClean(left)) problems.push(`left after --resume: ${describeLeftovers(left)}`);
  } catch (error) {
    problems.push(
      `the check itself broke: ${error instanceof Error ? error.stack : String(error)}`,
    );
  } finally {
    if (problems.length > 0) {
      await removeRunLeftovers(runId);
      problems.push(
        `replay: AGENTFILE_CRASH_SEED=${seed} AGENTFILE_CRASH_ONLY=${plan.iteration} npx vitest run test/e2e/crash.test.ts (state kept in ${dir})`,
      );
    } else {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return report;
}

/** The store's side: the final session, reuse decisions, one succeeded attempt per step. */
function checkIteration(c: {
  dir: string;
  runId: string;
  sessions: Session[];
  snapshots: KillSnapshot[];
  final: Session;
  problems: string[];
}): void {
  const { problems, final } = c;
  const finished = final.events.find((e) => e.type === 'run.finished');
  if (final.exitCode !== 0) {
    const stderr = final.stderr.trim().split('\n').slice(-2).join(' / ');
    problems.push(
      `--resume ${final.signal ? `was ended by ${final.signal} (not sent by this test)` : `exited ${final.exitCode}`}${finished?.error ? `: ${finished.error}` : ''}${stderr ? ` (stderr: ${stderr})` : ''}`,
    );
  }
  const end = snapshot(c.dir, c.runId);
  if (end.runStatus !== 'succeeded')
    problems.push(`run status after --resume is ${end.runStatus}, not succeeded`);

  // Each session after a kill reuses exactly what had succeeded by then.
  for (const [k, snap] of c.snapshots.entries()) {
    const next = c.sessions[k + 1];
    const started = next?.events.find((e) => e.type === 'run.started');
    if (started?.resumed !== true) {
      problems.push(
        `session ${k + 2} did not resume run ${c.runId} (run.started: ${JSON.stringify(started)})`,
      );
      continue;
    }
    const reused = new Set(started.reused ?? []);
    const notReused = [...snap.succeeded.keys()].filter((id) => !reused.has(id));
    if (notReused.length > 0)
      problems.push(
        `session ${k + 2}: succeeded before the kill but not reused: ${notReused.join(', ')}`,
      );
    const unearned = [...reused].filter((id) => !snap.succeeded.has(id));
    if (unearned.length > 0)
      problems.push(`session ${k + 2}: reused without a recorded success: ${unearned.join(', ')}`);
  }

  for (const id of STEP_IDS) {
    const attempts = end.attempts.filter((a) => a.step_id === id);
    const wins = attempts.filter((a) => a.status === 'succeeded');
    const row = end.steps.find((s) => s.id === id);
    if (row?.status !== 'succeeded') problems.push(`step ${id} is ${row?.status ?? 'missing'}`);
    if (wins.length !== 1) {
      problems.push(
        `step ${id}: ${wins.length} succeeded attempts (${attempts.map((a) => `#${a.attempt} ${a.status}`).join(', ') || 'none'})`,
      );
      continue;
    }
    const win = wins[0]?.attempt ?? 0;
    const later = attempts.filter((a) => a.attempt > win);
    if (later.length > 0)
      problems.push(
        `step ${id} got attempts after its success #${win}: ${later.map((a) => `#${a.attempt} ${a.status}`).join(', ')}`,
      );
    for (const snap of c.snapshots) {
      const before = snap.succeeded.get(id);
      if (before !== undefined && before !== win)
        problems.push(
          `step ${id} had succeeded as attempt #${before} at a kill, #${win} in the end`,
        );
    }
  }
  const open = end.attempts.filter((a) => a.status === 'running');
  if (open.length > 0)
    problems.push(
      `attempts still recorded running after the run ended: ${open.map((a) => `${a.step_id} #${a.attempt}`).join(', ')}`,
    );
}

/**
 * The witnesses besides the store: the ledger of process steps and Docker's
 * log of step container starts. Each step's succeeded attempt ran exactly
 * once and nothing after it; nothing that had succeeded at a kill wrote to
 * the ledger after that kill.
 */
async function checkLedgerAndContainers(c: {
  dir: string;
  runId: string;
  snapshots: KillSnapshot[];
  startedAt: number;
  problems: string[];
}): Promise<void> {
  const { problems } = c;
  const end = snapshot(c.dir, c.runId);
  const succeededAttempt = new Map(
    end.attempts.filter((a) => a.status === 'succeeded').map((a) => [a.step_id, a.attempt]),
  );
  const ledger = await readLedger(c.dir);
  for (const snap of c.snapshots) {
    for (const [step, attempt] of ledger.slice(snap.ledgerLength)) {
      if (snap.succeeded.has(step))
        problems.push(
          `step ${step} had succeeded before a kill but ran again (ledger: attempt ${attempt})`,
        );
    }
  }
  const starts = await stepContainerStarts(c.runId);
  for (const s of STEPS) {
    const win = succeededAttempt.get(s.id);
    if (win === undefined) continue;
    const ran =
      s.kind === 'process'
        ? ledger.filter(([step]) => step === s.id).map(([, attempt]) => attempt)
        : starts.filter((start) => start.step === s.id).map((start) => start.attempt);
    if (ran.filter((a) => a === win).length !== 1 || ran.some((a) => a > win))
      problems.push(
        `step ${s.id}: ${s.kind === 'process' ? 'ledger lines' : 'containers started'} for attempts [${ran.join(', ')}], succeeded attempt #${win} (expected it once, nothing after it)`,
      );
  }
}

/** Runs `fn` over `items`, at most `width` at a time, results in input order. */
async function inPool<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

/** One uninterrupted run: it must succeed and leave nothing; its duration scales the time offsets. */
async function calibrate(): Promise<number> {
  const dir = await tempDir('agentfile-crash-calibration-');
  try {
    await writeFile(join(dir, 'agent.yaml'), crashWorkflow(await freePort()));
    await writeFile(join(dir, 'ledger.txt'), '');
    const r = await agent(['run', '--output', 'json'], { cwd: dir, timeoutMs: 180_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const events = parseEvents(r.stdout);
    const created = events.find((e) => e.type === 'run.created');
    const finished = events.find((e) => e.type === 'run.finished');
    expect(finished?.status).toBe('succeeded');
    const ledger = await readLedger(dir);
    expect(ledger.map(([step]) => step).sort()).toEqual(
      STEPS.filter((s) => s.kind === 'process')
        .map((s) => s.id)
        .sort(),
    );
    const runId = String(created?.runId);
    expect(describeLeftovers(await runLeftovers(runId))).toBe('nothing');
    return (finished?.at ?? 0) - (created?.at ?? 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const KILLS = Number(process.env.AGENTFILE_CRASH_KILLS ?? 50);
const PARALLEL = Number(process.env.AGENTFILE_CRASH_PARALLEL ?? 2);
const KILL_RESUME_EVERY = Number(process.env.AGENTFILE_CRASH_KILL_RESUME ?? 0);
const ONLY = (process.env.AGENTFILE_CRASH_ONLY ?? '').split(',').filter(Boolean).map(Number);
const SEED = Number(process.env.AGENTFILE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

describeDocker('crash: SIGKILL at random moments, then --resume', () => {
  afterAll(stopWatchingContainerStarts);
  it(
    `kill -9 at ${KILLS} moments of a ${STEPS.length}-step workflow with parallel chains, containers and services: --resume succeeds, each step succeeds exactly once, nothing succeeded runs again, nothing is left`,
    async () => {
      expect(STEPS.length).toBeGreaterThanOrEqual(20);
      const began = Date.now();
      const calibrationMs = await calibrate();
      const plans = crashPlans(SEED, KILLS, KILL_RESUME_EVERY).filter(
        (p) => ONLY.length === 0 || ONLY.includes(p.iteration),
      );
      console.log(
        `crash test: seed ${SEED} (AGENTFILE_CRASH_SEED=${SEED} replays it), ${plans.length} iterations, ${PARALLEL} at a time; an uninterrupted run takes ${calibrationMs} ms`,
      );
      const reports = await inPool(plans, PARALLEL, async (plan) => {
        const r = await crashIteration(plan, calibrationMs, SEED);
        const verdict = r.problems.length === 0 ? 'ok' : `FAILED\n    ${r.problems.join('\n    ')}`;
        console.log(
          `#${String(r.iteration).padStart(2, '0')} ${r.kills.join('\n    then ')}\n    --resume ${r.resumeMs} ms: ${verdict}`,
        );
        return r;
      });
      const failed = reports.filter((r) => r.problems.length > 0);
      console.log(
        `crash test: seed ${SEED}, ${reports.length - failed.length}/${reports.length} iterations passed in ${((Date.now() - began) / 1000).toFixed(0)} s`,
      );
      expect(
        failed.map(
          (r) =>
            `#${r.iteration} (seed ${SEED}, run ${r.runId}, ${r.kills.join(' / then ')}): ${r.problems.join('; ')}`,
        ),
      ).toEqual([]);
    },
    30 * 60_000,
  );
});
