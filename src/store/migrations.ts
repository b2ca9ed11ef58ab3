/**
 * Numbered schema migrations of the state store.
 *
 * The schema version lives in SQLite's `PRAGMA user_version` (0 for a new
 * file). Each migration runs in its own `BEGIN IMMEDIATE` transaction together
 * with the `user_version` bump, so a crash leaves the file at the previous
 * version, never half-migrated, and two processes opening a new file at once
 * cannot both apply the same migration. Migrations are append-only: never
 * edit one that has been released, add the next number instead.
 *
 * Model: graphile/worker's numbered SQL migrations applied in a transaction.
 */

import type Database from 'better-sqlite3';
import { StoreError } from './types.js';

/** One schema migration: `version` is 1-based and consecutive. */
export interface Migration {
  version: number;
  /** Short description, for humans reading the code. */
  name: string;
  /** One or more SQL statements, run with `exec`. */
  sql: string;
}

/** Every migration, in order. The last one's version is {@link SCHEMA_VERSION}. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, steps, attempts, events, leases',
    sql: `
      CREATE TABLE runs (
        id               TEXT PRIMARY KEY,
        workflow         TEXT NOT NULL,
        file             TEXT NOT NULL,
        status           TEXT NOT NULL,
        plan_fingerprint TEXT NOT NULL,
        created_at       INTEGER NOT NULL,
        started_at       INTEGER,
        finished_at      INTEGER,
        error            TEXT
      );
      CREATE INDEX runs_by_workflow ON runs (file, workflow, created_at);
      CREATE INDEX runs_by_created ON runs (created_at);

      CREATE TABLE steps (
        run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        id          TEXT NOT NULL,
        position    INTEGER NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('step', 'service')),
        status      TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        started_at  INTEGER,
        finished_at INTEGER,
        error       TEXT,
        outputs     TEXT,
        PRIMARY KEY (run_id, id)
      ) WITHOUT ROWID;
      CREATE INDEX steps_by_position ON steps (run_id, position);

      CREATE TABLE attempts (
        run_id       TEXT NOT NULL,
        step_id      TEXT NOT NULL,
        attempt      INTEGER NOT NULL,
        status       TEXT NOT NULL,
        started_at   INTEGER NOT NULL,
        finished_at  INTEGER,
        exit_code    INTEGER,
        error        TEXT,
        pid          INTEGER,
        container_id TEXT,
        log_file     TEXT,
        PRIMARY KEY (run_id, step_id, attempt),
        FOREIGN KEY (run_id, step_id) REFERENCES steps (run_id, id) ON DELETE CASCADE
      ) WITHOUT ROWID;

      CREATE TABLE events (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        at     INTEGER NOT NULL,
        type   TEXT NOT NULL,
        node   TEXT,
        data   TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX events_by_run ON events (run_id, seq);

      CREATE TABLE leases (
        key          TEXT PRIMARY KEY,
        run_id       TEXT NOT NULL,
        pid          INTEGER NOT NULL,
        host         TEXT NOT NULL,
        acquired_at  INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
      );
      CREATE INDEX leases_by_run ON leases (run_id);
    `,
  },
  {
    version: 2,
    name: 'control requests, approvals, queued runs',
    sql: `
      ALTER TABLE runs ADD COLUMN requested TEXT;
      ALTER TABLE steps ADD COLUMN waiting_for TEXT;
      ALTER TABLE steps ADD COLUMN decision TEXT;
      UPDATE runs SET status = 'queued' WHERE status = 'pending';
      CREATE INDEX runs_by_status ON runs (status, created_at);
    `,
  },
  {
    version: 3,
    name: 'run inputs and session count',
    sql: `
      ALTER TABLE runs ADD COLUMN inputs TEXT;
      ALTER TABLE runs ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0;
    `,
  },
];

/** The schema version this build of agentfile writes and understands. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Brings the database up to {@link SCHEMA_VERSION}, one transaction per
 * migration. Returns the versions that were applied (empty when up to date).
 *
 * @throws StoreError when the file's version is newer than this build knows
 *   (it was written by a newer agentfile).
 * @throws SqliteError from better-sqlite3 for anything else; the caller maps it.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const current = userVersion(db);
  if (current > latest) throw newerSchemaError(current, latest);
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    const apply = db.transaction(() => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const now = userVersion(db);
      if (now > latest) throw newerSchemaError(now, latest);
      if (now >= m.version) return false;
      if (now !== m.version - 1) {
        throw new StoreError(
          `state store schema is at version ${now}, cannot apply migration ${m.version}`,
        );
      }
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
      return true;
    });
    if (apply.immediate()) applied.push(m.version);
  }
  return applied;
}

function userVersion(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

function newerSchemaError(found: number, known: number): StoreError {
  return new StoreError(
    `the state store has schema version ${found}, newer than this agentfile understands (${known})`,
    'upgrade agentfile, or point --state / AGENTFILE_STATE at another file',
  );
}
