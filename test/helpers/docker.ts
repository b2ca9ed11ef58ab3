/**
 * Docker test gating: suites that need the engine run when it answers, are
 * skipped with a one-line reason when it does not, and fail instead when
 * `AGENTFILE_REQUIRE_DOCKER=1` (CI, where a missing engine is a broken setup).
 */

import Dockerode from 'dockerode';
import { describe, test } from 'vitest';

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
