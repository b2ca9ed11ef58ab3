import { mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stateDirError, toStoreError } from '../../../src/store/errors.js';
import { Store } from '../../../src/store/store.js';
import { StoreError } from '../../../src/store/types.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'agentfile-store-errors-'));
  file = path.join(dir, 'state.db');
  Store.open({ path: file }).close();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn` against a raw connection to the store file and returns the error SQLite raised. */
function sqliteError(
  options: { readonly?: boolean },
  fn: (db: Database.Database) => void,
): unknown {
  const db = new Database(file, { readonly: options.readonly ?? false });
  try {
    fn(db);
  } catch (err) {
    return err;
  } finally {
    db.close();
  }
  throw new Error('expected SQLite to raise an error');
}

describe('toStoreError', () => {
  it('maps a full disk (SQLITE_FULL) to a one-line StoreError with a hint', () => {
    const err = sqliteError({}, (db) => {
      const pages = Number(db.pragma('page_count', { simple: true }));
      db.pragma(`max_page_count = ${pages}`);
      const insert = db.prepare(
        "INSERT INTO events (run_id, at, type, data) VALUES ('r', 0, 't', ?)",
      );
      db.pragma('foreign_keys = OFF');
      for (let i = 0; i < 1000; i++) insert.run('x'.repeat(4000));
    });
    expect((err as { code?: string }).code).toBe('SQLITE_FULL');
    const mapped = toStoreError(err, file);
    expect(mapped).toBeInstanceOf(StoreError);
    expect((mapped as StoreError).message).toBe(`the disk holding the state store ${file} is full`);
    expect((mapped as StoreError).hint).toBe('free some space and try again');
  });

  it('maps a read-only file (SQLITE_READONLY) to a StoreError', () => {
    const err = sqliteError({ readonly: true }, (db) => {
      db.prepare("INSERT INTO leases VALUES ('k', 'r', 1, 'h', 0, 0, 0)").run();
    });
    expect((err as { code?: string }).code).toMatch(/^SQLITE_READONLY/);
    const mapped = toStoreError(err, file);
    expect(mapped).toBeInstanceOf(StoreError);
    expect((mapped as StoreError).message).toBe(`the state store ${file} is read-only`);
  });

  it('passes errors that are not SQLite or file system errors through unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(toStoreError(bug, file)).toBe(bug);
    const storeError = new StoreError('already mapped');
    expect(toStoreError(storeError, file)).toBe(storeError);
  });

  it('maps real file system errors: a file in the way names that file', () => {
    const blocker = path.join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    const target = path.join(blocker, 'deep', 'state.db');
    let err: unknown;
    try {
      openSync(target, 'w');
    } catch (e) {
      err = e;
    }
    expect((err as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    const mapped = toStoreError(err, target) as StoreError;
    expect(mapped).toBeInstanceOf(StoreError);
    expect(mapped.message).toBe(
      `cannot create the state store at ${target}: ${blocker} is in the way (not a directory)`,
    );
  });
});

describe('stateDirError', () => {
  it('maps a symbolic link loop (ELOOP) to one line naming where', () => {
    const a = path.join(dir, 'loop-a');
    const b = path.join(dir, 'loop-b');
    symlinkSync(b, a);
    symlinkSync(a, b);
    let err: unknown;
    try {
      openSync(path.join(a, 'state.db'), 'w');
    } catch (e) {
      err = e;
    }
    expect((err as NodeJS.ErrnoException).code).toBe('ELOOP');
    const mapped = stateDirError(err, { file: path.join(a, 'state.db'), dir: a });
    expect(mapped.message).toBe(
      `cannot create the state store at ${path.join(a, 'state.db')}: too many levels of symbolic links on the way to ${a}`,
    );
  });

  it('keeps the first line of an error it has no words for', () => {
    const mapped = stateDirError(new Error('something odd\nsecond line'), {
      file: '/x/state.db',
      dir: '/x',
    });
    expect(mapped.message).toBe('cannot create the state store at /x/state.db: something odd');
    expect(mapped.hint).toBe('point --state or AGENTFILE_STATE elsewhere');
  });
});
