/**
 * Secret files of containers: `/run/secrets/<name>`, as docker compose gives
 * them, copied into a created container before it starts.
 *
 * The files are put with `PUT /containers/{id}/archive` (`putArchive`) of a
 * tar made in memory, so the runner never writes a secret to a file of its
 * own. The engine creates the missing parent directories (`/run`,
 * `/run/secrets`: mode 0755, owner root) and writes each file, mode 0444,
 * owner root (uid and gid 0 from the tar headers): readable by any user the
 * container runs as, writable by none but root. Where the value then lives
 * is the container's writable layer, in the engine's storage, until the
 * container is removed (step containers always are; service containers when
 * stopped). A tmpfs at `/run/secrets` would keep it off the engine's disk,
 * but an archive put into a created container lands under the mount point,
 * hidden once the tmpfs is mounted at start (Docker 20.10), and compose's
 * own non-swarm secrets are bind mounts of host files, so this is no worse.
 */

import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { CONTAINER_SECRETS_DIR, type SecretFile } from '../types.js';
import type { DockerEngine } from './engine.js';

/** Mode of a secret file in the container: read-only, for every user. */
export const SECRET_FILE_MODE = 0o444;

/** Most bytes of a secret file's name: what a tar header's name field holds. */
const MAX_NAME_BYTES = 100;

/** A secret file name that cannot be a file in `/run/secrets`. */
export class SecretFileNameError extends Error {
  override name = 'SecretFileNameError';
}

/**
 * Checks `name` is one path component that fits a tar header.
 *
 * @throws SecretFileNameError `invalid secret file name "a/b": ...`.
 */
export function checkSecretFileName(name: string): void {
  const invalid = (why: string): SecretFileNameError =>
    new SecretFileNameError(`invalid secret file name ${JSON.stringify(name)}: ${why}`);
  if (name === '' || name === '.' || name === '..') throw invalid('not a file name');
  if (name.includes('/') || name.includes('\0')) throw invalid('contains "/" or NUL');
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    throw invalid(`longer than ${MAX_NAME_BYTES} bytes`);
  }
}

/**
 * An uncompressed tar, in memory, of the files `run/secrets/<name>` (mode
 * {@link SECRET_FILE_MODE}, uid and gid 0), to extract at `/`. A name given
 * twice keeps its last value.
 *
 * @throws SecretFileNameError for a name {@link checkSecretFileName} refuses.
 */
export async function secretsArchive(files: SecretFile[]): Promise<Buffer> {
  const byName = new Map<string, string>();
  for (const file of files) {
    checkSecretFileName(file.name);
    byName.set(file.name, file.value);
  }
  const pack = tar.pack();
  const mtime = new Date();
  for (const [name, value] of byName) {
    pack.entry(
      {
        name: `${CONTAINER_SECRETS_DIR.slice(1)}/${name}`,
        type: 'file',
        mode: SECRET_FILE_MODE,
        uid: 0,
        gid: 0,
        uname: 'root',
        gname: 'root',
        mtime,
      },
      Buffer.from(value, 'utf8'),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The archive of `files` ({@link secretsArchive}), or undefined when there
 * are none: what {@link putSecretFiles} copies.
 *
 * @throws SecretFileNameError for an invalid name.
 */
export async function secretFilesArchive(
  files: SecretFile[] | undefined,
): Promise<Buffer | undefined> {
  return files === undefined || files.length === 0 ? undefined : secretsArchive(files);
}

/**
 * Copies the secret files of `archive` (from {@link secretFilesArchive})
 * into `container` (created, not started yet), at `/`; nothing when there
 * is no archive.
 *
 * @throws EngineUnavailableError when the engine cannot be reached.
 * @throws the engine's API error when it refuses the archive.
 */
export async function putSecretFiles(
  engine: DockerEngine,
  container: Dockerode.Container,
  archive: Buffer | undefined,
): Promise<void> {
  if (archive === undefined) return;
  await engine.call(() => container.putArchive(archive, { path: '/' }));
}
