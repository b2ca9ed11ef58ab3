/**
 * The Mermaid and DOT plan graphs, read back by real parsers (Mermaid's own
 * flowchart parser, Graphviz): every plan node is one node with the node's id
 * as its label, every need is one edge, services sit in their own group and
 * are reached by dashed `healthy` edges, and each matrix step's combinations
 * sit in a group of their own.
 */

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/index.js';
import { compilePlan, type Plan } from '../../../src/plan/compile.js';
import { renderPlanDot, renderPlanMermaid } from '../../../src/plan/render.js';
import { type ParsedGraph, parseDot, parseMermaid } from '../../helpers/graph-parsers.js';
import { service, step, workflow } from './fixtures.js';

const root = join(import.meta.dirname, '../../..');

async function planOf(file: string): Promise<Plan> {
  const { project, diagnostics } = await loadProject(join(root, file));
  expect(diagnostics).toEqual([]);
  const written = project?.workflows[0];
  if (!written) throw new Error(`no workflow in ${file}`);
  return compilePlan(written);
}

const SHAPES = {
  mermaid: { service: 'stadium', approval: 'hexagon', step: 'square' },
  dot: { service: 'ellipse', approval: 'hexagon', step: 'box' },
};

/** The graph a plan should come back as, in the parsers' terms. */
function expected(plan: Plan, shapes: (typeof SHAPES)['dot']): ParsedGraph {
  const kindOf = new Map(plan.nodes.map((n) => [n.id, n.kind]));
  const groups: ParsedGraph['groups'] = [];
  const services = plan.nodes.filter((n) => n.kind === 'service').map((n) => n.id);
  if (services.length > 0) groups.push({ label: 'services', members: services });
  const matrices = new Map<string, string[]>();
  for (const n of plan.nodes) {
    const group = n.kind === 'step' ? n.step.combination?.group : undefined;
    if (group === undefined) continue;
    if (!matrices.has(group)) matrices.set(group, []);
    matrices.get(group)?.push(n.id);
  }
  for (const [group, members] of matrices) groups.push({ label: `${group} (matrix)`, members });
  return {
    nodes: plan.nodes.map((n) => ({
      label: n.id,
      shape:
        n.kind === 'service'
          ? shapes.service
          : n.step.kind === 'approval'
            ? shapes.approval
            : shapes.step,
    })),
    edges: plan.nodes.flatMap((n) =>
      n.needs.map((need) => {
        const gated = kindOf.get(need) === 'service';
        return { from: need, to: n.id, dashed: gated, label: gated ? 'healthy' : '' };
      }),
    ),
    groups,
  };
}

/** Order-free comparison: the parsers list nodes and edges in their own order. */
function normalised(g: ParsedGraph) {
  const byText = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  return {
    nodes: [...g.nodes].sort(byText),
    edges: [...g.edges].sort(byText),
    groups: g.groups.map((x) => ({ ...x, members: [...x.members].sort() })).sort(byText),
  };
}

const FILES = [
  // Failing, retried, skipped and timed-out steps; no services, no matrix.
  'test/fixtures/report/mixed.yaml',
  // Two services, a matrix, an approval step.
  'test/fixtures/report/graph.yaml',
  // The release pipeline example: a matrix, no services.
  'examples/pipeline/workflow.yaml',
];

describe('plan graphs read back by real parsers', () => {
  for (const file of FILES) {
    it(`Mermaid: ${file}`, async () => {
      const plan = await planOf(file);
      const parsed = await parseMermaid(renderPlanMermaid(plan));
      expect(parsed.type).toBe('flowchart-v2');
      expect(parsed.nodes).toHaveLength(plan.nodes.length);
      expect(normalised(parsed)).toEqual(normalised(expected(plan, SHAPES.mermaid)));
    });

    it(`DOT: ${file}`, async () => {
      const plan = await planOf(file);
      const parsed = await parseDot(renderPlanDot(plan));
      expect(parsed.name).toBe(plan.workflow);
      expect(parsed.nodes).toHaveLength(plan.nodes.length);
      expect(normalised(parsed)).toEqual(normalised(expected(plan, SHAPES.dot)));
    });
  }

  it('draws graph.yaml with both services apart and the three test combinations grouped', async () => {
    const plan = await planOf('test/fixtures/report/graph.yaml');
    for (const parsed of [
      await parseMermaid(renderPlanMermaid(plan)),
      await parseDot(renderPlanDot(plan)),
    ]) {
      expect(normalised(parsed).groups).toEqual([
        { label: 'services', members: ['api-server', 'cache'] },
        { label: 'test (matrix)', members: ['test-20-unit', 'test-22-e2e', 'test-22-unit'] },
      ]);
      expect(parsed.edges.filter((e) => e.dashed).map((e) => `${e.from}>${e.to}`)).toEqual(
        expect.arrayContaining([
          'api-server>test-20-unit',
          'api-server>test-22-unit',
          'api-server>test-22-e2e',
          'cache>smoke',
        ]),
      );
      expect(parsed.edges.filter((e) => e.dashed)).toHaveLength(4);
      expect(parsed.edges).toHaveLength(11);
    }
  });

  it('escapes ids and names that would break either syntax', async () => {
    const odd = ['end', 'a"b', 'x#quot;y', '<b>&amp;</b>', 'back\\slash', 'o--x', 'pipe|[br]{c}'];
    const plan = compilePlan(
      workflow({
        name: 'odd "name"',
        services: [service('svc-1')],
        steps: odd.map((id, i) => step(id, { needs: i === 0 ? ['svc-1'] : [odd[i - 1] ?? ''] })),
      }),
    );
    const mermaid = await parseMermaid(renderPlanMermaid(plan));
    expect(normalised(mermaid)).toEqual(normalised(expected(plan, SHAPES.mermaid)));
    const dot = await parseDot(renderPlanDot(plan));
    // Graphviz keeps a quoted name's `\\` as written (only `\"` is an escape
    // in a DOT string); drawn as the default label `\N`, it shows one `\`.
    const unescaped = {
      ...dot,
      nodes: dot.nodes.map((n) => ({ ...n, label: n.label.replaceAll('\\\\', '\\') })),
      edges: dot.edges.map((e) => ({
        ...e,
        from: e.from.replaceAll('\\\\', '\\'),
        to: e.to.replaceAll('\\\\', '\\'),
      })),
    };
    expect(dot.name).toBe('odd "name"');
    expect(normalised(unescaped)).toEqual(normalised(expected(plan, SHAPES.dot)));
  });

  it('the parsers reject what is not a graph', async () => {
    await expect(parseMermaid('flowchart LR\n  n0["a" --> n1')).rejects.toThrow(/Parse error/);
    await expect(parseDot('digraph "g" { "a" -> ; }')).rejects.toThrow(/syntax error/);
  });
});
