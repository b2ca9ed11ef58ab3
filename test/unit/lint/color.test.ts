/**
 * Colours of `agent lint --format pretty`: only on a terminal that has them,
 * as Node's `tty.WriteStream.prototype.hasColors(env)` decides, off with
 * NO_COLOR, forced with FORCE_COLOR; never in json, github or sarif output.
 */

import { WriteStream } from 'node:tty';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { colorsEnabled } from '../../../src/lint/format/index.js';
import { captureStream, runLint } from './run-lint.js';

/** A fake terminal: isTTY and Node's own hasColors(env). */
const tty = () => captureStream({ hasColors: (env) => WriteStream.prototype.hasColors(env) });
const TERM = { TERM: 'xterm-256color' };
/** True when the text has any ANSI escape sequence. */
const hasAnsi = (text: string) => stripVTControlCharacters(text) !== text;
/** The SGR sequence `ESC [ codes m`. */
const sgr = (...codes: number[]) => codes.map((c) => `\u001b[${c}m`).join('');
const errors = 'test/fixtures/lint/err/unknown-key.yaml';
const warns = 'test/fixtures/lint/agent-dev/mismatch/agent.yaml';

describe('colorsEnabled', () => {
  const pipe = {};
  const terminal = {
    isTTY: true,
    hasColors: (env?: object) => WriteStream.prototype.hasColors(env),
  };
  it.each([
    ['a terminal with a colour TERM', terminal, TERM, true],
    ['a terminal, NO_COLOR=1', terminal, { ...TERM, NO_COLOR: '1' }, false],
    // no-color.org: an empty NO_COLOR is as if unset (Node 22 and 26 differ here; agentfile does not).
    ['a terminal, NO_COLOR empty', terminal, { ...TERM, NO_COLOR: '' }, true],
    ['a terminal, TERM=dumb', terminal, { TERM: 'dumb' }, false],
    ['a terminal, NODE_DISABLE_COLORS', terminal, { ...TERM, NODE_DISABLE_COLORS: '1' }, false],
    ['a terminal, FORCE_COLOR=0', terminal, { ...TERM, FORCE_COLOR: '0' }, false],
    [
      'a terminal, FORCE_COLOR=1 beats NO_COLOR',
      terminal,
      { NO_COLOR: '1', FORCE_COLOR: '1' },
      true,
    ],
    ['a pipe', pipe, TERM, false],
    ['a pipe, FORCE_COLOR=1', pipe, { FORCE_COLOR: '1' }, true],
    ['a pipe, FORCE_COLOR empty', pipe, { FORCE_COLOR: '' }, true],
    ['a pipe, FORCE_COLOR=3', pipe, { FORCE_COLOR: '3' }, true],
    ['a pipe, FORCE_COLOR=false', pipe, { FORCE_COLOR: 'false' }, false],
    ['a terminal without hasColors', { isTTY: true }, TERM, true],
    ['a terminal without hasColors, NO_COLOR', { isTTY: true }, { ...TERM, NO_COLOR: '1' }, false],
  ])('%s: %s', (_name, stream, env, expected) => {
    expect(colorsEnabled(stream, env as NodeJS.ProcessEnv)).toBe(expected);
  });
});

describe('agent lint --format pretty colours', () => {
  it('a terminal gets coloured severity, rule id and caret; the text is the plain one', async () => {
    const plain = await runLint([errors, warns]);
    expect(hasAnsi(plain.stdout)).toBe(false);
    const coloured = await runLint([errors, warns], { stdout: tty(), env: TERM });
    expect(coloured.code).toBe(plain.code);
    expect(hasAnsi(coloured.stdout)).toBe(true);
    expect(stripVTControlCharacters(coloured.stdout)).toBe(plain.stdout);
    // Rule id cyan; an error's caret bold red; a warning's label and caret bold yellow.
    const lines = coloured.stdout.split('\n');
    expect(coloured.stdout).toContain(`${sgr(36)}[schema/unknown-key]${sgr(39)}`);
    expect(coloured.stdout).toContain(`${sgr(1, 33)}warning:${sgr(39, 22)}`);
    const caret = (color: number) =>
      lines.some((l) => {
        const at = l.indexOf(`${sgr(1, color)}^`);
        return (
          at >= 0 &&
          /^\^~*$/.test(l.slice(at + 9).split('\u001b')[0] ?? '') &&
          l.endsWith(sgr(39, 22))
        );
      });
    expect(caret(31), 'red caret under an error').toBe(true);
    expect(caret(33), 'yellow caret under a warning').toBe(true);
  });

  it('NO_COLOR=1 on a terminal: no colours', async () => {
    const r = await runLint([errors], { stdout: tty(), env: { ...TERM, NO_COLOR: '1' } });
    expect(r.stdout).toContain('[schema/unknown-key]');
    expect(hasAnsi(r.stdout)).toBe(false);
  });

  it('FORCE_COLOR=1 on a pipe: colours', async () => {
    const r = await runLint([errors], { env: { FORCE_COLOR: '1' } });
    expect(hasAnsi(r.stdout)).toBe(true);
  });

  it('a pipe by default: no colours', async () => {
    const r = await runLint([errors], { env: TERM });
    expect(r.stdout).toContain('[schema/unknown-key]');
    expect(hasAnsi(r.stdout)).toBe(false);
  });

  it('json, github and sarif are never coloured, even when forced on a terminal', async () => {
    for (const format of ['json', 'github', 'sarif']) {
      const r = await runLint(['--format', format, errors, warns], {
        stdout: tty(),
        env: { ...TERM, FORCE_COLOR: '3' },
      });
      expect(r.stdout, format).not.toBe('');
      expect(hasAnsi(r.stdout), format).toBe(false);
    }
  });
});
