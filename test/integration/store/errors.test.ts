import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toStoreError } from '../../../src/store/errors.js';
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
});
