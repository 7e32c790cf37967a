/**
 * The one migration runner for every database Mullet owns (the market store, the agent's state,
 * the console's identities). A database's schema is an ordered list of migrations; the table
 * `schema_version` records each one applied; opening a database applies the missing ones, each in
 * its own transaction, and refuses a database written by a newer Mullet. Never edit a released
 * migration: append a new one. `migrateSqlite` runs it on better-sqlite3, `migratePostgres` on pg.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
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

/** A pg pool, or one connected client (a Client or a pool's PoolClient). */
export type PgTarget = pg.Pool | pg.ClientBase;

/**
 * Applies the pending migrations of `migrations` to the current schema (search_path) of a
 * PostgreSQL database; `what` names the database in errors. The same version table and refusal as
 * SQLite. Two processes migrating the same schema at once serialise on a session advisory lock
 * (keyed by the schema and `what`), so neither sees a half-applied step or creates a table twice.
 * Every step runs in its own transaction with its version row. Returns the version reached.
 */
export async function migratePostgres(target: PgTarget, what: string, migrations: readonly Migration[], nowMs: number): Promise<number> {
  checkOrder(what, migrations);
  const known = schemaVersion(migrations);
  // Duck-typed so that SQLite-only users never load pg: only a Pool counts its clients.
  const pooled = isPool(target);
  const client: pg.ClientBase = isPool(target) ? await target.connect() : target;
  let broken = false;
  try {
    // Session-level (not transaction-level): it must span the version read and every step.
    await client.query(`SELECT pg_advisory_lock(hashtext('mullet-migrations:' || current_schema() || ':' || $1))`, [what]);
    try {
      await client.query(SCHEMA_VERSION_DDL);
      const res = await client.query<{ v: number | string | null }>('SELECT MAX(version) AS v FROM schema_version');
      const current = Number(res.rows[0]?.v ?? 0);
      if (current > known) throw newerSchemaError(what, current, known);
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_version (version, description, applied_at_ms) VALUES ($1, $2, $3)', [m.version, m.description, nowMs]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          throw err;
        }
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('mullet-migrations:' || current_schema() || ':' || $1))`, [what]).catch(() => {
        broken = true;
      });
    }
  } finally {
    // A connection whose rollback or unlock failed is not handed back to the pool for reuse.
    if (pooled) (client as pg.PoolClient).release(broken);
  }
  return known;
}

function isPool(target: PgTarget): target is pg.Pool {
  return typeof (target as Partial<pg.Pool>).totalCount === 'number';
}
