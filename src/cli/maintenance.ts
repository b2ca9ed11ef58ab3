/**
 * Store maintenance: `agent prune`, `agent doctor`, `agent backup`.
 */

import type { Command } from 'commander';
import type { CliIo } from './common.js';

/** Registers the maintenance commands on `program`. */
export function registerMaintenanceCommands(
  _program: Command,
  _io: CliIo,
  _setExit: (code: number) => void,
): void {}
