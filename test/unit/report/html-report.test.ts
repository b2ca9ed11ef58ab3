import { describe, expect, it } from 'vitest';
import {
  buildReportModel,
  DEFAULT_LOG_LIMITS,
  escapeHtml,
  htmlReportOf,
  readReportInput,
  renderHtmlReport,
} from '../../../src/report/html/index.js';
import { layoutDag } from '../../../src/report/html/layout.js';
import { MemoryStateStore } from '../../../src/store/memory-state-store.js';
import { appendSyntheticRun, type SyntheticStep } from '../../helpers/report-events.js';

const RUN = '20260102-030405-abcdef';

const mixed: SyntheticStep[] = [
  { id: 'build', attempts: ['succeeded'], lines: ['build ok'] },
  { id: 'flaky', needs: ['build'], attempts: ['failed', 'succeeded'], errLines: ['reset'] },
  { id: 'test', needs: ['build'], attempts: ['failed'], errLines: ['FAIL parser'] },
  { id: 'deploy', needs: ['flaky', 'test'], attempts: [] },
  { id: 'slow', needs: ['build'], attempts: ['timed_out'] },
];

async function modelOf(
  steps: SyntheticStep[],
  options: { service?: boolean; withoutNeeds?: boolean; inputs?: Record<string, string> } = {},
  limits = DEFAULT_LOG_LIMITS,
) {
  const store = new MemoryStateStore();
  await appendSyntheticRun(store, { runId: RUN, steps, ...options });
  const run = await store.getRun(RUN);
  if (!run) throw new Error('no run');
  return buildReportModel(await readReportInput(store, run, run.createdAt + 60_000), limits);
}

describe('layoutDag', () => {
  it('puts each node one layer after the highest of its needs (longest path)', () => {
    const layout = layoutDag([
      { id: 'a', needs: [] },
      { id: 'b', needs: ['a'] },
      { id: 'c', needs: ['a', 'b'] },
      { id: 'd', needs: [] },
      { id: 'e', needs: ['d'] },
    ]);
    const layerOf = (id: string) => layout.positions.get(id)?.layer;
    expect([layerOf('a'), layerOf('b'), layerOf('c'), layerOf('d'), layerOf('e')]).toEqual([
      0, 1, 2, 0, 1,
    ]);
    expect(layout.layers).toBe(3);
    expect(layout.maxRows).toBe(2);
    // Inside a layer, a node sits near its needs: e (needs d, row 1) after b (needs a, row 0).
    expect(layout.positions.get('b')?.row).toBe(0);
    expect(layout.positions.get('e')?.row).toBe(1);
  });

  it('lays out a chain of 5,000 without overflowing the stack, and survives a cycle', () => {
    const chain = Array.from({ length: 5000 }, (_, i) => ({
      id: `s${i}`,
      needs: i === 0 ? [] : [`s${i - 1}`],
    }));
    expect(layoutDag(chain).positions.get('s4999')?.layer).toBe(4999);
    const cyclic = layoutDag([
      { id: 'x', needs: ['y'] },
      { id: 'y', needs: ['x'] },
    ]);
    expect(cyclic.positions.size).toBe(2);
  });
});

describe('buildReportModel', () => {
  it('has one attempt per attempt, the edges of the events, and the service phases', async () => {
    const model = await modelOf(mixed, { service: true });
    const byId = new Map(model.nodes.map((n) => [n.id, n]));
    expect(model.nodes.map((n) => [n.id, n.status])).toEqual([
      ['db', 'stopped'],
      ['build', 'succeeded'],
      ['flaky', 'succeeded'],
      ['test', 'failed'],
      ['deploy', 'skipped'],
      ['slow', 'timed_out'],
    ]);
    expect(byId.get('flaky')?.attempts.map((a) => a.status)).toEqual(['failed', 'succeeded']);
    expect(byId.get('deploy')?.attempts).toEqual([]);
    expect(byId.get('deploy')?.needs).toEqual(['flaky', 'test']);
    expect(model.edgesKnown).toBe(true);
    const db = byId.get('db');
    expect(db?.phases.map((p) => p.phase)).toEqual(['starting', 'waiting', 'healthy']);
    const [starting, waiting, healthy] = db?.phases ?? [];
    expect(starting?.finishedAt).toBe(waiting?.startedAt);
    expect(waiting?.finishedAt).toBe(healthy?.startedAt);
    expect(healthy?.finishedAt).not.toBeNull();
    // A finished run's timeline ends at its last event, not at the clock.
    expect(model.timeline.end).toBeLessThan(model.run.createdAt + 60_000);
    expect(byId.get('test')?.attempts[0]?.log.segments).toEqual([
      { stream: 'stderr', text: 'FAIL parser' },
    ]);
  });

  it('draws no edges for events written before nodes had needs', async () => {
    const model = await modelOf(mixed, { withoutNeeds: true });
    expect(model.edgesKnown).toBe(false);
    expect(model.nodes.every((n) => n.needs.length === 0)).toBe(true);
    expect(renderHtmlReport(model)).toContain('recorded without its dependencies');
  });

  it("keeps an attempt's last lines and says how many were left out", async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
    const model = await modelOf([{ id: 'chatty', attempts: ['succeeded'], lines }]);
    const log = model.nodes[0]?.attempts[0]?.log;
    expect(log?.omittedLines).toBe(1000 - DEFAULT_LOG_LIMITS.linesPerAttempt);
    const text = log?.segments.map((s) => s.text).join('\n') ?? '';
    expect(text.split('\n')).toHaveLength(DEFAULT_LOG_LIMITS.linesPerAttempt);
    expect(text.endsWith('line 999')).toBe(true);
    expect(renderHtmlReport(model)).toContain('800 earlier lines not in this report');
  });

  it("spends the report's log budget on failed attempts first", async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `some output line ${i}`);
    const model = await modelOf(
      [
        { id: 'ok', attempts: ['succeeded'], lines },
        { id: 'bad', attempts: ['failed'], lines },
      ],
      {},
      { ...DEFAULT_LOG_LIMITS, bytesTotal: 1500 },
    );
    const [ok, bad] = model.nodes;
    expect(bad?.attempts[0]?.log.segments).toHaveLength(1);
    expect(ok?.attempts[0]?.log.segments).toEqual([]);
    expect(ok?.attempts[0]?.log.omittedLines).toBe(50);
  });
});

describe('the report of an interrupted run', () => {
  it('shows the attempt its runner died in as open, up to the last event, not the clock', async () => {
    const store = new MemoryStateStore();
    const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
    const nodes = [{ id: 'long', kind: 'step' as const, fingerprint: 'f', needs: [] }];
    const base = { runId: RUN, workflow: 'w', file: '/project/agent.yaml' };
    await store.append({ type: 'run.created', at: t0, ...base, planFingerprint: 'p', nodes });
    await store.append({
      type: 'run.started',
      at: t0,
      ...base,
      resumed: false,
      nodes,
      reused: [],
      rerun: [],
      runner: '1@host',
    });
    await store.append({
      type: 'step.started',
      runId: RUN,
      at: t0 + 10,
      step: 'long',
      attempt: 1,
      maxAttempts: 1,
      stepStartedAt: t0 + 10,
      logFile: '/project/.agentfile/runs/x/long.1.log',
    });
    await store.append({
      type: 'step.output',
      runId: RUN,
      at: t0 + 500,
      step: 'long',
      attempt: 1,
      stream: 'stdout',
      lines: ['working'],
    });
    const run = await store.getRun(RUN);
    expect(run?.status).toBe('interrupted');
    const model = buildReportModel(
      await readReportInput(store, run as NonNullable<typeof run>, t0 + 3_600_000),
    );
    expect(model.timeline.end).toBe(t0 + 500);
    expect(model.nodes[0]?.attempts[0]?.finishedAt).toBeNull();
    const html = renderHtmlReport(model);
    expect(html).toMatch(/<div class="bar st-running open" data-attempt="1"/);
    expect(html).toContain('id="run-status">interrupted</span>');
  });
});

describe('renderHtmlReport', () => {
  it('escapes names, errors, inputs and logs: a <script> in them is text', async () => {
    const evil = '<script>alert(1)</script>';
    const html = renderHtmlReport(
      await modelOf(
        [
          {
            id: `x${evil}`,
            attempts: ['failed'],
            lines: [evil, '</script><b>bold</b>', 'line\u2028sep'],
          },
        ],
        { inputs: { note: `"${evil}'` } },
      ),
    );
    // The page's own two scripts (the logs' JSON and the code) are the only ones.
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain(escapeHtml(`x${evil}`));
    expect(html).toContain('\\u003cscript>alert(1)\\u003c/script>');
    // And the logs' JSON parses back to the very lines.
    const json = /<script type="application\/json" id="report-logs">(.*?)<\/script>/s.exec(html);
    expect(JSON.parse(json?.[1] ?? 'null')).toEqual([
      [['o', `${evil}\n</script><b>bold</b>\nline\u2028sep`]],
    ]);
  });

  it('opens the failed and timed-out steps, one bar per attempt with its outcome', async () => {
    const html = renderHtmlReport(await modelOf(mixed));
    const open = [
      ...html.matchAll(/<details class="node step" id="n-\d+" data-node="(\w+)"[^>]* open>/g),
    ];
    expect(open.map((m) => m[1])).toEqual(['test', 'slow']);
    const bars = [...html.matchAll(/<div class="bar st-(\w+)[^"]*" data-attempt="(\d)"/g)].map(
      (m) => `${m[2]}:${m[1]}`,
    );
    expect(bars).toEqual(['1:succeeded', '1:failed', '2:succeeded', '1:failed', '1:timed_out']);
    expect(html).toContain('skipped: needs flaky, test');
    // No request can leave the page.
    expect(html).toContain(`content="default-src 'none';`);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
  });

  it('shows the run of a store by id, and nothing for an unknown one', async () => {
    const store = new MemoryStateStore();
    await appendSyntheticRun(store, { runId: RUN, steps: mixed, inputs: { target: 'prod' } });
    const html = await htmlReportOf(store, RUN);
    expect(html).toContain('<code>target</code></th><td><code>prod</code>');
    expect(await htmlReportOf(store, 'nope')).toBeUndefined();
  });
});
