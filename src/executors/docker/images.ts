/**
 * Images for container steps and docker services: used when present, pulled
 * when missing, or built from an agent's `build` context and tagged by its
 * content hash, so an unchanged context is never rebuilt.
 */

import { createHash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join, relative, sep } from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { generatedContextHash, packGeneratedContext } from '../../agentdev/context.js';
import type { AgentSpec, BuildSpec, PullPolicy } from '../../config/model.js';
import { ImageBuildError, ImageNotFoundError } from '../errors.js';
import { maskText, RingBuffer } from '../output.js';
import {
  EngineUnavailableError,
  type OutputListener,
  type Redactor,
  ServiceStartError,
} from '../types.js';
import { apiMessage, engineLostError, statusOf } from './api.js';
import { imageAction } from './create-options.js';
import type { DockerEngine } from './engine.js';

/** Options of the image methods of {@link DockerEngine}. */
export interface ImageOptions {
  /** Receives build and pull progress, one line at a time (always as `stdout`). */
  onOutput?: OutputListener;
  /** Aborts a build or pull in progress. */
  signal?: AbortSignal;
  /**
   * Masks the build output an {@link ImageBuildError} carries (its message
   * and `output`); `onOutput` gets the lines unmasked, for the caller's sink
   * to mask.
   */
  redact?: Redactor;
  /** Pull policy ({@link imageAction}). Default `missing`; an agent's own `pull` wins in {@link ensureImage}. */
  pull?: PullPolicy;
}

/**
 * `@balena/dockerignore`'s factory: its types declare an ES default export,
 * but at run time the CommonJS module itself is the factory.
 */
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/** Splits `repo[:tag]` (the tag is after the last colon that follows the last slash). */
function splitReference(reference: string): { repo: string; tag: string } {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { repo: reference, tag: 'latest' };
}

/** An agent name as a Docker repository path component (`[a-z0-9]+([._-][a-z0-9]+)*`). */
function repositoryName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return cleaned || 'agent';
}

/** Lists a directory tree: regular files and symlinks, as sorted posix paths relative to `root`. */
async function listContext(
  root: string,
): Promise<{ path: string; absolute: string; link: boolean }[]> {
  const out: { path: string; absolute: string; link: boolean }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const absolute = join(dir, entry.name);
      const path = relative(root, absolute).split(sep).join('/');
      if (entry.isDirectory()) await walk(absolute);
      else if (entry.isSymbolicLink()) out.push({ path, absolute, link: true });
      else if (entry.isFile()) out.push({ path, absolute, link: false });
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The files of a build context the engine gets: every regular file and
 * symlink under `build.context` except those its `.dockerignore` excludes
 * (Docker's syntax, matched by `@balena/dockerignore`, the matcher dockerode
 * uses), but always the Dockerfile and the `.dockerignore` itself, as
 * `docker build` sends them. Sorted posix paths relative to the context.
 *
 * @throws the file system error when the context or its `.dockerignore` cannot be read.
 */
export async function buildContextFiles(
  build: BuildSpec,
): Promise<{ path: string; absolute: string; link: boolean }[]> {
  const files = await listContext(build.context);
  let rules: string;
  try {
    rules = await readFile(join(build.context, '.dockerignore'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw error;
  }
  const keep = dockerignore({ ignorecase: false }).add(rules).createFilter();
  const dockerfile = build.dockerfile.split(sep).join('/').replace(/^\.\//, '');
  return files.filter((f) => keep(f.path) || f.path === dockerfile || f.path === '.dockerignore');
}

/**
 * The content hash of a build: the first 12 hex digits of a sha256 over
 * every file the build sees ({@link buildContextFiles}: path and content;
 * symlinks by target), the Dockerfile path, the build arguments and the
 * target stage. A file its `.dockerignore` excludes does not change it.
 *
 * @throws the file system error when the context cannot be read.
 */
export async function buildContextHash(build: BuildSpec): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await buildContextFiles(build)) {
    if (file.link) {
      hash.update(`link\0${file.path}\0${await readlink(file.absolute)}\0`);
    } else {
      const content = createHash('sha256')
        .update(await readFile(file.absolute))
        .digest('hex');
      hash.update(`file\0${file.path}\0${content}\0`);
    }
  }
  hash.update(`dockerfile\0${build.dockerfile}\0`);
  const args = Object.entries(build.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  hash.update(`args\0${JSON.stringify(args)}`);
  if (build.target !== undefined) hash.update(`\0target\0${build.target}`);
  return hash.digest('hex').slice(0, 12);
}

/** True when the image is present locally. See {@link DockerEngine.imageExists}. */
export async function imageExists(engine: DockerEngine, reference: string): Promise<boolean> {
  try {
    await engine.call(() => engine.docker.getImage(reference).inspect());
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}

/**
 * Uses an image when present locally, otherwise pulls it; `options.pull`
 * changes that ({@link imageAction}). See {@link DockerEngine.ensureStepImage}.
 */
export async function ensureStepImage(
  engine: DockerEngine,
  image: string,
  options: ImageOptions = {},
): Promise<string> {
  const action = imageAction(options.pull ?? 'missing', await imageExists(engine, image));
  if (action === 'use') return image;
  if (action === 'fail') {
    throw new ImageNotFoundError(
      `image "${image}" not found locally and pull is "never"`,
      'build or load the image locally (docker build / docker load), or set pull to "missing"',
    );
  }
  try {
    // No time limit: the engine may answer only once the registry does; the
    // signal aborts it, and a lost connection fails it.
    const stream = await engine.call(
      () => engine.docker.pull(image, options.signal ? { abortSignal: options.signal } : {}),
      { timeoutMs: null },
    );
    let failure: string | undefined;
    await followJsonStream(engine, stream, `image ${image} was being pulled`, (event) => {
      const status = [event.status, event.progress].filter(Boolean).join(' ');
      if (status) options.onOutput?.('stdout', status);
      if (event.error !== undefined || event.errorDetail !== undefined) {
        failure = event.errorDetail?.message ?? event.error;
      }
    });
    // The engine reports some pull failures inside a 200 response.
    if (failure !== undefined) throw new Error(failure);
    if (!(await imageExists(engine, image))) throw new Error('the pull did not produce the image');
  } catch (error) {
    // Cancellation first: an aborted pull can look like a broken connection.
    options.signal?.throwIfAborted();
    if (error instanceof EngineUnavailableError) throw error;
    throw new ImageNotFoundError(
      `image "${image}" not found locally and could not be pulled: ${apiMessage(error)}`,
      'check the image name, build or load it locally (docker build / docker load), or log in to its registry',
    );
  }
  return image;
}

/** Makes an agent's image available, building it when it has `build`. See {@link DockerEngine.ensureImage}. */
export async function ensureImage(
  engine: DockerEngine,
  agent: AgentSpec,
  options: ImageOptions = {},
): Promise<string> {
  if (agent.build === undefined) {
    if (agent.image === undefined) {
      throw new ServiceStartError(`agent "${agent.name}" has neither an image nor a build`);
    }
    return ensureStepImage(engine, agent.image, {
      ...options,
      ...(agent.pull !== undefined ? { pull: agent.pull } : {}),
    });
  }
  const build = agent.build;
  let hash: string;
  try {
    // A build with generated files (agent.dev/v1) packs and hashes its own context.
    hash = build.files
      ? await generatedContextHash(build.context, build.files)
      : await buildContextHash(build);
  } catch (error) {
    throw new ServiceStartError(
      `cannot read the build context of agent "${agent.name}": ${(error as Error).message}`,
    );
  }
  const tag = `agentfile/${repositoryName(agent.name)}:${hash}`;
  if (!(await imageExists(engine, tag))) await buildImage(engine, { agent, build, tag, options });
  if (agent.image !== undefined && agent.image !== tag) {
    const { repo, tag: extra } = splitReference(agent.image);
    await engine.call(() => engine.docker.getImage(tag).tag({ repo, tag: extra }));
  }
  return tag;
}

/** Builds `build` as `tag`, streaming its output; throws ImageBuildError on failure. */
async function buildImage(
  engine: DockerEngine,
  options: {
    agent: AgentSpec;
    build: BuildSpec;
    tag: string;
    options: ImageOptions;
  },
): Promise<void> {
  const { agent, build, tag } = options;
  const { onOutput, signal, redact } = options.options;
  const lines = new RingBuffer(20);
  let failure: string | undefined;
  const fail = (reason: string): ImageBuildError => {
    const mask = (text: string): string => maskText(redact, text);
    const tail = lines.tail(10).map(mask);
    const message = [`image build of agent "${agent.name}" failed: ${mask(reason)}`, ...tail].join(
      '\n',
    );
    return new ImageBuildError(message, lines.tail(20).map(mask));
  };
  let context: NodeJS.ReadableStream | undefined;
  try {
    if (build.files) context = await packGeneratedContext(build.context, build.files);
    // The files themselves: dockerode's own .dockerignore filter sees
    // absolute paths (tar-fs's), so it misses nested and most patterns.
    const source = context ?? {
      context: build.context,
      src: (await buildContextFiles(build)).map((f) => f.path),
    };
    // No time limit: the engine answers once it has the whole context.
    const stream = await engine.call(
      () =>
        engine.docker.buildImage(source, {
          t: tag,
          dockerfile: build.dockerfile,
          buildargs: build.args,
          ...(build.target !== undefined ? { target: build.target } : {}),
          rm: true,
          forcerm: true,
          labels: { 'agentfile.agent': agent.name },
          ...(signal ? { abortSignal: signal } : {}),
        }),
      { timeoutMs: null },
    );
    await followJsonStream(
      engine,
      stream,
      `the image of agent "${agent.name}" was being built`,
      (event) => {
        if (typeof event.stream === 'string') {
          for (const line of event.stream.split('\n')) {
            const trimmed = line.replace(/\r$/, '');
            if (trimmed.trim() === '') continue;
            lines.push(trimmed);
            onOutput?.('stdout', trimmed);
          }
        }
        if (event.error !== undefined || event.errorDetail !== undefined) {
          failure = event.errorDetail?.message ?? event.error ?? 'unknown error';
        }
      },
    );
  } catch (error) {
    // Cancellation first: an aborted build can look like a broken connection.
    signal?.throwIfAborted();
    if (error instanceof EngineUnavailableError) throw error;
    throw fail(apiMessage(error));
  }
  if (failure !== undefined) throw fail(failure.trim());
}

/**
 * Consumes a JSON-lines progress stream (build, pull), resolving at its end.
 * `activity` says what it was in messages (`image busybox was being pulled`).
 *
 * @throws EngineUnavailableError when the connection breaks, or the stream
 *   ends before the engine finished its response (the engine went away).
 */
function followJsonStream(
  engine: DockerEngine,
  stream: NodeJS.ReadableStream,
  activity: string,
  onEvent: (event: {
    stream?: string;
    status?: string;
    progress?: string;
    error?: string;
    errorDetail?: { message?: string };
  }) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    engine.docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        if (error) {
          const mapped = engine.engineError(error);
          reject(
            mapped instanceof EngineUnavailableError
              ? engineLostError(engine, activity, mapped)
              : mapped,
          );
          return;
        }
        // docker-modem counts a stream closed mid-response as its end.
        if ((stream as Partial<IncomingMessage>).complete === false) {
          reject(engineLostError(engine, activity, new Error('the response was cut short')));
          return;
        }
        resolve();
      },
      onEvent,
    );
  });
}
