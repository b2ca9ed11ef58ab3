/**
 * Store maintenance: `agent prune`, `agent doctor`, `agent backup`. Like
 * the reading commands, none creates a store where there is none; each
 * command's code is loaded when it runs.
 */

import type { Command } from 'commander';
import type { BackupOptions } from './backup-command.js';
import type { CliIo } from './common.js';
import type { DoctorOptions } from './doctor-command.js';
import type { PruneOptions } from './prune-command.js';

const STATE_HELP =
  'state database (default: .agentfile/state.db beside the file; env AGENTFILE_STATE)';
const FILE_HELP = 'workflow file whose store to use (default: agent.yaml)';

/** Registers the maintenance commands on `program`; each action hands its exit code to `setExit`. */
export function registerMaintenanceCommands(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  program
    .command('prune')
    .description(
      'delete runs older than an age (with their events, attempts and logs), never a running one; then compact the store',
    )
    .argument('[file]', FILE_HELP)
    .requiredOption('--older-than <age>', 'runs created longer ago than this: 30d, 2w, 12h, 1d12h')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--state <path>', STATE_HELP)
    .action(async (file: string | undefined, opts: PruneOptions) => {
      const { pruneCommand } = await import('./prune-command.js');
      setExit(await pruneCommand([file], opts, io));
    });

  program
    .command('doctor')
    .description(
      'check the store (integrity, stale leases, interrupted runs) and what runs left behind (containers, networks, processes)',
    )
    .argument('[file]', FILE_HELP)
    .option('--fix', 'remove stale leases and leftover containers, networks and processes')
    .option('--state <path>', STATE_HELP)
    .action(async (file: string | undefined, opts: DoctorOptions) => {
      const { doctorCommand } = await import('./doctor-command.js');
      setExit(await doctorCommand([file], opts, io));
    });

  program
    .command('backup')
    .description('copy the state store consistently while runs go on (SQLite online backup)')
    .argument('<destination>', 'the new file to write (never overwritten)')
    .argument('[file]', FILE_HELP)
    .option('--state <path>', STATE_HELP)
    .action(async (destination: string, file: string | undefined, opts: BackupOptions) => {
      const { backupCommand } = await import('./backup-command.js');
      setExit(await backupCommand(destination, [file], opts, io));
    });
}
