import { describe, expect, it } from 'vitest';
import type { ServiceStatus, StepStatus } from '../../../src/core/status.js';
import type { Plan, PlanNode } from '../../../src/plan/compile.js';
import {
  blockedSteps,
  idleServices,
  readySteps,
  wantedServices,
} from '../../../src/run/scheduler.js';

/** A plan from `[id, kind, needs]` triples, in plan order (no specs: the scheduler reads only the graph). */
function plan(nodes: [string, 'step' | 'service', string[]][], concurrency = 4): Plan {
  // No specs: the scheduler reads only the graph.
  const list = nodes.map(([id, kind, needs], index) => ({
    id,
    kind,
    needs: [...needs].sort(),
    dependents: nodes
      .filter(([, , n]) => n.includes(id))
      .map(([d]) => d)
      .sort(),
    fingerprint: id,
    index,
    ...(kind === 'step' ? { step: { continueOnError: false }, statusCheck: false } : {}),
  })) as unknown as PlanNode[];
  return {
    workflow: 'w',
    file: '/w.yaml',
    concurrency,
    failFast: true,
    env: {},
    inputs: {},
    secrets: [],
    nodes: list,
    fingerprint: 'p',
  };
}

function states(
  p: Plan,
  set: Record<string, StepStatus | ServiceStatus> = {},
): Map<string, StepStatus | ServiceStatus> {
  return new Map(p.nodes.map((n) => [n.id, set[n.id] ?? 'pending']));
}

const ids = (nodes: PlanNode[]) => nodes.map((n) => n.id);

describe('readySteps', () => {
  const diamond = plan([
    ['a', 'step', []],
    ['b', 'step', ['a']],
    ['c', 'step', ['a']],
    ['d', 'step', ['b', 'c']],
  ]);

  it('starts with the roots, then fans out in plan order', () => {
    expect(ids(readySteps(diamond, states(diamond), 4))).toEqual(['a']);
    expect(ids(readySteps(diamond, states(diamond, { a: 'succeeded' }), 4))).toEqual(['b', 'c']);
    expect(
      ids(readySteps(diamond, states(diamond, { a: 'succeeded', b: 'succeeded' }), 4)),
    ).toEqual(['c']);
    expect(
      ids(
        readySteps(diamond, states(diamond, { a: 'succeeded', b: 'succeeded', c: 'succeeded' }), 4),
      ),
    ).toEqual(['d']);
  });

  it('respects concurrency, counting running steps', () => {
    const wide = plan([
      ['a', 'step', []],
      ['b', 'step', []],
      ['c', 'step', []],
    ]);
    expect(ids(readySteps(wide, states(wide), 2))).toEqual(['a', 'b']);
    expect(ids(readySteps(wide, states(wide, { a: 'running' }), 2))).toEqual(['b']);
    expect(ids(readySteps(wide, states(wide, { a: 'running', b: 'running' }), 2))).toEqual([]);
  });

  it('runs at most maxParallel combinations of a matrix at once', () => {
    const p = plan([
      ['t-1', 'step', []],
      ['t-2', 'step', []],
      ['t-3', 'step', []],
      ['other', 'step', []],
    ]);
    for (const n of p.nodes) {
      if (n.kind === 'step' && n.id.startsWith('t-'))
        n.step = { ...n.step, combination: { group: 't', values: {}, maxParallel: 2 } };
    }
    expect(ids(readySteps(p, states(p), 4))).toEqual(['t-1', 't-2', 'other']);
    expect(ids(readySteps(p, states(p, { 't-1': 'running' }), 4))).toEqual(['t-2', 'other']);
    expect(ids(readySteps(p, states(p, { 't-1': 'running', 't-2': 'running' }), 4))).toEqual([
      'other',
    ]);
    expect(ids(readySteps(p, states(p, { 't-1': 'succeeded', 't-2': 'running' }), 4))).toEqual([
      't-3',
      'other',
    ]);
  });

  it('a continueOnError failure satisfies its dependants; a status check waits only for its needs to end', () => {
    const p = plan([
      ['a', 'step', []],
      ['b', 'step', ['a']],
      ['c', 'step', ['a']],
    ]);
    const [a, , c] = p.nodes;
    if (a?.kind === 'step') a.step = { ...a.step, continueOnError: true };
    expect(ids(readySteps(p, states(p, { a: 'failed' }), 4))).toEqual(['b', 'c']);
    expect(ids(blockedSteps(p, states(p, { a: 'failed' })))).toEqual([]);
    if (a?.kind === 'step') a.step = { ...a.step, continueOnError: false };
    if (c?.kind === 'step') c.statusCheck = true;
    expect(ids(blockedSteps(p, states(p, { a: 'failed' })))).toEqual(['b']);
    expect(ids(readySteps(p, states(p, { a: 'running' }), 4))).toEqual([]);
    expect(ids(readySteps(p, states(p, { a: 'failed', b: 'skipped' }), 4))).toEqual(['c']);
    expect(
      ids(readySteps(p, states(p, { a: 'failed', b: 'skipped' }), 4, (n) => n.id !== 'c')),
    ).toEqual([]);
  });

  it('gates steps on healthy services, not started ones', () => {
    const p = plan([
      ['api', 'service', []],
      ['smoke', 'step', ['api']],
    ]);
    expect(ids(readySteps(p, states(p, { api: 'starting' }), 4))).toEqual([]);
    expect(ids(readySteps(p, states(p, { api: 'healthy' }), 4))).toEqual(['smoke']);
  });

  it('does not treat a failed need as satisfied', () => {
    expect(ids(readySteps(diamond, states(diamond, { a: 'failed' }), 4))).toEqual([]);
  });
});

describe('wantedServices', () => {
  const p = plan([
    ['api', 'service', []],
    ['db', 'service', []],
    ['build', 'step', []],
    ['smoke', 'step', ['api', 'build']],
    ['late', 'step', ['db', 'smoke']],
  ]);

  it('starts a service only once a step that needs it waits on nothing but services', () => {
    expect(ids(wantedServices(p, states(p)))).toEqual([]);
    expect(ids(wantedServices(p, states(p, { build: 'succeeded' })))).toEqual(['api']);
    expect(
      ids(wantedServices(p, states(p, { build: 'succeeded', api: 'healthy', smoke: 'succeeded' }))),
    ).toEqual(['db']);
  });

  it('does not restart a service that is already starting', () => {
    expect(ids(wantedServices(p, states(p, { build: 'succeeded', api: 'starting' })))).toEqual([]);
  });
});

describe('idleServices', () => {
  const p = plan([
    ['api', 'service', []],
    ['a', 'step', ['api']],
    ['b', 'step', ['api']],
  ]);

  it('stops a service once every step that needs it is done', () => {
    expect(
      ids(idleServices(p, states(p, { api: 'healthy', a: 'succeeded', b: 'running' }))),
    ).toEqual([]);
    expect(
      ids(idleServices(p, states(p, { api: 'healthy', a: 'succeeded', b: 'failed' }))),
    ).toEqual(['api']);
  });
});

describe('blockedSteps', () => {
  const chain = plan([
    ['api', 'service', []],
    ['a', 'step', []],
    ['b', 'step', ['a']],
    ['c', 'step', ['b']],
    ['d', 'step', ['api']],
  ]);

  it('finds the steps that can never run, one level at a time', () => {
    const s = states(chain, { a: 'failed', api: 'unhealthy' });
    expect(ids(blockedSteps(chain, s))).toEqual(['b', 'd']);
    s.set('b', 'skipped');
    s.set('d', 'skipped');
    expect(ids(blockedSteps(chain, s))).toEqual(['c']);
  });

  it('does not block on a timed-out need being retried elsewhere: only terminal failures', () => {
    expect(ids(blockedSteps(chain, states(chain, { a: 'running', api: 'starting' })))).toEqual([]);
  });
});
