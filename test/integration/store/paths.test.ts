import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FILE_NAME_BYTES, prepareStateDir } from '../../../src/store/paths.js';
import {
  defaultStatePath,
  logFilePath,
  newRunId,
  resolveStatePath,
  workflowLeaseKey,
} from '../../../src/store/store.js';
import { StoreError } from '../../../src/store/types.js';

describe('state paths', () => {
  it('puts the default state file in .agentfile beside the workflow file', () => {
    expect(defaultStatePath('/repo/app/agent.yaml')).toBe('/repo/app/.agentfile/state.db');
    expect(defaultStatePath('agent.yaml')).toBe(path.resolve('.agentfile/state.db'));
  });

  it('prefers the flag, then AGENTFILE_STATE, then the default', () => {
    const workflowFile = '/repo/agent.yaml';
    const env = { AGENTFILE_STATE: '/var/lib/agentfile/state.db' };
    expect(resolveStatePath({ workflowFile, flag: '/tmp/s.db', env })).toBe('/tmp/s.db');
    expect(resolveStatePath({ workflowFile, env })).toBe('/var/lib/agentfile/state.db');
    expect(resolveStatePath({ workflowFile, env: { AGENTFILE_STATE: '' } })).toBe(
      '/repo/.agentfile/state.db',
    );
    expect(resolveStatePath({ workflowFile, env: {} })).toBe('/repo/.agentfile/state.db');
    expect(resolveStatePath({ workflowFile, flag: 'rel/s.db', env })).toBe(
      path.resolve('rel/s.db'),
    );
    // Relative paths resolve against cwd when given.
    expect(resolveStatePath({ workflowFile, flag: 'rel/s.db', env, cwd: '/home/me' })).toBe(
      '/home/me/rel/s.db',
    );
    expect(resolveStatePath({ workflowFile, env: { AGENTFILE_STATE: 's.db' }, cwd: '/w' })).toBe(
      '/w/s.db',
    );
    expect(resolveStatePath({ workflowFile: 'app/agent.yaml', env: {}, cwd: '/w' })).toBe(
      '/w/app/.agentfile/state.db',
    );
  });

  it('puts log files under runs/<run>/<step>.<attempt>.log beside the state file', () => {
    expect(logFilePath('/repo/.agentfile/state.db', '20260102-030405-abcdef', 'build', 2)).toBe(
      '/repo/.agentfile/runs/20260102-030405-abcdef/build.2.log',
    );
  });

  it('keeps short lower-case ids as they are in log file names', () => {
    const state = '/repo/.agentfile/state.db';
    const runs = '/repo/.agentfile/runs/r';
    for (const id of ['build', 'unit-tests', 'lint_ts', 'v1.2', '0', '-x']) {
      expect(logFilePath(state, 'r', id, 1)).toBe(`${runs}/${id}.1.log`);
    }
  });

  describe('log file names of awkward step ids', () => {
    const state = '/repo/.agentfile/state.db';
    const runs = '/repo/.agentfile/runs/20260102-030405-abcdef';
    const name = (id: string, attempt = 1) =>
      path.basename(logFilePath(state, '20260102-030405-abcdef', id, attempt));
    const long = `${'x'.repeat(150)}-${'y'.repeat(149)}`;
    const awkward = [
      long,
      `${long}z`,
      'a/b',
      'a_b',
      'a?b',
      '../../etc/passwd',
      '..',
      '.',
      '.hidden',
      '',
      'Build',
      'build',
      'BUILD',
      'déploiement',
      'deploiement',
      '部署'.repeat(100),
      '🚀 launch',
      'with space',
      'tab\there',
      'a\\b',
      'nul\0byte',
      'x~0123456789abcdef',
    ];

    it('a 300-character id gets a name within the file system limit, with a readable prefix', () => {
      expect(long).toHaveLength(300);
      const n = name(long, 12);
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
      expect(n).toMatch(/^x{100}~[0-9a-f]{16}\.12\.log$/);
    });

    it('every name is one safe component directly in the run directory, below 255 bytes', () => {
      for (const id of awkward) {
        const file = logFilePath(state, '20260102-030405-abcdef', id, Number.MAX_SAFE_INTEGER);
        expect(path.dirname(file)).toBe(runs);
        const n = path.basename(file);
        expect(n).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9_.~-]*\.\d+\.log$/);
        expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
      }
      expect(name('a/b')).toMatch(/^a_b~[0-9a-f]{16}\.1\.log$/);
      expect(name('../../etc/passwd')).toMatch(/^_\.\._etc_passwd~[0-9a-f]{16}\.1\.log$/);
      expect(name('..')).toMatch(/^step~[0-9a-f]{16}\.1\.log$/);
      expect(name('Build')).toMatch(/^Build~[0-9a-f]{16}\.1\.log$/);
      expect(name('déploiement')).toMatch(/^d_ploiement~[0-9a-f]{16}\.1\.log$/);
    });

    it('distinct ids get distinct names, even ignoring case; the same id the same name', () => {
      const names = awkward.map((id) => name(id));
      expect(new Set(names).size).toBe(awkward.length);
      expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(awkward.length);
      expect(awkward.map((id) => name(id))).toEqual(names);
      expect(name('a', 1)).not.toBe(name('a', 2));
    });

    it('the names can really be created, one file per id', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'agentfile-log-names-'));
      try {
        const statePath = path.join(dir, 'state.db');
        for (const id of awkward) {
          const file = logFilePath(statePath, 'run', id, 1);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, id);
        }
        expect(readdirSync(path.join(dir, 'runs', 'run'))).toHaveLength(awkward.length);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('any id: at most 255 bytes, one component, no collisions (property)', () => {
      const id = fc.oneof(
        fc.string({ maxLength: 400 }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
      );
      fc.assert(
        fc.property(id, id, fc.integer({ min: 1, max: 1000 }), (a, b, attempt) => {
          const fa = logFilePath(state, 'r', a, attempt);
          expect(path.dirname(fa)).toBe('/repo/.agentfile/runs/r');
          expect(Buffer.byteLength(path.basename(fa))).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
          if (a !== b) expect(fa).not.toBe(logFilePath(state, 'r', b, attempt));
        }),
      );
    });
  });

  it('makes sortable run ids from the UTC time and 6 random hex digits', () => {
    const t = Date.UTC(2026, 10, 23, 20, 12, 5);
    const id = newRunId(t);
    expect(id).toMatch(/^20261123-201205-[0-9a-f]{6}$/);
    expect(newRunId(t)).not.toBe(id); // 24 random bits: a collision here is a 1 in 16M event
    const later = newRunId(t + 1000);
    expect([later, id].sort()).toEqual([id, later]);
  });

  it('makes one lease key per workflow file and name', () => {
    expect(workflowLeaseKey({ file: '/repo/agent.yaml', workflow: 'ci' })).toBe(
      'workflow:/repo/agent.yaml#ci',
    );
  });
});

/** Where the store modules are compiled to plain JS for child processes. */
let compiledDir: string;
/** Scratch directory of the prepareStateDir tests, readable by everyone (children may run as nobody). */
let scratch: string;

/**
 * Compiles `src/store/{paths,errors,types}.ts` (they import only each other
 * and Node built-ins) to plain ES modules, so a child `node` can run the
 * current source: a call that loops forever is then killed at a deadline
 * instead of blocking the test worker, and a child can run as another user
 * or in its own mount namespace.
 */
function compileStoreModules(): string {
  const out = mkdtempSync(path.join(os.tmpdir(), 'agentfile-store-js-'));
  const src = path.resolve(import.meta.dirname, '../../../src/store');
  for (const name of ['paths', 'errors', 'types']) {
    const source = readFileSync(path.join(src, `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ES2022,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    });
    writeFileSync(path.join(out, `${name}.js`), outputText);
  }
  writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  for (const entry of readdirSync(out)) chmodSync(path.join(out, entry), 0o644);
  chmodSync(out, 0o755);
  return out;
}

/**
 * A copy of this node binary that another user can run: the running one may
 * sit in a directory only its owner can enter (a per-user cache, as the
 * project's setup script uses).
 */
function nodeForOtherUsers(): string {
  const copy = path.join(compiledDir, 'node');
  if (!existsSync(copy)) {
    copyFileSync(process.execPath, copy);
    chmodSync(copy, 0o755);
  }
  return copy;
}

/** What a child's `prepareStateDir` call did. */
interface ChildOutcome {
  /** The error it threw (name, message, hint), or undefined when it returned. */
  error?: { name: string; message: string; hint?: string };
  durationMs: number;
}

/** Deadline of a child's call, in ms: generous, only there to turn a hang into a failure. */
const CHILD_DEADLINE_MS = 20_000;

/**
 * Runs `prepareStateDir(file)` in a child `node`, killed after
 * {@link CHILD_DEADLINE_MS}. `uid`: run as that user (and group). `tmpfs`:
 * first mount a tmpfs with these options (e.g. `ro`) on `mountOn`, in a
 * mount namespace of the child's own (`unshare --user --map-root-user
 * --mount`), so the mount is never seen outside the child and goes away with
 * it.
 */
function prepareInChild(
  file: string,
  options: { uid?: number; tmpfs?: string; mountOn?: string } = {},
): Promise<ChildOutcome> {
  const script = [
    `const { prepareStateDir } = await import(${JSON.stringify(path.join(compiledDir, 'paths.js'))});`,
    'try { prepareStateDir(process.argv[1]); process.stdout.write("{}"); }',
    'catch (e) { process.stdout.write(JSON.stringify({ error: { name: e.name, message: e.message, hint: e.hint } })); }',
  ].join('\n');
  const node = options.uid !== undefined ? nodeForOtherUsers() : process.execPath;
  let command = node;
  let args = ['--input-type=module', '-e', script, file];
  if (options.tmpfs !== undefined) {
    command = 'unshare';
    args = [
      '--user',
      '--map-root-user',
      '--mount',
      'sh',
      '-c',
      'mount -t tmpfs -o "$1" tmpfs "$2" && shift 2 && exec "$@"',
      'sh',
      options.tmpfs,
      options.mountOn ?? '',
      node,
      ...args,
    ];
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        timeout: CHILD_DEADLINE_MS,
        ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
      },
      (error, stdout, stderr) => {
        const durationMs = Date.now() - started;
        if (error) {
          const why = error.killed
            ? `did not finish within ${CHILD_DEADLINE_MS} ms`
            : error.message;
          reject(new Error(`child prepareStateDir(${file}) ${why}; stderr: ${stderr}`));
          return;
        }
        resolve({ ...(JSON.parse(stdout) as Omit<ChildOutcome, 'durationMs'>), durationMs });
      },
    );
  });
}

/** The StoreError `fn` throws (fails the test when it throws something else or nothing). */
function storeErrorOf(fn: () => void): StoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error('expected a StoreError');
}

describe('prepareStateDir', () => {
  beforeAll(() => {
    compiledDir = compileStoreModules();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'agentfile-state-dir-'));
    chmodSync(scratch, 0o755);
  });

  afterAll(() => {
    rmSync(compiledDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('makes every missing directory, and accepts ones that exist', () => {
    const file = path.join(scratch, 'made', 'a', 'b', 'state.db');
    prepareStateDir(file);
    expect(statSync(path.dirname(file)).isDirectory()).toBe(true);
    prepareStateDir(file);
    prepareStateDir(path.join(scratch, 'state.db'));
    expect(readdirSync(path.join(scratch, 'made', 'a'))).toEqual(['b']);
  });

  it('/proc/nope/state.db: a StoreError at once, not a busy loop', async () => {
    const outcome = await prepareInChild('/proc/nope/state.db');
    expect(outcome.error).toEqual({
      name: 'StoreError',
      message:
        'cannot create the state store at /proc/nope/state.db: /proc is on the proc pseudo file system, where directories cannot be created',
      hint: expect.stringMatching(/AGENTFILE_STATE/),
    });
    expect(outcome.durationMs).toBeLessThan(CHILD_DEADLINE_MS);
    // The same in this process, now that it is known to end.
    const error = storeErrorOf(() => prepareStateDir('/proc/nope/deeper/state.db'));
    expect(error.message).toMatch(/: \/proc is on the proc pseudo file system/);
    const sys = storeErrorOf(() => prepareStateDir('/sys/nope/state.db'));
    expect(sys.message).toMatch(/: \/sys is on the sysfs pseudo file system/);
  });

  it('a regular file on the path: "not a directory", naming the file', () => {
    const blocker = path.join(scratch, 'blocker');
    writeFileSync(blocker, 'a file where a directory should be');
    for (const file of [path.join(blocker, 'state.db'), path.join(blocker, 'a', 'b', 'state.db')]) {
      const error = storeErrorOf(() => prepareStateDir(file));
      expect(error.message).toBe(
        `cannot create the state store at ${file}: ${blocker} is in the way (not a directory)`,
      );
      expect(error.hint).toMatch(/move the file away/);
    }
  });

  it('a read-only mount says read-only, whether the directory exists or not', async () => {
    const ro = path.join(scratch, 'read-only');
    mkdirSync(ro);
    const missing = await prepareInChild(path.join(ro, 'sub', 'state.db'), {
      tmpfs: 'ro',
      mountOn: ro,
    });
    expect(missing.error?.message).toBe(
      `cannot create the state store at ${path.join(ro, 'sub', 'state.db')}: ${ro} is on a read-only file system`,
    );
    expect(missing.error?.hint).toBe('point --state or AGENTFILE_STATE at a writable location');
    const existing = await prepareInChild(path.join(ro, 'state.db'), { tmpfs: 'ro', mountOn: ro });
    expect(existing.error?.message).toBe(
      `cannot create the state store at ${path.join(ro, 'state.db')}: ${ro} is on a read-only file system`,
    );
    // Control: the same mount, writable, works.
    const writable = await prepareInChild(path.join(ro, 'sub', 'state.db'), {
      tmpfs: 'rw',
      mountOn: ro,
    });
    expect(writable.error).toBeUndefined();
  });

  it('a directory without write permission: permission denied on it', async () => {
    const locked = path.join(scratch, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    // Root may write anywhere: the child runs as nobody (65534) when this is root.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const options = uid !== undefined ? { uid } : {};
    const below = await prepareInChild(path.join(locked, 'sub', 'state.db'), options);
    expect(below.error?.message).toBe(
      `cannot create the state store at ${path.join(locked, 'sub', 'state.db')}: permission denied on ${locked}`,
    );
    const inside = await prepareInChild(path.join(locked, 'state.db'), options);
    expect(inside.error?.message).toBe(
      `cannot create the state store at ${path.join(locked, 'state.db')}: permission denied on ${locked}`,
    );
    // Control: a writable directory works for the same user.
    const open = path.join(scratch, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const allowed = await prepareInChild(path.join(open, 'sub', 'state.db'), options);
    expect(allowed.error).toBeUndefined();
    expect(statSync(path.join(open, 'sub')).uid).toBe(uid ?? process.getuid?.());
  });

  it('a full file system (no inodes left): no space left, naming the directory', async () => {
    const full = path.join(scratch, 'full');
    mkdirSync(full);
    // Two inodes: the root of the mount and one directory.
    const outcome = await prepareInChild(path.join(full, 'a', 'b', 'state.db'), {
      tmpfs: 'size=1m,nr_inodes=2',
      mountOn: full,
    });
    expect(outcome.error?.message).toBe(
      `cannot create the state store at ${path.join(full, 'a', 'b', 'state.db')}: no space left on the device holding ${path.join(full, 'a')} (disk or inodes full)`,
    );
  });

  it('a name longer than 255 bytes: the path is too long', () => {
    const file = path.join(scratch, 'n'.repeat(300), 'state.db');
    const error = storeErrorOf(() => prepareStateDir(file));
    expect(error.message).toMatch(/^cannot create the state store at .*: the path is too long \(/);
    expect(error.message).not.toMatch(/\n/);
  });
});
