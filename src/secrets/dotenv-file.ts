/**
 * Reading a secret file (`--secret-file FILE`): dotenv's format, parsed by
 * the `dotenv` package's `parse` (`NAME=VALUE`, `export NAME=VALUE`,
 * `NAME: VALUE`, single-, double- and backtick-quoted values, multi-line
 * values in quotes, `\n` in double quotes, `#` comments).
 *
 * dotenv silently skips what it cannot read; this module says where, as
 * warnings with the file and line. To know which lines dotenv uses, the file
 * is scanned with {@link DOTENV_LINE}, the expression of dotenv's own parser
 * (its `LINE`, the same in dotenv 17 and 18, with `(?:^|^)` and `(?:$|$)` written as `^`
 * and `$`). Values always come from dotenv's `parse`; when the scan does not
 * find exactly the names `parse` returns (a later dotenv changed its
 * grammar), no line is reported rather than wrong lines.
 */

import { parse } from 'dotenv';
import { isSecretName, type SecretsWarning } from './errors.js';

/** One `NAME=VALUE` entry, as dotenv's parser finds them (flags `d` for group indices, `g`, `m`). */
const DOTENV_LINE =
  /^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?$/dgm;

/** What {@link parseSecretFile} found in one file. */
export interface SecretFile {
  /** Every entry with a valid secret name, the last of a name winning (as dotenv does). */
  values: Map<string, string>;
  /** The 1-based line of each name's (last) entry, when the scan agreed with dotenv. */
  lines: Map<string, number>;
  /** Ignored lines, invalid names and names given twice, in line order. */
  warnings: SecretsWarning[];
}

/** Start offset of every line of `text` (lines split at LF). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The 0-based line holding `offset`, by binary search over `starts`. */
function lineAt(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * Parses the text of a secret file with dotenv's `parse` and reports, as
 * warnings at `file:line`:
 * - a line dotenv ignores (not blank, not a `#` comment, not part of an
 *   entry): `line ignored: expected NAME=VALUE`;
 * - an entry whose name is not a valid secret name (dotenv also takes `.`
 *   and `-`, and a leading digit): `"my.key" is not a valid secret name
 *   (letters, digits and _, not starting with a digit): ignored`;
 * - a name given again: `"X" is given again (first on line 2): the last
 *   value is used`.
 *
 * Line endings CRLF and CR count as LF, as dotenv normalizes them. No
 * warning quotes a line's text, which may hold a value. Pure.
 *
 * @param text the file's content, decoded as UTF-8.
 * @param file the path as the user gave it, for the warnings.
 */
export function parseSecretFile(text: string, file: string): SecretFile {
  const parsed = parse(text);
  const normalized = text.replace(/\r\n?/g, '\n');
  const starts = lineStarts(normalized);
  const used = new Uint8Array(starts.length);
  const found: { name: string; line: number }[] = [];
  for (const match of normalized.matchAll(DOTENV_LINE)) {
    const name = match[1] ?? '';
    const nameAt = match.indices?.[1]?.[0] ?? match.index;
    found.push({ name, line: lineAt(starts, nameAt) + 1 });
    const last = lineAt(starts, match.index + Math.max(0, match[0].length - 1));
    for (let line = lineAt(starts, match.index); line <= last; line += 1) used[line] = 1;
  }
  const parsedNames = Object.keys(parsed).sort();
  const scannedNames = [...new Set(found.map((f) => f.name))].sort();
  const agrees =
    parsedNames.length === scannedNames.length &&
    parsedNames.every((name, i) => name === scannedNames[i]);

  const warnings: SecretsWarning[] = [];
  const lines = new Map<string, number>();
  if (agrees) {
    for (let line = 0; line < starts.length; line += 1) {
      if (used[line]) continue;
      const content = normalized.slice(
        starts[line],
        (starts[line + 1] ?? normalized.length + 1) - 1,
      );
      const trimmed = content.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      warnings.push({ file, line: line + 1, message: 'line ignored: expected NAME=VALUE' });
    }
    for (const { name, line } of found) {
      const first = lines.get(name);
      if (first !== undefined && isSecretName(name)) {
        warnings.push({
          file,
          line,
          message: `${JSON.stringify(name)} is given again (first on line ${first}): the last value is used`,
        });
      }
      if (first === undefined) lines.set(name, line);
    }
    // The line of each name's last entry, the one whose value is used.
    for (const { name, line } of found) lines.set(name, line);
  }

  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    if (isSecretName(name)) {
      values.set(name, value);
      continue;
    }
    const line = agrees ? found.find((f) => f.name === name)?.line : undefined;
    warnings.push({
      file,
      ...(line === undefined ? {} : { line }),
      message: `${JSON.stringify(name)} is not a valid secret name (letters, digits and _, not starting with a digit): ignored`,
    });
  }
  for (const name of [...lines.keys()]) if (!values.has(name)) lines.delete(name);
  warnings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { values, lines, warnings };
}
