/**
 * Docker test gating: suites that need the engine run when it answers, are
 * skipped with a one-line reason when it does not, and fail instead when
 * `AGENTFILE_REQUIRE_DOCKER=1` (CI, where a missing engine is a broken setup).
 * Also a proxy in front of the engine that a test can make vanish
 * ({@link startEngineProxy}).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { describe, test } from 'vitest';
import { DockerEngine } from '../../src/executors/docker.js';

/** How long a ping may take before the engine counts as unreachable, in ms. */
const PING_TIMEOUT_MS = 3000;

/** Why the engine is unreachable, or undefined when it answers a ping within {@link PING_TIMEOUT_MS}. */
export async function dockerUnreachableReason(): Promise<string | undefined> {
  const docker = new Dockerode();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
    return undefined;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n')[0];
  } finally {
    clearTimeout(timer);
  }
}

/** True when the Docker engine answers a ping within a few seconds. */
export async function dockerReachable(): Promise<boolean> {
  return (await dockerUnreachableReason()) === undefined;
}

const unreachable = await dockerUnreachableReason();

/**
 * `describe` for suites that need the Docker engine: runs `fn` when the
 * engine is reachable; otherwise skips the suite with the reason
 * `docker engine not reachable: <error>`, or, when
 * `AGENTFILE_REQUIRE_DOCKER=1`, registers one test that fails with it.
 */
export function describeDocker(name: string, fn: () => void): void {
  if (unreachable === undefined) {
    describe(name, fn);
    return;
  }
  const reason = `docker engine not reachable: ${unreachable}`;
  if (process.env.AGENTFILE_REQUIRE_DOCKER === '1') {
    describe(name, () => {
      test('the Docker engine is reachable (AGENTFILE_REQUIRE_DOCKER=1)', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  describe.skip(`${name} (${reason})`, fn);
}

/** Where the real engine listens, as dockerode's defaults find it (`DOCKER_HOST`, else the default socket). */
async function realEngineAddress(): Promise<{ path: string } | { host: string; port: number }> {
  const modem = new Dockerode().modem as {
    socketPath?: string | (() => Promise<string>);
    host?: string;
    port?: string | number;
  };
  if (modem.host) return { host: modem.host, port: Number(modem.port ?? 2375) };
  const socket =
    typeof modem.socketPath === 'function' ? await modem.socketPath() : modem.socketPath;
  return { path: socket ?? '/var/run/docker.sock' };
}

/**
 * A unix-socket proxy in front of the real Docker engine that a test can make
 * vanish, as if the engine went away mid-run, without touching the shared
 * engine itself.
 */
export interface EngineProxy {
  /** Path of the proxy's socket (under `os.tmpdir()`). */
  readonly socketPath: string;
  /** `unix://<socketPath>`, for `DOCKER_HOST`. */
  readonly dockerHost: string;
  /** First lines of the HTTP requests seen so far (`POST /v1.47/containers/create HTTP/1.1`). */
  readonly requests: string[];
  /**
   * Closes the listening socket (Node removes its file) and destroys every
   * connection on both sides, so clients see resets on open connections and
   * ENOENT on new ones. Idempotent; resolves once the server is closed.
   */
  vanish(): Promise<void>;
  /**
   * Makes the proxy vanish as soon as a request whose first line matches
   * `pattern` arrives, before it reaches the engine. Resolves when it has.
   */
  vanishOn(pattern: RegExp): Promise<void>;
}

/** A request line at the start of a chunk or of a line in it (keep-alive connections carry several requests). */
const REQUEST_LINE = /^(?:GET|HEAD|POST|PUT|DELETE) \S+ HTTP\/1\.[01]$/gm;

/** Starts an {@link EngineProxy} to the engine dockerode's defaults point at. */
export async function startEngineProxy(): Promise<EngineProxy> {
  const target = await realEngineAddress();
  const dir = await mkdtemp(join(tmpdir(), 'agentfile-engine-proxy-'));
  const socketPath = join(dir, 'docker.sock');
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let trigger: { pattern: RegExp; done: () => void } | undefined;
  let vanished: Promise<void> | undefined;

  const server = createServer((client) => {
    const upstream = connect(target);
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    // Resets are what this proxy is for; they are not the test's errors.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      const lines = chunk.toString('latin1').split('\r\n').join('\n').match(REQUEST_LINE) ?? [];
      requests.push(...lines);
      if (trigger && lines.some((line) => trigger?.pattern.test(line))) {
        const { done } = trigger;
        trigger = undefined;
        void proxy.vanish().then(done);
        return;
      }
      if (vanished === undefined) upstream.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  const proxy: EngineProxy = {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    requests,
    vanish() {
      vanished ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }).then(() => rm(dir, { recursive: true, force: true }));
      return vanished;
    },
    vanishOn(pattern) {
      return new Promise((resolve) => {
        trigger = { pattern, done: resolve };
      });
    },
  };
  return proxy;
}

/**
 * A {@link DockerEngine} built the way `agent run` builds it (`new
 * DockerEngine()`, dockerode reading `DOCKER_HOST`), with `DOCKER_HOST` set
 * to `dockerHost` while it is constructed.
 */
export function engineAt(dockerHost: string): DockerEngine {
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = dockerHost;
  try {
    return new DockerEngine();
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
}
