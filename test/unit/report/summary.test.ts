import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/core/events.js';
import { compilePlan } from '../../../src/plan/compile.js';
import { githubAnnotations, githubMarkers, renderStepSummary } from '../../../src/report/github.js';
import { gitlabMarkers } from '../../../src/report/gitlab.js';
import { FoldingReporter } from '../../../src/report/grouped.js';
import { writeRunEnd } from '../../../src/report/run-end.js';
import { buildRunStatus } from '../../../src/report/status.js';
import {
  buildRunSummary,
  formatRunSummary,
  type RunSummary,
  readLogTail,
} from '../../../src/report/summary.js';
import type { AttemptRecord, RunRecord, StepRecord } from '../../../src/store/types.js';
import { service, step, workflow } from '../plan/fixtures.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
const RUN = '20260102-030405-abcdef';

const run = (patch: Partial<RunRecord> = {}): RunRecord => ({
  id: RUN,
  workflow: 'hello',
  file: '/repo/examples/hello/workflow.yaml',
  status: 'failed',
  planFingerprint: 'f',
  createdAt: T0,
  startedAt: T0,
  finishedAt: T0 + 5000,
  error: 'step "a" failed',
  requested: null,
  inputs: {},
  sessions: 1,
  ...patch,
});

const node = (id: string, patch: Partial<StepRecord> = {}): StepRecord => ({
  runId: RUN,
  id,
  kind: 'step',
  status: 'succeeded',
  fingerprint: 'x',
  attempts: 1,
  startedAt: T0,
  finishedAt: T0 + 1000,
  error: null,
  outputs: null,
  waitingFor: null,
  decision: null,
  ...patch,
});

const attempt = (stepId: string, n: number, patch: Partial<AttemptRecord> = {}): AttemptRecord => ({
  runId: RUN,
  stepId,
  attempt: n,
  status: 'succeeded',
  startedAt: T0,
  finishedAt: T0 + 1000,
  exitCode: 0,
  error: null,
  pid: 1,
  containerId: null,
  logFile: null,
  ...patch,
});

/** a → b → c, d (needs nothing), service api; step sources at lines 10, 20, 30, 40. */
const plan = compilePlan(
  workflow({
    services: [service('api')],
    steps: [
      step('a', { source: { file: 'workflow.yaml', line: 10, column: 5 } }),
      step('b', { needs: ['a'], source: { file: 'workflow.yaml', line: 20, column: 5 } }),
      step('c', { needs: ['b'], source: { file: 'workflow.yaml', line: 30, column: 5 } }),
      step('d', { source: { file: 'workflow.yaml', line: 40, column: 5 } }),
    ],
  }),
);

function summaryOf(steps: StepRecord[], attempts: AttemptRecord[], r = run()): RunSummary {
  const view = buildRunStatus({ run: r, steps, attempts, now: T0 + 5000 });
  return buildRunSummary({ view, plan, cwd: '/repo/examples/hello' });
}

describe('buildRunSummary', () => {
  it('calls an out-of-memory kill oom, and traces a skipped step to the failure upstream of its need', () => {
    const s = summaryOf(
      [
        node('api', { kind: 'service', status: 'stopped' }),
        node('a', { status: 'failed', error: 'out of memory (limit 32Mi)' }),
        node('b', { status: 'skipped', attempts: 0, startedAt: null, finishedAt: null }),
        node('c', { status: 'skipped', attempts: 0, startedAt: null, finishedAt: null }),
        node('d', { status: 'cancelled', finishedAt: T0 + 2000 }),
      ],
      [attempt('a', 1, { status: 'failed', exitCode: 137, error: 'out of memory (limit 32Mi)' })],
    );
    expect(s.firstFailure).toMatchObject({
      id: 'a',
      reason: 'oom',
      description: 'failed: out of memory (limit 32Mi)',
      source: { file: '/repo/examples/hello/workflow.yaml', line: 10, column: 5 },
    });
    expect(s.otherFailures).toEqual([]);
    // c needs b (skipped) which needs a: a is c's cause; d needs nothing: the first failure.
    expect(s.consequences.map((c) => [c.id, c.status, c.causes])).toEqual([
      ['b', 'skipped', ['a']],
      ['c', 'skipped', ['a']],
      ['d', 'cancelled', ['a']],
    ]);
  });

  it('names an unhealthy service, and a step retried after a timeout', () => {
    const s = summaryOf(
      [
        node('api', {
          kind: 'service',
          status: 'unhealthy',
          finishedAt: T0 + 3000,
          error: 'GET http://127.0.0.1:1/health: connect ECONNREFUSED',
        }),
        node('a', { attempts: 2 }),
        node('b', { status: 'failed', finishedAt: T0 + 4000, error: 'exit code 1' }),
        node('c', { status: 'skipped', attempts: 0 }),
        node('d'),
      ],
      [
        attempt('a', 1, { status: 'timed_out', exitCode: null, error: 'timed out after 1s' }),
        attempt('a', 2),
        attempt('b', 1, { status: 'failed', exitCode: 1, error: 'exit code 1' }),
      ],
    );
    expect(s.firstFailure).toMatchObject({
      id: 'api',
      kind: 'service',
      reason: 'unhealthy',
      description: 'unhealthy: GET http://127.0.0.1:1/health: connect ECONNREFUSED',
    });
    expect(s.otherFailures.map((c) => [c.id, c.reason, c.description])).toEqual([
      ['b', 'exit code', 'failed: exit code 1'],
    ]);
    expect(s.retried).toEqual([
      {
        id: 'a',
        attempts: 2,
        failed: [{ attempt: 1, error: 'timed out after 1s' }],
        source: { file: '/repo/examples/hello/workflow.yaml', line: 10, column: 5 },
      },
    ]);
    expect(formatRunSummary(s, { cwd: '/repo/examples/hello' })).toEqual([
      `summary of run ${RUN}: failed in 5.0s`,
      'first failure: service api (workflow.yaml:4) unhealthy: GET http://127.0.0.1:1/health: connect ECONNREFUSED',
      'also failed: step b (workflow.yaml:20) failed: exit code 1',
      'consequences, not causes:',
      '  step c (workflow.yaml:30) skipped because step b failed',
      '',
      'STEP           STATUS                 ATTEMPTS  DURATION',
      'api (service)  unhealthy              1         3.0s',
      'a              succeeded after retry  2         1.0s',
      'b              failed                 1         4.0s',
      'c              skipped                0         1.0s',
      'd              succeeded              1         1.0s',
    ]);
  });

  it('takes a continueOnError failure as tolerated, not as the cause, even when it failed first', () => {
    const tolerant = compilePlan(
      workflow({
        steps: [
          step('lint', {
            continueOnError: true,
            source: { file: 'workflow.yaml', line: 5, column: 5 },
          }),
          step('test', { source: { file: 'workflow.yaml', line: 9, column: 5 } }),
          step('ship', { needs: ['lint', 'test'] }),
        ],
      }),
    );
    const view = buildRunStatus({
      run: run(),
      steps: [
        node('lint', { status: 'failed', finishedAt: T0 + 100, error: 'exit code 2' }),
        node('test', { status: 'failed', finishedAt: T0 + 900, error: 'exit code 1' }),
        node('ship', { status: 'skipped', attempts: 0 }),
      ],
      attempts: [
        attempt('lint', 1, { status: 'failed', exitCode: 2, error: 'exit code 2' }),
        attempt('test', 1, { status: 'failed', exitCode: 1, error: 'exit code 1' }),
      ],
      now: T0 + 5000,
    });
    expect(view.firstFailure?.step).toBe('lint');
    const s = buildRunSummary({ view, plan: tolerant, cwd: '/repo/examples/hello' });
    expect(s.firstFailure?.id).toBe('test');
    expect(s.otherFailures).toEqual([]);
    expect(s.tolerated.map((c) => c.id)).toEqual(['lint']);
    expect(s.consequences.map((c) => [c.id, c.causes])).toEqual([['ship', ['test']]]);
    expect(formatRunSummary(s, { cwd: '/repo/examples/hello' }).slice(1, 5)).toEqual([
      'first failure: step test (workflow.yaml:9) failed: exit code 1',
      'failed, continueOnError: step lint (workflow.yaml:5) failed: exit code 2',
      'consequences, not causes:',
      '  step ship (workflow.yaml:10) skipped because step test failed',
    ]);
    expect(githubAnnotations(s, { workspace: '/repo/examples/hello' })).toEqual([
      '::error file=workflow.yaml,line=9,col=5,title=step test failed::first failure: step test failed: exit code 1',
      '::warning file=workflow.yaml,line=5,col=5,title=step lint failed (continueOnError)::step lint failed: exit code 2',
    ]);
  });

  it('says why a cancelled run ended when nothing failed', () => {
    const s = summaryOf(
      [node('api', { kind: 'service', status: 'stopped' }), node('a', { status: 'cancelled' })],
      [attempt('a', 1, { status: 'cancelled', exitCode: null })],
      run({ status: 'cancelled', error: 'cancelled by SIGINT' }),
    );
    expect(s.firstFailure).toBeNull();
    expect(formatRunSummary(s, { cwd: '/repo' }).slice(0, 4)).toEqual([
      `summary of run ${RUN}: cancelled in 5.0s`,
      'cancelled: cancelled by SIGINT',
      'did not finish:',
      '  step a (examples/hello/workflow.yaml:10) cancelled',
    ]);
  });
});

describe('readLogTail', () => {
  it('keeps the last lines in write order, joins pieces of a long line and sanitizes them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-tail-'));
    const file = join(dir, 'a.1.log');
    const records = [];
    for (let i = 1; i <= 25; i++) records.push(`stdout| line ${i}\n`);
    records.push('stderr+ long \n', 'stderr| line\x1b[31m red\n', 'stdout+ no newline at the end');
    await writeFile(file, records.join(''));
    const tail = await readLogTail(file, 20);
    expect(tail?.more).toBe(true);
    expect(tail?.lines).toHaveLength(20);
    expect(tail?.lines.slice(-3)).toEqual(['line 25', 'long line red', 'no newline at the end']);
    expect(tail?.lines[0]).toBe('line 8');
    expect(await readLogTail(join(dir, 'missing.log'))).toBeNull();
  });

  it('reads only the end of a big log, from its first whole record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-tail-'));
    const file = join(dir, 'big.log');
    await writeFile(file, `stdout| ${'x'.repeat(300 * 1024)}\nstdout| last\n`);
    expect(await readLogTail(file)).toEqual({ lines: ['last'], more: true });
  });
});

const base = { v: 1, runId: RUN };
let seq = 0;
const ev = (e: Record<string, unknown>) =>
  ({ ...base, seq: ++seq, ...e }) as unknown as StoredEvent;

describe('FoldingReporter', () => {
  it('folds a service per phase, leaves a skipped step unfolded and prints what is held when it closes', async () => {
    let text = '';
    const r = new FoldingReporter({
      out: { write: (t: string) => (text += t) },
      markers: gitlabMarkers,
      cwd: '/repo',
    });
    r.onEvent(
      ev({
        type: 'service.starting',
        at: T0,
        service: 'api',
        attempt: 1,
        detail: 'docker x',
        logFile: '/l',
      }),
    );
    r.onEvent(
      ev({
        type: 'service.started',
        at: T0 + 10,
        service: 'api',
        attempt: 1,
        endpoint: '',
        handle: {},
      }),
    );
    r.onEvent(
      ev({
        type: 'service.status',
        at: T0 + 2000,
        service: 'api',
        status: 'healthy',
        durationMs: 2000,
      }),
    );
    r.onEvent(
      ev({
        type: 'service.output',
        at: T0 + 2500,
        service: 'api',
        stream: 'stdout',
        lines: ['GET /'],
      }),
    );
    r.onEvent(
      ev({ type: 'step.skipped', at: T0 + 2600, step: 's', status: 'skipped', reason: 'needs x' }),
    );
    r.onEvent(
      ev({
        type: 'step.started',
        at: T0 + 2700,
        step: 'w',
        attempt: 1,
        maxAttempts: 1,
        stepStartedAt: T0 + 2700,
        logFile: '/w',
      }),
    );
    r.onEvent(
      ev({
        type: 'step.output',
        at: T0 + 2800,
        step: 'w',
        attempt: 1,
        stream: 'stdout',
        lines: ['working'],
      }),
    );
    r.onEvent(ev({ type: 'service.status', at: T0 + 4000, service: 'api', status: 'stopped' }));
    await r.close();
    const sec = (ms: number) => Math.floor(ms / 1000);
    const lines = text.split('\n');
    expect(lines.slice(0, 9)).toEqual([
      'service api: starting (docker x)',
      `\x1b[0Ksection_start:${sec(T0)}:agent_1_api[collapsed=true]\r\x1b[0Kservice api: healthy in 2.0s`,
      'service api: started',
      `\x1b[0Ksection_end:${sec(T0 + 2000)}:agent_1_api\r\x1b[0K`,
      'step s: skipped (needs x)',
      'step w: started',
      `\x1b[0Ksection_start:${sec(T0 + 2500)}:agent_2_api[collapsed=true]\r\x1b[0Kservice api: stopped`,
      'service api | GET /',
      `\x1b[0Ksection_end:${sec(T0 + 4000)}:agent_2_api\r\x1b[0K`,
    ]);
    // Cut off: its fold is printed on close, expanded.
    expect(lines[9]?.startsWith('\x1b[0Ksection_start:')).toBe(true);
    expect(lines[9]?.endsWith(':agent_3_w\r\x1b[0Kstep w: output so far')).toBe(true);
    expect(lines.slice(10, 12)).toEqual([
      'step w | working',
      expect.stringMatching(/section_end:\d+:agent_3_w/),
    ]);
  });
});

describe('FoldingReporter with a chatty node', () => {
  it('prints what a node holds once it holds maxHeldLines, and goes on holding', async () => {
    let text = '';
    const r = new FoldingReporter({
      out: { write: (t: string) => (text += t) },
      markers: githubMarkers,
      maxHeldLines: 3,
    });
    r.onEvent(
      ev({
        type: 'service.starting',
        at: T0,
        service: 'api',
        attempt: 1,
        detail: 'process x',
        logFile: '/l',
      }),
    );
    r.onEvent(
      ev({
        type: 'service.output',
        at: T0 + 1,
        service: 'api',
        stream: 'stdout',
        lines: ['1', '2'],
      }),
    );
    r.onEvent(
      ev({
        type: 'service.output',
        at: T0 + 2,
        service: 'api',
        stream: 'stdout',
        lines: ['3', '4'],
      }),
    );
    r.onEvent(
      ev({ type: 'service.output', at: T0 + 3, service: 'api', stream: 'stdout', lines: ['5'] }),
    );
    r.onEvent(ev({ type: 'service.status', at: T0 + 4, service: 'api', status: 'stopped' }));
    await r.close();
    expect(text.split('\n')).toEqual([
      'service api: starting (process x)',
      '::group::service api: output so far',
      'service api | 1',
      'service api | 2',
      'service api | 3',
      'service api | 4',
      '::endgroup::',
      '::group::service api: stopped',
      'service api | 5',
      '::endgroup::',
      '',
    ]);
  });
});

describe('GitHub output', () => {
  const s: RunSummary = {
    runId: RUN,
    workflow: 'hello',
    file: '/ws/ci/agent.yaml',
    status: 'failed',
    durationMs: 1500,
    error: 'x',
    nodes: [{ id: 'a|b`c', kind: 'step', status: 'failed', attempts: 1, durationMs: 5 }],
    firstFailure: {
      id: 'a|b`c',
      kind: 'step',
      status: 'failed',
      reason: 'exit code',
      description: 'failed: 100% broken, really: yes',
      attempt: 1,
      exitCode: 1,
      source: { file: '/ws/ci/agent.yaml', line: 7, column: 5 },
      logFile: '/l',
      logTail: { lines: ['```', 'done'], more: false },
    },
    otherFailures: [],
    tolerated: [],
    consequences: [],
    retried: [],
  };

  it('escapes annotation properties and messages as the runner expects', () => {
    expect(githubAnnotations(s, { workspace: '/ws' })).toEqual([
      `::error file=ci/agent.yaml,line=7,col=5,title=step a|b\`c failed::first failure: step a|b\`c failed: 100%25 broken, really: yes%0Aits output (agent logs ${RUN} a|b\`c ci/agent.yaml):%0A\`\`\`%0Adone`,
    ]);
    expect(
      githubMarkers.open({
        title: 'step x: 50%\nok',
        key: '1_x',
        startedAt: 0,
        endedAt: 0,
        ok: true,
      }),
    ).toBe('::group::step x: 50%25%0Aok');
  });

  it('keeps Markdown intact around ids and log lines with backticks and pipes', () => {
    const md = renderStepSummary(s, plan, { workspace: '/ws' });
    expect(md).toContain('| ``a\\|b`c`` | ❌ failed | 1 | 5ms |');
    expect(md).toContain('````text\n```\ndone\n````');
  });
});

describe('writeRunEnd', () => {
  const s = summaryOf(
    [
      node('api', { kind: 'service', status: 'stopped' }),
      node('a', { status: 'failed', error: 'exit code 1 hunter2' }),
    ],
    [attempt('a', 1, { status: 'failed', exitCode: 1, error: 'exit code 1 hunter2' })],
  );
  const redact = (t: string) => t.replaceAll('hunter2', '***');

  it('prints the summary on a terminal without annotations, nothing for json, masks what it writes', async () => {
    const outputs: Record<string, string> = {};
    for (const mode of ['tty', 'json', 'plain'] as const) {
      let out = '';
      await writeRunEnd(s, {
        out: { write: (t: string) => (out += t) },
        err: { write: () => true },
        mode,
        ci: 'github',
        env: {},
        cwd: '/repo/examples/hello',
        plan,
        redact,
      });
      outputs[mode] = out;
    }
    expect(outputs.json).toBe('');
    expect(outputs.tty).toContain(
      'first failure: step a (workflow.yaml:10) failed: exit code 1 ***\n',
    );
    expect(outputs.tty).not.toContain('::error');
    expect(outputs.plain).toContain('::error file=');
    for (const text of Object.values(outputs)) expect(text).not.toContain('hunter2');
  });

  it('reports a job summary it cannot append, and goes on', async () => {
    let err = '';
    await writeRunEnd(s, {
      out: { write: () => true },
      err: { write: (t: string) => (err += t) },
      mode: 'plain',
      ci: 'github',
      env: { GITHUB_STEP_SUMMARY: join(tmpdir(), 'no-such-dir-agentfile', 'summary.md') },
      cwd: '/repo',
      plan,
      redact,
    });
    expect(err).toMatch(
      /^agent: cannot append the job summary to \$GITHUB_STEP_SUMMARY \(.*summary\.md\): ENOENT/,
    );
  });
});
