/**
 * The local PostgreSQL server for tests (127.0.0.1:5432, trust auth, database `test`; override with
 * MULLET_TEST_PG_URL). Each test works in a schema of its own with a random name, dropped afterwards,
 * so suites running in parallel never see each other's tables.
 *
 * An unreachable server FAILS the suite with a clear message: the server is part of the test
 * environment (CI starts nothing extra). MULLET_SKIP_PG=1 skips the PostgreSQL suites instead, for a
 * machine without it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_PG_URL = process.env.MULLET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when MULLET_SKIP_PG=1: the PostgreSQL suites are skipped (documented in store/README.md). */
export const skipPg = process.env.MULLET_SKIP_PG === '1';
export const SKIP_PG_REASON = 'MULLET_SKIP_PG=1';

/** A client with a connect deadline and a statement deadline, for test set-up and checks. */
export function testPgClient(): pg.Client {
  return new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5_000, statement_timeout: 30_000, query_timeout: 35_000 });
}

/** Fails with a message that says what to do when the test server is not there. */
export async function requirePg(): Promise<void> {
  const c = testPgClient();
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_PG_URL} (${err instanceof Error ? err.message : String(err)}); start it, point MULLET_TEST_PG_URL at one, or set MULLET_SKIP_PG=1 to skip the PostgreSQL suites`,
      { cause: err },
    );
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A fresh random schema name: mullet_test_<16 hex>. */
export function randomSchemaName(): string {
  return `mullet_test_${randomBytes(8).toString('hex')}`;
}

/** Creates the schema `name` (empty). */
export async function createSchema(name: string): Promise<void> {
  await withClient((c) => c.query(`CREATE SCHEMA ${pg.escapeIdentifier(name)}`));
}

/** Drops the schemas `names` with everything in them. */
export async function dropSchemas(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await withClient((c) => c.query(`DROP SCHEMA IF EXISTS ${names.map((n) => pg.escapeIdentifier(n)).join(', ')} CASCADE`));
}

export async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = testPgClient();
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
