import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../../src/store/migrations.js';
import { Store } from '../../../src/store/store.js';
import { LockedError, StoreError } from '../../../src/store/types.js';

let dir: string;
let dbPath: string;
const open: Store[] = [];

function openStore(options: { path?: string; busyTimeoutMs?: number } = {}): Store {
  const store = Store.open({ path: options.path ?? dbPath, busyTimeoutMs: options.busyTimeoutMs });
  open.push(store);
  return store;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, got none');
}

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function createRun(
  store: Store,
  id: string,
  options: { workflow?: string; file?: string; createdAt?: number } = {},
) {
  return store.createRun({
    id,
    workflow: options.workflow ?? 'ci',
    file: options.file ?? '/project/agent.yaml',
    planFingerprint: 'plan-fp',
    nodes: [
      { id: 'db', kind: 'service', fingerprint: 'fp-db' },
      { id: 'zeta', kind: 'step', fingerprint: 'fp-zeta' },
      { id: 'alpha', kind: 'step', fingerprint: 'fp-alpha' },
    ],
    createdAt: options.createdAt ?? T0,
  });
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn a child process');
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => resolve());
    child.once('error', reject);
  });
  return pid;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'agentfile-store-'));
  dbPath = path.join(dir, 'nested', '.agentfile', 'state.db');
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Store.open', () => {
  it('creates the parent directories, the tables and sets the schema version', () => {
    const store = openStore();
    expect(store.path).toBe(dbPath);
    store.close();

    const raw = new Database(dbPath, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
      const tables = (
        raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
          name: string;
        }[]
      ).map((r) => r.name);
      expect(tables).toEqual(
        expect.arrayContaining(['attempts', 'events', 'leases', 'runs', 'steps']),
      );
      const indexes = (
        raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as {
          name: string;
        }[]
      ).map((r) => r.name);
      expect(indexes).toEqual(
        expect.arrayContaining(['runs_by_workflow', 'events_by_run', 'leases_by_run']),
      );
    } finally {
      raw.close();
    }
  });

  it('reopening an up-to-date file applies no migration and keeps the data', () => {
    createRun(openStore(), 'r1');
    const raw = new Database(dbPath);
    try {
      expect(migrate(raw)).toEqual([]);
    } finally {
      raw.close();
    }
    expect(openStore().getRun('r1')?.id).toBe('r1');
  });

  it('puts the file in WAL mode with foreign keys on', () => {
    openStore();
    const raw = new Database(dbPath);
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
    // Foreign keys are on in the store's own connection: an attempt of an unknown step is refused.
    const store = openStore();
    createRun(store, 'r1');
    expect(() =>
      store.startAttempt({
        runId: 'r1',
        stepId: 'nope',
        attempt: 1,
        startedAt: T0,
        logFile: null,
      }),
    ).toThrow(StoreError);
  });

  it('applies each migration in its own transaction: a failing one leaves the previous version', () => {
    const file = path.join(dir, 'm.db');
    const raw = new Database(file);
    try {
      const migrations = [
        { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
        { version: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER); CREATE TABLE a (y TEXT);' },
      ];
      expect(() => migrate(raw, migrations)).toThrow(/already exists/);
      expect(raw.pragma('user_version', { simple: true })).toBe(1);
      const tables = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(['a']);
    } finally {
      raw.close();
    }
  });

  it('refuses a file that is not a SQLite database', () => {
    const file = path.join(dir, 'notes.db');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const err = catchError(() => openStore({ path: file }));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).name).toBe('StoreError');
    expect((err as StoreError).message).toBe(
      `${file} is not an agentfile state store (not a SQLite database, or corrupt)`,
    );
    expect((err as StoreError).hint).toMatch(/AGENTFILE_STATE/);
  });

  it('refuses a location whose directory cannot be created', () => {
    const blocker = path.join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    const file = path.join(blocker, '.agentfile', 'state.db');
    const err = catchError(() => openStore({ path: file }));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toBe(
      `cannot create the state store at ${file}: ${blocker} is in the way (not a directory)`,
    );
    expect((err as StoreError).message).not.toMatch(/\n/);
  });

  it('refuses a directory given as the state file', () => {
    const err = catchError(() => openStore({ path: dir }));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toBe(`cannot open the state store ${dir}`);
  });

  it('refuses a file written by a newer agentfile', () => {
    const file = path.join(dir, 'future.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    raw.close();
    const err = catchError(() => openStore({ path: file }));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toBe(
      `the state store has schema version ${SCHEMA_VERSION + 7}, newer than this agentfile understands (${SCHEMA_VERSION})`,
    );
    expect((err as StoreError).hint).toMatch(/^upgrade agentfile/);
  });

  it('fails with a locking error when another connection holds the write lock past the busy timeout', () => {
    const store = openStore({ busyTimeoutMs: 100 });
    const other = new Database(dbPath);
    try {
      other.exec('BEGIN IMMEDIATE');
      other.prepare("INSERT INTO leases VALUES ('k', 'r0', 1, 'h', 0, 0, 0)").run();
      const started = Date.now();
      const err = catchError(() => createRun(store, 'r1'));
      expect(Date.now() - started).toBeLessThan(30_000); // a deadline against hangs only
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toBe('the state store is locked by another process');
      // Readers are not blocked by the writer (WAL).
      expect(store.listRuns()).toEqual([]);
      other.exec('ROLLBACK');
      expect(createRun(store, 'r1').id).toBe('r1');
    } finally {
      other.close();
    }
  });
});

describe('runs and steps', () => {
  it('creates a run (queued) with its steps in plan order, all pending', () => {
    const store = openStore();
    const run = createRun(store, 'r1');
    expect(run).toEqual({
      id: 'r1',
      workflow: 'ci',
      file: '/project/agent.yaml',
      status: 'queued',
      planFingerprint: 'plan-fp',
      createdAt: T0,
      startedAt: null,
      finishedAt: null,
      error: null,
      requested: null,
      inputs: {},
      sessions: 0,
    });
    const steps = store.getSteps('r1');
    expect(steps.map((s) => [s.id, s.kind, s.status, s.fingerprint, s.attempts])).toEqual([
      ['db', 'service', 'pending', 'fp-db', 0],
      ['zeta', 'step', 'pending', 'fp-zeta', 0],
      ['alpha', 'step', 'pending', 'fp-alpha', 0],
    ]);
    expect(steps[0]).toMatchObject({
      startedAt: null,
      finishedAt: null,
      error: null,
      outputs: null,
    });
    expect(() => createRun(store, 'r1')).toThrow(/already exists/);
  });

  it('round-trips run, step and attempt updates, visible to another connection at once', () => {
    const store = openStore();
    createRun(store, 'r1');
    store.updateRun('r1', { status: 'running', startedAt: T0 + 1 });
    store.updateStep('r1', 'zeta', { status: 'running', startedAt: T0 + 2, attempts: 1 });
    store.startAttempt({
      runId: 'r1',
      stepId: 'zeta',
      attempt: 1,
      startedAt: T0 + 2,
      logFile: '/logs/zeta.1.log',
    });
    store.updateAttempt('r1', 'zeta', 1, { pid: 4242, containerId: null });
    store.updateAttempt('r1', 'zeta', 1, {
      status: 'failed',
      finishedAt: T0 + 3,
      exitCode: 2,
      error: 'exit code 2',
    });
    store.startAttempt({
      runId: 'r1',
      stepId: 'zeta',
      attempt: 2,
      startedAt: T0 + 4,
      logFile: null,
    });
    store.updateAttempt('r1', 'zeta', 2, { status: 'succeeded', finishedAt: T0 + 5, exitCode: 0 });
    store.updateStep('r1', 'zeta', {
      status: 'succeeded',
      attempts: 2,
      finishedAt: T0 + 5,
      outputs: { version: '1.2.3', empty: '' },
    });
    store.updateStep('r1', 'alpha', { status: 'failed', error: 'exit code 1' });
    store.updateRun('r1', { status: 'failed', finishedAt: T0 + 6, error: 'step alpha failed' });

    // A second connection, without closing the first: every write is already committed.
    const reader = openStore();
    expect(reader.getRun('r1')).toMatchObject({
      status: 'failed',
      startedAt: T0 + 1,
      finishedAt: T0 + 6,
      error: 'step alpha failed',
    });
    expect(reader.getSteps('r1').find((s) => s.id === 'zeta')).toEqual({
      runId: 'r1',
      id: 'zeta',
      kind: 'step',
      status: 'succeeded',
      fingerprint: 'fp-zeta',
      attempts: 2,
      startedAt: T0 + 2,
      finishedAt: T0 + 5,
      error: null,
      outputs: { version: '1.2.3', empty: '' },
      waitingFor: null,
      decision: null,
    });
    expect(reader.getAttempts('r1', 'zeta')).toEqual([
      {
        runId: 'r1',
        stepId: 'zeta',
        attempt: 1,
        status: 'failed',
        startedAt: T0 + 2,
        finishedAt: T0 + 3,
        exitCode: 2,
        error: 'exit code 2',
        pid: 4242,
        containerId: null,
        logFile: '/logs/zeta.1.log',
      },
      {
        runId: 'r1',
        stepId: 'zeta',
        attempt: 2,
        status: 'succeeded',
        startedAt: T0 + 4,
        finishedAt: T0 + 5,
        exitCode: 0,
        error: null,
        pid: null,
        containerId: null,
        logFile: null,
      },
    ]);
    expect(reader.getAttempts('r1').map((a) => `${a.stepId}.${a.attempt}`)).toEqual([
      'zeta.1',
      'zeta.2',
    ]);
  });

  it('rejects updates of runs, steps and attempts that do not exist', () => {
    const store = openStore();
    createRun(store, 'r1');
    expect(() => store.updateRun('nope', { status: 'running' })).toThrow(
      new StoreError('no run "nope" in the store'),
    );
    expect(() => store.updateStep('r1', 'nope', { status: 'running' })).toThrow(
      new StoreError('no step "nope" in run "r1"'),
    );
    expect(() => store.updateAttempt('r1', 'zeta', 1, { status: 'failed' })).toThrow(
      new StoreError('no attempt 1 of step "zeta" in run "r1"'),
    );
    store.startAttempt({ runId: 'r1', stepId: 'zeta', attempt: 1, startedAt: T0, logFile: null });
    expect(() =>
      store.startAttempt({ runId: 'r1', stepId: 'zeta', attempt: 1, startedAt: T0, logFile: null }),
    ).toThrow(/already exists/);
    // An empty patch of an existing row is a no-op, not an error.
    store.updateRun('r1', {});
    expect(store.getRun('r1')?.status).toBe('queued');
  });

  it('adds a step at the end of a resumed run', () => {
    const store = openStore();
    createRun(store, 'r1');
    store.addStep('r1', { id: 'beta', kind: 'step', fingerprint: 'fp-beta' });
    expect(store.getSteps('r1').map((s) => s.id)).toEqual(['db', 'zeta', 'alpha', 'beta']);
    expect(() => store.addStep('r1', { id: 'beta', kind: 'step', fingerprint: 'x' })).toThrow(
      /already has a step "beta"/,
    );
    expect(() => store.addStep('nope', { id: 'x', kind: 'step', fingerprint: 'x' })).toThrow(
      /no run "nope"/,
    );
  });

  it('lists runs newest first, filtered by file and workflow, with a limit', () => {
    const store = openStore();
    createRun(store, 'a', { createdAt: T0 });
    createRun(store, 'b', { createdAt: T0 + 10, workflow: 'deploy' });
    createRun(store, 'c', { createdAt: T0 + 20, file: '/other/agent.yaml' });
    createRun(store, 'd', { createdAt: T0 + 20 });
    expect(store.listRuns().map((r) => r.id)).toEqual(['d', 'c', 'b', 'a']);
    expect(store.listRuns({ workflow: 'ci' }).map((r) => r.id)).toEqual(['d', 'c', 'a']);
    expect(
      store.listRuns({ file: '/project/agent.yaml', workflow: 'ci' }).map((r) => r.id),
    ).toEqual(['d', 'a']);
    expect(store.listRuns({ limit: 2 }).map((r) => r.id)).toEqual(['d', 'c']);
  });

  it('commits a transaction as a whole, joins nested calls, and rolls back on a throw', () => {
    const store = openStore();
    createRun(store, 'r1');
    const result = store.transaction(() => {
      store.updateRun('r1', { status: 'running' });
      store.transaction(() => {
        store.appendEvent({ runId: 'r1', at: T0, type: 'run.started', node: null });
      });
      return 'done';
    });
    expect(result).toBe('done');
    // No runner holds a lease on it: a `running` run reads `interrupted`.
    expect(store.getRun('r1')?.status).toBe('interrupted');

    expect(() =>
      store.transaction(() => {
        store.updateRun('r1', { status: 'failed' });
        store.appendEvent({ runId: 'r1', at: T0, type: 'run.finished', node: null });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.getRun('r1')?.status).toBe('interrupted');
    expect(store.getEvents('r1').map((e) => e.type)).toEqual(['run.started']);

    // A failing inner transaction rolls back only its savepoint when the outer catches it.
    store.transaction(() => {
      try {
        store.transaction(() => {
          store.updateStep('r1', 'alpha', { status: 'running' });
          throw new Error('inner');
        });
      } catch {
        // ignored on purpose: the outer transaction goes on
      }
      store.updateStep('r1', 'zeta', { status: 'running' });
    });
    const byId = Object.fromEntries(store.getSteps('r1').map((s) => [s.id, s.status]));
    expect(byId).toEqual({ db: 'pending', zeta: 'running', alpha: 'pending' });
  });
});

describe('events', () => {
  it('appends events with strictly increasing seq and reads them back in order', () => {
    const store = openStore();
    createRun(store, 'r1');
    createRun(store, 'r2');
    const s1 = store.appendEvent({ runId: 'r1', at: T0, type: 'run.started', node: null });
    const s2 = store.appendEvent({
      runId: 'r2',
      at: T0 + 1,
      type: 'run.started',
      node: null,
    });
    const s3 = store.appendEvent({
      runId: 'r1',
      at: T0 + 2,
      type: 'step.finished',
      node: 'zeta',
      data: { status: 'succeeded', exitCode: 0, nested: { list: [1, 'two', null] } },
    });
    expect(s1).toBeGreaterThan(0);
    expect(s2).toBeGreaterThan(s1);
    expect(s3).toBeGreaterThan(s2);
    expect(store.getEvents('r1')).toEqual([
      { seq: s1, runId: 'r1', at: T0, type: 'run.started', node: null, data: {} },
      {
        seq: s3,
        runId: 'r1',
        at: T0 + 2,
        type: 'step.finished',
        node: 'zeta',
        data: { status: 'succeeded', exitCode: 0, nested: { list: [1, 'two', null] } },
      },
    ]);
    expect(store.getEvents('r1', { afterSeq: s1 }).map((e) => e.seq)).toEqual([s3]);
    expect(store.getEvents('r1', { afterSeq: s3 })).toEqual([]);
  });

  it('never reuses a seq, even after the newest events are deleted', () => {
    const store = openStore();
    createRun(store, 'r1');
    const first = store.appendEvent({ runId: 'r1', at: T0, type: 'a', node: null });
    const raw = new Database(dbPath);
    try {
      raw.prepare('DELETE FROM events WHERE seq = ?').run(first);
    } finally {
      raw.close();
    }
    const second = store.appendEvent({ runId: 'r1', at: T0, type: 'b', node: null });
    expect(second).toBeGreaterThan(first);
  });
});

describe('findResumableRun', () => {
  const filter = { file: '/project/agent.yaml', workflow: 'ci' };

  it('picks the newest failed, cancelled or killed run of that file and workflow', async () => {
    const store = openStore();
    expect(store.findResumableRun(filter)).toBeUndefined();

    createRun(store, 'failed-old', { createdAt: T0 });
    store.updateRun('failed-old', { status: 'failed' });
    expect(store.findResumableRun(filter)?.id).toBe('failed-old');

    createRun(store, 'cancelled', { createdAt: T0 + 10 });
    store.updateRun('cancelled', { status: 'cancelled' });
    expect(store.findResumableRun(filter)?.id).toBe('cancelled');

    // Newer runs that do not qualify are ignored: succeeded, other workflow, other file.
    createRun(store, 'succeeded', { createdAt: T0 + 20 });
    store.updateRun('succeeded', { status: 'succeeded' });
    createRun(store, 'other-workflow', { createdAt: T0 + 30, workflow: 'deploy' });
    store.updateRun('other-workflow', { status: 'failed' });
    createRun(store, 'other-file', { createdAt: T0 + 40, file: '/elsewhere/agent.yaml' });
    store.updateRun('other-file', { status: 'failed' });
    expect(store.findResumableRun(filter)?.id).toBe('cancelled');

    // A running run whose runner holds a live lease is not resumable.
    const now = T0 + 1000;
    createRun(store, 'live', { createdAt: T0 + 50 });
    store.updateRun('live', { status: 'running' });
    store.acquireLease({
      key: 'workflow:ci',
      runId: 'live',
      pid: process.pid,
      host: os.hostname(),
      ttlMs: 60_000,
      now,
    });
    expect(store.findResumableRun({ ...filter, now })?.id).toBe('cancelled');
    // ... until the lease goes stale (expired) ...
    expect(store.findResumableRun({ ...filter, now: now + 60_001 })?.id).toBe('live');
    // ... or is released (the runner is gone without cleaning up its run).
    store.releaseLease('workflow:ci', 'live');
    expect(store.findResumableRun({ ...filter, now })?.id).toBe('live');

    // A running run whose runner pid on this host is dead (kill -9) is resumable at once.
    createRun(store, 'killed', { createdAt: T0 + 60 });
    store.updateRun('killed', { status: 'running' });
    store.acquireLease({
      key: 'workflow:ci',
      runId: 'killed',
      pid: await deadPid(),
      host: os.hostname(),
      ttlMs: 60_000,
      now,
    });
    expect(store.findResumableRun({ ...filter, now })?.id).toBe('killed');
  });
});

describe('leases', () => {
  const key = 'workflow:/project/agent.yaml#ci';
  const host = os.hostname();

  it('a second store cannot take a live lease; it gets the holder in a LockedError', () => {
    const first = openStore();
    const second = openStore();
    first.acquireLease({ key, runId: 'r1', pid: process.pid, host, ttlMs: 30_000, now: T0 });
    const err = catchError(() =>
      second.acquireLease({ key, runId: 'r2', pid: process.pid, host, ttlMs: 30_000, now: T0 + 5 }),
    );
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).name).toBe('LockedError');
    expect((err as LockedError).holder).toEqual({
      runId: 'r1',
      pid: process.pid,
      host,
      heartbeatAt: T0,
    });
    expect((err as LockedError).message).toBe(
      `the workflow is locked by run r1 (pid ${process.pid} on ${host}, last heartbeat ${new Date(T0).toISOString()})`,
    );
    expect(second.getLease(key)).toEqual({
      key,
      runId: 'r1',
      pid: process.pid,
      host,
      acquiredAt: T0,
      heartbeatAt: T0,
      expiresAt: T0 + 30_000,
    });
  });

  it('heartbeats extend a lease; another store can take it once it expired', () => {
    const first = openStore();
    const second = openStore();
    first.acquireLease({ key, runId: 'r1', pid: process.pid, host, ttlMs: 1000, now: T0 });
    first.renewLease(key, 'r1', 1000, T0 + 900);
    expect(first.getLease(key)).toMatchObject({ heartbeatAt: T0 + 900, expiresAt: T0 + 1900 });
    // Not yet expired at T0 + 1500 thanks to the heartbeat.
    expect(() =>
      second.acquireLease({
        key,
        runId: 'r2',
        pid: process.pid,
        host,
        ttlMs: 1000,
        now: T0 + 1500,
      }),
    ).toThrow(LockedError);
    // Expired: taken over.
    second.acquireLease({ key, runId: 'r2', pid: process.pid, host, ttlMs: 1000, now: T0 + 1901 });
    expect(second.getLease(key)).toMatchObject({ runId: 'r2', acquiredAt: T0 + 1901 });
    // The old holder learns it lost the lease on its next heartbeat, and its release is a no-op.
    const err = catchError(() => first.renewLease(key, 'r1', 1000, T0 + 2000));
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).holder.runId).toBe('r2');
    first.releaseLease(key, 'r1');
    expect(second.getLease(key)?.runId).toBe('r2');
    // The holder releases it; then anyone can take it.
    second.releaseLease(key, 'r2');
    expect(second.getLease(key)).toBeUndefined();
    first.acquireLease({ key, runId: 'r3', pid: process.pid, host, ttlMs: 1000, now: T0 + 2100 });
    expect(first.getLease(key)?.runId).toBe('r3');
  });

  it('re-acquiring by the same holder refreshes the lease and keeps acquiredAt', () => {
    const store = openStore();
    store.acquireLease({ key, runId: 'r1', pid: process.pid, host, ttlMs: 1000, now: T0 });
    store.acquireLease({ key, runId: 'r1', pid: process.pid, host, ttlMs: 1000, now: T0 + 500 });
    expect(store.getLease(key)).toMatchObject({
      acquiredAt: T0,
      heartbeatAt: T0 + 500,
      expiresAt: T0 + 1500,
    });
  });

  it('takes over an unexpired lease whose holder pid on this host is dead', async () => {
    const first = openStore();
    const second = openStore();
    const pid = await deadPid();
    first.acquireLease({ key, runId: 'r1', pid, host, ttlMs: 60_000, now: T0 });
    second.acquireLease({ key, runId: 'r2', pid: process.pid, host, ttlMs: 60_000, now: T0 + 1 });
    expect(second.getLease(key)).toMatchObject({ runId: 'r2', pid: process.pid });
  });

  it('does not judge a pid on another host: that lease stays until it expires', async () => {
    const first = openStore();
    const second = openStore();
    const pid = await deadPid();
    first.acquireLease({ key, runId: 'r1', pid, host: 'other-host', ttlMs: 60_000, now: T0 });
    expect(() =>
      second.acquireLease({ key, runId: 'r2', pid: process.pid, host, ttlMs: 60_000, now: T0 + 1 }),
    ).toThrow(LockedError);
    second.acquireLease({
      key,
      runId: 'r2',
      pid: process.pid,
      host,
      ttlMs: 60_000,
      now: T0 + 60_001,
    });
    expect(second.getLease(key)?.runId).toBe('r2');
  });

  it('a heartbeat re-takes a lease nobody holds', () => {
    const store = openStore();
    store.renewLease(key, 'r1', 1000, T0);
    expect(store.getLease(key)).toMatchObject({ runId: 'r1', pid: process.pid, host });
  });
});

describe('deleteRuns', () => {
  it('never deletes a run a live lease names, even when asked to', () => {
    const store = openStore();
    createRun(store, 'live');
    createRun(store, 'done');
    store.acquireLease({
      key: 'wf',
      runId: 'live',
      pid: process.pid,
      host: os.hostname(),
      ttlMs: 60_000,
      now: Date.now(),
    });
    const result = store.deleteRuns(['live', 'done']);
    expect(result.runs).toEqual(['done']);
    expect(store.getRun('live')).toBeDefined();
    expect(store.getRun('done')).toBeUndefined();
    expect(store.getLease('wf')?.runId).toBe('live');
  });
});
