import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/time.js';
import { emptyBatch } from '../market/types.js';
import { runMarketStoreContract } from './market-store.contract.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { openMarketStore } from './sqlite-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

runMarketStoreContract('SQLite in memory', () => openMarketStore(':memory:'));
runMarketStoreContract('SQLite file (WAL)', () => openMarketStore(path.join(dir, `contract-${n++}.db`)));

describe('SQLite market store specifics', () => {
  it('creates the schema with a version row, in WAL mode, and keeps data across reopen', async () => {
    const file = path.join(dir, 'reopen.db');
    const store = await openMarketStore(file, { clock: new FakeClock(1_700_000_000_000) });
    await store.ingest('x.csv', {
      ...emptyBatch('t'),
      prices: [{ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', intervalStartMs: 1_704_088_800_000, intervalMinutes: 15, priceUsdPerMWh: 12.5 }],
    });
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT version, applied_at_ms FROM schema_version').all()).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1, applied_at_ms: 1_700_000_000_000 })),
    );
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = await openMarketStore(file);
    expect(await again.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })).toHaveLength(1);
    await again.close();
  });

  it('upgrades a version-1 database in place (the 4CP interval table is added, data kept)', async () => {
    const file = path.join(dir, 'v1.db');
    const db = new Database(file);
    db.exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)`);
    db.transaction(() => {
      db.exec((MIGRATIONS[0] as { sql: string }).sql);
      db.prepare('INSERT INTO schema_version VALUES (1, ?, 0)').run('v1');
    })();
    db.close();
    const store = await openMarketStore(file);
    expect(await store.fourCpIntervals({ market: 'ERCOT' })).toEqual([]);
    await store.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT MAX(version) AS v FROM schema_version').get()).toEqual({ v: SCHEMA_VERSION });
    check.close();
  });

  it('refuses a database from a newer schema', async () => {
    const file = path.join(dir, 'newer.db');
    await (await openMarketStore(file)).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_version (version, description, applied_at_ms) VALUES (?, ?, ?)').run(SCHEMA_VERSION + 1, 'future', 0);
    db.close();
    await expect(openMarketStore(file)).rejects.toThrow(/newer than this Mullet/);
  });

  it('reports an unopenable path as an IO error', async () => {
    await expect(openMarketStore(path.join(dir, 'no', 'such', 'dir', 'x.db'))).rejects.toThrow(/cannot open market database/);
  });

  it('rolls back everything, new sources and series included, when SQLite fails mid-import', async () => {
    const file = path.join(dir, 'rollback.db');
    await (await openMarketStore(file)).close();
    const db = new Database(file);
    db.exec(`CREATE TRIGGER fail_on_999 BEFORE INSERT ON prices WHEN NEW.usd_per_mwh = 999 BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    db.close();
    const store = await openMarketStore(file);
    const t = Date.parse('2024-01-01T06:00:00Z');
    const p = (point: string, price: number, source: string) => ({ market: 'ERCOT', settlementPoint: point, kind: 'RT' as const, intervalStartMs: t, intervalMinutes: 15, priceUsdPerMWh: price, source });
    await expect(store.ingest('x.csv', { ...emptyBatch('t'), prices: [p('HB_NORTH', 1, 'first-source'), p('HB_WEST', 999, 'first-source')] })).rejects.toThrow(/nothing written.*injected failure/);
    expect(await store.coverage()).toEqual([]);
    const ok = await store.ingest('y.csv', { ...emptyBatch('t'), prices: [p('HB_NORTH', 2, 'second-source')] });
    expect(ok.inserted.prices).toBe(1);
    expect((await store.coverage()).map((c) => [c.series, c.sources])).toEqual([['ERCOT HB_NORTH RT 15min', ['second-source']]]);
    await store.close();
  });

  it('prefers the finest interval when a point has several, unless one is asked for', async () => {
    const store = await openMarketStore(':memory:');
    const t = Date.parse('2024-01-01T06:00:00Z');
    await store.ingest('x.csv', {
      ...emptyBatch('t'),
      prices: [
        { market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', intervalStartMs: t, intervalMinutes: 60, priceUsdPerMWh: 20 },
        { market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', intervalStartMs: t, intervalMinutes: 15, priceUsdPerMWh: 10 },
      ],
    });
    const q = { market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT' as const, fromMs: t, toMs: t + 3_600_000 };
    expect((await store.prices(q)).map((p) => p.intervalMinutes)).toEqual([15]);
    expect((await store.prices({ ...q, intervalMinutes: 60 })).map((p) => p.priceUsdPerMWh)).toEqual([20]);
    expect(await store.prices({ ...q, intervalMinutes: 5 })).toEqual([]);
    await store.close();
  });
});
