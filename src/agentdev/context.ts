/**
 * The build of an agent.dev/v1 agent: its folder read (the file's
 * directory), the generated files worked out ({@link planAgentBuild}), and
 * the build context packed in memory with them ({@link packGeneratedContext}):
 * nothing is ever written into the user's folder.
 */

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type tar from 'tar-stream';
import {
  CONFIG_PATH,
  compareManifest,
  dependencyList,
  ENTRY_FILES,
  entryCommand,
  GENERATED_DIR,
  generateDockerfile,
  generateManifest,
  MANIFESTS,
  type ManifestMismatch,
} from './dockerfile.js';
import { baseImageFor, type Runtime } from './runtime.js';

/**
 * Directories of the folder left out of the build context (and its hash):
 * agentfile's state (`.agentfile/`, which changes on every run), version
 * control, and installed packages the image installs itself.
 */
export const EXCLUDED_DIRS: readonly string[] = [
  '.agentfile',
  '.git',
  'node_modules',
  '__pycache__',
  '.venv',
  'target',
];

/** What an agent.dev/v1 document asks for, as the build reads it. */
export interface AgentBuildInput {
  /** Absolute path of the agent's folder (the directory of its file). */
  dir: string;
  runtime: Runtime;
  /** metadata.name and metadata.version (default `latest`). */
  name: string;
  version: string;
  dependencies: readonly string[];
  ports: ReadonlyArray<{ container: number; protocol: 'tcp' | 'udp' }>;
  model?: { provider?: string; name: string; config?: unknown };
  config?: unknown;
  /** Base image overrides by language (`--base-image`, `AGENTFILE_BASE_IMAGES`). */
  baseImages?: Record<string, string>;
}

/** The result of {@link planAgentBuild}. */
export interface AgentBuildPlan {
  baseImage: string;
  /** The container's argv, or undefined when the folder has no entry file (see `entryCommand`). */
  command?: string[];
  /** Generated files by context path: the Dockerfile, config.json, and the manifest when the folder has none. */
  files: Record<string, string>;
  /** Path of the generated Dockerfile in the context. */
  dockerfile: string;
  /** The manifest the image installs, and whether it was generated. */
  manifest: { file: string; generated: boolean };
  /** How `dependencies` disagree with the folder's own manifest (warnings). */
  mismatches: ManifestMismatch[];
}

/**
 * Works out an agent's build from its folder (read synchronously: the
 * manifest, package-lock.json and the entry files; a few stat calls):
 * the folder's manifest when it has one, else one generated from
 * `dependencies`; the command by the conventions of `entryCommand`; the
 * baked variables MODEL_PROVIDER, MODEL_NAME, MODEL_CONFIG (JSON, when
 * `model` is given) and AGENT_CONFIG_FILE; the Dockerfile.
 */
export function planAgentBuild(input: AgentBuildInput): AgentBuildPlan {
  const { language } = input.runtime;
  const manifestFile = MANIFESTS[language];
  const manifestPath = join(input.dir, manifestFile);
  const files: Record<string, string> = {};
  let manifestText: string | undefined;
  let generated = false;
  let mismatches: ManifestMismatch[] = [];
  if (existsSync(manifestPath)) {
    manifestText = readFileSync(manifestPath, 'utf8');
    mismatches = compareManifest(language, input.dependencies, manifestText);
  } else {
    manifestText = generateManifest({
      language,
      name: input.name,
      version: input.version,
      dependencies: input.dependencies,
    });
    if (manifestText !== undefined) {
      files[manifestFile] = manifestText;
      generated = true;
    }
  }
  let startScript: string | undefined;
  let installs = dependencyList(language, input.dependencies).length > 0;
  if (language === 'nodejs' && !generated && manifestText !== undefined) {
    try {
      const pkg = JSON.parse(manifestText) as {
        scripts?: { start?: unknown };
        dependencies?: object;
      };
      if (typeof pkg.scripts?.start === 'string') startScript = pkg.scripts.start;
      installs = Object.keys(pkg.dependencies ?? {}).length > 0;
    } catch {
      installs = true; // npm reports the broken file in the build
    }
  } else if (language === 'python' && !generated && manifestText !== undefined) {
    installs = /^\s*[^#\s]/m.test(manifestText);
  }
  const present = new Set(ENTRY_FILES[language].filter((f) => existsSync(join(input.dir, f))));
  const command = entryCommand(language, present, startScript);
  const env: Array<{ name: string; value: string }> = [];
  if (input.model) {
    env.push({ name: 'MODEL_PROVIDER', value: input.model.provider ?? '' });
    env.push({ name: 'MODEL_NAME', value: input.model.name });
    env.push({ name: 'MODEL_CONFIG', value: JSON.stringify(input.model.config ?? {}) });
  }
  env.push({ name: 'AGENT_CONFIG_FILE', value: CONFIG_PATH });
  const baseImage = baseImageFor(input.runtime, input.baseImages);
  const dockerfile = `${GENERATED_DIR}/Dockerfile`;
  files[`${GENERATED_DIR}/config.json`] = `${JSON.stringify(input.config ?? {}, null, 2)}\n`;
  files[dockerfile] = generateDockerfile({
    language,
    baseImage,
    dependencies: input.dependencies,
    installs,
    ports: input.ports,
    command: command ?? ENTRY_FILES[language].slice(0, 1),
    env,
    lockfile: existsSync(join(input.dir, 'package-lock.json')),
  });
  return {
    baseImage,
    ...(command ? { command } : {}),
    files,
    dockerfile,
    manifest: { file: manifestFile, generated },
    mismatches,
  };
}

interface ContextFile {
  path: string;
  absolute: string;
  link: boolean;
}

/** The folder's files (regular files and symlinks), sorted posix paths, without {@link EXCLUDED_DIRS} and generated paths. */
async function listFolder(root: string, generated: Record<string, string>): Promise<ContextFile[]> {
  const out: ContextFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const absolute = join(dir, entry.name);
      const path = relative(root, absolute).split(sep).join('/');
      if (entry.isDirectory()) {
        if (dir === root && (EXCLUDED_DIRS.includes(entry.name) || entry.name === GENERATED_DIR))
          continue;
        await walk(absolute);
      } else if (path in generated) {
      } else if (entry.isSymbolicLink()) out.push({ path, absolute, link: true });
      else if (entry.isFile()) out.push({ path, absolute, link: false });
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The content hash of a generated build (12 hex digits of sha256): every
 * file of the folder that goes into the context (path, content, mode;
 * symlinks by target) and every generated file, so a changed source,
 * dependency, model or config rebuilds the image.
 *
 * @throws the file system error when the folder cannot be read.
 */
export async function generatedContextHash(
  context: string,
  files: Record<string, string>,
): Promise<string> {
  const hash = createHash('sha256');
  for (const f of await listFolder(context, files)) {
    if (f.link) hash.update(`link\0${f.path}\0${await readlink(f.absolute)}\0`);
    else {
      const content = createHash('sha256')
        .update(await readFile(f.absolute))
        .digest('hex');
      hash.update(`file\0${f.path}\0${content}\0${(await stat(f.absolute)).mode & 0o777}\0`);
    }
  }
  for (const path of Object.keys(files).sort()) {
    hash.update(`generated\0${path}\0${files[path]}\0`);
  }
  return hash.digest('hex').slice(0, 12);
}

/**
 * The build context as a tar stream, for the engine's build API: the
 * folder's files (modes kept, symlinks as links; {@link EXCLUDED_DIRS} left
 * out) and then the generated files (mode 0644), which replace same-named
 * files of the folder. The folder is read, never written.
 *
 * @throws the file system error when the folder cannot be read.
 */
export async function packGeneratedContext(
  context: string,
  files: Record<string, string>,
): Promise<Readable> {
  const list = await listFolder(context, files);
  // Loaded here, not with the module: lint reads this module, only builds pack.
  const { default: tarStream } = await import('tar-stream');
  const pack = tarStream.pack();
  const add = (header: tar.Headers, body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      pack.entry(header, body, (error) => (error ? reject(error) : resolve()));
    });
  (async () => {
    for (const f of list) {
      if (f.link) {
        await add({ name: f.path, type: 'symlink', linkname: await readlink(f.absolute) });
      } else {
        const info = await stat(f.absolute);
        await add(
          { name: f.path, mode: info.mode & 0o777, mtime: new Date(0) },
          await readFile(f.absolute),
        );
      }
    }
    for (const path of Object.keys(files).sort()) {
      await add(
        { name: path, mode: 0o644, mtime: new Date(0) },
        Buffer.from(files[path] ?? '', 'utf8'),
      );
    }
    pack.finalize();
  })().catch((error: Error) => pack.destroy(error));
  return pack;
}
