/**
 * A step's outputs file (`$AGENT_OUTPUT`, GitHub Actions' `$GITHUB_OUTPUT`)
 * on the executor's side: making sure it exists before the attempt. The
 * runner creates it empty and reads it afterwards
 * (`src/run/step-outputs.ts`); the executors only hand it to the step.
 */

import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Mode of a container step's outputs file: readable and writable by every
 * user, so that a container running as a non-root user (or under a user
 * namespace remap, where its root is not the runner's user) can write it
 * through the bind mount. The file's directory (the run's directory) is
 * what keeps other users of the host away from it.
 */
export const CONTAINER_OUTPUT_FILE_MODE = 0o666;

/**
 * Creates the outputs file at `path` (absolute) when it is missing, with
 * its parent directories, and never truncates it: what it holds when the
 * attempt starts is the runner's business (it creates the file empty). With
 * `mode`, sets the file's permissions to exactly that (`chmod`, so the umask
 * does not apply).
 *
 * @throws the file system error (EACCES, EISDIR, EPERM for a `chmod` of a
 *   file owned by another user, ...).
 */
export async function prepareOutputFile(path: string, mode?: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'a');
  await handle.close();
  if (mode !== undefined) await chmod(path, mode);
}
