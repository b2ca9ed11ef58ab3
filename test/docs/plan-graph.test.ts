/**
 * docs/cli.md shows the release pipeline's plan as a Mermaid block; it must
 * be what `agent plan --format mermaid` prints today, and parse.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadProject } from '../../src/config/index.js';
import { compilePlan } from '../../src/plan/compile.js';
import { renderPlanMermaid } from '../../src/plan/render.js';
import { parseMermaid } from '../helpers/graph-parsers.js';

const root = join(import.meta.dirname, '../..');

it("docs/cli.md shows the pipeline's graph as `agent plan --format mermaid` prints it", async () => {
  const md = await readFile(join(root, 'docs/cli.md'), 'utf8');
  const block =
    /`agent plan --format mermaid examples\/pipeline\/workflow\.yaml`\):\n\n```mermaid\n([\s\S]*?)```/.exec(
      md,
    )?.[1];
  const { project } = await loadProject(join(root, 'examples/pipeline/workflow.yaml'));
  const written = project?.workflows[0];
  expect(written?.name).toBe('pipeline');
  if (!written) return;
  const text = renderPlanMermaid(compilePlan(written));
  expect(block).toBe(text);
  expect((await parseMermaid(text)).groups).toEqual([
    { label: 'test (matrix)', members: ['test-20-unit', 'test-22-unit', 'test-22-e2e'] },
  ]);
});
