/**
 * What a resumed or `--from` session reuses and reruns, and why: pure
 * decisions over the plan and the run's recorded steps.
 */

import { describe, expect, it } from 'vitest';
import type { WorkflowSpec } from '../../../src/config/model.js';
import { compilePlan } from '../../../src/plan/compile.js';
import { decideSession, FromError } from '../../../src/run/resume.js';
import type { StepRecord } from '../../../src/store/types.js';

const source = { file: 'w.yaml', line: 1, column: 1 };
const step = (
  id: string,
  needs: string[] = [],
  command = ['true'],
): WorkflowSpec['steps'][string] => ({
  id,
  source,
  kind: 'process',
  command,
  needs,
  env: {},
  retry: { maxAttempts: 1, backoff: { initialMs: 1000, factor: 2, maxMs: 30_000 } },
  continueOnError: false,
});
const plan = (steps: WorkflowSpec['steps'][string][]) =>
  compilePlan({
    kind: 'Workflow',
    name: 'w',
    path: '/w.yaml',
    source,
    concurrency: 1,
    failFast: true,
    inputs: {},
    secrets: [],
    env: {},
    services: {},
    steps: Object.fromEntries(steps.map((s) => [s.id, s])),
  });

function records(
  p: ReturnType<typeof plan>,
  status: Record<string, StepRecord['status']>,
): StepRecord[] {
  return p.nodes
    .filter((n) => status[n.id] !== undefined)
    .map((n) => ({
      runId: 'r',
      id: n.id,
      kind: n.kind,
      status: status[n.id] ?? 'pending',
      fingerprint: n.fingerprint,
      attempts: 1,
      startedAt: 1,
      finishedAt: 2,
      error: null,
      outputs: null,
      waitingFor: null,
      decision: null,
    }));
}

describe('decideSession', () => {
  const p = plan([step('a'), step('b', ['a']), step('c', ['b']), step('d')]);

  it('a new run runs everything', () => {
    expect(decideSession(p, undefined).rerun.map((r) => r.reason)).toEqual([
      'new',
      'new',
      'new',
      'new',
    ]);
  });

  it('resume: reuses what succeeded unchanged; says why the rest runs', () => {
    const d = decideSession(
      p,
      records(p, { a: 'succeeded', b: 'failed', c: 'skipped', d: 'cancelled' }),
    );
    expect(d.reused).toEqual(['a']);
    expect(d.rerun).toEqual([
      { id: 'b', reason: 'failed' },
      { id: 'c', reason: 'never ran' },
      { id: 'd', reason: 'not finished' },
    ]);
  });

  it('a step whose definition changed reruns, and so does what needs it', () => {
    const before = records(p, { a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' });
    const changed = plan([
      step('a', [], ['echo', 'new']),
      step('b', ['a']),
      step('c', ['b']),
      step('d'),
    ]);
    expect(decideSession(changed, before).rerun).toEqual([
      { id: 'a', reason: 'changed' },
      { id: 'b', reason: 'needs a step that reruns' },
      { id: 'c', reason: 'needs a step that reruns' },
    ]);
  });

  it('--from: the step and everything downstream, whatever their record', () => {
    const d = decideSession(
      p,
      records(p, { a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' }),
      {
        from: 'b',
      },
    );
    expect(d.reused).toEqual(['a', 'd']);
    expect(d.rerun).toEqual([
      { id: 'b', reason: 'chosen by --from' },
      { id: 'c', reason: 'downstream of --from' },
    ]);
  });

  it('--from an unknown step, or one whose needs have no succeeded record: FromError', () => {
    const all = records(p, { a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' });
    expect(() => decideSession(p, all, { from: 'zzz' })).toThrow(FromError);
    expect(() => decideSession(p, all, { from: 'zzz' })).toThrow(/has no step "zzz"/);
    const failedNeed = records(p, { a: 'failed', b: 'succeeded' });
    expect(() => decideSession(p, failedNeed, { from: 'c' })).toThrow(
      /--from c: step "a", which "c" needs, did not succeed in this run \(it is failed\)/,
    );
    expect(() => decideSession(p, records(p, { a: 'succeeded' }), { from: 'c' })).toThrow(
      /--from c: the run has no record of step "b", which "c" needs/,
    );
  });
});
