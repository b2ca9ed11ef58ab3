/**
 * The HTML run report in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core): real runs of test/fixtures/report/mixed.yaml
 * (and a variant with a health-checked process service), written by `agent
 * report --html` and `agent run --report`, opened from `file://`. The page
 * must load without console errors and without any request but its own file,
 * show one bar per attempt in its outcome's colour, open the failures' logs
 * and not the others, and hide succeeded steps when asked.
 *
 * Screenshots go to test-artifacts/ (ignored by git); with
 * UPDATE_SCREENSHOTS=1 the service variant's is also copied to
 * docs/images/report.png, the README's picture.
 */

import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { htmlReportOf } from '../../src/report/html/index.js';
import { PHASE_COLOURS, STATUS_COLOURS } from '../../src/report/html/page-assets.js';
import { openStateStore } from '../../src/wiring.js';
import { describeBrowser } from '../helpers/browser.js';
import { appendSyntheticRun } from '../helpers/report-events.js';
import { agent, freePort, repoRoot, tempDir } from './cli.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts');

// What the callbacks evaluated in the page use (this project's TypeScript has no DOM library).
declare const getComputedStyle: (el: unknown) => { backgroundColor: string; display: string };
declare const window: { pwned?: number };

/** `#1f883d` as the browser computes it: `rgb(31, 136, 61)`. */
function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

/** mixed.yaml with a process service `web` (an HTTP server health-checked on a free port) that `build` needs. */
async function withService(mixed: string): Promise<string> {
  const port = await freePort();
  const server = JSON.stringify(join(repoRoot, 'test/fixtures/bin/http-server.mjs'));
  const services = `  services:
    web:
      runtime: process
      command: [node, ${server}]
      ports: ["${port}:${port}"]
      environment:
        - { name: PORT, value: "${port}" }
      healthCheck:
        http: { path: /health, port: ${port} }
        interval: 100ms
        retries: 20
`;
  const out = mixed
    .replace('  steps:\n', `${services}  steps:\n`)
    .replace('    build:\n', '    build:\n      needs: web\n')
    .replace('name: mixed', 'name: mixed-service');
  if (!out.includes('needs: web') || !out.includes('services:')) {
    throw new Error('mixed.yaml changed shape: the service variant could not be made');
  }
  return out;
}

/** What a page did while it loaded: console errors and requests to anything but a file. */
interface Watch {
  errors: string[];
  foreign: string[];
  requests: string[];
}

async function open(browser: Browser, file: string): Promise<{ page: Page; watch: Watch }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const watch: Watch = { errors: [], foreign: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') watch.errors.push(m.text());
  });
  page.on('pageerror', (e) => watch.errors.push(e.message));
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    watch.requests.push(url);
    if (url.startsWith('file:')) await route.continue();
    else {
      watch.foreign.push(url);
      await route.abort();
    }
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, watch };
}

/** The outcomes of a row's bars, in order, with the colour each is painted. */
async function bars(page: Page, node: string) {
  return page.locator(`.row[data-node="${node}"] .bar`).evaluateAll((els) =>
    els.map((el) => ({
      attempt: el.getAttribute('data-attempt'),
      outcome: el.getAttribute('data-outcome'),
      phase: el.getAttribute('data-phase'),
      colour: getComputedStyle(el).backgroundColor,
      width: el.getBoundingClientRect().width,
    })),
  );
}

describeBrowser('the HTML report in headless Chromium', (executablePath) => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath });
    dir = await tempDir('agentfile-report-');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows mixed.yaml: a bar per attempt in its colour, failures open, a filter that hides succeeded steps', async () => {
    await copyFile(join(repoRoot, 'test/fixtures/report/mixed.yaml'), join(dir, 'mixed.yaml'));
    const run = await agent(['run', 'mixed.yaml'], { cwd: dir });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    const report = await agent(['report', 'mixed.yaml', '--html', 'out/mixed.html'], { cwd: dir });
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout + report.stderr).toBe('');

    const { page, watch } = await open(browser, join(dir, 'out/mixed.html'));
    expect(await page.locator('#run-status').textContent()).toBe('failed');

    const colour = (s: string) => rgb(STATUS_COLOURS[s] as string);
    expect(await bars(page, 'build')).toMatchObject([
      { attempt: '1', outcome: 'succeeded', colour: colour('succeeded') },
    ]);
    // The retry is a bar of its own: the failed first attempt, then the one that succeeded.
    expect(await bars(page, 'flaky')).toMatchObject([
      { attempt: '1', outcome: 'failed', colour: colour('failed') },
      { attempt: '2', outcome: 'succeeded', colour: colour('succeeded') },
    ]);
    expect(await bars(page, 'test')).toMatchObject([
      { attempt: '1', outcome: 'failed', colour: colour('failed') },
    ]);
    expect(await bars(page, 'slow')).toMatchObject([
      { attempt: '1', outcome: 'timed_out', colour: colour('timed_out') },
    ]);
    expect(await bars(page, 'deploy')).toEqual([]);
    expect(await page.locator('.row[data-node="deploy"]').textContent()).toContain('skipped');
    for (const b of [...(await bars(page, 'flaky')), ...(await bars(page, 'slow'))]) {
      expect(b.width).toBeGreaterThan(0);
    }
    expect(await page.locator('.graph g.dag-node').count()).toBe(5);
    expect(await page.locator('.graph path[data-edge]').count()).toBe(5);

    // The failure's log is open and filled; a success's is collapsed.
    const failed = page.locator('details[data-node="test"]');
    expect(await failed.evaluate((d) => d.hasAttribute('open'))).toBe(true);
    await expect
      .poll(() => failed.locator('pre.log').textContent())
      .toContain('FAIL parser handles empty input');
    expect(await failed.locator('pre.log').isVisible()).toBe(true);
    const ok = page.locator('details[data-node="build"]');
    expect(await ok.evaluate((d) => d.hasAttribute('open'))).toBe(false);
    expect(await ok.locator('pre.log').isVisible()).toBe(false);
    // Expanding it fills its log.
    await ok.locator('summary').click();
    // The log is filled by the toggle event, a task after the click.
    await expect.poll(() => ok.locator('pre.log').textContent()).toContain('build ok');

    // A click on a node of the graph opens that step's entry.
    const slow = page.locator('details[data-node="slow"]');
    await slow.locator('summary').click();
    expect(await slow.evaluate((d) => d.hasAttribute('open'))).toBe(false);
    await page.locator('.graph g.dag-node[data-node="slow"]').click();
    await expect.poll(() => slow.evaluate((d) => d.hasAttribute('open'))).toBe(true);

    await page.screenshot({ path: join(ARTIFACTS, 'report-mixed.png'), fullPage: true });

    // The filter: unticking `succeeded` hides build and flaky everywhere, keeps the rest.
    await page.locator('.filters input[data-filter="succeeded"]').uncheck();
    for (const node of ['build', 'flaky']) {
      expect(await page.locator(`.row[data-node="${node}"]`).isVisible()).toBe(false);
      expect(await page.locator(`details[data-node="${node}"]`).isVisible()).toBe(false);
    }
    for (const node of ['test', 'deploy', 'slow']) {
      expect(await page.locator(`.row[data-node="${node}"]`).isVisible()).toBe(true);
    }
    await page.locator('.filters input[data-filter="succeeded"]').check();
    expect(await page.locator('.row[data-node="build"]').isVisible()).toBe(true);
    // The name filter.
    await page.locator('#name-filter').fill('fla');
    expect(await page.locator('.row[data-node="flaky"]').isVisible()).toBe(true);
    expect(await page.locator('.row[data-node="test"]').isVisible()).toBe(false);

    expect(watch.errors).toEqual([]);
    expect(watch.foreign).toEqual([]);
    expect(watch.requests).toHaveLength(1);
    await page.close();
  });

  it('shows a service starting, waiting for its health check, and healthy (agent run --report)', async () => {
    const sub = join(dir, 'service');
    await mkdir(sub, { recursive: true });
    const mixed = await readFile(join(repoRoot, 'test/fixtures/report/mixed.yaml'), 'utf8');
    await writeFile(join(sub, 'mixed.yaml'), await withService(mixed));
    const run = await agent(['run', 'mixed.yaml', '--report', 'report.html'], { cwd: sub });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/service web: healthy/);

    const { page, watch } = await open(browser, join(sub, 'report.html'));
    const phases = await bars(page, 'web');
    expect(phases.map((p) => p.phase)).toEqual(['starting', 'waiting', 'healthy']);
    expect(phases.map((p) => p.colour)).toEqual([
      rgb(PHASE_COLOURS.starting as string),
      rgb(PHASE_COLOURS.waiting as string),
      rgb(PHASE_COLOURS.healthy as string),
    ]);
    expect(await page.locator('.row[data-node="web"]').getAttribute('data-status')).toBe('stopped');
    expect(await bars(page, 'flaky')).toHaveLength(2);
    // web → build is an edge of the graph.
    expect(await page.locator('.graph path[data-edge="web->build"]').count()).toBe(1);

    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await mkdir(join(repoRoot, 'docs/images'), { recursive: true });
      await copyFile(join(ARTIFACTS, 'report.png'), join(repoRoot, 'docs/images/report.png'));
    }
    expect(watch.errors).toEqual([]);
    expect(watch.foreign).toEqual([]);
    await page.close();
  });

  it("shows markup in a step's output as text: nothing in it runs or loads", async () => {
    const sub = join(dir, 'inject');
    await mkdir(sub, { recursive: true });
    await writeFile(
      join(sub, 'agent.yaml'),
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: inject }
spec:
  steps:
    inject:
      run: |
        echo '<script>window.pwned = 1</script>'
        echo '<img src="https://example.invalid/x.png" onerror="window.pwned = 2">'
        exit 1
`,
    );
    expect((await agent(['run'], { cwd: sub })).exitCode).toBe(1);
    expect((await agent(['report', '--html', 'r.html'], { cwd: sub })).exitCode).toBe(0);
    const { page, watch } = await open(browser, join(sub, 'r.html'));
    const log = page.locator('details[data-node="inject"] pre.log');
    await expect.poll(() => log.textContent()).toContain('<script>window.pwned = 1</script>');
    expect(await log.textContent()).toContain('<img src="https://example.invalid/x.png"');
    expect(await log.locator('script, img').count()).toBe(0);
    expect(await page.evaluate(() => window.pwned)).toBeUndefined();
    expect(watch.errors).toEqual([]);
    expect(watch.foreign).toEqual([]);
    await page.close();
  });

  it('stays usable with 2,000 steps: it loads, and the filter hides the succeeded ones', async () => {
    const store = openStateStore(join(dir, 'large.db'));
    let html: string | undefined;
    try {
      await appendSyntheticRun(store, {
        runId: '20260102-030405-large0',
        steps: Array.from({ length: 2000 }, (_, i) => ({
          id: `step-${i}`,
          needs: i >= 10 ? [`step-${i - 10}`] : [],
          attempts: i % 50 === 5 ? ['failed'] : ['succeeded'],
          lines: [`step ${i}`, 'done'],
        })),
      });
      html = await htmlReportOf(store, '20260102-030405-large0');
    } finally {
      await store.close();
    }
    await writeFile(join(dir, 'large.html'), html ?? '');
    const { page, watch } = await open(browser, join(dir, 'large.html'));
    const shown = () =>
      page
        .locator('.row')
        .evaluateAll((rows) => rows.filter((r) => getComputedStyle(r).display !== 'none').length);
    expect(await shown()).toBe(2000);
    await page.locator('.filters input[data-filter="succeeded"]').uncheck();
    expect(await shown()).toBe(40);
    // The failed steps' logs were filled when the page loaded; the others were not.
    expect(await page.locator('pre.log[data-filled]').count()).toBe(40);
    await page.screenshot({ path: join(ARTIFACTS, 'report-2000-failed.png') });
    expect(watch.errors).toEqual([]);
    expect(watch.foreign).toEqual([]);
    await page.close();
  });
});
