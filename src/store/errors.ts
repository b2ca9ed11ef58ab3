/**
 * Maps better-sqlite3 and file system errors to {@link StoreError}s with a
 * one-line message and a hint. Anything else (our own typed errors, bugs)
 * passes through unchanged.
 */

import { statfsSync, statSync } from 'node:fs';
import path from 'node:path';
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
  if (isSqliteError(err)) return fromSqlite(err, statePath);
  if (isErrnoError(err)) return fromErrno(err, statePath);
  return err;
}

function fromSqlite(err: SqliteErrorLike, file: string): StoreError {
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
  return stateDirError(err, { file, dir: err.path ?? file });
}

/** What the hints suggest when the location itself is the problem. */
const ELSEWHERE = 'point --state or AGENTFILE_STATE elsewhere';

/**
 * The {@link StoreError} for a file system error met while making the state
 * file's directory (`prepareStateDir` in `paths.ts`) or opening the file:
 * `err` came from stat, mkdir or access of `dir` or of an entry in it, on the
 * way to the state file `file`. Messages are one line,
 * `cannot create the state store at <file>: <reason>`:
 *
 * - EACCES, EPERM: `permission denied on <dir>`;
 * - EROFS: `<dir> is on a read-only file system`;
 * - ENOTDIR, EEXIST: `<first non-directory at or above dir> is in the way (not a directory)`;
 * - ENOENT, EACCES, EPERM, EROFS in a Linux pseudo file system (proc, sysfs,
 *   cgroup, ..., from statfs(2)): `<dir> is on the <name> pseudo file system,
 *   where directories cannot be created`;
 * - ENOSPC, EDQUOT: the disk (or its inodes) full, the quota exceeded;
 * - ENAMETOOLONG: `the path is too long ...`; ELOOP: too many symbolic links;
 * - anything else: the error's first line.
 *
 * `err` that is not an errno error gives the last form too.
 */
export function stateDirError(err: unknown, options: { file: string; dir: string }): StoreError {
  const { file, dir } = options;
  const prefix = `cannot create the state store at ${file}`;
  const code = isErrnoError(err) ? err.code : undefined;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    const pseudo = pseudoFileSystemOf(dir);
    if (pseudo !== undefined) {
      return new StoreError(
        `${prefix}: ${pseudo.dir} is on the ${pseudo.name} pseudo file system, where directories cannot be created`,
        'point --state or AGENTFILE_STATE at a file on a disk (e.g. under your home directory)',
      );
    }
  }
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new StoreError(
        `${prefix}: permission denied on ${dir}`,
        `make the directory writable, or ${ELSEWHERE}`,
      );
    case 'EROFS':
      return new StoreError(
        `${prefix}: ${dir} is on a read-only file system`,
        'point --state or AGENTFILE_STATE at a writable location',
      );
    case 'ENOTDIR':
    case 'EEXIST':
      return notADirectoryError(file, blockingFile(dir));
    case 'ENOSPC':
      return new StoreError(
        `${prefix}: no space left on the device holding ${dir} (disk or inodes full)`,
        'free some space and try again',
      );
    case 'EDQUOT':
      return new StoreError(
        `${prefix}: disk quota exceeded on ${dir}`,
        `free some space within your quota, or ${ELSEWHERE}`,
      );
    case 'ENAMETOOLONG':
      return new StoreError(
        `${prefix}: the path is too long (a name over the file system's limit, usually 255 bytes, or the whole path over the system's limit)`,
        'point --state or AGENTFILE_STATE at a shorter path',
      );
    case 'ELOOP':
      return new StoreError(
        `${prefix}: too many levels of symbolic links on the way to ${dir}`,
        `fix the symbolic links, or ${ELSEWHERE}`,
      );
    default:
      return new StoreError(
        `${prefix}: ${firstLine(err instanceof Error ? err.message : String(err))}`,
        ELSEWHERE,
      );
  }
}

/**
 * The {@link StoreError} for a state file whose directory cannot be made
 * because `blocker`, an existing file that is not a directory, is on its path:
 * `cannot create the state store at <file>: <blocker> is in the way (not a directory)`.
 */
export function notADirectoryError(file: string, blocker: string): StoreError {
  return new StoreError(
    `cannot create the state store at ${file}: ${blocker} is in the way (not a directory)`,
    `move the file away, or ${ELSEWHERE}`,
  );
}

/**
 * Linux pseudo file systems in which no directory can be made, by statfs(2)
 * `f_type` (the magic numbers of `include/uapi/linux/magic.h`). mkdir in
 * them fails with ENOENT (proc) or EPERM (sysfs), whoever asks.
 */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
]);

/** The pseudo file system holding the nearest existing ancestor of `dir` (or `dir`), if any; Linux only. */
function pseudoFileSystemOf(dir: string): { dir: string; name: string } | undefined {
  if (process.platform !== 'linux') return undefined;
  for (let p = dir; ; p = path.dirname(p)) {
    try {
      const name = PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(p).type));
      return name === undefined ? undefined : { dir: p, name };
    } catch {
      // does not exist (or cannot be read): look further up
    }
    if (path.dirname(p) === p) return undefined;
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

/** The shape of better-sqlite3's `SqliteError`: its name and a `SQLITE_*` result code. */
interface SqliteErrorLike extends Error {
  code: string;
}

/**
 * True for better-sqlite3's `SqliteError`, told by its name and code rather
 * than `instanceof`, so this module (which `paths.ts` uses) does not load the
 * native SQLite binding: `agent lint` and `agent plan` never need it.
 */
function isSqliteError(err: unknown): err is SqliteErrorLike {
  return (
    err instanceof Error &&
    err.name === 'SqliteError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as SqliteErrorLike).code.startsWith('SQLITE_')
  );
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
