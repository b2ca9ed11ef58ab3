import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ExecTimeoutError } from '../../../src/executors/errors.js';
import { type ProbeTarget, probeOnce } from '../../../src/health/probe.js';

let server: Server;
let port: number;
let closedPort: number;

/** A target whose ports are reached at 127.0.0.1 as given, and whose exec is scripted. */
function target(
  exec: ProbeTarget['exec'] = async () => ({ exitCode: 0, output: '' }),
): ProbeTarget {
  return { probeAddress: (p) => ({ host: '127.0.0.1', port: p }), exec };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    res.writeHead(req.url === '/health' ? 200 : 503);
    res.end('body');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  // A port that was free a moment ago: nothing listens there.
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const probeAddress = probe.address();
  closedPort = typeof probeAddress === 'object' && probeAddress ? probeAddress.port : 0;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('probeOnce', () => {
  test('http: ok when the status matches, else the expected and actual status', async () => {
    expect(
      await probeOnce({ kind: 'http', path: '/health', port, status: 200 }, target(), 2000),
    ).toEqual({ ok: true });
    expect(
      await probeOnce({ kind: 'http', path: '/other', port, status: 200 }, target(), 2000),
    ).toEqual({
      ok: false,
      error: `GET http://127.0.0.1:${port}/other: expected status 200, got 503`,
    });
    expect(
      await probeOnce({ kind: 'http', path: '/other', port, status: 503 }, target(), 2000),
    ).toEqual({ ok: true });
  });

  test('http: connection refused and timeouts are one-line errors', async () => {
    expect(
      await probeOnce(
        { kind: 'http', path: '/health', port: closedPort, status: 200 },
        target(),
        2000,
      ),
    ).toEqual({
      ok: false,
      error: `GET http://127.0.0.1:${closedPort}/health: connect ECONNREFUSED 127.0.0.1:${closedPort}`,
    });
    expect(
      await probeOnce({ kind: 'http', path: '/slow', port, status: 200 }, target(), 200),
    ).toEqual({ ok: false, error: `GET http://127.0.0.1:${port}/slow: timed out after 200 ms` });
  });

  test('tcp: ok when a connection is accepted, else the socket error', async () => {
    expect(await probeOnce({ kind: 'tcp', port }, target(), 2000)).toEqual({ ok: true });
    expect(await probeOnce({ kind: 'tcp', port: closedPort }, target(), 2000)).toEqual({
      ok: false,
      error: `tcp 127.0.0.1:${closedPort}: connect ECONNREFUSED 127.0.0.1:${closedPort}`,
    });
  });

  test('command: exit 0 is ok; otherwise the code and the last output line', async () => {
    const seen: [string[], number][] = [];
    const ok = target(async (command, timeoutMs) => {
      seen.push([command, timeoutMs]);
      return { exitCode: 0, output: 'fine\n' };
    });
    expect(await probeOnce({ kind: 'command', command: ['check', '-q'] }, ok, 1500)).toEqual({
      ok: true,
    });
    expect(seen).toEqual([[['check', '-q'], 1500]]);

    const failing = target(async () => ({ exitCode: 1, output: 'starting\nnot ready yet\n\n' }));
    expect(await probeOnce({ kind: 'command', command: ['check'] }, failing, 1000)).toEqual({
      ok: false,
      error: 'command exited 1: not ready yet',
    });
    const silent = target(async () => ({ exitCode: 2, output: '' }));
    expect(await probeOnce({ kind: 'command', command: ['check'] }, silent, 1000)).toEqual({
      ok: false,
      error: 'command exited 2',
    });
    const slow = target(() => Promise.reject(new ExecTimeoutError(1000)));
    expect(await probeOnce({ kind: 'command', command: ['check'] }, slow, 1000)).toEqual({
      ok: false,
      error: 'command timed out after 1000 ms',
    });
  });
});

describe('probeOnce against a port proxy whose backend is not listening yet', () => {
  test('a connection closed before any response fails at once, not at the timeout', async () => {
    // What Docker's userland proxy does while the container does not listen:
    // accept, then close without a byte.
    const proxy = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const proxyPort = typeof address === 'object' && address ? address.port : 0;
    try {
      const started = Date.now();
      const result = await probeOnce(
        { kind: 'http', path: '/health', port: proxyPort, status: 200 },
        target(),
        5000,
      );
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(/socket hang up|ECONNRESET/);
      // Generous: far below the 5 s timeout it would otherwise wait out.
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe('probeOnce: file and log probes', () => {
  test('file runs test -f where command probes run; a missing file says so', async () => {
    const calls: string[][] = [];
    const exists = target(async (command) => {
      calls.push(command);
      return { exitCode: 0, output: '' };
    });
    expect(await probeOnce({ kind: 'file', path: '/tmp/ready' }, exists, 500)).toEqual({
      ok: true,
    });
    expect(calls).toEqual([['test', '-f', '/tmp/ready']]);
    const missing = target(async () => ({ exitCode: 1, output: '' }));
    expect(await probeOnce({ kind: 'file', path: '/tmp/ready' }, missing, 500)).toEqual({
      ok: false,
      error: 'file /tmp/ready does not exist',
    });
    const noTest = target(async () => ({ exitCode: 127, output: 'sh: test: not found' }));
    expect(await probeOnce({ kind: 'file', path: 'ready' }, noTest, 500)).toEqual({
      ok: false,
      error: 'file ready: command exited 127: sh: test: not found',
    });
  });

  test('log passes once the caller saw a matching line', async () => {
    let matched = false;
    const t = { ...target(), logMatched: () => matched };
    expect(await probeOnce({ kind: 'log', pattern: 'ready' }, t, 500)).toEqual({
      ok: false,
      error: 'no line of output matched /ready/ yet',
    });
    matched = true;
    expect(await probeOnce({ kind: 'log', pattern: 'ready' }, t, 500)).toEqual({ ok: true });
  });
});
