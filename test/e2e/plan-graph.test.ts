/**
 * `agent plan --format mermaid|dot` as a user runs it: the CLI prints the
 * renderers' graph, which the real parsers read back (the structure itself
 * is checked in test/unit/plan/graph.test.ts).
 */

import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/index.js';
import { compilePlan } from '../../src/plan/compile.js';
import { renderPlanDot, renderPlanMermaid } from '../../src/plan/render.js';
import { parseDot, parseMermaid } from '../helpers/graph-parsers.js';
import { agent, repoRoot } from './cli.js';

const FILE = 'test/fixtures/report/graph.yaml';

async function plan() {
  const { project } = await loadProject(`${repoRoot}/${FILE}`);
  const written = project?.workflows[0];
  if (!written) throw new Error(`no workflow in ${FILE}`);
  return compilePlan(written);
}

describe('agent plan --format mermaid|dot', () => {
  it('prints the Mermaid flowchart, which Mermaid parses', async () => {
    const r = await agent(['plan', '--format', 'mermaid', FILE], { cwd: repoRoot });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(`${r.stdout}\n`).toBe(renderPlanMermaid(await plan()));
    const parsed = await parseMermaid(r.stdout);
    expect(parsed.nodes.map((n) => n.label)).toContain('test-22-e2e');
    expect(parsed.groups.map((g) => g.label)).toEqual(['services', 'test (matrix)']);
  });

  it('prints the DOT digraph, which Graphviz lays out', async () => {
    const r = await agent(['plan', '--format', 'dot', FILE], { cwd: repoRoot });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(`${r.stdout}\n`).toBe(renderPlanDot(await plan()));
    const parsed = await parseDot(r.stdout);
    expect(parsed.name).toBe('graph');
    expect(parsed.groups.map((g) => g.label)).toEqual(['services', 'test (matrix)']);
  });

  it('refuses a graph with --resume or --from, which explain a session in words', async () => {
    const r = await agent(['plan', '--format', 'dot', '--from', 'build', FILE], { cwd: repoRoot });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      '--format dot draws the plan; with --resume or --from use text or json',
    );
  });

  it('rejects an unknown format', async () => {
    const r = await agent(['plan', '--format', 'svg', FILE], { cwd: repoRoot });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Allowed choices are text, json, mermaid, dot/);
  });
});
