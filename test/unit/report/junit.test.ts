/**
 * The JUnit report shapes a real run of test/fixtures/report/mixed.yaml does
 * not reach (services that fail or turn unhealthy, approvals, cancelled and
 * reused steps, control codes in output), fed as events and validated
 * against the Jenkins JUnit XSD (see test/e2e/junit-report.test.ts for the
 * schema's source).
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import xmllint from 'xmllint-wasm';
import type { RunEvent, StoredEvent } from '../../../src/core/events.js';
import { JunitReporter } from '../../../src/report/junit.js';

const XSD = join(import.meta.dirname, '../../fixtures/report/jenkins-junit.xsd');

async function validate(xml: string) {
  const result = await xmllint.validateXML({
    xml: [{ fileName: 'junit.xml', contents: xml }],
    schema: [{ fileName: 'jenkins-junit.xsd', contents: await readFile(XSD, 'utf8') }],
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}

const base = { runId: 'r1', at: Date.UTC(2026, 0, 2, 3, 4, 5, 678) };
let seq = 0;
type Without<T> = T extends unknown ? Omit<T, 'runId' | 'at'> : never;
const ev = (e: Without<RunEvent>): StoredEvent =>
  ({ ...base, ...e, v: 1, seq: ++seq }) as StoredEvent;

function report(): string {
  const r = new JunitReporter('unused.xml');
  const node = (id: string, kind: 'step' | 'service') => ({ id, kind, fingerprint: 'f' });
  const events: StoredEvent[] = [
    ev({
      type: 'run.started',
      workflow: 'ops & <co>',
      file: '/w.yaml',
      resumed: true,
      nodes: [
        node('db', 'service'),
        node('cache', 'service'),
        node('web', 'service'),
        node('old', 'step'),
        node('gate', 'step'),
        node('nope', 'step'),
        node('wait', 'step'),
        node('stop', 'step'),
        node('noisy', 'step'),
      ],
      reused: ['old'],
      rerun: [],
      runner: 'test',
    }),
    ev({ type: 'service.status', service: 'db', status: 'healthy', durationMs: 1250 }),
    ev({
      type: 'service.status',
      service: 'cache',
      status: 'unhealthy',
      error: 'health check failed 3 times',
      logTail: ['refused \u001b[31mred\u001b[0m'],
    }),
    ev({ type: 'service.status', service: 'web', status: 'failed', error: 'exited with code 3' }),
    ev({ type: 'step.waiting', step: 'gate', message: 'ship?', approvers: [] }),
    ev({ type: 'step.approved', step: 'gate', by: 'ann' }),
    ev({ type: 'step.waiting', step: 'nope', message: 'ship?', approvers: [] }),
    ev({ type: 'step.rejected', step: 'nope', by: 'bob', comment: 'not today' }),
    ev({ type: 'step.waiting', step: 'wait', message: 'later?', approvers: [] }),
    ev({
      type: 'step.started',
      step: 'noisy',
      attempt: 1,
      maxAttempts: 1,
      stepStartedAt: base.at,
      logFile: 'x',
    }),
    ev({
      type: 'step.output',
      step: 'noisy',
      attempt: 1,
      stream: 'stderr',
      lines: ['nul\u0000 and \u001b[1mbold\u001b[0m ]]> end'],
    }),
    ev({
      type: 'step.finished',
      step: 'noisy',
      status: 'failed',
      attempt: 1,
      durationMs: 1500,
      exitCode: 2,
      error: 'exit code 2',
    }),
    ev({
      type: 'step.finished',
      step: 'stop',
      status: 'cancelled',
      attempt: 0,
      durationMs: 0,
      error: 'the run was cancelled',
    }),
    ev({ type: 'run.finished', status: 'failed', durationMs: 4321 }),
  ];
  for (const e of events) r.onEvent(e);
  return r.render();
}

describe('JunitReporter', () => {
  const xml = report();

  it('writes services, approvals, cancelled and reused steps in a report that validates', async () => {
    expect(await validate(xml)).toEqual({ valid: true, errors: [] });
  });

  it('maps each outcome to its element', () => {
    const lines = xml.split('\n');
    const lineAfter = (name: string) =>
      lines[lines.findIndex((l) => l.includes(`name="${name}"`)) + 1];
    expect(xml).toContain(
      '<testsuites name="agentfile" tests="9" failures="4" errors="0" time="4.321">',
    );
    expect(xml).toContain(
      '<testsuite name="ops &amp; &lt;co&gt;" id="r1" tests="9" failures="4" errors="0" skipped="2" time="4.321" timestamp="2026-01-02T03:04:05.678Z">',
    );
    expect(xml).toContain(
      '<testcase classname="ops &amp; &lt;co&gt;.service" name="db" time="1.250"/>',
    );
    expect(lineAfter('cache')).toBe(
      '      <failure type="unhealthy" message="health check failed 3 times">health check failed 3 times</failure>',
    );
    expect(lineAfter('web')).toBe(
      '      <failure type="failed" message="exited with code 3">exited with code 3</failure>',
    );
    expect(xml).toContain(
      '<testcase classname="ops &amp; &lt;co&gt;.step" name="old" time="0.000"/>',
    );
    expect(xml).toContain(
      '<testcase classname="ops &amp; &lt;co&gt;.step" name="gate" time="0.000"/>',
    );
    expect(lineAfter('nope')).toBe(
      '      <failure type="rejected" message="rejected by bob: not today">rejected by bob: not today</failure>',
    );
    expect(lineAfter('wait')).toBe('      <skipped>waiting for approval: later?</skipped>');
    expect(lineAfter('stop')).toBe('      <skipped>the run was cancelled</skipped>');
  });

  it('shows control codes as escapes (colours dropped), and stderr in the failure text', () => {
    const controls = [...xml].filter(
      (c) => (c.codePointAt(0) ?? 0) < 0x20 && !'\t\n\r'.includes(c),
    );
    expect(controls).toEqual([]);
    expect(xml).toContain('<system-out>refused red</system-out>');
    expect(xml).toContain(
      '<failure type="failed" message="exit code 2">exit code 2\nnul\\x00 and bold ]]&gt; end</failure>',
    );
    expect(xml).toContain('<system-out>nul\\x00 and bold ]]&gt; end</system-out>');
  });
});
