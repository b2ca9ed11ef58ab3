/**
 * Commands that control a run from another terminal, by writing requests
 * into the run's event stream in the state store: `agent cancel`, `pause`,
 * `approve`, `reject`. The run's runner notices a request on its heartbeat
 * tick (within a second).
 */

import type { Command } from 'commander';
import type { CliIo } from './common.js';

/** Registers the control commands on `program`. */
export function registerControlCommands(
  _program: Command,
  _io: CliIo,
  _setExit: (code: number) => void,
): void {}
