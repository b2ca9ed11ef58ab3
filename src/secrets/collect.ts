/**
 * Collecting the values of a run's secrets from the command line, secret
 * files and the runner's environment into a {@link SecretSet}.
 *
 * Sources, highest precedence first (a name given by several takes the
 * value of the first):
 * 1. `--secret NAME=VALUE` (repeatable; a later one for the same name wins).
 *    Split at the first `=`, so the value may hold `=`; the value is taken
 *    as written (no quotes removed, no trimming).
 * 2. `--secret-file FILE` (repeatable; dotenv format, see `dotenv-file.ts`;
 *    a later file wins over an earlier one, and within a file the last entry
 *    of a name). Relative paths are resolved against `cwd`.
 * 3. `AGENT_SECRET_<NAME>` in the runner's environment. Every such variable
 *    whose `<NAME>` is a valid secret name is taken, declared or not. The
 *    name is used exactly as written, upper-case is not tried as well:
 *    environment variable names are case-sensitive, and `db_password` and
 *    `DB_PASSWORD` are two names; the error for a missing secret names the
 *    exact variable to set.
 *
 * An empty value is a value: it counts as given and wins by precedence (a
 * declared secret that ends up empty gets a warning, since CI systems pass
 * an unset secret as an empty string); it is never masked, there being
 * nothing to mask. Values for names the workflow does not declare are kept:
 * an Agent's `from: secret` may read them, and the caller decides.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseSecretFile } from './dotenv-file.js';
import {
  isSecretName,
  SECRET_ENV_PREFIX,
  SecretsError,
  type SecretsProblem,
  type SecretsWarning,
} from './errors.js';
import { SecretMasker } from './masker.js';

/** Where a secret's value came from. */
export type SecretSource =
  | { kind: 'flag' }
  | { kind: 'file'; file: string; line?: number }
  | { kind: 'env'; variable: string };

/** `--secret`, `secrets.env:3` (or `secrets.env` when the line is unknown), `AGENT_SECRET_X`. */
export function describeSecretSource(source: SecretSource): string {
  switch (source.kind) {
    case 'flag':
      return '--secret';
    case 'file':
      return source.line === undefined ? source.file : `${source.file}:${source.line}`;
    case 'env':
      return source.variable;
  }
}

/** One secret of a {@link SecretSet}. */
export interface SecretEntry {
  name: string;
  value: string;
  source: SecretSource;
}

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * The secrets of a run: names to values, where each came from, and the
 * warnings found while collecting them. Immutable. The values are kept in
 * a private field: `JSON.stringify` and `util.inspect` of a set show the
 * names only, never a value.
 */
export class SecretSet {
  /** No secrets. */
  static readonly empty: SecretSet = new SecretSet([]);

  /** Warnings found while collecting (ignored lines of secret files, empty declared secrets). */
  readonly warnings: readonly SecretsWarning[];
  readonly #entries: Map<string, SecretEntry>;
  #masker: SecretMasker | undefined;

  /** @param entries one per name (a later entry for a name replaces an earlier one). */
  constructor(entries: Iterable<SecretEntry>, warnings: readonly SecretsWarning[] = []) {
    this.#entries = new Map([...entries].map((e) => [e.name, { ...e }]));
    this.warnings = warnings;
  }

  /** The value of `name`, or undefined when it has none. */
  get(name: string): string | undefined {
    return this.#entries.get(name)?.value;
  }

  /** True when `name` has a value (possibly empty). */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Every name with a value, sorted (code-unit order). */
  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** Where the value of `name` came from, or undefined when it has none. */
  source(name: string): SecretSource | undefined {
    const source = this.#entries.get(name)?.source;
    return source === undefined ? undefined : { ...source };
  }

  /**
   * A masker for the values of `names` (default: every value in the set,
   * declared or not). Names without a value are skipped. The masker of the
   * whole set is built once and shared.
   */
  masker(names?: Iterable<string>): SecretMasker {
    if (names === undefined) {
      this.#masker ??= new SecretMasker([...this.#entries.values()].map((e) => e.value));
      return this.#masker;
    }
    const values: string[] = [];
    for (const name of names) {
      const value = this.get(name);
      if (value !== undefined) values.push(value);
    }
    return new SecretMasker(values);
  }

  /** The names only: a set serialized by mistake shows no value. */
  toJSON(): { names: string[] } {
    return { names: this.names() };
  }

  /** `SecretSet [A, B]` for `util.inspect` / `console.log`. */
  [inspectSymbol](): string {
    return `SecretSet [${this.names().join(', ')}]`;
  }
}

/** Options of {@link collectSecrets}. */
export interface CollectSecretsOptions {
  /** The names the workflow declares (`spec.secrets`); each must get a value. Duplicates are ignored. */
  declared: readonly string[];
  /** The `--secret` arguments (`NAME=VALUE`), in command-line order. */
  pairs: readonly string[];
  /** The `--secret-file` arguments, in command-line order, as given (relative to `cwd`). */
  files: readonly string[];
  /** The runner's environment, read for `AGENT_SECRET_<NAME>`. */
  env: NodeJS.ProcessEnv;
  /** Directory relative file paths are resolved against. */
  cwd: string;
}

/** A `--secret` argument split into name and value, or the problem with it. */
function parsePair(
  pair: string,
): { name: string; value: string } | { problem: SecretsProblem; name?: string } {
  const eq = pair.indexOf('=');
  if (eq === -1) {
    // Without `=` the argument may be a value given by mistake: quote it only when it is a name.
    if (isSecretName(pair)) {
      return {
        name: pair,
        problem: { message: `--secret "${pair}" has no value`, hint: `--secret ${pair}=VALUE` },
      };
    }
    return { problem: { message: '--secret needs NAME=VALUE', hint: '--secret NAME=VALUE' } };
  }
  const name = pair.slice(0, eq);
  if (name === '') {
    return { problem: { message: '--secret "=…" has an empty name', hint: '--secret NAME=VALUE' } };
  }
  if (!isSecretName(name)) {
    return {
      problem: {
        message: `--secret ${JSON.stringify(`${name}=…`)}: ${JSON.stringify(name)} is not a valid secret name`,
        hint: 'a secret name is letters, digits and _, not starting with a digit',
      },
    };
  }
  return { name, value: pair.slice(eq + 1) };
}

/** The problem of a secret file that could not be read (`error`: what `readFile` threw). */
export function fileProblem(file: string, error: unknown): SecretsProblem {
  const quoted = JSON.stringify(file);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return { message: `secret file ${quoted} does not exist` };
  if (code === 'EISDIR') return { message: `secret file ${quoted} is a directory` };
  if (code === 'EACCES' || code === 'EPERM') {
    return { message: `secret file ${quoted} cannot be read: permission denied` };
  }
  // The error's own message would repeat the absolute path; its code says enough.
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return { message: `secret file ${quoted} cannot be read: ${reason}` };
}

/** The problem of a declared secret without a value. */
function missing(name: string): SecretsProblem {
  return {
    message: `missing secret "${name}": give it with --secret ${name}=…, --secret-file FILE or ${SECRET_ENV_PREFIX}${name}`,
  };
}

/**
 * Collects the secrets of a run (precedence and rules in the module docs).
 * Reads the secret files (UTF-8); nothing else is touched.
 *
 * Problems are reported together, as one {@link SecretsError}:
 * - a `--secret` without `=` (`--secret "API_KEY" has no value`, hint
 *   `--secret API_KEY=VALUE`; an argument that is not a name is not quoted,
 *   as it may be a value: `--secret needs NAME=VALUE`), with an empty name
 *   (`--secret "=…" has an empty name`), or with an invalid name;
 * - a secret file that does not exist, is a directory, or cannot be read;
 * - every declared secret without a value (`missing secret "DB_PASSWORD":
 *   give it with --secret DB_PASSWORD=…, --secret-file FILE or
 *   AGENT_SECRET_DB_PASSWORD`); not checked when a secret file could not be
 *   read (it may hold them), nor for a name given by a `--secret` without
 *   `=` (already reported).
 *
 * @returns the set, with the warnings of the secret files (lines dotenv
 *   ignores, invalid names, names given twice) and a warning for each
 *   declared secret that is empty.
 * @throws SecretsError with every problem found.
 */
export async function collectSecrets(options: CollectSecretsOptions): Promise<SecretSet> {
  const problems: SecretsProblem[] = [];
  const warnings: SecretsWarning[] = [];
  const entries = new Map<string, SecretEntry>();
  const put = (name: string, value: string, source: SecretSource) =>
    entries.set(name, { name, value, source });

  for (const [variable, value] of Object.entries(options.env)) {
    if (value === undefined || !variable.startsWith(SECRET_ENV_PREFIX)) continue;
    const name = variable.slice(SECRET_ENV_PREFIX.length);
    if (isSecretName(name)) put(name, value, { kind: 'env', variable });
  }

  const valueless = new Set<string>();
  const pairs: { name: string; value: string }[] = [];
  for (const pair of options.pairs) {
    const parsed = parsePair(pair);
    if ('problem' in parsed) {
      problems.push(parsed.problem);
      if (parsed.name !== undefined) valueless.add(parsed.name);
    } else pairs.push(parsed);
  }

  const reads = await Promise.all(
    options.files.map((file) =>
      readFile(resolve(options.cwd, file), 'utf8').then(
        (text) => ({ text }),
        (error: unknown) => ({ problem: fileProblem(file, error) }),
      ),
    ),
  );
  let unreadable = false;
  options.files.forEach((file, i) => {
    const read = reads[i];
    if (read === undefined) return;
    if ('problem' in read) {
      problems.push(read.problem);
      unreadable = true;
      return;
    }
    const parsed = parseSecretFile(read.text, file);
    warnings.push(...parsed.warnings);
    for (const [name, value] of parsed.values) {
      const line = parsed.lines.get(name);
      put(name, value, { kind: 'file', file, ...(line === undefined ? {} : { line }) });
    }
  });

  for (const { name, value } of pairs) put(name, value, { kind: 'flag' });

  if (!unreadable) {
    for (const name of new Set(options.declared)) {
      if (valueless.has(name)) continue;
      const entry = entries.get(name);
      if (entry === undefined) problems.push(missing(name));
      else if (entry.value === '') {
        warnings.push({
          message: `secret "${name}" is empty (given by ${describeSecretSource(entry.source)})`,
        });
      }
    }
  }

  if (problems.length > 0) throw new SecretsError(problems);
  return new SecretSet(entries.values(), warnings);
}
