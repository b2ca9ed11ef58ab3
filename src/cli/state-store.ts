/**
 * The state store of a command: where it is (`--state`, `AGENTFILE_STATE`,
 * or beside the file) and opening it. Apart from common.ts so that the
 * commands that need no store (`lint`, `plan`) load none of the store's
 * modules.
 */

import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { resolveStatePath } from '../store/paths.js';
import { type StateStore, StoreError } from '../store/types.js';
import { CliError, type CliIo, ExitCode } from './common.js';

/**
 * Opens the state store for a command. `mustExist`: a reading command must
 * not create a store where there is none (it throws CliError exit 2 instead).
 * @throws CliError (exit 4) when the store cannot be opened.
 */
export async function openStore(
  statePath: string,
  options: { mustExist?: boolean; cwd?: string } = {},
): Promise<StateStore> {
  if (options.mustExist && !existsSync(statePath)) {
    throw new CliError(
      `no state store at ${relative(options.cwd ?? process.cwd(), statePath) || statePath}`,
      ExitCode.invalid,
      'run a workflow first, or point --state / AGENTFILE_STATE at the store',
    );
  }
  const { openStateStore } = await import('../wiring.js');
  try {
    return openStateStore(statePath);
  } catch (error) {
    if (error instanceof StoreError) {
      throw new CliError(error.message, ExitCode.unavailable, error.hint);
    }
    throw error;
  }
}

/** The state store path of a command: `--state`, `AGENTFILE_STATE`, or `.agentfile/state.db` beside FILE. */
export function statePathFor(file: string, flag: string | undefined, io: CliIo): string {
  return resolveStatePath({ workflowFile: resolve(io.cwd, file), flag, env: io.env, cwd: io.cwd });
}
