import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StepSpec } from '../../../src/config/model.js';
import { compilePlan, nodeFingerprint, type Plan, PlanError } from '../../../src/plan/compile.js';
import { canonicalJson } from '../../../src/plan/fingerprint.js';
import { service, step, workflow } from './fixtures.js';

const ids = (plan: Plan) => plan.nodes.map((n) => n.id);

function isTopological(plan: Plan): boolean {
  const position = new Map(plan.nodes.map((n, i) => [n.id, i]));
  return plan.nodes.every((n, i) => n.needs.every((need) => (position.get(need) ?? i) < i));
}

describe('compilePlan order', () => {
  it('orders a chain by its needs, whatever the declaration order', () => {
    const plan = compilePlan(
      workflow({
        steps: [step('c', { needs: ['b'] }), step('b', { needs: ['a'] }), step('a')],
      }),
    );
    expect(ids(plan)).toEqual(['a', 'b', 'c']);
    expect(plan.nodes.map((n) => n.index)).toEqual([0, 1, 2]);
    expect(plan.nodes.map((n) => [n.needs, n.dependents])).toEqual([
      [[], ['b']],
      [['a'], ['c']],
      [['b'], []],
    ]);
  });

  it('orders a diamond, taking ready nodes in declaration order', () => {
    const steps = [
      step('d', { needs: ['c', 'b'] }),
      step('c', { needs: ['a'] }),
      step('b', { needs: ['a'] }),
      step('a'),
    ];
    const plan = compilePlan(workflow({ steps }));
    expect(ids(plan)).toEqual(['a', 'c', 'b', 'd']);
    const a = plan.nodes[0];
    const d = plan.nodes[3];
    expect(a?.dependents).toEqual(['b', 'c']);
    expect(d?.needs).toEqual(['b', 'c']);
    expect(d?.kind === 'step' && d.step).toBe(steps[0]);
  });

  it('puts services first, in file order, before the steps that need them', () => {
    const plan = compilePlan(
      workflow({
        services: [service('db'), service('api')],
        steps: [
          step('smoke', { needs: ['api', 'install'] }),
          step('install'),
          step('migrate', { needs: ['db'] }),
        ],
      }),
    );
    // After `install`, both `smoke` and `migrate` are ready: `smoke` was declared first.
    expect(ids(plan)).toEqual(['db', 'api', 'install', 'smoke', 'migrate']);
    expect(plan.nodes.map((n) => n.kind)).toEqual(['service', 'service', 'step', 'step', 'step']);
    expect(plan.nodes[0]?.dependents).toEqual(['migrate']);
    expect(plan.nodes[1]?.dependents).toEqual(['smoke']);
    const api = plan.nodes[1];
    expect(api?.kind === 'service' && api.service.name).toBe('api');
    expect(plan).toMatchObject({
      workflow: 'hello',
      file: '/repo/examples/hello/workflow.yaml',
      concurrency: 2,
    });
  });

  it('rejects a cycle, an unknown need and a step named like a service', () => {
    expect(() =>
      compilePlan(
        workflow({
          steps: [
            step('a', { needs: ['c'] }),
            step('b', { needs: ['a'] }),
            step('c', { needs: ['b'] }),
            step('x'),
          ],
        }),
      ),
    ).toThrow(new PlanError('workflow "hello": the needs of "a", "b", "c" form a cycle'));
    expect(() => compilePlan(workflow({ steps: [step('a', { needs: ['ghost'] })] }))).toThrow(
      new PlanError('workflow "hello": step "a" needs "ghost", which is no step or service'),
    );
    expect(() =>
      compilePlan(workflow({ services: [service('api')], steps: [step('api')] })),
    ).toThrow(PlanError);
  });
});

/** A random DAG over n steps: step i may need any step j < i (by index), then declared in a random order. */
const dagArbitrary = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    needs: fc.tuple(
      ...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => j))),
    ),
    order: fc.shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    ),
    services: fc.integer({ min: 0, max: 2 }),
  }),
);

function buildSteps(needs: number[][], services: number): StepSpec[] {
  return needs.map((list, i) =>
    step(`s${i}`, {
      needs: [...list.map((j) => `s${j}`), ...(i % 2 === 0 && services > 0 ? ['svc0'] : [])].sort(),
      run: `echo ${i}`,
    }),
  );
}

describe('compilePlan determinism', () => {
  it('gives the same fingerprints and a valid order under any declaration order', () => {
    fc.assert(
      fc.property(dagArbitrary, ({ needs, order, services }) => {
        const steps = buildSteps(needs, services);
        const svcs = Array.from({ length: services }, (_, i) => service(`svc${i}`));
        const reference = compilePlan(workflow({ services: svcs, steps }));
        const permuted = workflow({
          services: [...svcs].reverse(),
          steps: order.map((i) => steps[i] as StepSpec),
        });
        const plan = compilePlan(permuted);

        expect(isTopological(plan)).toBe(true);
        expect(plan.fingerprint).toBe(reference.fingerprint);
        const fp = (p: Plan) => Object.fromEntries(p.nodes.map((n) => [n.id, n.fingerprint]));
        expect(fp(plan)).toEqual(fp(reference));
        const graph = (p: Plan) =>
          Object.fromEntries(p.nodes.map((n) => [n.id, [n.needs, n.dependents]]));
        expect(graph(plan)).toEqual(graph(reference));
        // Same input, same plan.
        expect(compilePlan(permuted)).toEqual(plan);
        // Services come first; among steps, each one taken is the first-declared ready one.
        expect(plan.nodes.slice(0, services).every((n) => n.kind === 'service')).toBe(true);
        const declared = new Map(order.map((i, k) => [`s${i}`, k]));
        const done = new Set(plan.nodes.slice(0, services).map((n) => n.id));
        for (const n of plan.nodes.slice(services)) {
          const ready = [...declared.keys()].filter(
            (id) =>
              !done.has(id) && plan.nodes.find((m) => m.id === id)?.needs.every((x) => done.has(x)),
          );
          const first = ready.sort((x, y) => (declared.get(x) ?? 0) - (declared.get(y) ?? 0))[0];
          expect(n.id).toBe(first);
          done.add(n.id);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps independent nodes in declaration order', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(['a', 'b', 'c', 'd', 'e'], { minLength: 5, maxLength: 5 }),
        (order) => {
          const plan = compilePlan(workflow({ steps: order.map((id) => step(id)) }));
          expect(ids(plan)).toEqual(order);
        },
      ),
    );
  });
});

describe('fingerprints', () => {
  const base = step('build', {
    run: 'npm run build',
    env: { NODE_ENV: 'test', CI: '1' },
    timeoutMs: 60_000,
    needs: ['install'],
  });

  it('are sha256 hex and pinned: a change of format would break resuming older runs', () => {
    // sha256 of the canonical JSON below, computed independently (printf ... | sha256sum).
    const canonical =
      '{"command":["sh","-c","npm run build"],"env":{"CI":"1","NODE_ENV":"test"},"kind":"process",' +
      '"needs":["install"],"node":"step","retry":{"backoff":{"factor":2,"initialMs":1000,' +
      '"maxMs":30000},"maxAttempts":1},"timeoutMs":60000,"workdir":"/repo/examples/hello"}';
    expect(
      canonicalJson({
        node: 'step',
        kind: base.kind,
        command: base.command,
        env: base.env,
        workdir: base.workdir,
        timeoutMs: base.timeoutMs,
        retry: base.retry,
        needs: base.needs,
      }),
    ).toBe(canonical);
    expect(nodeFingerprint({ step: base })).toBe(
      'c04331675c83ffd1325ab48a14c3f7924eef4b4c45efbe3760f3b59325ea7da7',
    );
  });

  it('do not depend on source positions, the file path of an agent, or key order', () => {
    const fp = nodeFingerprint({ step: base });
    expect(
      nodeFingerprint({ step: { ...base, source: { file: 'other.yaml', line: 99, column: 3 } } }),
    ).toBe(fp);
    expect(nodeFingerprint({ step: { ...base, env: { CI: '1', NODE_ENV: 'test' } } })).toBe(fp);
    expect(nodeFingerprint({ step: { ...base, needs: ['install', 'install'] } })).toBe(fp);

    const svc = service('api');
    const moved = service('api');
    moved.source = { file: 'x.yaml', line: 40, column: 2 };
    moved.agent.source = { file: 'x.yaml', line: 41, column: 4 };
    moved.agent.path = '/elsewhere/agent.yaml';
    expect(nodeFingerprint({ service: moved })).toBe(nodeFingerprint({ service: svc }));
  });

  it('change with anything that changes what runs', () => {
    const fp = nodeFingerprint({ step: base });
    const variants: StepSpec[] = [
      { ...base, command: ['sh', '-c', 'npm run build:prod'] },
      { ...base, kind: 'container', image: 'local/node:20' },
      { ...base, env: { NODE_ENV: 'production', CI: '1' } },
      { ...base, workdir: '/repo/other' },
      { ...base, timeoutMs: 120_000 },
      { ...base, retry: { ...base.retry, maxAttempts: 3 } },
      { ...base, needs: ['install', 'lint'] },
    ];
    const all = variants.map((v) => nodeFingerprint({ step: v }));
    expect(new Set([fp, ...all]).size).toBe(variants.length + 1);

    const svc = nodeFingerprint({ service: service('api') });
    expect(nodeFingerprint({ service: service('api', { image: 'local/node:21' }) })).not.toBe(svc);
    expect(
      nodeFingerprint({ service: service('api', { command: ['node', 'other.js'] }) }),
    ).not.toBe(svc);
  });

  it('change the plan fingerprint when a node changes, and only then', () => {
    const make = (run: string) =>
      compilePlan(workflow({ steps: [step('a', { run }), step('b', { needs: ['a'] })] }));
    expect(make('echo a').fingerprint).toBe(make('echo a').fingerprint);
    expect(make('echo a').fingerprint).not.toBe(make('echo A').fingerprint);
    expect(make('echo a').fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hash canonical JSON: sorted keys, no undefined, arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, undefined], c: undefined, b: null } })).toBe(
      '{"a":{"b":null,"d":[3,1,null]},"b":1}',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
  });
});

/** The order compilePlan promises, computed the plain way: repeatedly the first-declared node whose needs are all placed. */
function referenceOrder(steps: StepSpec[]): string[] {
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < steps.length) {
    const next = steps.find((s) => !placed.has(s.id) && s.needs.every((n) => placed.has(n)));
    if (!next) throw new Error('cycle');
    placed.add(next.id);
    order.push(next.id);
  }
  return order;
}

describe('compilePlan order at scale (the heap of ready nodes)', () => {
  it('takes the first-declared ready node each time, for random DAGs of up to 60 steps', () => {
    const big = fc.integer({ min: 1, max: 60 }).chain((n) =>
      fc.record({
        needs: fc.tuple(
          ...Array.from({ length: n }, (_, i) =>
            fc.subarray(
              Array.from({ length: i }, (_, j) => j),
              { maxLength: Math.min(3, i) },
            ),
          ),
        ),
        order: fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i),
          { minLength: n, maxLength: n },
        ),
      }),
    );
    fc.assert(
      fc.property(big, ({ needs, order }) => {
        const steps = order.map((i) =>
          step(`s${i}`, { needs: (needs[i] ?? []).map((j) => `s${j}`).sort() }),
        );
        expect(ids(compilePlan(workflow({ steps })))).toEqual(referenceOrder(steps));
      }),
      { numRuns: 200 },
    );
  });

  it('orders wide fans declared in reverse, and a long chain declared backwards', () => {
    const n = 3000;
    const fan = [
      ...Array.from({ length: n }, (_, i) => step(`f${n - i}`, { needs: ['root'] })),
      step('root'),
    ];
    expect(ids(compilePlan(workflow({ steps: fan })))).toEqual(referenceOrder(fan));
    const chain = Array.from({ length: n }, (_, i) =>
      step(`c${n - i}`, n - i > 1 ? { needs: [`c${n - i - 1}`] } : {}),
    );
    const order = ids(compilePlan(workflow({ steps: chain })));
    expect(order).toEqual(Array.from({ length: n }, (_, i) => `c${i + 1}`));
  });
});
