/**
 * Maps better-sqlite3 and file system errors to {@link StoreError}s with a
 * one-line message and a hint. Anything else (our own typed errors, bugs)
 * passes through unchanged.
 */

import { statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './types.js';

/** The base SQLite result code of an error (`SQLITE_BUSY_SNAPSHOT` → `SQLITE_BUSY`). */
function baseCode(code: string): string {
  const parts = code.split('_');
  return parts.slice(0, 2).join('_');
}

/**
 * Turns `err` into a {@link StoreError} when it is a SQLite or file system
 * error; returns it unchanged otherwise. `statePath` names the file in messages.
 */
export function toStoreError(err: unknown, statePath: string): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof Database.SqliteError) return fromSqlite(err, statePath);
  if (isErrnoError(err)) return fromErrno(err, statePath);
  return err;
}

function fromSqlite(err: InstanceType<typeof Database.SqliteError>, file: string): StoreError {
  const hintOther = 'point --state or AGENTFILE_STATE at another file';
  switch (baseCode(err.code)) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new StoreError(
        'the state store is locked by another process',
        `another process kept ${file} locked for longer than the busy timeout; wait for it and try again`,
      );
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new StoreError(
        `${file} is not an agentfile state store (not a SQLite database, or corrupt)`,
        `move the file away, or ${hintOther}`,
      );
    case 'SQLITE_FULL':
      return new StoreError(
        `the disk holding the state store ${file} is full`,
        'free some space and try again',
      );
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
      return new StoreError(
        `the state store ${file} is read-only`,
        `make the file and its directory writable, or ${hintOther}`,
      );
    case 'SQLITE_CANTOPEN':
      return new StoreError(
        `cannot open the state store ${file}`,
        `check that the path is a writable file (not a directory), or ${hintOther}`,
      );
    case 'SQLITE_IOERR':
      return new StoreError(
        `I/O error on the state store ${file} (${err.code})`,
        'check the disk and file system',
      );
    default:
      return new StoreError(
        `state store error on ${file}: ${firstLine(err.message)} (${err.code})`,
      );
  }
}

function fromErrno(err: NodeJS.ErrnoException, file: string): StoreError {
  const where = err.path ?? file;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return new StoreError(
        `cannot create the state store at ${file}: permission denied on ${where}`,
        'make the directory writable, or point --state or AGENTFILE_STATE elsewhere',
      );
    case 'EROFS':
      return new StoreError(
        `cannot create the state store at ${file}: ${where} is on a read-only file system`,
        'point --state or AGENTFILE_STATE at a writable location',
      );
    case 'ENOTDIR':
    case 'EEXIST':
      return new StoreError(
        `cannot create the state store at ${file}: ${blockingFile(where)} is in the way (not a directory)`,
        'move the file away, or point --state or AGENTFILE_STATE elsewhere',
      );
    case 'ENOSPC':
      return new StoreError(
        `cannot create the state store at ${file}: the disk is full`,
        'free some space and try again',
      );
    default:
      return new StoreError(
        `cannot create the state store at ${file}: ${firstLine(err.message)}`,
        'point --state or AGENTFILE_STATE elsewhere',
      );
  }
}

/** The nearest existing ancestor of `dir` (or `dir` itself) that is not a directory; `dir` when none is found. */
function blockingFile(dir: string): string {
  for (let p = dir; ; p = path.dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) return p;
    } catch {
      // does not exist (or cannot be read): look further up
    }
    if (path.dirname(p) === p) return dir;
  }
}

function isErrnoError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    'errno' in err
  );
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
