import { describe, expect, it } from 'vitest';
import { buildRunStatus, formatRunStatus } from '../../../src/report/status.js';
import type { AttemptRecord, RunRecord, StepRecord } from '../../../src/store/types.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

const run = (patch: Partial<RunRecord> = {}): RunRecord => ({
  id: '20260102-030405-abcdef',
  workflow: 'ci',
  file: '/project/agent.yaml',
  status: 'failed',
  planFingerprint: 'f',
  createdAt: T0,
  startedAt: T0 + 100,
  finishedAt: T0 + 5100,
  error: 'step "test" failed: exit code 1',
  requested: null,
  inputs: {},
  sessions: 1,
  ...patch,
});

const step = (id: string, patch: Partial<StepRecord> = {}): StepRecord => ({
  runId: '20260102-030405-abcdef',
  id,
  kind: 'step',
  status: 'succeeded',
  fingerprint: 'x',
  attempts: 1,
  startedAt: T0 + 200,
  finishedAt: T0 + 1200,
  error: null,
  outputs: null,
  waitingFor: null,
  decision: null,
  ...patch,
});

const attempt = (stepId: string, n: number, patch: Partial<AttemptRecord> = {}): AttemptRecord => ({
  runId: '20260102-030405-abcdef',
  stepId,
  attempt: n,
  status: 'succeeded',
  startedAt: T0 + 200,
  finishedAt: T0 + 1200,
  exitCode: 0,
  error: null,
  pid: 42,
  containerId: null,
  logFile: `/project/.agentfile/runs/20260102-030405-abcdef/${stepId}.${n}.log`,
  ...patch,
});

describe('buildRunStatus', () => {
  it('names the failed node that finished first, with its last attempt', () => {
    const view = buildRunStatus({
      run: run(),
      steps: [
        step('build'),
        step('lint', { status: 'failed', finishedAt: T0 + 4000, error: 'exit code 2' }),
        step('test', {
          status: 'failed',
          attempts: 2,
          finishedAt: T0 + 3000,
          error: 'exit code 1',
        }),
        step('deploy', { status: 'skipped', startedAt: null, attempts: 0 }),
      ],
      attempts: [
        attempt('test', 2, { status: 'failed', exitCode: 1, error: 'exit code 1' }),
        attempt('build', 1),
        attempt('test', 1, { status: 'failed', exitCode: 1, error: 'exit code 1' }),
        attempt('lint', 1, { status: 'failed', exitCode: 2, error: 'exit code 2' }),
      ],
      now: T0 + 10_000,
    });
    expect(view.firstFailure).toEqual({
      step: 'test',
      kind: 'step',
      status: 'failed',
      attempt: 2,
      error: 'exit code 1',
      exitCode: 1,
      logFile: '/project/.agentfile/runs/20260102-030405-abcdef/test.2.log',
    });
    expect(view.steps.map((s) => [s.id, s.history.map((a) => a.attempt)])).toEqual([
      ['build', [1]],
      ['lint', [1]],
      ['test', [1, 2]],
      ['deploy', []],
    ]);
    expect(view.durationMs).toBe(5000);
    expect(view.steps[0]?.durationMs).toBe(1000);
    expect(view.waitingFor).toEqual([]);
  });

  it('lists what a waiting approval step waits for; a running run lasts until now', () => {
    const view = buildRunStatus({
      run: run({ status: 'waiting', finishedAt: null, error: null }),
      steps: [
        step('gate', {
          status: 'waiting',
          attempts: 0,
          finishedAt: null,
          waitingFor: { message: 'Ship it?', approvers: ['alice', 'bob'] },
        }),
      ],
      attempts: [],
      now: T0 + 60_100,
    });
    expect(view.waitingFor).toEqual([
      { step: 'gate', message: 'Ship it?', approvers: ['alice', 'bob'] },
    ]);
    expect(view.firstFailure).toBeNull();
    expect(view.durationMs).toBe(60_000);
  });
});

describe('formatRunStatus', () => {
  it('shows the state, a table of nodes, the first failure with its log and what to run next', () => {
    const now = T0 + 10_000;
    const view = buildRunStatus({
      run: run({ status: 'interrupted', finishedAt: null, error: null }),
      steps: [
        step('api', { kind: 'service', status: 'healthy', finishedAt: null }),
        step('test', { status: 'failed', finishedAt: T0 + 3000, error: 'exit code 1' }),
        step('gate', {
          status: 'waiting',
          attempts: 0,
          waitingFor: { message: 'Ship it?', approvers: [] },
          finishedAt: null,
        }),
      ],
      attempts: [attempt('test', 1, { status: 'failed', exitCode: 1, error: 'exit code 1' })],
      now,
    });
    const text = formatRunStatus(view, { cwd: '/project', now }).join('\n');
    expect(text).toBe(
      [
        'run 20260102-030405-abcdef: workflow ci (agent.yaml)',
        'status: interrupted (its runner is gone, killed or crashed; continue it with `agent run --resume 20260102-030405-abcdef`)',
        'created: 2026-01-02 03:04:05 UTC, running for 9.9s',
        '',
        'STEP  KIND     STATUS   ATTEMPTS  DURATION  DETAIL',
        'api   service  healthy  1         -',
        'test  step     failed   1         2.8s      exit code 1',
        'gate  step     waiting  0         -         waits for approval: Ship it?',
        '',
        'first failure: step test (attempt 1): failed: exit code 1',
        '  log: .agentfile/runs/20260102-030405-abcdef/test.1.log (agent logs 20260102-030405-abcdef test)',
        '',
        'waiting: step gate: Ship it?',
        '  approvers: anyone',
        '  decide with: agent approve 20260102-030405-abcdef gate   or   agent reject 20260102-030405-abcdef gate',
      ].join('\n'),
    );
  });
});
