/**
 * What every `agent` command shares: the exit codes, the I/O the CLI writes
 * to, the one-line user-facing error (the state store: state-store.ts).
 *
 * Exit codes (DESIGN.md, docs/cli.md): 0 success; 1 a step failed / lint
 * found problems; 2 invalid invocation or config, nothing was run; 3 the
 * workflow is locked by another runner; 4 infrastructure unavailable (Docker
 * engine, state store); 5 the run was paused; 6 the run waits for an
 * approval; 130 interrupted.
 */

import { readFileSync } from 'node:fs';

/** Exit codes, as documented in docs/cli.md. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  invalid: 2,
  locked: 3,
  unavailable: 4,
  /** `agent pause`: the session ended, `agent run --resume` continues. */
  paused: 5,
  /** An approval step waits: `agent approve`, then `agent run --resume`. */
  waiting: 6,
  interrupted: 130,
} as const;

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A user-facing failure: one line, a hint, an exit code. Never a stack trace. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Who runs a control command: `--as`, else `AGENT_USER`, `USER`, the OS user. */
export async function whoAmI(as: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (as) return as;
  if (env.AGENT_USER) return env.AGENT_USER;
  if (env.USER) return env.USER;
  const { userInfo } = await import('node:os');
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** agentfile's version, from its package.json (`agent --version`, SARIF `tool.driver.version`). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
