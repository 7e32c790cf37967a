import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/time.js';
import { emptyBatch } from '../market/types.js';
import type { MarketStore } from '../market/store-port.js';
import { SKIP_PG_REASON, TEST_PG_URL, dropSchemas, randomSchemaName, requirePg, skipPg, withClient } from '../testing/pg.js';
import { runMarketStoreContract } from './market-store.contract.js';
import { PG_SCHEMA_VERSION } from './pg-schema.js';
import { isPostgresUrl, parsePgLocation, redactUrl } from './location.js';
import { openExistingStore } from './open-existing.js';
import { openPgMarketStore } from './pg-store.js';

// Every store of this file works in a schema of its own with a random name, dropped at the end.
const schemas: string[] = [];
function freshStore(options: { clock?: FakeClock } = {}): Promise<MarketStore> {
  const schema = randomSchemaName();
  schemas.push(schema);
  return openPgMarketStore({ connectionString: TEST_PG_URL, schema, maxConnections: 3, statementTimeoutMs: 30_000, ...options });
}

describe.skipIf(skipPg)(`PostgreSQL market store (local server; skipped only with ${SKIP_PG_REASON})`, () => {
  beforeAll(requirePg, 15_000);
  afterAll(() => dropSchemas(schemas), 30_000);

  runMarketStoreContract('PostgreSQL', () => freshStore());

  describe('PostgreSQL specifics', { timeout: 30_000 }, () => {
    it('migrates an empty schema to the current version, stamped by the injected clock, and keeps data across reopen', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      const store = await openPgMarketStore({ connectionString: TEST_PG_URL, schema, clock: new FakeClock(1_700_000_000_000) });
      await store.ingest('x.csv', {
        ...emptyBatch('t'),
        prices: [{ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', intervalStartMs: 1_704_088_800_000, intervalMinutes: 15, priceUsdPerMWh: 12.5 }],
      });
      await store.close();
      const rows = await withClient(async (c) => (await c.query<{ version: number; at: number }>(`SELECT version, applied_at_ms::float8 AS at FROM ${pg.escapeIdentifier(schema)}.schema_version ORDER BY version`)).rows);
      expect(rows).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => ({ version: i + 1, at: 1_700_000_000_000 })));
      const again = await openPgMarketStore({ connectionString: TEST_PG_URL, schema });
      expect(await again.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })).toEqual([
        { market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', intervalStartMs: 1_704_088_800_000, intervalMinutes: 15, priceUsdPerMWh: 12.5, source: 't' },
      ]);
      await again.close();
    });

    it('refuses a schema written by a newer Mullet', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      await (await openPgMarketStore({ connectionString: TEST_PG_URL, schema })).close();
      await withClient((c) => c.query(`INSERT INTO ${pg.escapeIdentifier(schema)}.schema_version VALUES ($1, 'future', 0)`, [PG_SCHEMA_VERSION + 1]));
      await expect(openPgMarketStore({ connectionString: TEST_PG_URL, schema })).rejects.toThrow(/newer than this Mullet/);
    });

    it('rolls back everything, new sources and series included, when PostgreSQL fails mid-import', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      await (await openPgMarketStore({ connectionString: TEST_PG_URL, schema })).close();
      const s = pg.escapeIdentifier(schema);
      await withClient(async (c) => {
        await c.query(`CREATE FUNCTION ${s}.fail_on_999() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.usd_per_mwh = 999 THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
        await c.query(`CREATE TRIGGER fail_on_999 BEFORE INSERT ON ${s}.prices FOR EACH ROW EXECUTE FUNCTION ${s}.fail_on_999()`);
      });
      const store = await openPgMarketStore({ connectionString: TEST_PG_URL, schema });
      const t = Date.parse('2024-01-01T06:00:00Z');
      const p = (point: string, price: number, source: string) => ({ market: 'ERCOT', settlementPoint: point, kind: 'RT' as const, intervalStartMs: t, intervalMinutes: 15, priceUsdPerMWh: price, source });
      await expect(store.ingest('x.csv', { ...emptyBatch('t'), prices: [p('HB_NORTH', 1, 'first-source'), p('HB_WEST', 999, 'first-source')] })).rejects.toThrow(/nothing written.*injected failure/);
      expect(await store.coverage()).toEqual([]);
      const ok = await store.ingest('y.csv', { ...emptyBatch('t'), prices: [p('HB_NORTH', 2, 'second-source')] });
      expect(ok.inserted.prices).toBe(1);
      expect((await store.coverage()).map((c) => [c.series, c.sources])).toEqual([['ERCOT HB_NORTH RT 15min', ['second-source']]]);
      await store.close();
    });

    it('takes one import at a time per store, and serialises imports of two processes into one schema', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      const a = await openPgMarketStore({ connectionString: TEST_PG_URL, schema });
      const b = await openPgMarketStore({ connectionString: TEST_PG_URL, schema });
      try {
        const t = Date.parse('2024-01-01T06:00:00Z');
        const batch = (price: number) => ({ ...emptyBatch('t'), prices: [{ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT' as const, intervalStartMs: t, intervalMinutes: 15, priceUsdPerMWh: price }] });
        const first = await a.beginImport('a.csv', 't');
        await expect(a.beginImport('again.csv', 't')).rejects.toThrow(/already open/);
        await first.add(batch(1));
        // b's import waits for a's transaction (advisory lock); it then sees a's row and changes it.
        const second = b.ingest('b.csv', batch(2));
        const firstReport = await first.commit();
        const secondReport = await second;
        expect([firstReport.inserted.prices, secondReport.inserted.prices, secondReport.changed]).toEqual([1, 1, 1]);
        expect((await a.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: t, toMs: t + 1 })).map((p) => p.priceUsdPerMWh)).toEqual([2]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('fails clearly on a server that is not there, without the password', async () => {
      await expect(openPgMarketStore({ connectionString: 'postgres://u:secret@127.0.0.1:1/test' })).rejects.toThrow(/cannot open market database/);
      await expect(openPgMarketStore({ connectionString: 'postgres://u:secret@127.0.0.1:1/test' })).rejects.not.toThrow(/secret/);
      expect(redactUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
      expect([isPostgresUrl('postgres://h/db'), isPostgresUrl('postgresql://h/db'), isPostgresUrl('./mullet.db')]).toEqual([true, true, false]);
      await expect(openPgMarketStore({ connectionString: TEST_PG_URL, schema: 'Bad; DROP' })).rejects.toThrow(/schema must be/);
      expect(parsePgLocation('postgres://h/db?schema=site_a')).toEqual({ connectionString: 'postgres://h/db', schema: 'site_a' });
    });

    it('opens an existing store by URL for reading, and refuses a schema without the market tables', async () => {
      const schema = randomSchemaName();
      schemas.push(schema);
      await withClient((c) => c.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`));
      await expect(openExistingStore(`${TEST_PG_URL}?schema=${schema}`)).rejects.toThrow(/has no market tables/);
      await (await openPgMarketStore({ connectionString: TEST_PG_URL, schema })).close();
      const store = await openExistingStore(`${TEST_PG_URL}?schema=${schema}`);
      expect(await store.coverage()).toEqual([]);
      await store.close();
    });
  });
});
