import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AgentSpec } from '../../../src/config/model.js';
import {
  killLeftoverGroup,
  killProcessGroup,
  ProcessExecutor,
} from '../../../src/executors/process.js';
import type { AttemptSpec, OutputStream, ServiceHandle } from '../../../src/executors/types.js';
import { ServiceStartError } from '../../../src/executors/types.js';
import { probeOnce } from '../../../src/health/probe.js';
import { waitHealthy } from '../../../src/health/wait-healthy.js';
import { pgidAlive, processAlive, waitFor } from '../../helpers/processes.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/bin');
let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentfile-process-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An attempt spec with a fresh log file (in a not-yet-existing subdirectory). */
function attempt(command: string[], overrides: Partial<AttemptSpec> = {}): AttemptSpec {
  counter += 1;
  return {
    runId: 'run-process',
    stepId: `step-${counter}`,
    attempt: 1,
    command,
    env: {},
    signal: new AbortController().signal,
    logFile: join(dir, 'logs', `step-${counter}`, '1.log'),
    ...overrides,
  };
}

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function processAgent(command: string[], port: number): AgentSpec {
  return {
    kind: 'Agent',
    name: 'fixture-server',
    path: join(fixtures, 'agent.yaml'),
    source: { file: 'agent.yaml', line: 1, column: 1 },
    runtime: 'process',
    command,
    ports: [{ container: port, host: port, protocol: 'tcp' }],
    environment: [],
    volumes: [],
    healthCheck: {
      probe: { kind: 'tcp', port },
      intervalMs: 50,
      timeoutMs: 1000,
      retries: 100,
      startPeriodMs: 0,
    },
    resources: { limits: {} },
  };
}

describe('ProcessExecutor steps', () => {
  const executor = new ProcessExecutor();

  test('exit 0 succeeds; exit 3 fails with the code as data', async () => {
    const ok = await executor.runAttempt(attempt(['sh', '-c', 'exit 0']));
    expect(ok).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    expect(ok.error).toBeUndefined();
    const failed = await executor.runAttempt(attempt(['sh', '-c', 'exit 3']));
    expect(failed).toMatchObject({
      exitCode: 3,
      timedOut: false,
      cancelled: false,
      error: 'exit code 3',
    });
    expect(failed.durationMs).toBeGreaterThanOrEqual(0);
  });

  test('stdout and stderr lines reach onOutput and the log file, prefixed by stream', async () => {
    const lines: [OutputStream, string][] = [];
    const spec = attempt(
      ['sh', '-c', 'echo one; echo two >&2; printf "three\\nno newline"; echo four >&2'],
      { onOutput: (stream, line) => lines.push([stream, line]) },
    );
    const result = await executor.runAttempt(spec);
    expect(result.exitCode).toBe(0);
    const byStream = (s: OutputStream) => lines.filter(([st]) => st === s).map(([, l]) => l);
    expect(byStream('stdout')).toEqual(['one', 'three', 'no newline']);
    expect(byStream('stderr')).toEqual(['two', 'four']);
    const log = (await readFile(spec.logFile, 'utf8')).split('\n').filter(Boolean);
    // `+`: the stream ended without a newline after this.
    expect(log.filter((l) => l.startsWith('stdout'))).toEqual([
      'stdout| one',
      'stdout| three',
      'stdout+ no newline',
    ]);
    expect(log.filter((l) => l.startsWith('stderr'))).toEqual(['stderr| two', 'stderr| four']);
  });

  test('env is merged over the runner environment; workdir is used', async () => {
    const lines: string[] = [];
    const result = await executor.runAttempt(
      attempt(['sh', '-c', 'echo "$STEP_VAR|$HOME_COPY|$(pwd)"'], {
        env: { STEP_VAR: 'from-step', HOME_COPY: process.env.HOME ?? '' },
        workdir: dir,
        onOutput: (_s, line) => lines.push(line),
      }),
    );
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([`from-step|${process.env.HOME ?? ''}|${dir}`]);

    const inherited: string[] = [];
    const base = new ProcessExecutor({
      baseEnv: { ...process.env, BASE_ONLY: 'base', BOTH: 'base' },
    });
    await base.runAttempt(
      attempt(['sh', '-c', 'echo "$BASE_ONLY $BOTH"'], {
        env: { BOTH: 'step' },
        onOutput: (_s, line) => inherited.push(line),
      }),
    );
    expect(inherited).toEqual(['base step']);
  });

  test('timeout kills the whole process group and reports timedOut within 3 s', async () => {
    let pid: number | undefined;
    const started = Date.now();
    const result = await executor.runAttempt(
      attempt(['sh', '-c', 'sleep 30 & sleep 30'], {
        timeoutMs: 1000,
        onStarted: (handle) => {
          pid = handle.pid;
        },
      }),
    );
    const elapsed = Date.now() - started;
    expect(result.timedOut).toBe(true);
    expect(result.cancelled).toBe(false);
    expect(result.error).toBe('timed out after 1000 ms');
    expect(elapsed).toBeLessThan(3000);
    expect(pid).toBeTypeOf('number');
    await waitFor(() => !pgidAlive(pid as number), {
      timeoutMs: 5000,
      message: 'process group survived the timeout',
    });
    expect(processAlive(pid as number)).toBe(false);
  });

  test('a process ignoring SIGTERM is killed with SIGKILL after the grace period', async () => {
    const quick = new ProcessExecutor({ graceMs: 300 });
    const lines: string[] = [];
    let pid: number | undefined;
    const result = await quick.runAttempt(
      attempt([process.execPath, join(fixtures, 'ignore-sigterm.mjs')], {
        // Long enough for node to start and install its handler on a loaded
        // machine; at 500 ms a SIGTERM before that killed it (signal SIGTERM).
        timeoutMs: 2000,
        onOutput: (_s, line) => lines.push(line),
        onStarted: (handle) => {
          pid = handle.pid;
        },
      }),
    );
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(lines).toContain('ignoring SIGTERM');
    expect(pgidAlive(pid as number)).toBe(false);
  });

  test('abort cancels the attempt and leaves no process of its group', async () => {
    const controller = new AbortController();
    let pid: number | undefined;
    const running = executor.runAttempt(
      attempt(['sh', '-c', 'sleep 30 & sleep 30 & wait'], {
        signal: controller.signal,
        onStarted: (handle) => {
          pid = handle.pid;
        },
      }),
    );
    await waitFor(() => pid !== undefined && pgidAlive(pid));
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ cancelled: true, timedOut: false, error: 'cancelled' });
    await waitFor(() => !pgidAlive(pid as number), { message: 'process group survived abort' });
  });

  test('an already aborted signal runs nothing', async () => {
    const result = await executor.runAttempt(
      attempt(['sh', '-c', 'echo never'], { signal: AbortSignal.abort() }),
    );
    expect(result).toMatchObject({ cancelled: true, exitCode: null });
  });

  test('processes left in the background are stopped when the step exits', async () => {
    let pid: number | undefined;
    const result = await executor.runAttempt(
      attempt(['sh', '-c', 'sleep 30 & echo started'], {
        onStarted: (handle) => {
          pid = handle.pid;
        },
      }),
    );
    expect(result.exitCode).toBe(0);
    await waitFor(() => !pgidAlive(pid as number), { message: 'background process survived' });
  });

  test('a missing command is an error value, not an exception', async () => {
    const result = await executor.runAttempt(attempt(['agentfile-no-such-command', '--x']));
    expect(result).toMatchObject({
      exitCode: null,
      timedOut: false,
      cancelled: false,
      error: 'command not found: agentfile-no-such-command',
    });
    const missingDir = await executor.runAttempt(
      attempt(['true'], { workdir: join(dir, 'missing') }),
    );
    expect(missingDir.error).toBe(`working directory not found: ${join(dir, 'missing')}`);
  });

  test('killProcessGroup ignores a group that is gone and refuses dangerous ids', () => {
    expect(killProcessGroup(2 ** 22 + 12_345, 'SIGTERM')).toBe(false);
    expect(() => killProcessGroup(0)).toThrow(RangeError);
    expect(() => killProcessGroup(1)).toThrow(RangeError);
  });
});

describe('ProcessExecutor services', () => {
  const executor = new ProcessExecutor();
  const handles: ServiceHandle[] = [];
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop(1000)));
  });

  test('a process service with a tcp health check becomes healthy; stop leaves nothing', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const logFile = join(dir, 'services', 'web.log');
    const handle = await executor.startService({
      runId: 'run-process',
      name: 'web',
      agent: processAgent([process.execPath, join(fixtures, 'http-server.mjs')], port),
      env: { PORT: String(port) },
      logFile,
      signal: new AbortController().signal,
      onOutput: (_s, line) => lines.push(line),
    });
    handles.push(handle);
    expect(handle.endpoint).toEqual({ host: '127.0.0.1', ports: { [port]: port } });
    expect(handle.probeAddress(port)).toEqual({ host: '127.0.0.1', port });

    const check = processAgent([], port).healthCheck;
    if (!check) throw new Error('fixture has a health check');
    const outcome = await waitHealthy({
      check,
      probe: () => probeOnce(check.probe, handle, check.timeoutMs),
      exited: handle.exited,
      signal: new AbortController().signal,
    });
    expect(outcome.status).toBe('healthy');
    expect(await probeOnce({ kind: 'tcp', port }, handle, 1000)).toEqual({ ok: true });
    expect(
      await probeOnce({ kind: 'http', path: '/health', port, status: 200 }, handle, 1000),
    ).toEqual({ ok: true });
    expect(await probeOnce({ kind: 'command', command: ['true'] }, handle, 1000)).toEqual({
      ok: true,
    });
    expect(
      await probeOnce(
        { kind: 'command', command: ['sh', '-c', 'echo nope; exit 4'] },
        handle,
        1000,
      ),
    ).toEqual({ ok: false, error: 'command exited 4: nope' });
    expect(await probeOnce({ kind: 'command', command: ['sleep', '5'] }, handle, 200)).toEqual({
      ok: false,
      error: 'command timed out after 200 ms',
    });

    expect(lines).toContain(`listening on ${port}`);
    expect(handle.logTail(5)).toContain(`listening on ${port}`);
    const pgid = Number(handle.id);
    expect(pgidAlive(pgid)).toBe(true);

    await handle.stop(2000);
    await handle.stop(2000); // idempotent
    expect(pgidAlive(pgid)).toBe(false);
    expect(await probeOnce({ kind: 'tcp', port }, handle, 1000)).toMatchObject({ ok: false });
    expect(await readFile(logFile, 'utf8')).toContain(`stdout| listening on ${port}`);
  });

  test('a service that exits on its own resolves exited with its code', async () => {
    const handle = await executor.startService({
      runId: 'run-process',
      name: 'short',
      agent: { ...processAgent(['sh', '-c', 'echo bye; exit 7'], 1), ports: [] },
      env: {},
      logFile: join(dir, 'services', 'short.log'),
      signal: new AbortController().signal,
    });
    handles.push(handle);
    expect(await handle.exited).toEqual({ exitCode: 7 });
    await waitFor(() => handle.logTail(1).includes('bye'));
  });

  test('a port another program already listens on is refused before the service starts', async () => {
    // A real listener that would pass the service's tcp and http probes.
    const squatter = createHttpServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((done) => squatter.listen(0, '127.0.0.1', done));
    const address = squatter.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const started = Date.now();
      await expect(
        executor.startService({
          runId: 'run-process',
          name: 'web',
          agent: processAgent([process.execPath, join(fixtures, 'http-server.mjs')], port),
          env: { PORT: String(port) },
          logFile: join(dir, 'services', 'squatted.log'),
          signal: new AbortController().signal,
        }),
      ).rejects.toThrow(
        new ServiceStartError(
          `port ${port} is already in use on 127.0.0.1: another program listens there, and the health check would pass against it; stop it or give the service another port`,
        ),
      );
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await new Promise((done) => squatter.close(done));
    }
    // Free again: the same service starts.
    const handle = await executor.startService({
      runId: 'run-process',
      name: 'web',
      agent: processAgent([process.execPath, join(fixtures, 'http-server.mjs')], port),
      env: { PORT: String(port) },
      logFile: join(dir, 'services', 'unsquatted.log'),
      signal: new AbortController().signal,
    });
    handles.push(handle);
    await waitFor(() => handle.logTail(1).includes(`listening on ${port}`));
  });

  test('a missing command or workdir is a ServiceStartError', async () => {
    const start = (agent: AgentSpec) =>
      executor.startService({
        runId: 'run-process',
        name: 'broken',
        agent,
        env: {},
        logFile: join(dir, 'services', 'broken.log'),
        signal: new AbortController().signal,
      });
    await expect(start(processAgent(['agentfile-no-such-server'], 1))).rejects.toThrow(
      new ServiceStartError(
        'service "broken" could not start: command not found: agentfile-no-such-server',
      ),
    );
    await expect(
      start({ ...processAgent(['true'], 1), workdir: join(dir, 'nowhere') }),
    ).rejects.toBeInstanceOf(ServiceStartError);
    await expect(start({ ...processAgent(['true'], 1), command: undefined })).rejects.toThrow(
      'process service "broken" has no command',
    );
  });
});

describe('killLeftoverGroup', () => {
  test('kills a group only when one of its processes carries the run id', async () => {
    const child = spawn('sh', ['-c', 'sleep 60 & sleep 60'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, AGENT_RUN_ID: 'run-a' },
    });
    const pgid = child.pid as number;
    await waitFor(() => pgidAlive(pgid), { timeoutMs: 5000, intervalMs: 20 });
    try {
      expect(killLeftoverGroup(pgid, 'run-b')).toBe(false);
      expect(pgidAlive(pgid)).toBe(true);
      expect(killLeftoverGroup(pgid, 'run-a')).toBe(true);
      await waitFor(() => !pgidAlive(pgid), { timeoutMs: 5000, intervalMs: 20 });
    } finally {
      killProcessGroup(pgid, 'SIGKILL');
    }
  });
});
