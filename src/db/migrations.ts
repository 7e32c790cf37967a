/**
 * The one migration runner for every database Mullet owns (the market store, the agent's state,
 * the console's identities). A database's schema is an ordered list of migrations; the table
 * `schema_version` records each one applied; opening a database applies the missing ones, each in
 * its own transaction, and refuses a database written by a newer Mullet. Never edit a released
 * migration: append a new one.
 */
import type Database from 'better-sqlite3';
import { MulletError } from '../core/errors.js';

export interface Migration {
  version: number;
  description: string;
  /** The statements of this step (one transaction with the version row). */
  sql: string;
}

/** The schema version a migration list leads to (its last entry's). */
export function schemaVersion(migrations: readonly Migration[]): number {
  return migrations[migrations.length - 1]?.version ?? 0;
}

/**
 * The DDL of a version table, the same in every dialect Mullet uses (SQLite, PostgreSQL). A database
 * holds one table per migration list: `schema_version` for its owner, another name for a component
 * that keeps its own tables in the same file (e.g. the industry facts beside the market store).
 */
export function schemaVersionDdl(table = 'schema_version'): string {
  if (!/^[a-z_]+$/.test(table)) throw new MulletError('INTERNAL', `bad version table name '${table}'`);
  return `CREATE TABLE IF NOT EXISTS ${table} (
  version       INTEGER PRIMARY KEY,
  description   TEXT NOT NULL,
  applied_at_ms BIGINT NOT NULL
)`;
}
export const SCHEMA_VERSION_DDL = schemaVersionDdl();

/** The refusal when a database is newer than this code. */
export function newerSchemaError(what: string, current: number, known: number): MulletError {
  return new MulletError('IO', `${what} schema version ${current} is newer than this Mullet understands (${known}); upgrade Mullet`);
}

/** Checks the list is strictly ascending (a programming error otherwise). */
function checkOrder(what: string, migrations: readonly Migration[]): void {
  for (let i = 1; i < migrations.length; i++) {
    if ((migrations[i] as Migration).version <= (migrations[i - 1] as Migration).version) throw new MulletError('INTERNAL', `${what} migrations are not in ascending version order at index ${i}`);
  }
}

/**
 * Applies the pending migrations of `migrations` to a SQLite database (better-sqlite3, synchronous);
 * `what` names the database in errors (e.g. 'market database'). Returns the version reached.
 */
export function migrateSqlite(db: Database.Database, what: string, migrations: readonly Migration[], nowMs: number, versionTable = 'schema_version'): number {
  checkOrder(what, migrations);
  const known = schemaVersion(migrations);
  db.exec(schemaVersionDdl(versionTable));
  const current = db.prepare<[], { v: number | null }>(`SELECT MAX(version) AS v FROM ${versionTable}`).get()?.v ?? 0;
  if (current > known) throw newerSchemaError(what, current, known);
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare(`INSERT INTO ${versionTable} (version, description, applied_at_ms) VALUES (?, ?, ?)`).run(m.version, m.description, nowMs);
    })();
  }
  return known;
}
