/**
 * `agent backup DESTINATION [FILE]`: a consistent copy of the state store
 * while runs go on, through SQLite's online backup API (better-sqlite3's
 * `backup`): the copy is the database as of one moment, never a torn file,
 * and writers are not stopped while it is made. Copying the file with `cp`
 * instead can miss the commits still in the `-wal` file, or catch it
 * mid-write.
 */

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { watchStdout } from './closed-stdout.js';
import { CliError, type CliIo, ExitCode } from './common.js';
import { formatBytes } from './prune-command.js';
import {
  maintenanceOf,
  type StoreOptions,
  splitFileArgument,
  withExistingStore,
} from './read-store.js';

/** Options of `agent backup`, as commander parses them. */
export type BackupOptions = StoreOptions;

/** Runs `agent backup`; resolves with the exit code. @throws CliError */
export async function backupCommand(
  destination: string,
  args: (string | undefined)[],
  opts: BackupOptions,
  io: CliIo,
): Promise<number> {
  const { file } = splitFileArgument(args, 0, 'agent backup DESTINATION [FILE]');
  const target = path.resolve(io.cwd, destination);
  const shown = path.relative(io.cwd, target) || target;
  if (existsSync(target)) {
    throw new CliError(
      `${shown} already exists; a backup never overwrites a file`,
      ExitCode.invalid,
      'remove it first, or name a new file',
    );
  }
  const dir = path.dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CliError(
      `no directory ${path.relative(io.cwd, dir) || dir} for the backup`,
      ExitCode.invalid,
    );
  }
  watchStdout(io);
  return withExistingStore(file, opts, io, async (store, statePath) => {
    const pages = await maintenanceOf(store, 'backup').backup(target);
    const size = statSync(target).size;
    io.stdout.write(
      `backed up ${path.relative(io.cwd, statePath) || statePath} to ${shown} (${pages} pages, ${formatBytes(size)})\n`,
    );
    return ExitCode.ok;
  });
}
