/**
 * Runs `agent lint` in-process (src/cli/main.ts) with buffers for stdout and
 * stderr, and lists the lint fixtures; shared by the lint format tests.
 */

import { readdirSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { main } from '../../../src/cli/main.js';

/** The repository root; fixture paths are relative to it. */
export const repoRoot = resolve(import.meta.dirname, '../../..');

/** What one `agent lint` run printed and its exit code. */
export interface LintRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that collects what is written to it; `isTTY` / `hasColors` when given. */
export function captureStream(tty?: {
  hasColors: (env?: object) => boolean;
}): NodeJS.WritableStream & { isTTY?: boolean; text(): string } {
  const chunks: string[] = [];
  return {
    write: (t: string) => {
      chunks.push(t);
      return true;
    },
    ...(tty ? { isTTY: true, hasColors: tty.hasColors } : {}),
    text: () => chunks.join(''),
  } as unknown as NodeJS.WritableStream & { isTTY?: boolean; text(): string };
}

/** Runs `agent lint ...args` in `cwd` (default the repository root) with `env` (default empty). */
export async function runLint(
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    stdout?: ReturnType<typeof captureStream>;
  } = {},
): Promise<LintRun> {
  const stdout = options.stdout ?? captureStream();
  const stderr = captureStream();
  const code = await main(['lint', ...args], {
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd ?? repoRoot,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Every `.yaml` file under test/fixtures/lint (recursively), as POSIX paths from the root, sorted. */
export function lintFixtures(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(entry.name)) out.push(path);
    }
  };
  walk('test/fixtures/lint');
  return out.sort();
}
