import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AgentSpec } from '../../../src/config/model.js';
import {
  buildContextHash,
  DockerEngine,
  DockerExecutor,
  DockerServiceRunner,
  runNetworkName,
} from '../../../src/executors/docker.js';
import { ImageBuildError, ImageNotFoundError } from '../../../src/executors/errors.js';
import {
  type AttemptSpec,
  EngineUnavailableError,
  LABEL_RUN,
  LABEL_STEP,
  type OutputStream,
  type ServiceHandle,
  ServiceStartError,
} from '../../../src/executors/types.js';
import { probeOnce } from '../../../src/health/probe.js';
import { waitHealthy } from '../../../src/health/wait-healthy.js';
import { describeDocker } from '../../helpers/docker.js';
import { waitFor } from '../../helpers/processes.js';

const BUSYBOX = 'local/busybox:latest';
const runId = `test-${randomBytes(4).toString('hex')}`;
const docker = new Dockerode();
const engine = new DockerEngine({ docker });
let dir: string;
let network: string;
let counter = 0;
const builtImages: string[] = [];
const handles: ServiceHandle[] = [];

function attempt(command: string[], overrides: Partial<AttemptSpec> = {}): AttemptSpec {
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
  };
}

function dockerAgent(overrides: Partial<AgentSpec>): AgentSpec {
  return {
    kind: 'Agent',
    name: 'web',
    path: join(dir, 'agent.yaml'),
    source: { file: 'agent.yaml', line: 1, column: 1 },
    runtime: 'docker',
    image: BUSYBOX,
    ports: [],
    environment: [],
    volumes: [],
    resources: { limits: {} },
    ...overrides,
  };
}

/** Ids of this run's containers, from their labels. */
async function runContainers(): Promise<string[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_RUN}=${runId}`] },
  });
  return list.map((c) => c.Id);
}

async function containerGone(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return false;
  } catch (error) {
    return (error as { statusCode?: number }).statusCode === 404;
  }
}

describeDocker('Docker executors', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentfile-docker-'));
    network = await engine.createRunNetwork(runId);
  });

  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop(1000)));
    await engine.removeRunLeftovers(runId);
    for (const image of builtImages) {
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('ping answers; an unreachable engine is EngineUnavailableError', async () => {
    await engine.ping();
    const nowhere = new DockerEngine({
      docker: new Dockerode({ socketPath: join(tmpdir(), 'agentfile-no-such-docker.sock') }),
    });
    const error = await nowhere.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toMatch(
      /^cannot reach the Docker engine at .*agentfile-no-such-docker\.sock: connect ENOENT/,
    );
    await expect(nowhere.createRunNetwork('x')).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(nowhere.removeRunLeftovers('x')).rejects.toBeInstanceOf(EngineUnavailableError);
  });

  test('the run network is a labelled bridge, reused when it exists', async () => {
    expect(network).toBe(runNetworkName(runId));
    expect(await engine.createRunNetwork(runId)).toBe(network);
    const info = await docker.getNetwork(network).inspect();
    expect(info.Driver).toBe('bridge');
    expect(info.Labels).toMatchObject({ [LABEL_RUN]: runId });
    const same = await docker.listNetworks({ filters: { name: [network] } });
    expect(same.filter((n) => n.Name === network)).toHaveLength(1);
  });

  test('container steps: exit codes, output lines, log file; the container is removed', async () => {
    const executor = new DockerExecutor({ engine, network });
    const lines: [OutputStream, string][] = [];
    const spec = attempt(['sh', '-c', 'echo out1; echo err1 >&2; echo out2'], {
      onOutput: (stream, line) => lines.push([stream, line]),
    });
    const ok = await executor.runAttempt(spec);
    expect(ok).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    expect(lines.filter(([s]) => s === 'stdout').map(([, l]) => l)).toEqual(['out1', 'out2']);
    expect(lines.filter(([s]) => s === 'stderr').map(([, l]) => l)).toEqual(['err1']);
    const log = await readFile(spec.logFile, 'utf8');
    expect(log).toContain('stdout| out1\n');
    expect(log).toContain('stderr| err1\n');

    const failed = await executor.runAttempt(attempt(['sh', '-c', 'exit 5']));
    expect(failed).toMatchObject({ exitCode: 5, error: 'exit code 5', timedOut: false });
    expect(await runContainers()).toEqual([]);
  });

  test('env and workdir reach the container; labels are set while it runs', async () => {
    const executor = new DockerExecutor({ engine, network });
    const lines: string[] = [];
    let labels: Record<string, string> | undefined;
    const spec = attempt(['sh', '-c', 'echo "$GREETING $(pwd)"'], {
      env: { GREETING: 'hello there' },
      workdir: '/tmp',
      onOutput: (_s, line) => lines.push(line),
    });
    // Inspect from onStarted: the container exists until runAttempt returns.
    let inspected: Promise<void> | undefined;
    spec.onStarted = ({ containerId }) => {
      inspected = docker
        .getContainer(containerId as string)
        .inspect()
        .then((info) => {
          labels = info.Config.Labels;
        });
    };
    const result = await executor.runAttempt(spec);
    await inspected;
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual(['hello there /tmp']);
    expect(labels).toMatchObject({ [LABEL_RUN]: runId, [LABEL_STEP]: spec.stepId });
  });

  test('a missing command or image is an error value', async () => {
    const executor = new DockerExecutor({ engine, network });
    const noCommand = await executor.runAttempt(attempt(['agentfile-no-such-command']));
    expect(noCommand).toMatchObject({
      exitCode: null,
      error: 'command not found: agentfile-no-such-command',
    });
    const noImage = await executor.runAttempt(
      attempt(['true'], { image: 'local/agentfile-no-such-image:1' }),
    );
    expect(noImage.exitCode).toBeNull();
    expect(noImage.error).toMatch(
      /^image "local\/agentfile-no-such-image:1" not found locally and could not be pulled: \S/,
    );
    expect(noImage.error).not.toContain('HTTP code');
    await expect(engine.ensureStepImage('local/agentfile-no-such-image:1')).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
    expect(await runContainers()).toEqual([]);
  });

  test('timeout stops the container, reports timedOut and removes it', async () => {
    const executor = new DockerExecutor({ engine, network, graceMs: 1000 });
    let id: string | undefined;
    const result = await executor.runAttempt(
      attempt(['sh', '-c', 'sleep 30'], {
        timeoutMs: 1000,
        onStarted: ({ containerId }) => {
          id = containerId;
        },
      }),
    );
    expect(result).toMatchObject({ timedOut: true, cancelled: false, exitCode: null });
    expect(result.error).toBe('timed out after 1000 ms');
    expect(result.durationMs).toBeLessThan(15_000);
    expect(id).toBeDefined();
    expect(await containerGone(id as string)).toBe(true);
  });

  test('abort stops the container, reports cancelled and removes it', async () => {
    const executor = new DockerExecutor({ engine, network, graceMs: 1000 });
    const controller = new AbortController();
    let id: string | undefined;
    const running = executor.runAttempt(
      attempt(['sh', '-c', 'echo started; sleep 30'], {
        signal: controller.signal,
        onOutput: (_s, line) => {
          if (line === 'started') controller.abort();
        },
        onStarted: ({ containerId }) => {
          id = containerId;
        },
      }),
    );
    const result = await running;
    expect(result).toMatchObject({ cancelled: true, timedOut: false, error: 'cancelled' });
    expect(await containerGone(id as string)).toBe(true);
  });

  test('an httpd service with an http health check on host port 0; a step reaches it by alias', async () => {
    const runner = new DockerServiceRunner({ engine, network });
    const logFile = join(dir, 'services', 'web.log');
    const agent = dockerAgent({
      command: [
        'sh',
        '-c',
        'mkdir -p /www && echo healthy > /www/health && echo serving && exec httpd -f -p 8080 -h /www',
      ],
      ports: [{ container: 8080, host: 0, protocol: 'tcp' }],
      resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 64 * 1024 * 1024 } },
      healthCheck: {
        probe: { kind: 'http', path: '/health', port: 8080, status: 200 },
        intervalMs: 100,
        timeoutMs: 2000,
        retries: 50,
        startPeriodMs: 0,
      },
    });
    const handle = await runner.startService({
      runId,
      name: 'web',
      agent,
      env: { MODE: 'test' },
      logFile,
      signal: new AbortController().signal,
    });
    handles.push(handle);
    const hostPort = handle.endpoint.ports[8080];
    expect(handle.endpoint.host).toBe('127.0.0.1');
    expect(hostPort).toBeGreaterThan(0);
    // A local engine on Linux: probes go to the container itself, not through
    // the port proxy; the published port serves the host all the same.
    const info0 = await docker.getContainer(handle.id).inspect();
    const containerIp = info0.NetworkSettings.Networks?.[network]?.IPAddress;
    expect(containerIp).toBeTruthy();
    expect(handle.probeAddress(8080)).toEqual({ host: containerIp, port: 8080 });

    const check = agent.healthCheck;
    if (!check) throw new Error('the agent has a health check');
    const outcome = await waitHealthy({
      check,
      probe: () => probeOnce(check.probe, handle, check.timeoutMs),
      exited: handle.exited,
      signal: new AbortController().signal,
    });
    expect(outcome.status).toBe('healthy');
    expect(await probeOnce(check.probe, handle, 2000)).toEqual({ ok: true });
    expect(
      await probeOnce({ kind: 'http', path: '/missing', port: 8080, status: 200 }, handle, 2000),
    ).toEqual({
      ok: false,
      error: `GET http://${containerIp}:8080/missing: expected status 200, got 404`,
    });
    const viaHost = await fetch(`http://127.0.0.1:${hostPort}/health`);
    expect(viaHost.status).toBe(200);
    expect(await probeOnce({ kind: 'tcp', port: 8080 }, handle, 2000)).toEqual({ ok: true });
    expect(
      await probeOnce({ kind: 'command', command: ['test', '-f', '/www/health'] }, handle, 2000),
    ).toEqual({ ok: true });
    expect(
      await probeOnce(
        { kind: 'command', command: ['sh', '-c', 'echo not yet; exit 1'] },
        handle,
        2000,
      ),
    ).toEqual({ ok: false, error: 'command exited 1: not yet' });

    const info = await docker.getContainer(handle.id).inspect();
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.Config.Labels).toMatchObject({ [LABEL_RUN]: runId, [LABEL_STEP]: 'web' });
    expect(info.Config.Env).toContain('MODE=test');
    expect(info.NetworkSettings.Networks[network]?.Aliases).toContain('web');
    await waitFor(() => handle.logTail(10).includes('serving'));

    const executor = new DockerExecutor({ engine, network });
    const lines: string[] = [];
    const step = await executor.runAttempt(
      attempt(['wget', '-qO-', 'http://web:8080/health'], {
        onOutput: (_s, line) => lines.push(line),
      }),
    );
    expect(step.exitCode).toBe(0);
    expect(lines).toEqual(['healthy']);

    await handle.stop(1000);
    await handle.stop(1000); // idempotent
    expect(await containerGone(handle.id)).toBe(true);
    expect(await readFile(logFile, 'utf8')).toContain('stdout| serving');
  });

  test('an unpublished port is probed at the container address on the run network', async () => {
    const runner = new DockerServiceRunner({ engine, network });
    const handle = await runner.startService({
      runId,
      name: 'hidden',
      agent: dockerAgent({
        name: 'hidden',
        command: [
          'sh',
          '-c',
          'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8081 -h /www',
        ],
      }),
      env: {},
      logFile: join(dir, 'services', 'hidden.log'),
      signal: new AbortController().signal,
    });
    handles.push(handle);
    const address = handle.probeAddress(8081);
    expect(address.port).toBe(8081);
    expect(address.host).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(address.host).not.toBe('127.0.0.1');
    await handle.stop(0);
  });

  test('a service that exits on its own resolves exited', async () => {
    const runner = new DockerServiceRunner({ engine, network });
    const handle = await runner.startService({
      runId,
      name: 'oneshot',
      agent: dockerAgent({ name: 'oneshot', command: ['sh', '-c', 'echo bye; exit 3'] }),
      env: {},
      logFile: join(dir, 'services', 'oneshot.log'),
      signal: new AbortController().signal,
    });
    handles.push(handle);
    expect(await handle.exited).toEqual({ exitCode: 3 });
    await handle.stop();
    expect(await containerGone(handle.id)).toBe(true);
  });

  test('build an image from a context FROM local/busybox and run it; unchanged context is not rebuilt', async () => {
    const context = join(dir, 'context');
    await rm(context, { recursive: true, force: true });
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, 'Dockerfile'),
      'FROM local/busybox:latest\nARG GREETING=unset\nCOPY message.txt /message.txt\nRUN echo "$GREETING" > /greeting.txt\nCMD ["sh", "-c", "cat /message.txt /greeting.txt"]\n',
    );
    await writeFile(join(context, 'message.txt'), `built ${runId}\n`);
    const build = { context, dockerfile: 'Dockerfile', args: { GREETING: 'hi from build-arg' } };
    const agent = dockerAgent({ name: 'Built_Agent', image: undefined, build });
    const output: string[] = [];
    const image = await engine.ensureImage(agent, { onOutput: (_s, line) => output.push(line) });
    builtImages.push(image);
    expect(image).toBe(`agentfile/built_agent:${await buildContextHash(build)}`);
    expect(output.some((line) => line.startsWith('Step 1/'))).toBe(true);

    const again: string[] = [];
    expect(await engine.ensureImage(agent, { onOutput: (_s, line) => again.push(line) })).toBe(
      image,
    );
    expect(again).toEqual([]);

    const executor = new DockerExecutor({ engine, network });
    const lines: string[] = [];
    const result = await executor.runAttempt(
      attempt(['sh', '-c', 'cat /message.txt /greeting.txt'], {
        image,
        onOutput: (_s, line) => lines.push(line),
      }),
    );
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([`built ${runId}`, 'hi from build-arg']);

    await writeFile(join(context, 'message.txt'), 'changed\n');
    expect(await buildContextHash(build)).not.toBe(image.split(':')[1]);
  });

  test('a failing build is an ImageBuildError (a ServiceStartError) with the failing output', async () => {
    const context = join(dir, 'broken-context');
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM local/busybox:latest\nRUN echo "compiling ${runId}" && echo "error: missing semicolon" >&2 && exit 2\n`,
    );
    const agent = dockerAgent({
      name: 'broken',
      image: undefined,
      build: { context, dockerfile: 'Dockerfile', args: {} },
    });
    const error = await engine.ensureImage(agent).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect(error).toBeInstanceOf(ImageBuildError);
    const message = (error as Error).message;
    expect(message).toMatch(/^image build of agent "broken" failed: .*returned a non-zero code: 2/);
    expect(message).toContain(`compiling ${runId}`);
    expect(message).toContain('error: missing semicolon');
  });

  test('removeRunLeftovers removes a container left behind and the run network', async () => {
    const leftRun = `${runId}-left`;
    const leftNetwork = await engine.createRunNetwork(leftRun);
    const container = await docker.createContainer({
      Image: BUSYBOX,
      Cmd: ['sleep', '300'],
      Labels: { [LABEL_RUN]: leftRun, [LABEL_STEP]: 'forgotten' },
      HostConfig: { NetworkMode: leftNetwork },
    });
    await container.start();
    expect(await engine.removeRunLeftovers(leftRun)).toBe(2);
    expect(await containerGone(container.id)).toBe(true);
    const networks = await docker.listNetworks({ filters: { name: [leftNetwork] } });
    expect(networks.filter((n) => n.Name === leftNetwork)).toEqual([]);
    expect(await engine.removeRunLeftovers(leftRun)).toBe(0);
  });

  test('a port already in use is a ServiceStartError naming it, before any container exists', async () => {
    const runner = new DockerServiceRunner({ engine, network });
    const first = await runner.startService({
      runId,
      name: 'holder',
      agent: dockerAgent({
        name: 'holder',
        command: ['sleep', '300'],
        ports: [{ container: 9000, host: 0, protocol: 'tcp' }],
      }),
      env: {},
      logFile: join(dir, 'services', 'holder.log'),
      signal: new AbortController().signal,
    });
    handles.push(first);
    const taken = first.endpoint.ports[9000] as number;
    const before = (await runContainers()).length;
    const error = await runner
      .startService({
        runId,
        name: 'clash',
        agent: dockerAgent({
          name: 'clash',
          command: ['sleep', '300'],
          ports: [{ container: 9000, host: taken, protocol: 'tcp' }],
        }),
        env: {},
        logFile: join(dir, 'services', 'clash.log'),
        signal: new AbortController().signal,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect((error as Error).message).toBe(
      `service "clash": host port ${taken}/tcp is already in use; free it, or publish another port (or 0 for any free one)`,
    );
    expect((await runContainers()).length).toBe(before);
    await first.stop(0);
  });

  test('one container port published on two host ports keeps both bindings', async () => {
    const runner = new DockerServiceRunner({ engine, network });
    const handle = await runner.startService({
      runId,
      name: 'twice',
      agent: dockerAgent({
        name: 'twice',
        command: ['sleep', '300'],
        ports: [
          { container: 81, host: 0, protocol: 'tcp' },
          { container: 81, host: 0, protocol: 'tcp' },
          { container: 81, host: 0, protocol: 'udp' },
        ],
      }),
      env: {},
      logFile: join(dir, 'services', 'twice.log'),
      signal: new AbortController().signal,
    });
    handles.push(handle);
    const info = await docker.getContainer(handle.id).inspect();
    expect(info.HostConfig.PortBindings?.['81/tcp']).toHaveLength(2);
    expect(info.HostConfig.PortBindings?.['81/udp']).toHaveLength(1);
    const tcpHostPorts = (info.NetworkSettings.Ports?.['81/tcp'] ?? []).map((b) =>
      Number(b.HostPort),
    );
    // The endpoint names one of the tcp ports, never the udp one.
    expect(tcpHostPorts).toContain(handle.endpoint.ports[81]);
    await handle.stop(0);
  });
});
