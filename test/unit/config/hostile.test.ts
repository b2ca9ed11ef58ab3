import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Diagnostic, loadProject } from '../../../src/config/index.js';
import { MAX_NESTING } from '../../../src/config/limits.js';
import { parseSource } from '../../../src/config/load.js';
import { MAX_FILE_BYTES } from '../../../src/config/read.js';

// Hostile inputs: each is refused with one clear diagnostic at a real
// position, well within a hang deadline.
const dir = mkdtempSync(path.join(tmpdir(), 'agentfile-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEADLINE_MS = 10_000;

async function lint(name: string, content: string | Uint8Array, options: { clean?: boolean } = {}) {
  writeFileSync(path.join(dir, name), content);
  const started = performance.now();
  const result = await loadProject(name, { cwd: dir });
  const ms = performance.now() - started;
  expect(ms).toBeLessThan(DEADLINE_MS);
  if (!options.clean) expect(result.project).toBeUndefined();
  return result;
}

function only(list: Diagnostic[]): Diagnostic {
  expect(list.map((d) => d.code)).toHaveLength(1);
  return list[0] as Diagnostic;
}

const HEADER = 'apiVersion: agentfile/v1\nkind: Workflow\nmetadata:\n  name: w\n';

describe('hostile inputs', () => {
  it('refuses an alias bomb ("billion laughs") with yaml/alias-limit at an alias', async () => {
    const names = 'abcdefghij';
    let text = `${HEADER}spec:\n  steps:\n    s:\n      run: echo\n      env:\n        X: x\nbomb:\n  a: &a [x, x, x, x, x, x, x, x, x]\n`;
    for (let i = 1; i < names.length; i++) {
      const prev = names[i - 1];
      text += `  ${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(', ')}]\n`;
    }
    const { diagnostics } = await lint('bomb.yaml', text);
    const d = only(diagnostics);
    expect(d.code).toBe('yaml/alias-limit');
    expect(d.message).toContain('billion laughs');
    expect(d.hint).toBeDefined();
    // The first alias: line 13, "  b: &b [*a, ...".
    expect([d.line, d.column]).toEqual([13, 10]);
  });

  it('refuses 10,000-deep flow nesting with yaml/too-deep', async () => {
    const { diagnostics } = await lint(
      'deep-flow.yaml',
      `${HEADER}spec: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
    );
    const d = only(diagnostics);
    expect(d.code).toBe('yaml/too-deep');
    expect(d.message).toBe(
      `mappings and lists are nested more than ${MAX_NESTING} levels deep here; agentfile reads at most ${MAX_NESTING}`,
    );
    expect(d.line).toBe(5);
    expect(d.column).toBeGreaterThan(6);
    expect(d.column).toBeLessThanOrEqual(10_006);
  });

  it('refuses 10,000-deep block nesting with yaml/too-deep', async () => {
    // "- - - ... x": a sequence of sequences, one level per "- ".
    const { diagnostics } = await lint('deep-block.yaml', `${'- '.repeat(10_000)}x\n`);
    const d = only(diagnostics);
    expect(d.code).toBe('yaml/too-deep');
    expect(d.line).toBe(1);
    expect(d.column).toBeGreaterThan(1);
  });

  it('accepts nesting up to the limit and refuses one level more, at the level past it', async () => {
    const at = (levels: number) =>
      `${HEADER}spec: ${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}\n`;
    // The document is level 1, so "spec: [[...]]" with N-1 brackets is N levels.
    const fits = await lint('deep-limit.yaml', at(MAX_NESTING));
    expect(fits.diagnostics.map((d) => d.code)).not.toContain('yaml/too-deep');
    const over = await lint('deep-over.yaml', at(MAX_NESTING + 1));
    const d = only(over.diagnostics);
    expect(d.code).toBe('yaml/too-deep');
    expect([d.line, d.column]).toEqual([5, 7 + MAX_NESTING - 1]);
  });

  it('refuses nesting made deep through aliases, at the alias', async () => {
    let text = `${HEADER}spec:\n  steps: {s: {run: echo}}\nx0: &x0 ${'['.repeat(40)}${']'.repeat(40)}\n`;
    for (let i = 1; i < 4; i++)
      text += `x${i}: &x${i} ${'['.repeat(40)}*x${i - 1}${']'.repeat(40)}\n`;
    const { diagnostics } = await lint('deep-alias.yaml', text);
    const d = only(diagnostics);
    expect(d.code).toBe('yaml/too-deep');
    expect(d.line).toBe(9);
  });

  it('refuses an alias inside its own anchor with yaml/alias-cycle', async () => {
    const { diagnostics } = await lint(
      'cycle.yaml',
      `${HEADER}spec: &s\n  steps:\n    a:\n      run: echo\n      env: *s\n`,
    );
    const d = only(diagnostics);
    expect(d.code).toBe('yaml/alias-cycle');
    expect(d.message).toBe(
      'an alias here refers to a node that contains it, so the data would be infinite',
    );
    expect([d.line, d.column, d.endColumn]).toEqual([9, 12, 14]);
  });

  it('refuses a 20 MB file with file/too-large before parsing it', async () => {
    const big = Buffer.alloc(20 * 1000 * 1000, 'a: b\n');
    const { diagnostics, sources } = await lint('big.yaml', big);
    const d = only(diagnostics);
    expect(d.code).toBe('file/too-large');
    expect(d.message).toBe(
      'the file is 19.1 MiB (20000000 bytes); agentfile reads files up to 4 MiB (4194304 bytes)',
    );
    expect([d.line, d.column]).toEqual([1, 1]);
    expect(sources.has('big.yaml')).toBe(false);
  });

  it('reads an endless device only up to the limit', async () => {
    const started = performance.now();
    const { diagnostics } = await loadProject('/dev/zero');
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS);
    const d = only(diagnostics);
    expect(d.code).toBe('file/too-large');
    expect(d.message).toBe(
      'the file is more than 4 MiB (4194305 bytes); agentfile reads files up to 4 MiB (4194304 bytes)',
    );
  });

  it('reads a file of exactly the limit', async () => {
    const text = `${HEADER}spec:\n  steps:\n    s:\n      run: |\n`;
    const line = '        echo padding\n';
    const pad = line.repeat(Math.floor((MAX_FILE_BYTES - text.length) / line.length));
    const body = `${text}${pad}${'#'.repeat(MAX_FILE_BYTES - text.length - pad.length - 1)}\n`;
    expect(Buffer.byteLength(body)).toBe(MAX_FILE_BYTES);
    const result = await lint('limit.yaml', body, { clean: true });
    expect(result.diagnostics).toEqual([]);
    expect(result.project?.workflows).toHaveLength(1);
    const over = await lint('over-limit.yaml', `${body}\n`);
    expect(only(over.diagnostics).message).toBe(
      'the file is 4 MiB (4194305 bytes); agentfile reads files up to 4 MiB (4194304 bytes)',
    );
  });

  it('finds a duplicate key in a mapping of 15,000 keys quickly (the yaml check, quadratic, took some 13 s)', () => {
    const keys = Array.from({ length: 15_000 }, (_, i) => `  K${i}: v\n`).join('');
    const text = `env:\n${keys}  K7: again\n`;
    const started = performance.now();
    const parsed = parseSource({ file: 'dup.yaml', text });
    expect(performance.now() - started).toBeLessThan(5_000);
    const d = only(parsed.diagnostics);
    expect(d.code).toBe('yaml/duplicate-key');
    expect(d.message).toBe('duplicate key "K7"; a key may appear only once in a mapping');
    expect([d.line, d.column, d.endColumn]).toEqual([15_002, 3, 5]);
  });

  it.each([
    ['-\naa\na', 2],
    ['*aapiVersion: agent.dev/v1\nkind: Agent\nmetadata:\n  name: x\n', 1],
  ])('puts a syntax error after an unparsable token inside its line (%j; fuzz)', (text, line) => {
    // The yaml LineCounter skipped the line breaks in the token it gave up on.
    const lines = text.split('\n');
    const { diagnostics } = parseSource({ file: 'x.yaml', text });
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]?.line).toBe(line);
    for (const d of diagnostics) {
      expect(d.column).toBeLessThanOrEqual((lines[d.line - 1] as string).length + 1);
      expect(d.endColumn ?? 1).toBeLessThanOrEqual(
        (lines[(d.endLine ?? 1) - 1] as string).length + 1,
      );
    }
  });

  it('refuses binary data with file/binary at the first NUL byte', async () => {
    const bytes = Buffer.concat([
      Buffer.from('kind: Agent\nab'),
      Buffer.from([0, 1, 2, 0xff, 0xfe, 0x89]),
      Buffer.from('PNG'),
    ]);
    const { diagnostics } = await lint('binary.yaml', bytes);
    const d = only(diagnostics);
    expect(d.code).toBe('file/binary');
    expect(d.message).toBe(
      'the file contains binary data (a NUL byte at line 2, column 3), not YAML text',
    );
    expect([d.line, d.column]).toEqual([2, 3]);
  });

  it('refuses invalid UTF-8 with file/encoding at the first bad byte', async () => {
    // "café" in Latin-1: 0xe9 is not valid UTF-8 on its own.
    const bytes = Buffer.concat([
      Buffer.from(`${HEADER}spec:\n  steps:\n    s:\n      run: echo ñ caf`),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    const { diagnostics, sources } = await lint('latin1.yaml', bytes);
    const d = only(diagnostics);
    expect(d.code).toBe('file/encoding');
    expect(d.message).toBe(
      'the file is not valid UTF-8: byte 0xe9 at line 8, column 22 does not fit',
    );
    expect([d.line, d.column, d.endColumn]).toEqual([8, 22, 23]);
    // The snippet shows the line with a replacement character.
    expect(sources.get('latin1.yaml')?.split('\n')[7]).toBe('      run: echo ñ caf\ufffd');
  });

  it.each([
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong form', [0xc0, 0xaf]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a lone continuation byte', [0x80]],
  ])('refuses %s with file/encoding at its first byte', async (_, bad) => {
    const bytes = Buffer.concat([Buffer.from('kind: Agent\nx: ab'), Buffer.from(bad)]);
    const { diagnostics } = await lint('bad-utf8.yaml', bytes);
    const d = only(diagnostics);
    expect(d.code).toBe('file/encoding');
    expect([d.line, d.column]).toEqual([2, 6]);
  });

  it('gives one message for a service that uses a refused file, at that file', async () => {
    writeFileSync(path.join(dir, 'agent.bin.yaml'), Buffer.from('kind: Agent\n\0\0'));
    const text = `${HEADER}spec:\n  services:\n    api:\n      uses: ./agent.bin.yaml\n  steps:\n    s:\n      needs: api\n      run: echo\n`;
    const { diagnostics } = await lint('uses-binary.yaml', text);
    const d = only(diagnostics);
    expect(d.code).toBe('file/binary');
    expect(d.file).toBe('agent.bin.yaml');
  });

  it('refuses UTF-16 text with file/encoding naming it', async () => {
    const text = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER, 'utf16le')]);
    const { diagnostics } = await lint('utf16.yaml', text);
    const d = only(diagnostics);
    expect(d.code).toBe('file/encoding');
    expect(d.message).toBe(
      'the file is UTF-16 text (it starts with a byte order mark); agentfile reads UTF-8',
    );
  });

  it('accepts a UTF-8 byte order mark, with columns that do not count it', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('kind: Agnet\napiVersion: agentfile/v1\nmetadata: {name: a}\nspec: {image: x}\n'),
    ]);
    writeFileSync(path.join(dir, 'bom.yaml'), bytes);
    const { diagnostics } = await loadProject('bom.yaml', { cwd: dir });
    const d = only(diagnostics);
    expect(d.code).toBe('schema/enum');
    expect([d.line, d.column]).toEqual([1, 7]);
  });
});
