/**
 * The Docker engine going away mid-run, against the real engine: the
 * executors talk to it through a unix-socket proxy (`DOCKER_HOST=unix://…`),
 * and the test makes the proxy vanish (its socket closed, every connection
 * destroyed) at a chosen moment. The shared engine itself is never stopped;
 * what the vanished proxy left running is removed through the real socket.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AgentSpec } from '../../../src/config/model.js';
import {
  DockerEngine,
  DockerExecutor,
  DockerServiceRunner,
} from '../../../src/executors/docker.js';
import {
  type AttemptSpec,
  EngineUnavailableError,
  LABEL_RUN,
  LABEL_STEP,
} from '../../../src/executors/types.js';
import {
  describeDocker,
  type EngineProxy,
  engineAt,
  startEngineProxy,
} from '../../helpers/docker.js';
import { waitFor } from '../../helpers/processes.js';

const BUSYBOX = 'local/busybox:latest';
/** Generous: only there to turn a hang into a failure. The real answers take well under a second. */
const PROMPTLY_MS = 15_000;
const prefix = `test-loss-${randomBytes(3).toString('hex')}`;
/** The engine through its real socket, for setup and cleanup. */
const real = new DockerEngine();
const runIds: string[] = [];
const proxies: EngineProxy[] = [];
let dir: string;
let counter = 0;

/** A fresh run (id and network, made through the real socket), cleaned up in afterAll. */
async function newRun(): Promise<{ runId: string; network: string }> {
  counter += 1;
  const runId = `${prefix}-${counter}`;
  runIds.push(runId);
  return { runId, network: await real.createRunNetwork(runId) };
}

/** A proxy to the real engine and an engine built on it as `agent run` builds one. */
async function proxiedEngine(): Promise<{ proxy: EngineProxy; engine: DockerEngine }> {
  const proxy = await startEngineProxy();
  proxies.push(proxy);
  const engine = engineAt(proxy.dockerHost);
  await engine.ping();
  return { proxy, engine };
}

function attempt(runId: string, command: string[], overrides: Partial<AttemptSpec> = {}) {
  counter += 1;
  return {
    runId,
    stepId: `step-${counter}`,
    attempt: 1,
    command,
    image: BUSYBOX,
    env: {},
    signal: new AbortController().signal,
    logFile: join(dir, 'logs', `step-${counter}.log`),
    ...overrides,
  } satisfies AttemptSpec;
}

function serviceAgent(name: string, overrides: Partial<AgentSpec> = {}): AgentSpec {
  return {
    kind: 'Agent',
    name,
    path: join(dir, 'agent.yaml'),
    source: { file: 'agent.yaml', line: 1, column: 1 },
    runtime: 'docker',
    image: BUSYBOX,
    command: ['sleep', '300'],
    ports: [],
    environment: [],
    volumes: [],
    resources: { limits: {} },
    ...overrides,
  };
}

/** What `promise` settled with, or a failure when it takes longer than `ms` (a hang). */
async function settled<T>(
  promise: Promise<T>,
  ms = PROMPTLY_MS,
): Promise<{ value?: T; error?: unknown; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms: a hang`)), ms);
  });
  try {
    const value = await Promise.race([promise, deadline]);
    return { value, ms: Date.now() - started };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('still pending after')) throw error;
    return { error, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts `error` is a one-line EngineUnavailableError with a hint, naming the proxy's socket. */
function expectEngineUnavailable(error: unknown, proxy: EngineProxy, message?: RegExp): void {
  expect(error).toBeInstanceOf(EngineUnavailableError);
  const e = error as EngineUnavailableError;
  expect(e.message).not.toMatch(/\n/);
  expect(e.message).toContain(proxy.socketPath);
  expect(e.hint).toMatch(/\S/);
  if (message) expect(e.message).toMatch(message);
}

/** The run's containers, through the real socket. */
async function containersOf(runId: string): Promise<{ id: string; state: string; step: string }[]> {
  const list = await real.docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_RUN}=${runId}`] },
  });
  return list.map((c) => ({ id: c.Id, state: c.State, step: c.Labels[LABEL_STEP] ?? '' }));
}

describeDocker('Docker executors when the engine goes away', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentfile-engine-loss-'));
  });

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.vanish()));
    for (const runId of runIds) await real.removeRunLeftovers(runId);
    await rm(dir, { recursive: true, force: true });
  });

  test('control: through the proxy, a step exiting non-zero is a step failure', async () => {
    const { proxy, engine } = await proxiedEngine();
    const { runId, network } = await newRun();
    const result = await new DockerExecutor({ engine, network }).runAttempt(
      attempt(runId, ['sh', '-c', 'exit 3']),
    );
    expect(result).toMatchObject({ exitCode: 3, error: 'exit code 3', timedOut: false });
    expect(proxy.requests.some((r) => /^POST \S*\/containers\/[0-9a-f]+\/wait/.test(r))).toBe(true);
    expect(await containersOf(runId)).toEqual([]);
  });

  test('the engine vanishing while a step container runs: EngineUnavailableError at once', async () => {
    const { proxy, engine } = await proxiedEngine();
    const { runId, network } = await newRun();
    let containerId: string | undefined;
    let linesAtWait: number | undefined;
    let lines = 0;
    let vanishedAt = 0;
    const spec = attempt(
      runId,
      ['sh', '-c', 'echo started; for i in $(seq 150); do sleep 0.2; echo tick $i; done'],
      {
        onStarted: ({ containerId: id }) => {
          containerId = id;
        },
        onOutput: () => {
          lines += 1;
          // One line after the wait was sent: its answer's headers are back by
          // then, so the wait is a pending long poll when the engine goes.
          const waiting = proxy.requests.some((r) => /\/containers\/[0-9a-f]+\/wait/.test(r));
          if (waiting && linesAtWait === undefined) linesAtWait = lines;
          else if (linesAtWait !== undefined && lines > linesAtWait && vanishedAt === 0) {
            vanishedAt = Date.now();
            void proxy.vanish();
          }
        },
      },
    );
    const outcome = await settled(new DockerExecutor({ engine, network }).runAttempt(spec), 30_000);
    expect(vanishedAt).toBeGreaterThan(0);
    expectEngineUnavailable(
      outcome.error,
      proxy,
      new RegExp(
        `^the Docker engine at \\S+ went away while step "${spec.stepId}" was running \\(`,
      ),
    );
    expect((outcome.error as EngineUnavailableError).hint).toMatch(/--resume/);
    expect(Date.now() - vanishedAt).toBeLessThan(PROMPTLY_MS);

    // The container was fine: still running, left for the resume's cleanup.
    const left = await containersOf(runId);
    expect(left).toEqual([{ id: containerId, state: 'running', step: spec.stepId }]);
    expect(await real.removeRunLeftovers(runId)).toBe(2);
    expect(await containersOf(runId)).toEqual([]);
  });

  test('the engine vanishing at any call of an attempt: EngineUnavailableError, never a step failure', async () => {
    const calls: { call: string; pattern: RegExp; command: string[] }[] = [
      { call: 'image inspect', pattern: /^GET \S*\/images\/\S+\/json /, command: ['true'] },
      { call: 'create', pattern: /^POST \S*\/containers\/create/, command: ['true'] },
      { call: 'attach', pattern: /\/attach\?/, command: ['true'] },
      { call: 'start', pattern: /\/containers\/[0-9a-f]+\/start/, command: ['sleep', '30'] },
      { call: 'wait', pattern: /\/containers\/[0-9a-f]+\/wait/, command: ['sleep', '30'] },
      {
        call: 'inspect after the exit',
        pattern: /^GET \S*\/containers\/[0-9a-f]+\/json/,
        command: ['true'],
      },
    ];
    for (const { call, pattern, command } of calls) {
      const { proxy, engine } = await proxiedEngine();
      const { runId, network } = await newRun();
      const vanished = proxy.vanishOn(pattern);
      const outcome = await settled(
        new DockerExecutor({ engine, network }).runAttempt(attempt(runId, command)),
      );
      expect(outcome.value, `vanishing at ${call} gave a result`).toBeUndefined();
      expectEngineUnavailable(outcome.error, proxy);
      expect((await settled(vanished)).error).toBeUndefined();
      await real.removeRunLeftovers(runId);
    }
  });

  test('startService while the engine vanishes: EngineUnavailableError, not a ServiceStartError', async () => {
    const calls: { call: string; pattern: RegExp }[] = [
      { call: 'create', pattern: /^POST \S*\/containers\/create/ },
      { call: 'attach', pattern: /\/attach\?/ },
      { call: 'start', pattern: /\/containers\/[0-9a-f]+\/start/ },
      { call: 'inspect', pattern: /^GET \S*\/containers\/[0-9a-f]+\/json/ },
    ];
    for (const { call, pattern } of calls) {
      const { proxy, engine } = await proxiedEngine();
      const { runId, network } = await newRun();
      const vanished = proxy.vanishOn(pattern);
      const outcome = await settled(
        new DockerServiceRunner({ engine, network }).startService({
          runId,
          name: 'db',
          agent: serviceAgent('db'),
          env: {},
          logFile: join(dir, 'services', `db-${call}.log`),
          signal: new AbortController().signal,
        }),
      );
      expect(outcome.value, `vanishing at ${call} started the service`).toBeUndefined();
      expectEngineUnavailable(outcome.error, proxy);
      expect((await settled(vanished)).error).toBeUndefined();
      // Made before the engine went (from create on): left for the cleanup.
      const left = await containersOf(runId);
      expect(left.length, `containers left after vanishing at ${call}`).toBe(
        call === 'create' ? 0 : 1,
      );
      await real.removeRunLeftovers(runId);
      expect(await containersOf(runId)).toEqual([]);
    }
  });

  test('a running service: a command probe and exited end with EngineUnavailableError; stop() still returns', async () => {
    const { proxy, engine } = await proxiedEngine();
    const { runId, network } = await newRun();
    const handle = await new DockerServiceRunner({ engine, network }).startService({
      runId,
      name: 'cache',
      agent: serviceAgent('cache'),
      env: {},
      logFile: join(dir, 'services', 'cache.log'),
      signal: new AbortController().signal,
    });
    // Control: a probe through the proxy works.
    expect(await handle.exec(['sh', '-c', 'echo pong'], 10_000)).toEqual({
      exitCode: 0,
      output: 'pong\n',
    });
    const probe = settled(handle.exec(['sleep', '30'], 60_000), 30_000);
    const exited = settled(handle.exited, 30_000);
    await waitFor(() => proxy.requests.some((r) => /^POST \S*\/exec\/[0-9a-f]+\/start/.test(r)), {
      timeoutMs: PROMPTLY_MS,
    });
    const vanishedAt = Date.now();
    await proxy.vanish();
    const probeOutcome = await probe;
    expectEngineUnavailable(
      probeOutcome.error,
      proxy,
      /went away while a command probe of service "cache" was running/,
    );
    const exitedOutcome = await exited;
    expectEngineUnavailable(
      exitedOutcome.error,
      proxy,
      /went away while service "cache" was running/,
    );
    expect(Date.now() - vanishedAt).toBeLessThan(PROMPTLY_MS);
    expect((await settled(handle.stop(1000))).error).toBeUndefined();

    expect(await containersOf(runId)).toEqual([{ id: handle.id, state: 'running', step: 'cache' }]);
    await real.removeRunLeftovers(runId);
  });

  test('an image build while the engine vanishes: EngineUnavailableError, not an ImageBuildError', async () => {
    const { proxy, engine } = await proxiedEngine();
    const marker = `${prefix}-build`;
    const context = join(dir, 'build-context');
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${BUSYBOX}\nRUN echo "${marker} started" && sleep 30\n`,
    );
    const agent = serviceAgent('slow-build', {
      image: undefined,
      build: { context, dockerfile: 'Dockerfile', args: {} },
    });
    let vanishedAt = 0;
    const outcome = await settled(
      engine.ensureImage(agent, {
        onOutput: (_stream, line) => {
          if (line.includes(`${marker} started`) && vanishedAt === 0) {
            vanishedAt = Date.now();
            void proxy.vanish();
          }
        },
      }),
      90_000,
    );
    expect(vanishedAt).toBeGreaterThan(0);
    expectEngineUnavailable(
      outcome.error,
      proxy,
      /went away while the image of agent "slow-build" was being built/,
    );
    expect(Date.now() - vanishedAt).toBeLessThan(PROMPTLY_MS);
    // The engine cancels a build whose client went away and removes its
    // container (forcerm); make sure, and remove it if it did not.
    const buildContainers = async () =>
      (await real.docker.listContainers({ all: true })).filter((c) => c.Command.includes(marker));
    try {
      await waitFor(async () => (await buildContainers()).length === 0, { timeoutMs: 30_000 });
    } finally {
      for (const c of await buildContainers()) {
        await real.docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
  });
});
