/**
 * The Agent spec's container fields, honoured by the real engine: security,
 * resources, network, volumes, pull policy, build target and .dockerignore,
 * and init (a service whose PID 1 ignores SIGTERM stops at once).
 */

import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AgentSpec, BuildSpec, SecuritySpec } from '../../../src/config/model.js';
import { runVolumeName } from '../../../src/executors/docker/create-options.js';
import {
  buildContextHash,
  DockerEngine,
  DockerExecutor,
  DockerServiceRunner,
} from '../../../src/executors/docker.js';
import { ImageNotFoundError } from '../../../src/executors/errors.js';
import { type AttemptSpec, LABEL_RUN, type ServiceHandle } from '../../../src/executors/types.js';
import { describeDocker } from '../../helpers/docker.js';

const BUSYBOX = 'local/busybox:latest';
const runId = `test-${randomBytes(4).toString('hex')}`;
const docker = new Dockerode();
const engine = new DockerEngine({ docker });
let dir: string;
let network: string;
let counter = 0;
const handles: ServiceHandle[] = [];
const builtImages: string[] = [];

const noSecurity: SecuritySpec = {
  readOnlyRootFilesystem: false,
  capabilities: { add: [], drop: [] },
  privileged: false,
  noNewPrivileges: false,
};

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
    name: 'svc',
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

async function startService(name: string, agent: AgentSpec): Promise<ServiceHandle> {
  const handle = await new DockerServiceRunner({ engine, network }).startService({
    runId,
    name,
    agent,
    env: {},
    logFile: join(dir, 'services', `${name}.log`),
    signal: new AbortController().signal,
  });
  handles.push(handle);
  return handle;
}

/** Runs a step and returns its result with its output lines. */
async function run(command: string[], overrides: Partial<AttemptSpec> = {}) {
  const lines: string[] = [];
  const result = await new DockerExecutor({ engine, network }).runAttempt(
    attempt(command, { onOutput: (_s, line) => lines.push(line), ...overrides }),
  );
  return { ...result, lines };
}

describeDocker('Docker container options', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentfile-docker-options-'));
    network = await engine.createRunNetwork(runId);
  });

  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop(0)));
    await engine.removeRunLeftovers(runId);
    const { Volumes } = await docker.listVolumes({
      filters: { label: [`${LABEL_RUN}=${runId}`] },
    });
    for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true });
    for (const image of builtImages) {
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('a read-only root filesystem refuses a write', async () => {
    const r = await run(['sh', '-c', 'echo x > /file && echo wrote || echo refused'], {
      security: { ...noSecurity, readOnlyRootFilesystem: true },
    });
    expect(r.exitCode).toBe(0);
    expect(r.lines).toContain('refused');
    expect(r.lines.join('\n')).toMatch(/can't create \/file: Read-only file system/);
  });

  test('a dropped capability refuses its syscall: chown without CHOWN', async () => {
    const command = ['sh', '-c', 'touch /f && chown 1:1 /f && echo chowned'];
    expect((await run(command)).lines).toContain('chowned');
    const r = await run(command, {
      security: { ...noSecurity, capabilities: { add: [], drop: ['CHOWN'] } },
    });
    expect(r.exitCode).toBe(1);
    expect(r.lines.join('\n')).toMatch(/Operation not permitted/);
  });

  test('runAsUser and runAsGroup show in id', async () => {
    const r = await run(['sh', '-c', 'id -u; id -g'], {
      security: { ...noSecurity, runAsUser: 1234, runAsGroup: 4321 },
    });
    expect(r.lines).toEqual(['1234', '4321']);
  });

  test('a memory limit kills an allocating process; the step reports out of memory', async () => {
    // 64 MiB of zeros read into one shell variable: twice the limit.
    const r = await run(['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo ${#x}'], {
      resources: { limits: { memoryBytes: 32 * 1024 * 1024 } },
    });
    expect(r.reason, JSON.stringify(r)).toBe('oom');
    expect(r.error).toBe('out of memory (limit 32Mi)');
  });

  test('network none has no route; a tmpfs volume is writable under a read-only root', async () => {
    const handle = await startService(
      'isolated',
      dockerAgent({
        network: { mode: 'none', aliases: [], dns: [] },
        volumes: [{ type: 'tmpfs', source: '', target: '/scratch', readOnly: false }],
        security: { ...noSecurity, readOnlyRootFilesystem: true },
      }),
    );
    const routes = await handle.exec(['sh', '-c', 'ip route; ip -o link | cut -d: -f2'], 5000);
    expect(routes.exitCode).toBe(0);
    expect(routes.output).not.toMatch(/default/);
    expect(routes.output.trim()).toBe('lo');
    const ping = await handle.exec(['sh', '-c', 'wget -T 2 -O- http://1.1.1.1/ 2>&1'], 5000);
    expect(ping.exitCode).not.toBe(0);
    const write = await handle.exec(
      ['sh', '-c', 'echo ok > /scratch/f && cat /scratch/f; echo x > /root-file'],
      5000,
    );
    expect(write.output.split('\n')).toContain('ok');
    expect(write.output).toContain("can't create /root-file: Read-only file system");
  });

  test('dns and extra aliases reach the container', async () => {
    const handle = await startService(
      'named',
      dockerAgent({ network: { mode: 'bridge', aliases: ['other-name'], dns: ['192.0.2.53'] } }),
    );
    const conf = await handle.exec(['cat', '/etc/resolv.conf'], 5000);
    // Docker's embedded DNS answers on a user network and forwards to the given server.
    const info = await docker.getContainer(handle.id).inspect();
    expect(info.HostConfig.Dns).toEqual(['192.0.2.53']);
    expect(conf.exitCode).toBe(0);
    expect(conf.output).toMatch(/nameserver 127\.0\.0\.11|nameserver 192\.0\.2\.53/);
    const lookup = await run(['sh', '-c', 'nslookup other-name']);
    expect(lookup.lines.join('\n')).toContain(info.NetworkSettings.Networks[network]?.IPAddress);
    expect(info.Name).toBe(`/agentfile-${runId}-named`);
  });

  test('dns is written to /etc/resolv.conf off the run network (host-style resolv.conf)', async () => {
    const handle = await startService(
      'dns-none',
      dockerAgent({ network: { mode: 'none', aliases: [], dns: ['192.0.2.53'] } }),
    );
    const conf = await handle.exec(['cat', '/etc/resolv.conf'], 5000);
    expect(conf.output).toContain('nameserver 192.0.2.53');
  });

  test('a named volume keeps data from one service to the next in a run', async () => {
    const volumes = [
      { type: 'volume' as const, source: 'shared', target: '/data', readOnly: false },
    ];
    const first = await startService('writer', dockerAgent({ volumes }));
    expect((await first.exec(['sh', '-c', 'echo kept > /data/f'], 5000)).exitCode).toBe(0);
    await first.stop(0);
    const second = await startService('reader', dockerAgent({ volumes }));
    expect((await second.exec(['cat', '/data/f'], 5000)).output).toBe('kept\n');
    await second.stop(0);
    const volume = await docker.getVolume(runVolumeName(runId, 'shared')).inspect();
    expect(volume.Labels).toEqual({ [LABEL_RUN]: runId, 'agentfile.volume': 'shared' });
    // Named volumes outlive the run's containers (compose keeps them too).
    await engine.removeRunLeftovers(runId);
    await docker.getVolume(runVolumeName(runId, 'shared')).inspect();
    network = await engine.createRunNetwork(runId);
  });

  test('pull never with a missing image fails before anything starts, naming it', async () => {
    const image = `local/agentfile-missing-${runId}:latest`;
    const before = await docker.listContainers({ all: true });
    const error = await new DockerServiceRunner({ engine, network })
      .startService({
        runId,
        name: 'nopull',
        agent: dockerAgent({ image, pull: 'never' }),
        env: {},
        logFile: join(dir, 'services', 'nopull.log'),
        signal: new AbortController().signal,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect((error as Error).message).toBe(`image "${image}" not found locally and pull is "never"`);
    expect((await docker.listContainers({ all: true })).length).toBe(before.length);
    // pull missing uses a local image without asking a registry (there is none here).
    const local = await startService('local', dockerAgent({ pull: 'missing' }));
    expect((await local.exec(['true'], 5000)).exitCode).toBe(0);
    const never = await startService('local-never', dockerAgent({ pull: 'never' }));
    expect((await never.exec(['true'], 5000)).exitCode).toBe(0);
  });

  test('build target, args and dockerfile reach the build; .dockerignore is honoured', async () => {
    const context = join(dir, 'target-context');
    await mkdir(join(context, 'secret-dir'), { recursive: true });
    await writeFile(
      join(context, 'build.Dockerfile'),
      [
        'FROM local/busybox:latest AS base',
        'ARG FLAVOUR=unset',
        'COPY . /ctx/',
        'RUN echo "base $FLAVOUR" > /stage.txt',
        'FROM base AS dev',
        'ARG FLAVOUR',
        'RUN echo "dev $FLAVOUR" > /stage.txt',
        'FROM base AS prod',
        'RUN echo "prod $FLAVOUR" > /stage.txt',
        '',
      ].join('\n'),
    );
    await writeFile(join(context, 'kept.txt'), 'kept\n');
    await writeFile(join(context, 'ignored.log'), 'ignored\n');
    await writeFile(join(context, 'secret-dir', 'key'), 'secret\n');
    await mkdir(join(context, 'sub'), { recursive: true });
    await writeFile(join(context, 'sub', 'nested.log'), 'ignored\n');
    await writeFile(join(context, 'sub', 'kept.txt'), 'kept\n');
    await writeFile(join(context, '.dockerignore'), '*.log\n**/*.log\nsecret-dir\n');
    const agent = dockerAgent({
      name: 'targeted',
      image: undefined,
      build: { context, dockerfile: 'build.Dockerfile', args: { FLAVOUR: 'mint' }, target: 'dev' },
    });
    const image = await engine.ensureImage(agent);
    builtImages.push(image);
    const r = await run(['sh', '-c', 'cat /stage.txt; cd /ctx && find . -type f | sort'], {
      image,
    });
    expect(r.lines).toEqual([
      'dev mint',
      './.dockerignore',
      './build.Dockerfile',
      './kept.txt',
      './sub/kept.txt',
    ]);
    // An ignored file does not change the content hash (no needless rebuild).
    const hash = await buildContextHash(agent.build as BuildSpec);
    await writeFile(join(context, 'ignored.log'), 'changed\n');
    expect(await buildContextHash(agent.build as BuildSpec)).toBe(hash);
    await writeFile(join(context, 'kept.txt'), 'changed\n');
    expect(await buildContextHash(agent.build as BuildSpec)).not.toBe(hash);
  });

  test('a host port a host process holds fails the service before any container exists', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      const before = (await docker.listContainers({ all: true })).length;
      const error = await startService(
        'busy-port',
        dockerAgent({ ports: [{ container: 80, host: port, protocol: 'tcp' }] }),
      ).catch((e: unknown) => e);
      expect((error as Error).message).toBe(
        `service "busy-port": host port ${port}/tcp is already in use; free it, or publish another port (or 0 for any free one)`,
      );
      expect((await docker.listContainers({ all: true })).length).toBe(before);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('with init, a service whose command ignores SIGTERM as PID 1 stops at once', async () => {
    const httpd = (init: boolean) =>
      dockerAgent({ command: ['httpd', '-f', '-p', '8080'], init, stopGracePeriodMs: 10_000 });
    const withInit = await startService('httpd-init', httpd(true));
    const started = performance.now();
    await withInit.stop(10_000);
    const stopMs = performance.now() - started;
    expect(stopMs).toBeLessThan(3000);

    const withoutInit = await startService('httpd-no-init', httpd(false));
    const capped = await startService(
      'httpd-capped',
      dockerAgent({ command: ['httpd', '-f', '-p', '8080'], init: false, stopGracePeriodMs: 1000 }),
    );
    // Without init, httpd as PID 1 ignores SIGTERM: the stop waits for the
    // grace period (capped by stopGracePeriod here), then kills it.
    const t0 = performance.now();
    await capped.stop(10_000);
    const cappedMs = performance.now() - t0;
    expect(cappedMs).toBeGreaterThanOrEqual(900);
    expect(cappedMs).toBeLessThan(4000);
    await withoutInit.stop(0);
    console.log(
      `httpd stop: init ${Math.round(stopMs)} ms; no init, 1s grace ${Math.round(cappedMs)} ms`,
    );
  });
});
