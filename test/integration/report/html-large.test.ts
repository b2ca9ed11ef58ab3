/**
 * The HTML report of a run with 2,000 steps, from a real SQLite store: it is
 * built well within a generous deadline and stays small. The run is
 * synthetic (its events appended through the store's API), as a real one of
 * that size would take long to run.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GRAPH_MAX_NODES, htmlReportOf } from '../../../src/report/html/index.js';
import type { StateStore } from '../../../src/store/types.js';
import { openStateStore } from '../../../src/wiring.js';
import { appendSyntheticRun, type SyntheticStep } from '../../helpers/report-events.js';

const STEPS = 2000;
/** Bound on the page's size for this run: 2,000 steps, 2,100 attempts, 5 lines each, in bytes. */
const MAX_BYTES = 3 * 1024 * 1024;
/** A hang deadline, not a benchmark: building takes well under a second here. */
const DEADLINE_MS = 20_000;

describe('the HTML report of 2,000 steps', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is built within the deadline, under the size bound, with every step and attempt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentfile-html-large-'));
    dirs.push(dir);
    const store: StateStore = openStateStore(join(dir, 'state.db'));
    try {
      const steps: SyntheticStep[] = Array.from({ length: STEPS }, (_, i) => ({
        id: `step-${String(i).padStart(4, '0')}`,
        // Ten chains of 200, each step needing the one before in its chain.
        needs: i >= 10 ? [`step-${String(i - 10).padStart(4, '0')}`] : [],
        attempts:
          i % 20 === 7 ? ['failed', 'succeeded'] : i % 100 === 3 ? ['failed'] : ['succeeded'],
        lines: [`step ${i} starting`, 'doing work', 'more work', 'almost done', `step ${i} done`],
      }));
      await appendSyntheticRun(store, { runId: '20260102-030405-large0', steps, service: true });

      const started = Date.now();
      const html = await htmlReportOf(store, '20260102-030405-large0');
      const tookMs = Date.now() - started;
      expect(tookMs).toBeLessThan(DEADLINE_MS);
      expect(html).toBeDefined();
      const page = html as string;
      const bytes = Buffer.byteLength(page);
      expect(bytes).toBeLessThan(MAX_BYTES);
      // Every step has its row and its collapsed entry; every attempt its bar.
      expect(page.match(/<div class="row step"/g)).toHaveLength(STEPS);
      expect(page.match(/<details class="node step"/g)).toHaveLength(STEPS);
      expect(page.match(/<div class="bar st-/g)).toHaveLength(STEPS + STEPS / 20);
      // The 20 failed steps are open; nothing else is.
      expect(page.match(/<details class="node step"[^>]* open>/g)).toHaveLength(STEPS / 100);
      // Too many nodes for a drawing: the graph says so instead.
      expect(page).toContain(`the graph is drawn for up to ${GRAPH_MAX_NODES}`);
      expect(page).not.toContain('<svg');
    } finally {
      await store.close();
    }
  });
});
