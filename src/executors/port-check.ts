/**
 * Whether a port a process service is about to listen on is already taken.
 * A process service's health check probes 127.0.0.1:<port>; when another
 * program already holds that port, the probe passes against it and steps
 * run against the wrong server. So the port is checked before the service
 * starts, as Docker refuses to publish a host port that is in use
 * (`bind: address already in use`).
 */

import { createServer } from 'node:net';

/**
 * Tries to listen on `host:port` (TCP) and closes again at once.
 *
 * On Linux a listener on the wildcard address (`0.0.0.0`, or `::` without
 * `IPV6_V6ONLY`) conflicts with one on 127.0.0.1, so checking 127.0.0.1
 * also finds a program listening on every address.
 *
 * @returns `in use` when the bind fails with `EADDRINUSE`; `free` when it
 *   succeeds; `unknown` for any other error (e.g. `EACCES` for a port below
 *   1024 as a non-root user), which the caller leaves to the service itself.
 */
export function tcpPortState(
  port: number,
  host = '127.0.0.1',
): Promise<'free' | 'in use' | 'unknown'> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' ? 'in use' : 'unknown'),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

/**
 * The first of `ports` (TCP) already in use on 127.0.0.1, or undefined when
 * every one is free (or cannot be checked).
 */
export async function firstPortInUse(ports: readonly number[]): Promise<number | undefined> {
  for (const port of ports) if ((await tcpPortState(port)) === 'in use') return port;
  return undefined;
}
