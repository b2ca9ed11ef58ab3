import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AgentSpec } from '../../../src/config/model.js';
import { MAX_LINE_BYTES, parseLog, streamBytesOfLog } from '../../../src/executors/output.js';
import { ProcessExecutor } from '../../../src/executors/process.js';
import type { AttemptSpec, OutputStream, ServiceHandle } from '../../../src/executors/types.js';
import { readOutputFile } from '../../../src/run/step-outputs.js';
import { waitFor } from '../../helpers/processes.js';
import { literalRedactor } from '../../helpers/redactor.js';

const runId = `io-${randomBytes(4).toString('hex')}`;
const SECRET = 'hunter2';
const redact = literalRedactor([SECRET]);
let dir: string;
let counter = 0;
const handles: ServiceHandle[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentfile-process-io-'));
});
afterAll(async () => {
  await Promise.all(handles.map((h) => h.stop(1000)));
  await rm(dir, { recursive: true, force: true });
});

function attempt(command: string[], overrides: Partial<AttemptSpec> = {}): AttemptSpec {
  counter += 1;
  return {
    runId,
    stepId: `step-${counter}`,
    attempt: 1,
    command,
    env: {},
    signal: new AbortController().signal,
    logFile: join(dir, `step-${counter}.1.log`),
    ...overrides,
  };
}

/** Lines given to onOutput, per stream. */
function collector(): { lines: [OutputStream, string][]; onOutput: AttemptSpec['onOutput'] } {
  const lines: [OutputStream, string][] = [];
  return { lines, onOutput: (stream, line) => lines.push([stream, line]) };
}

describe('process steps: AGENT_OUTPUT', () => {
  test('a step writes NAME=VALUE and a heredoc to $AGENT_OUTPUT; the file parses to them', async () => {
    const outputFile = join(dir, 'outputs', `${counter + 1}`, 'out');
    const { lines, onOutput } = collector();
    const spec = attempt(
      [
        'sh',
        '-c',
        'echo "$AGENT_OUTPUT"; echo version=1.2.3 >> "$AGENT_OUTPUT"; printf \'notes<<EOF\\nline one\\n  line two\\nEOF\\n\' >> "$AGENT_OUTPUT"',
      ],
      // AGENT_OUTPUT in env is overridden by the outputs file.
      { outputFile, env: { AGENT_OUTPUT: '/nowhere' }, onOutput },
    );
    const result = await new ProcessExecutor().runAttempt(spec);
    expect(result).toMatchObject({ exitCode: 0 });
    // The parent directory and the file did not exist: the executor made them.
    expect(lines).toEqual([['stdout', outputFile]]);
    expect(await readOutputFile(outputFile)).toEqual({
      outputs: { version: '1.2.3', notes: 'line one\n  line two' },
    });
  });

  test('the file the runner created is not truncated; no outputs file, no inherited AGENT_OUTPUT', async () => {
    const outputFile = join(dir, 'kept');
    await writeFile(outputFile, 'before=1\n');
    const executor = new ProcessExecutor({
      baseEnv: { ...process.env, AGENT_OUTPUT: join(dir, 'parent-run-output') },
    });
    const kept = await executor.runAttempt(
      attempt(['sh', '-c', 'echo after=2 >> "$AGENT_OUTPUT"'], { outputFile }),
    );
    expect(kept.exitCode).toBe(0);
    expect(await readOutputFile(outputFile)).toEqual({ outputs: { before: '1', after: '2' } });

    const { lines, onOutput } = collector();
    const none = await executor.runAttempt(
      attempt(['sh', '-c', 'printenv AGENT_OUTPUT || echo unset'], { onOutput }),
    );
    expect(none.exitCode).toBe(0);
    expect(lines).toEqual([['stdout', 'unset']]);
  });

  test('secret files are for containers: a process step runs without them', async () => {
    const { lines, onOutput } = collector();
    const result = await new ProcessExecutor().runAttempt(
      attempt(['sh', '-c', 'echo ran'], {
        secretFiles: [{ name: 'token', value: SECRET }],
        onOutput,
      }),
    );
    expect(result).toMatchObject({ exitCode: 0 });
    expect(lines).toEqual([['stdout', 'ran']]);
  });
});

describe('process steps and services: masking', () => {
  test('a value written in two writes of the child is one line, masked in the log and the listener', async () => {
    const { lines, onOutput } = collector();
    const spec = attempt(
      [
        'sh',
        '-c',
        "printf 'pw: hun'; sleep 0.1; printf 'ter2 ok\\n'; printf 'err hunt' >&2; sleep 0.1; printf 'er2\\n' >&2; printf 'last hunter2'",
      ],
      { onOutput, redact },
    );
    const result = await new ProcessExecutor().runAttempt(spec);
    expect(result.exitCode).toBe(0);
    expect(lines.filter(([s]) => s === 'stdout').map(([, l]) => l)).toEqual([
      'pw: *** ok',
      'last ***',
    ]);
    expect(lines.filter(([s]) => s === 'stderr').map(([, l]) => l)).toEqual(['err ***']);
    const log = await readFile(spec.logFile);
    expect(log.toString()).not.toContain(SECRET);
    expect(streamBytesOfLog(log, 'stdout').toString()).toBe('pw: *** ok\nlast ***');
    expect(streamBytesOfLog(log, 'stderr').toString()).toBe('err ***\n');
  });

  test('a value across the 64 KiB cut of a longer line is masked; the log reassembles to the masked line', async () => {
    const before = 'a'.repeat(MAX_LINE_BYTES - 3);
    const after = 'b'.repeat(1000);
    const line = `${before}${SECRET}${after}`;
    // The cut falls after "hun"; the rest comes in a later write.
    const script = [
      `process.stdout.write(${JSON.stringify(`${before}hun`)});`,
      `setTimeout(() => process.stdout.write(${JSON.stringify(`ter2${after}\n`)}), 200);`,
    ].join('');
    const { lines, onOutput } = collector();
    const spec = attempt([process.execPath, '-e', script], { onOutput, redact });
    const result = await new ProcessExecutor().runAttempt(spec);
    expect(result.exitCode).toBe(0);
    const log = await readFile(spec.logFile);
    expect(log.includes(SECRET)).toBe(false);
    expect(log.includes('hun')).toBe(false);
    const records = parseLog(log);
    expect(records.length).toBeGreaterThan(1);
    expect(records.slice(0, -1).every((r) => !r.newline)).toBe(true);
    for (const record of records) expect(record.content.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(streamBytesOfLog(log, 'stdout').toString()).toBe(`${redact.redact(line)}\n`);
    const shown = lines.map(([, l]) => l);
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.join('')).toBe(redact.redact(line));
    for (const piece of shown) expect(piece).not.toContain('hun');
  });

  test('a process service: its log, listener, logTail and command probe output are masked', async () => {
    const agent: AgentSpec = {
      kind: 'Agent',
      name: 'talker',
      path: join(dir, 'agent.yaml'),
      source: { file: 'agent.yaml', line: 1, column: 1 },
      runtime: 'process',
      command: ['sh', '-c', `printf 'token: hun'; sleep 0.1; echo 'ter2'; exec sleep 30`],
      ports: [],
      environment: [],
      volumes: [],
      resources: { limits: {} },
    };
    const logFile = join(dir, 'services', 'talker.log');
    const shown: string[] = [];
    const handle = await new ProcessExecutor().startService({
      runId,
      name: 'talker',
      agent,
      env: {},
      logFile,
      signal: new AbortController().signal,
      onOutput: (_stream, line) => shown.push(line),
      secretFiles: [{ name: 'token', value: SECRET }],
      redact,
    });
    handles.push(handle);
    await waitFor(() => handle.logTail(10).length > 0);
    expect(handle.logTail(10)).toEqual(['token: ***']);
    expect(shown).toEqual(['token: ***']);
    const probe = await handle.exec(['sh', '-c', `echo "probe ${SECRET}"; exit 1`], 5000);
    expect(probe).toEqual({ exitCode: 1, output: 'probe ***\n' });
    await handle.stop(1000);
    const log = await readFile(logFile, 'utf8');
    expect(log).toBe('stdout| token: ***\n');
  });
});
