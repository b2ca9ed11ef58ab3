/**
 * One health probe of a running service: http, tcp or command, as a docker
 * compose health check would run it. Failures are values with a one-line
 * reason, never thrown.
 */

import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import type { ProbeSpec } from '../config/model.js';
import { ExecTimeoutError } from '../executors/errors.js';
import type { ServiceHandle } from '../executors/types.js';
import { EngineUnavailableError } from '../executors/types.js';

/** The outcome of one probe. `error` is one line, e.g. `GET http://127.0.0.1:49153/health: expected status 200, got 503`. */
export type ProbeResult = { ok: true } | { ok: false; error: string };

/**
 * The part of a {@link ServiceHandle} a probe uses, plus, for `log` probes,
 * whether a line of the service's output matched so far (the caller watches
 * the output: see `run/services.ts`).
 */
export type ProbeTarget = Pick<ServiceHandle, 'probeAddress' | 'exec'> & {
  logMatched?: () => boolean;
};

/**
 * Runs one probe against a service.
 *
 * - `http`: `GET http://<probeAddress(port)><path>`; ok when the response
 *   status equals `status` (the body is discarded).
 * - `tcp`: ok when a TCP connection to `probeAddress(port)` is accepted.
 * - `command`: runs the command where compose would (inside the container, or
 *   locally for a process service, via `handle.exec`); ok on exit code 0.
 * - `file`: `test -f <path>` the same way (in the container, or on the host
 *   in the process service's working directory); ok when it exists.
 * - `log`: ok when `handle.logMatched()` says a line matched.
 *
 * @param timeoutMs a probe that takes longer fails with `timed out after <ms> ms`.
 * @returns never rejects; failures are `{ok: false, error}`.
 */
export async function probeOnce(
  probe: ProbeSpec,
  handle: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  switch (probe.kind) {
    case 'http':
      return probeHttp(probe, handle, timeoutMs);
    case 'tcp':
      return probeTcp(probe, handle, timeoutMs);
    case 'command':
      return probeCommand(probe, handle, timeoutMs);
    case 'file':
      return probeFile(probe, handle, timeoutMs);
    case 'log':
      return handle.logMatched?.()
        ? { ok: true }
        : { ok: false, error: `no line of output matched /${probe.pattern}/ yet` };
  }
}

/** Formats a host for a URL or a `host:port` pair (brackets around IPv6). */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The innermost useful message of a fetch/socket error (`connect ECONNREFUSED 127.0.0.1:8080`). */
function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
      return `timed out after ${timeoutMs} ms`;
    }
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message) return describeError(cause, timeoutMs);
    const code = (error as NodeJS.ErrnoException).code;
    return error.message || code || error.name;
  }
  return String(error);
}

async function probeHttp(
  probe: Extract<ProbeSpec, { kind: 'http' }>,
  handle: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const address = handle.probeAddress(probe.port);
  const path = probe.path.startsWith('/') ? probe.path : `/${probe.path}`;
  const url = `http://${hostPort(address.host, address.port)}${path}`;
  // node:http with a fresh connection per probe, not fetch: undici answers a
  // connection closed before any response (what Docker's port proxy does
  // while the container is not listening yet) by waiting, so such a probe
  // only ended at its timeout; a health check wants the refusal at once.
  return new Promise((resolve) => {
    const request = httpGet(
      {
        host: address.host,
        port: address.port,
        path,
        agent: false,
        headers: { connection: 'close' },
      },
      (response) => {
        response.resume();
        finish(
          response.statusCode === probe.status
            ? { ok: true }
            : {
                ok: false,
                error: `GET ${url}: expected status ${probe.status}, got ${response.statusCode}`,
              },
        );
      },
    );
    const timer = setTimeout(
      () => finish({ ok: false, error: `GET ${url}: timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
    let done = false;
    function finish(result: ProbeResult): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    }
    request.on('error', (error) =>
      finish({ ok: false, error: `GET ${url}: ${describeError(error, timeoutMs)}` }),
    );
  });
}

function probeTcp(
  probe: Extract<ProbeSpec, { kind: 'tcp' }>,
  handle: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const address = handle.probeAddress(probe.port);
  const label = `tcp ${hostPort(address.host, address.port)}`;
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, error: `${label}: timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (error) =>
      finish({ ok: false, error: `${label}: ${describeError(error, timeoutMs)}` }),
    );
  });
}

async function probeCommand(
  probe: Extract<ProbeSpec, { kind: 'command' }>,
  handle: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    const { exitCode, output } = await handle.exec(probe.command, timeoutMs);
    if (exitCode === 0) return { ok: true };
    const lines = output.split(/\r?\n/).filter((line) => line.trim() !== '');
    const last = lines.at(-1);
    return {
      ok: false,
      error: `command exited ${exitCode}${last !== undefined ? `: ${last.trim()}` : ''}`,
    };
  } catch (error) {
    if (error instanceof ExecTimeoutError) {
      return { ok: false, error: `command timed out after ${error.timeoutMs} ms` };
    }
    // The engine went away: not the service's health, the run's infrastructure.
    if (error instanceof EngineUnavailableError) throw error;
    return { ok: false, error: `command failed: ${describeError(error, timeoutMs)}` };
  }
}

async function probeFile(
  probe: Extract<ProbeSpec, { kind: 'file' }>,
  handle: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const result = await probeCommand(
    { kind: 'command', command: ['test', '-f', probe.path] },
    handle,
    timeoutMs,
  );
  if (result.ok) return result;
  return {
    ok: false,
    error: /^command exited 1$/.test(result.error)
      ? `file ${probe.path} does not exist`
      : `file ${probe.path}: ${result.error}`,
  };
}
