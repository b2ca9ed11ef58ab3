/**
 * Runs the built `agent` binary (bin/agent.js → dist/) as a user would, in
 * temp directories. `npm test` builds dist first.
 */

import { cp, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const agentBin = join(repoRoot, 'bin/agent.js');

/** Result of a finished `agent` invocation. */
export interface AgentResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Environment for the CLI under test: plain output, no inherited state
 * override, and not the CI system the tests themselves may run in (no
 * GitHub groups or GitLab sections, nothing appended to the job summary)
 * unless a test asks for it.
 */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    CI: 'true',
    FORCE_COLOR: '0',
    GITHUB_ACTIONS: '',
    GITLAB_CI: '',
    ...extra,
  };
  return env;
}

/** Runs `agent ...args` to completion (never rejects on a non-zero exit). */
export async function agent(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number } = { cwd: repoRoot },
): Promise<AgentResult> {
  const started = Date.now();
  const r = await execa('node', [agentBin, ...args], {
    cwd: options.cwd,
    env: cliEnv(options.env),
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    all: false,
  });
  return {
    exitCode: r.exitCode,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    durationMs: Date.now() - started,
  };
}

/** Starts `agent ...args` in the background; the caller signals or kills it. */
export function spawnAgent(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): ResultPromise<{ reject: false; cwd: string; env: Record<string, string>; buffer: true }> {
  return execa('node', [agentBin, ...args], {
    cwd: options.cwd,
    env: cliEnv(options.env),
    reject: false,
    buffer: true,
  });
}

/** A fresh temp directory. */
export function tempDir(prefix = 'agentfile-e2e-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Entries that are local state, not part of an example: what a run, an
 * install or a build leaves in a checkout (the ignored paths of .gitignore).
 * `agent run examples/hello-agent/workflow.yaml` from the README leaves its
 * store in `examples/hello-agent/.agentfile/`; a test's copy must not see it.
 */
export function isLocalState(name: string): boolean {
  return (
    ['.agentfile', 'node_modules', 'dist', 'coverage', '.git'].includes(name) ||
    name.endsWith('.log')
  );
}

/** Copies the directory `src` to `dest`, leaving out local state at any depth. */
export async function copyWithoutLocalState(src: string, dest: string): Promise<void> {
  await cp(src, dest, {
    recursive: true,
    filter: (source) => source === src || !isLocalState(basename(source)),
  });
}

/** Copies an example directory, without local state, into a fresh temp directory and returns its path. */
export async function copyExample(name: string): Promise<string> {
  const dir = await tempDir(`agentfile-${name}-`);
  await copyWithoutLocalState(join(repoRoot, 'examples', name), dir);
  return dir;
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** True when something listens on 127.0.0.1:`port`. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

/** Collects a spawned `agent`'s stdout as it arrives; call the result for the text so far. */
export function collectStdout(child: { stdout?: NodeJS.ReadableStream | null }): () => string {
  let text = '';
  child.stdout?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  return () => text;
}

/** Reads the state store a run left in `dir` (`.agentfile/state.db`), read-only. */
export function readState<T>(dir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dir, '.agentfile/state.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
