import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { fileProblem } from '../../../src/secrets/collect.js';
import {
  type CollectSecretsOptions,
  collectSecrets,
  describeSecretSource,
  formatSecretsWarning,
  isSecretName,
  SecretSet,
  SecretsError,
} from '../../../src/secrets/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'agentfile-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `name` in the temp directory; returns its name (relative to the directory). */
function file(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

const collect = (options: Partial<CollectSecretsOptions>) =>
  collectSecrets({ declared: [], pairs: [], files: [], env: {}, cwd: dir, ...options });

/** The SecretsError `collect` throws. */
async function failure(options: Partial<CollectSecretsOptions>): Promise<SecretsError> {
  const error = await collect(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SecretsError)) throw new Error(`expected a SecretsError, got ${error}`);
  return error;
}

describe('collectSecrets: sources and precedence', () => {
  it('--secret over --secret-file (later over earlier) over AGENT_SECRET_NAME', async () => {
    const early = file('early.env', 'A=file-early\nB=file-early\nC=file-early\n');
    const late = file('late.env', 'A=file-late\nB=file-late\n');
    const set = await collect({
      declared: ['A', 'B', 'C', 'D'],
      pairs: ['A=flag'],
      files: [early, late],
      env: {
        AGENT_SECRET_A: 'env',
        AGENT_SECRET_B: 'env',
        AGENT_SECRET_C: 'env',
        AGENT_SECRET_D: 'env',
      },
    });
    expect(set.names().map((n) => [n, set.get(n)])).toEqual([
      ['A', 'flag'],
      ['B', 'file-late'],
      ['C', 'file-early'],
      ['D', 'env'],
    ]);
    expect(set.source('A')).toEqual({ kind: 'flag' });
    expect(set.source('B')).toEqual({ kind: 'file', file: 'late.env', line: 2 });
    expect(set.source('C')).toEqual({ kind: 'file', file: 'early.env', line: 3 });
    expect(set.source('D')).toEqual({ kind: 'env', variable: 'AGENT_SECRET_D' });
    expect(set.warnings).toEqual([]);
  });

  it('a later --secret wins; the value is split at the first = and kept as written', async () => {
    const set = await collect({ pairs: ['A=1', 'A= two=2 ', 'B="quoted"', 'C=line1\nline2'] });
    expect(set.get('A')).toBe(' two=2 ');
    expect(set.get('B')).toBe('"quoted"');
    expect(set.get('C')).toBe('line1\nline2');
  });

  it('takes every AGENT_SECRET_<NAME> with a valid name, by the exact name only', async () => {
    const set = await collect({
      env: {
        AGENT_SECRET_db_password: 'lower',
        AGENT_SECRET_: 'no name',
        'AGENT_SECRET_NOT-A-NAME': 'x',
        AGENT_SECRET_UNDECLARED: 'kept',
        OTHER: 'not a secret',
        AGENT_SECRET_UNSET: undefined,
      },
    });
    expect(set.names()).toEqual(['UNDECLARED', 'db_password']);
    expect(set.has('DB_PASSWORD')).toBe(false);
    const error = await failure({
      declared: ['DB_PASSWORD'],
      env: { AGENT_SECRET_db_password: 'lower' },
    });
    expect(error.message).toBe(
      'missing secret "DB_PASSWORD": give it with --secret DB_PASSWORD=…, --secret-file FILE or AGENT_SECRET_DB_PASSWORD',
    );
  });

  it('keeps values of undeclared names from every source', async () => {
    const extra = file('extra.env', 'FROM_FILE=f\n');
    const set = await collect({
      declared: ['A'],
      pairs: ['A=1', 'FROM_FLAG=x'],
      files: [extra],
      env: { AGENT_SECRET_FROM_ENV: 'e' },
    });
    expect(set.names()).toEqual(['A', 'FROM_ENV', 'FROM_FILE', 'FROM_FLAG']);
  });

  it('resolves secret files against cwd, and reports them as given', async () => {
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    file('sub/nested.env', 'N=1\noops\n');
    const set = await collect({ files: ['sub/nested.env'] });
    expect(set.get('N')).toBe('1');
    expect(set.warnings.map(formatSecretsWarning)).toEqual([
      'sub/nested.env:2: line ignored: expected NAME=VALUE',
    ]);
  });

  it('counts an empty value as given, winning by precedence, with a warning when declared', async () => {
    const full = file('full.env', 'TOKEN=from-file\n');
    const set = await collect({ declared: ['TOKEN'], pairs: ['TOKEN='], files: [full] });
    expect(set.get('TOKEN')).toBe('');
    expect(set.warnings.map(formatSecretsWarning)).toEqual([
      'secret "TOKEN" is empty (given by --secret)',
    ]);
    const fromEnv = await collect({ declared: ['CI_TOKEN'], env: { AGENT_SECRET_CI_TOKEN: '' } });
    expect(fromEnv.warnings.map(formatSecretsWarning)).toEqual([
      'secret "CI_TOKEN" is empty (given by AGENT_SECRET_CI_TOKEN)',
    ]);
    expect(fromEnv.masker().longest).toBe(0);
  });
});

describe('collectSecrets: problems', () => {
  it('a --secret without =', async () => {
    const error = await failure({ pairs: ['API_KEY'] });
    expect(error.message).toBe('--secret "API_KEY" has no value');
    expect(error.hint).toBe('--secret API_KEY=VALUE');
    expect(error.problems).toEqual([
      { message: '--secret "API_KEY" has no value', hint: '--secret API_KEY=VALUE' },
    ]);
  });

  it('a --secret without = that is not a name is not quoted: it may be the value', async () => {
    const error = await failure({ pairs: ['hunter2!'] });
    expect(error.message).toBe('--secret needs NAME=VALUE');
    expect(error.hint).toBe('--secret NAME=VALUE');
  });

  it('a --secret with an empty or invalid name, without its value', async () => {
    const empty = await failure({ pairs: ['=s3cret'] });
    expect(empty.message).toBe('--secret "=…" has an empty name');
    expect(empty.hint).toBe('--secret NAME=VALUE');
    const invalid = await failure({ pairs: ['1KEY=s3cret'] });
    expect(invalid.message).toBe('--secret "1KEY=…": "1KEY" is not a valid secret name');
    expect(invalid.hint).toBe('a secret name is letters, digits and _, not starting with a digit');
    expect(`${empty.message}${invalid.message}`).not.toContain('s3cret');
  });

  it('a secret file that does not exist or is a directory', async () => {
    const missing = await failure({ files: ['nope.env'] });
    expect(missing.message).toBe('secret file "nope.env" does not exist');
    expect(missing.hint).toBeUndefined();
    mkdirSync(path.join(dir, 'a-dir'), { recursive: true });
    const directory = await failure({ files: ['a-dir'] });
    expect(directory.message).toBe('secret file "a-dir" is a directory');
  });

  it('a secret file that cannot be read for another reason: the error code, not the absolute path', async () => {
    const long = `${'n'.repeat(300)}.env`;
    const error = await failure({ files: [long] });
    expect(error.message).toBe(`secret file "${long}" cannot be read: ENAMETOOLONG`);
    expect(error.message).not.toContain(dir);
  });

  it('a secret file that cannot be read: permission denied', async () => {
    // Root reads any file, so the EACCES that readFile gives other users is
    // built here, with the shape Node gives it.
    const denied = Object.assign(new Error("EACCES: permission denied, open '/x/locked.env'"), {
      code: 'EACCES',
    });
    expect(fileProblem('locked.env', denied).message).toBe(
      'secret file "locked.env" cannot be read: permission denied',
    );
  });

  it('every declared secret without a value, in declared order, each once', async () => {
    const error = await failure({
      declared: ['DB_PASSWORD', 'GIVEN', 'API_TOKEN', 'DB_PASSWORD'],
      pairs: ['GIVEN=1'],
    });
    expect(error.problems.map((p) => p.message)).toEqual([
      'missing secret "DB_PASSWORD": give it with --secret DB_PASSWORD=…, --secret-file FILE or AGENT_SECRET_DB_PASSWORD',
      'missing secret "API_TOKEN": give it with --secret API_TOKEN=…, --secret-file FILE or AGENT_SECRET_API_TOKEN',
    ]);
    expect(error.message).toBe(
      'missing secret "DB_PASSWORD": give it with --secret DB_PASSWORD=…, --secret-file FILE or AGENT_SECRET_DB_PASSWORD; ' +
        'missing secret "API_TOKEN": give it with --secret API_TOKEN=…, --secret-file FILE or AGENT_SECRET_API_TOKEN',
    );
    expect(error.hint).toBeUndefined();
  });

  it('all problems at once: --secret arguments, then files, then missing secrets', async () => {
    const error = await failure({
      declared: ['API_KEY', 'OTHER'],
      pairs: ['API_KEY', '=x', 'B=ok'],
      files: ['gone.env'],
    });
    expect(error.name).toBe('SecretsError');
    expect(error.problems.map((p) => p.message)).toEqual([
      '--secret "API_KEY" has no value',
      '--secret "=…" has an empty name',
      'secret file "gone.env" does not exist',
    ]);
    expect(error.message).toBe(
      '--secret "API_KEY" has no value; --secret "=…" has an empty name; secret file "gone.env" does not exist',
    );
    expect(error.hint).toBe('--secret API_KEY=VALUE; --secret NAME=VALUE');
    expect(error.message).not.toContain('\n');
  });

  it('does not report a missing secret that a --secret without = named, nor any when a file was unreadable', async () => {
    const named = await failure({ declared: ['API_KEY', 'OTHER'], pairs: ['API_KEY'] });
    expect(named.problems.map((p) => p.message)).toEqual([
      '--secret "API_KEY" has no value',
      'missing secret "OTHER": give it with --secret OTHER=…, --secret-file FILE or AGENT_SECRET_OTHER',
    ]);
    const unreadable = await failure({ declared: ['OTHER'], files: ['gone.env'] });
    expect(unreadable.problems.map((p) => p.message)).toEqual([
      'secret file "gone.env" does not exist',
    ]);
  });

  it('reports problems of several files in command-line order', async () => {
    const error = await failure({ files: ['z-missing.env', 'a-dir', 'a-missing.env'] });
    expect(error.problems.map((p) => p.message)).toEqual([
      'secret file "z-missing.env" does not exist',
      'secret file "a-dir" is a directory',
      'secret file "a-missing.env" does not exist',
    ]);
  });
});

describe('SecretSet', () => {
  const set = new SecretSet([
    { name: 'B', value: 'bee-value', source: { kind: 'flag' } },
    { name: 'A', value: 'ay-value', source: { kind: 'file', file: 's.env', line: 3 } },
  ]);

  it('gets, has and lists names, sorted', () => {
    expect(set.get('A')).toBe('ay-value');
    expect(set.get('C')).toBeUndefined();
    expect(set.has('B')).toBe(true);
    expect(set.has('C')).toBe(false);
    expect(set.names()).toEqual(['A', 'B']);
    expect(SecretSet.empty.names()).toEqual([]);
  });

  it('masks every value by default, or the values of the names given', () => {
    const all = set.masker();
    expect(all).toBe(set.masker());
    expect(all.redact('ay-value bee-value')).toBe('*** ***');
    expect(set.masker(['A', 'UNKNOWN']).redact('ay-value bee-value')).toBe('*** bee-value');
    expect(SecretSet.empty.masker().longest).toBe(0);
  });

  it('never shows a value when serialized or inspected', () => {
    expect(JSON.stringify(set)).toBe('{"names":["A","B"]}');
    expect(inspect(set)).toBe('SecretSet [A, B]');
    expect(inspect({ secrets: set }, { depth: 5 })).not.toContain('value');
  });

  it('describes sources', () => {
    expect(describeSecretSource({ kind: 'flag' })).toBe('--secret');
    expect(describeSecretSource({ kind: 'file', file: 's.env', line: 3 })).toBe('s.env:3');
    expect(describeSecretSource({ kind: 'file', file: 's.env' })).toBe('s.env');
    expect(describeSecretSource({ kind: 'env', variable: 'AGENT_SECRET_X' })).toBe(
      'AGENT_SECRET_X',
    );
  });
});

describe('isSecretName', () => {
  it('follows the environment variable name rules', () => {
    for (const ok of ['A', '_', 'db_password', 'X1', '_9']) expect(isSecretName(ok)).toBe(true);
    for (const bad of ['', '1A', 'A-B', 'a.b', 'A B', 'É', 'A=']) {
      expect(isSecretName(bad)).toBe(false);
    }
  });
});
