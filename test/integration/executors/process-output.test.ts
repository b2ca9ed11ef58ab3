import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_LINE_BYTES, parseLog, streamBytesOfLog } from '../../../src/executors/output.js';
import { ProcessExecutor } from '../../../src/executors/process.js';
import type { AttemptSpec } from '../../../src/executors/types.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/bin');
const runId = `output-${randomBytes(4).toString('hex')}`;
let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentfile-process-output-'));
});
afterAll(async () => {
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

describe('ProcessExecutor output', () => {
  test('binary output is kept byte for byte in the log file', async () => {
    const bytes = randomBytes(100 * 1024);
    const input = join(dir, 'random.bin');
    await writeFile(input, bytes);
    const spec = attempt(['cat', input]);
    const result = await new ProcessExecutor().runAttempt(spec);
    expect(result.exitCode).toBe(0);
    const log = await readFile(spec.logFile);
    expect(streamBytesOfLog(log, 'stdout').equals(bytes)).toBe(true);
    expect(streamBytesOfLog(log, 'stderr').length).toBe(0);
    // Nothing but the bytes and one 9-byte frame ("stdout| " + LF) per record.
    const records = parseLog(log);
    const newlines = bytes.filter((b) => b === 0x0a).length;
    expect(log.length).toBe(bytes.length - newlines + records.length * 9);
  });

  test('a 64 MB line without newline streams to the log in bounded memory', async () => {
    const total = 64 * 1024 * 1024;
    const shown = createHash('sha256');
    let pieces = 0;
    let longest = 0;
    let stderr = '';
    const spec = attempt([process.execPath, join(fixtures, 'write-line.mjs'), String(total)], {
      onOutput: (stream, line) => {
        if (stream === 'stderr') {
          stderr += line;
          return;
        }
        pieces += 1;
        longest = Math.max(longest, Buffer.byteLength(line));
        shown.update(line);
      },
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const result = await new ProcessExecutor().runAttempt(spec);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    // The fixture reports what it wrote; the display got all of it, in pieces.
    const reported = /^bytes=(\d+) sha256=([0-9a-f]{64})$/.exec(stderr);
    expect(reported?.[1]).toBe(String(total));
    expect(shown.digest('hex')).toBe(reported?.[2]);
    expect(longest).toBe(MAX_LINE_BYTES);
    expect(pieces).toBe(total / MAX_LINE_BYTES);
    // Memory does not hold the line: the worker's RSS grows by less than the
    // line's size (measured: 18-35 MB, part of it other tests' garbage; it
    // grew by 8-10x the line's size before output was streamed in pieces).
    expect(peak - before).toBeLessThan(total);

    expect((await stat(spec.logFile)).size).toBe(total + (pieces + 1) * 9 + stderr.length);
    const log = await readFile(spec.logFile);
    const written = createHash('sha256').update(streamBytesOfLog(log, 'stdout')).digest('hex');
    expect(written).toBe(reported?.[2]);
  });
});
