import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_PG_REASON, TEST_PG_URL, createSchema, dropSchemas, randomSchemaName, requirePg, skipPg } from '../testing/pg.js';
import { migratePostgres, type Migration } from './migrations.js';

const M: Migration[] = [
  { version: 1, description: 'a table', sql: 'CREATE TABLE a (x INTEGER)' },
  { version: 2, description: 'a column', sql: 'ALTER TABLE a ADD COLUMN y TEXT' },
];

const schemas: string[] = [];
const pools: pg.Pool[] = [];

/** A pool whose every connection works in a new, empty schema. */
async function emptySchemaPool(): Promise<pg.Pool> {
  const schema = randomSchemaName();
  schemas.push(schema);
  await createSchema(schema);
  const pool = new pg.Pool({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}`, connectionTimeoutMillis: 5_000, statement_timeout: 30_000, max: 4 });
  pools.push(pool);
  return pool;
}

describe.skipIf(skipPg)(`migratePostgres (local server; skipped only with ${SKIP_PG_REASON})`, { timeout: 30_000 }, () => {
  beforeAll(requirePg, 15_000);
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await dropSchemas(schemas);
  }, 15_000);

  it('applies every migration to an empty schema, once, and records each', async () => {
    const pool = await emptySchemaPool();
    expect(await migratePostgres(pool, 'test database', M, 5)).toBe(2);
    expect(await migratePostgres(pool, 'test database', M, 6)).toBe(2);
    const rows = (await pool.query('SELECT version, description, applied_at_ms::float8 AS applied_at_ms FROM schema_version ORDER BY version')).rows;
    expect(rows).toEqual([
      { version: 1, description: 'a table', applied_at_ms: 5 },
      { version: 2, description: 'a column', applied_at_ms: 5 },
    ]);
    await pool.query(`INSERT INTO a (x, y) VALUES (1, 'ok')`);
  });

  it('applies only the missing ones to an older schema, on a pool or on one client', async () => {
    const pool = await emptySchemaPool();
    await migratePostgres(pool, 'test database', M.slice(0, 1), 1);
    const client = await pool.connect();
    try {
      await migratePostgres(client, 'test database', M, 2);
    } finally {
      client.release();
    }
    expect((await pool.query('SELECT version, applied_at_ms::float8 AS at FROM schema_version ORDER BY version')).rows).toEqual([
      { version: 1, at: 1 },
      { version: 2, at: 2 },
    ]);
  });

  it('refuses a schema written by a newer Mullet, naming it', async () => {
    const pool = await emptySchemaPool();
    await migratePostgres(pool, 'test database', M, 1);
    await expect(migratePostgres(pool, 'test database', M.slice(0, 1), 1)).rejects.toThrow(/test database schema version 2 is newer than this Mullet understands \(1\)/);
  });

  it('rolls a failed step back whole (its statements and its version row)', async () => {
    const pool = await emptySchemaPool();
    const bad: Migration[] = [...M, { version: 3, description: 'broken', sql: 'CREATE TABLE b (z INTEGER); CREATE TABLE a (dup INTEGER)' }];
    await expect(migratePostgres(pool, 'test database', bad, 1)).rejects.toThrow(/already exists/);
    expect((await pool.query(`SELECT to_regclass('b') AS b`)).rows).toEqual([{ b: null }]);
    expect((await pool.query('SELECT MAX(version) AS v FROM schema_version')).rows).toEqual([{ v: 2 }]);
    // The connection went back to the pool usable (no transaction left open, lock released).
    expect(await migratePostgres(pool, 'test database', M, 1)).toBe(2);
  });

  it('serialises processes migrating the same schema at once (advisory lock): each step applied once', async () => {
    const pool = await emptySchemaPool();
    // A slow first step widens the window in which an unlocked runner would apply it twice.
    const slow: Migration[] = [{ version: 1, description: 'slow', sql: 'SELECT pg_sleep(0.2); CREATE TABLE a (x INTEGER)' }, M[1] as Migration];
    const others = [new pg.Pool({ connectionString: TEST_PG_URL, options: `-c search_path=${schemas[schemas.length - 1] ?? ''}`, connectionTimeoutMillis: 5_000, max: 1 })];
    pools.push(...others);
    const results = await Promise.all([migratePostgres(pool, 'test database', slow, 1), ...others.map((p) => migratePostgres(p, 'test database', slow, 2)), migratePostgres(pool, 'test database', slow, 3)]);
    expect(results).toEqual([2, 2, 2]);
    expect((await pool.query('SELECT COUNT(*)::int AS n FROM schema_version')).rows).toEqual([{ n: 2 }]);
  });
});
