/**
 * Browser test gating, as `docker.ts` does for the engine: suites that need
 * a headless Chromium run when one is found (`AGENTFILE_CHROMIUM`, else
 * `chromium` on PATH, as `scripts/ensure-chromium.sh` installs it), are
 * skipped with a one-line reason when none is, and fail instead when
 * `AGENTFILE_REQUIRE_BROWSER=1` (CI, where a missing browser is a broken
 * setup).
 */

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, test } from 'vitest';

/** The Chromium binary to drive, and why there is none when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): {
  path?: string;
  reason?: string;
} {
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const given = env.AGENTFILE_CHROMIUM;
  if (given) {
    return executable(given)
      ? { path: given }
      : { reason: `AGENTFILE_CHROMIUM=${given} is not an executable file` };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'chromium'))) return { path: join(dir, 'chromium') };
  }
  return { reason: 'no chromium on PATH (scripts/ensure-chromium.sh installs it)' };
}

const found = findChromium();

/**
 * `describe` for suites that need a browser: runs `fn` with the binary's
 * path when one is found; otherwise skips the suite with the reason, or,
 * when `AGENTFILE_REQUIRE_BROWSER=1`, registers one test that fails with it.
 */
export function describeBrowser(name: string, fn: (executablePath: string) => void): void {
  if (found.path !== undefined) {
    const path = found.path;
    describe(name, () => fn(path));
    return;
  }
  const reason = `headless chromium not found: ${found.reason}`;
  if (process.env.AGENTFILE_REQUIRE_BROWSER === '1') {
    describe(name, () => {
      test('a headless Chromium is available (AGENTFILE_REQUIRE_BROWSER=1)', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  describe.skip(`${name} (${reason})`, () => fn(''));
}
