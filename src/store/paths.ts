/**
 * Where the state store and the log files live, and how runs are named.
 * Pure functions over paths and the clock, except {@link prepareStateDir},
 * which makes the state file's directory.
 */

import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { notADirectoryError, stateDirError } from './errors.js';

/** Name of the per-project state directory, beside the workflow file. */
export const STATE_DIR_NAME = '.agentfile';

/** Environment variable that overrides the state file's location. */
export const STATE_ENV_VAR = 'AGENTFILE_STATE';

/**
 * The default state file of a workflow file: `<dir of the file>/.agentfile/state.db`.
 * One file per project directory holds every run of every workflow in it.
 * `workflowFile` is resolved against the current directory when relative.
 */
export function defaultStatePath(workflowFile: string): string {
  return path.join(path.dirname(path.resolve(workflowFile)), STATE_DIR_NAME, 'state.db');
}

/**
 * The state file to use, absolute: the `--state` flag when given, else the
 * `AGENTFILE_STATE` environment variable when set and non-empty, else
 * {@link defaultStatePath}. Relative paths (the flag, the variable, the
 * workflow file) are resolved against `cwd` (default `process.cwd()`).
 * `env` defaults to `process.env`.
 */
export function resolveStatePath(options: {
  workflowFile: string;
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): string {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.flag !== undefined && options.flag !== '') return path.resolve(cwd, options.flag);
  const fromEnv = env[STATE_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(cwd, fromEnv);
  return defaultStatePath(path.resolve(cwd, options.workflowFile));
}

/**
 * Makes the directory of the state file `file` (resolved against the current
 * directory when relative), and checks that new files can be made in it (the
 * database and its `-wal` and `-shm` files). Walks up from that directory to
 * its deepest existing ancestor, checks it is a directory, then makes each
 * missing directory below it with one `mkdir` each, so it ends after at most
 * one stat and one mkdir per path component. (`mkdirSync` with `recursive`
 * is not used: it loops forever at 100% CPU, synchronously, where mkdir
 * answers ENOENT for a directory whose parent exists, e.g. `/proc/nope`
 * (seen on Node 20), and it reports other failures such as a read-only file
 * system or a full disk as ENOENT, nodejs/node#42808.) Directories made
 * concurrently by another process are accepted.
 *
 * @throws StoreError with a one-line message and a hint (see
 *   {@link stateDirError}): `cannot create the state store at <file>: <reason>`,
 *   the reason being a file in the way (not a directory), permission denied,
 *   a read-only file system, a pseudo file system such as proc, a full disk,
 *   a name too long, and so on.
 */
export function prepareStateDir(file: string): void {
  const statePath = path.resolve(file);
  const dir = path.dirname(statePath);
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    const stats = statIfExists(existing, statePath);
    if (stats !== undefined) {
      if (!stats.isDirectory()) throw notADirectoryError(statePath, existing);
      break;
    }
    const parent = path.dirname(existing);
    // Only reached when even the root is missing: stat(2) then fails with more than ENOENT.
    if (parent === existing)
      throw stateDirError(new Error(`${existing} does not exist`), {
        file: statePath,
        dir: existing,
      });
    missing.push(existing);
    existing = parent;
  }
  for (const component of missing.reverse()) {
    try {
      mkdirSync(component);
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'EEXIST' &&
        statIfExists(component, statePath)?.isDirectory()
      ) {
        continue;
      }
      throw stateDirError(err, { file: statePath, dir: path.dirname(component) });
    }
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw stateDirError(err, { file: statePath, dir });
  }
}

/**
 * `stat` of `p`, or undefined when it does not exist (ENOENT) or a file on
 * its way is not a directory (ENOTDIR: the walk up finds that file).
 *
 * @throws StoreError for any other error (EACCES on a parent, ENAMETOOLONG, ELOOP).
 */
function statIfExists(p: string, statePath: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw stateDirError(err, { file: statePath, dir: p });
  }
}

/**
 * Longest name, in bytes, most file systems allow for one path component
 * (`NAME_MAX` of ext4, xfs, btrfs, tmpfs; 255 UTF-16 units on APFS and NTFS).
 */
export const MAX_FILE_NAME_BYTES = 255;

/** Step ids used verbatim in log file names: lower-case ASCII, digits, `_`, `.`, `-`, not starting with `.`. */
const VERBATIM_STEP_ID = /^[a-z0-9_-][a-z0-9_.-]*$/;
/** Longest step id used verbatim, and longest readable prefix of a hashed one, in bytes (ASCII). */
const MAX_STEP_PART = 100;
/** Hex digits of the sha256 of the step id in a hashed name (64 bits). */
const HASH_HEX_DIGITS = 16;

/**
 * The step part of a log file name. A step id matching
 * {@link VERBATIM_STEP_ID} of at most {@link MAX_STEP_PART} bytes is used as
 * is (`build`). Any other id (too long, upper case, `/`, `..`, spaces,
 * non-ASCII) becomes a readable prefix (up to 100 bytes: runs of other
 * characters replaced by `_`, leading dots dropped; `step` when nothing is
 * left) + `~` + the first 16 hex digits of the sha256 of the full id
 * (`Deploy_Prod~3f2a…`). `~` never occurs in a verbatim id, so a verbatim and
 * a hashed name never collide; two hashed ones only on a 64-bit hash
 * collision. Upper case is hashed because `Build` and `build` would be one
 * file on a case-insensitive file system (macOS, Windows).
 */
function stepFilePart(stepId: string): string {
  if (stepId.length <= MAX_STEP_PART && VERBATIM_STEP_ID.test(stepId)) return stepId;
  const hash = createHash('sha256').update(stepId, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
  const prefix =
    stepId
      .replace(/[^A-Za-z0-9_.-]+/g, '_')
      .replace(/^\.+/, '')
      .slice(0, MAX_STEP_PART) || 'step';
  return `${prefix}~${hash}`;
}

/**
 * The log file of one attempt: `<dir of the state file>/runs/<runId>/<step>.<attempt>.log`,
 * where `<step>` is the step id itself when it is a short, lower-case,
 * file-name-safe id (`build.2.log`), else a readable prefix of it plus a hash
 * of the whole id (see {@link stepFilePart}), so the name is at most 100 + 1 +
 * 16 + 1 + 16 (digits of the largest safe integer) + 4 = 138 bytes, far below
 * {@link MAX_FILE_NAME_BYTES}, whatever the step id. Distinct step ids get
 * distinct names; the same id always the same name. Services use their name
 * as `stepId` and count their starts within the run as attempts. `attempt` is
 * 1-based. `runId` is used as is (ids from {@link newRunId} are 22 bytes of
 * `[0-9a-f-]`).
 */
export function logFilePath(
  statePath: string,
  runId: string,
  stepId: string,
  attempt: number,
): string {
  return path.join(
    path.dirname(statePath),
    'runs',
    runId,
    `${stepFilePart(stepId)}.${attempt}.log`,
  );
}

/**
 * A new run id: `YYYYMMDD-HHMMSS-xxxxxx`, the UTC time of `now` (epoch ms,
 * default `Date.now()`) plus 6 random hex digits. Ids sort by creation time
 * (to the second), are 22 characters, and contain only `[0-9a-f-]`, so they
 * fit in Docker container and network names and in file names.
 */
export function newRunId(now: number = Date.now()): string {
  const d = new Date(now);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  const time = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${date}-${time}-${randomBytes(3).toString('hex')}`;
}

/**
 * The lease key that serialises runs of one workflow on one store:
 * `workflow:<absolute file>#<workflow name>`.
 */
export function workflowLeaseKey(options: { file: string; workflow: string }): string {
  return `workflow:${path.resolve(options.file)}#${options.workflow}`;
}
