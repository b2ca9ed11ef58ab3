/**
 * Where the state store and the log files live, and how runs are named.
 * Pure functions over paths and the clock; nothing here touches the disk.
 */

import { randomBytes } from 'node:crypto';
import path from 'node:path';

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
 * The log file of one attempt: `<dir of the state file>/runs/<runId>/<stepId>.<attempt>.log`.
 * Services use their name as `stepId` and count their starts within the run
 * as attempts. `attempt` is 1-based.
 */
export function logFilePath(
  statePath: string,
  runId: string,
  stepId: string,
  attempt: number,
): string {
  return path.join(path.dirname(statePath), 'runs', runId, `${stepId}.${attempt}.log`);
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
