/**
 * Whether `agent lint --format pretty` colours its output, and the styles it
 * uses. The decision is made from the stream and environment the CLI was
 * given (its `CliIo`), never from `process`, so tests can drive it.
 *
 * Semantics are Node's `tty.WriteStream.prototype.hasColors(env)` (which
 * reads `FORCE_COLOR`, `NO_COLOR`, `NODE_DISABLE_COLORS`, `TERM`, `CI`, …):
 *
 * - `FORCE_COLOR` set: colours exactly when it asks for them (`''`, `1`,
 *   `2`, `3`, `true`), on a pipe too; `0` / `false` turn them off. As in
 *   Node, it wins over `NO_COLOR`.
 * - otherwise colours only on a TTY, without a non-empty `NO_COLOR`
 *   (no-color.org; an empty one is unset, on every Node line), whose
 *   `hasColors(env)` says yes, so `NODE_DISABLE_COLORS` and `TERM=dumb` turn
 *   them off too.
 *
 * Source: Node.js docs, "tty: writeStream.hasColors([count][, env])" and
 * "writeStream.getColorDepth([env])"; no-color.org.
 */

import { WriteStream } from 'node:tty';
import { styleText } from 'node:util';
import type { DiagnosticStyle } from '../../config/diagnostics.js';

/** The part of an output stream the colour decision reads. */
export interface ColorStream {
  isTTY?: boolean;
  /** Present on a `tty.WriteStream`: `hasColors(env)` as in Node. */
  hasColors?: (env?: object) => boolean;
}

/** True when output to `stream` under `env` should carry ANSI colours (see the module doc). */
export function colorsEnabled(stream: ColorStream, env: NodeJS.ProcessEnv): boolean {
  // Node's getColorDepth(env) reads FORCE_COLOR first, the same way; it is
  // spelt out here because Node's version also emits a process warning when
  // NO_COLOR is set beside it.
  const force = env.FORCE_COLOR;
  if (force !== undefined) return ['', '1', '2', '3', 'true'].includes(force);
  if (stream.isTTY !== true) return false;
  // no-color.org: NO_COLOR disables colours "when present and not an empty
  // string". Decided here because Node's own reading changed between lines
  // (22 treats an empty NO_COLOR as set, 26 as unset).
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const { NO_COLOR: _ignored, ...rest } = env;
  // getColorDepth / hasColors do not read `this`: the prototype's function is
  // Node's decision for an environment, for a stream that does not have it.
  return typeof stream.hasColors === 'function'
    ? stream.hasColors(rest)
    : WriteStream.prototype.hasColors(rest);
}

/**
 * The styles of pretty lint output (severity, caret, rule id, gutter); each
 * returns its text unchanged when colours are off.
 */
export type Painter = DiagnosticStyle;

/** A painter that adds nothing: the plain output (golden files, JSON-safe text). */
export const PLAIN: Painter = {
  error: (t) => t,
  warning: (t) => t,
  rule: (t) => t,
  dim: (t) => t,
};

/**
 * A painter that always emits ANSI SGR codes (Node's `util.styleText`, with
 * its own stream check off: {@link colorsEnabled} has decided already).
 */
export const ANSI: Painter = {
  error: (t) => styleText(['bold', 'red'], t, { validateStream: false }),
  warning: (t) => styleText(['bold', 'yellow'], t, { validateStream: false }),
  rule: (t) => styleText('cyan', t, { validateStream: false }),
  dim: (t) => styleText('dim', t, { validateStream: false }),
};

/** {@link ANSI} when `enabled`, else {@link PLAIN}. */
export function painter(enabled: boolean): Painter {
  return enabled ? ANSI : PLAIN;
}
