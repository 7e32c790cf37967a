/**
 * The contract every MarketStore implementation passes (SQLite now, PostgreSQL later): call
 * `runMarketStoreContract(name, factory)` from the implementation's test file. The factory must
 * return an EMPTY store each time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMulletError } from '../core/errors.js';
import { MS_PER_HOUR, MS_PER_MINUTE } from '../core/time.js';
import { emptyBatch, type ParsedBatch, type PricePoint } from '../market/types.js';
import type { MarketStore } from '../market/store-port.js';

const T0 = Date.parse('2024-01-01T06:00:00Z');
const Q = 15 * MS_PER_MINUTE;

function rt(point: string, startMs: number, price: number, source?: string): PricePoint {
  return { market: 'ERCOT', settlementPoint: point, kind: 'RT', intervalStartMs: startMs, intervalMinutes: 15, priceUsdPerMWh: price, ...(source === undefined ? {} : { source }) };
}

function da(startMs: number, price: number, source: string): PricePoint {
  return { market: 'ERCOT', settlementPoint: 'HB_HUBAVG', kind: 'DA', intervalStartMs: startMs, intervalMinutes: 60, priceUsdPerMWh: price, source };
}

function priceBatch(prices: PricePoint[], provider = 'eia'): ParsedBatch {
  return { ...emptyBatch('test-format'), provider, prices };
}

/** Runs the shared suite against `factory()` (a fresh, empty store per test). */
export function runMarketStoreContract(name: string, factory: () => MarketStore | Promise<MarketStore>): void {
  describe(`MarketStore contract: ${name}`, () => {
    let store: MarketStore;
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    const westRt = (fromMs = T0, toMs = T0 + 100 * Q) => store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs, toMs });

    it('reads back what it ingested, sorted, over a half-open range', async () => {
      const r = await store.ingest('a.csv', priceBatch([rt('HB_WEST', T0 + Q, 20), rt('HB_WEST', T0, 10), rt('HB_WEST', T0 + 2 * Q, 30)]));
      expect(r.inserted.prices).toBe(3);
      expect(r.unchanged).toBe(0);
      expect(r.source).toBe('test-format');
      expect((await westRt()).map((p) => [p.intervalStartMs - T0, p.priceUsdPerMWh])).toEqual([
        [0, 10],
        [Q, 20],
        [2 * Q, 30],
      ]);
      expect((await westRt(T0 + Q, T0 + 2 * Q)).map((p) => p.priceUsdPerMWh)).toEqual([20]);
      expect((await westRt())[0]).toMatchObject({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', intervalMinutes: 15, source: 'eia' });
      expect(await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'DA', fromMs: T0, toMs: T0 + MS_PER_HOUR })).toEqual([]);
    });

    it('is idempotent: the same batch again writes nothing', async () => {
      const batch = priceBatch([rt('HB_WEST', T0, 10), rt('HB_WEST', T0 + Q, 20)]);
      await store.ingest('a.csv', batch);
      const again = await store.ingest('a.csv', batch);
      expect(again.inserted).toEqual({ prices: 0, loads: 0, btcDays: 0, epochs: 0, fourCpIntervals: 0, asPrices: 0 });
      expect(again.unchanged).toBe(2);
      expect(again.changed).toBe(0);
      expect(await westRt()).toHaveLength(2);
    });

    it('counts a changed value as written and changed, and keeps the new value', async () => {
      await store.ingest('a.csv', priceBatch([rt('HB_WEST', T0, 10), rt('HB_WEST', T0 + Q, 20)]));
      const r = await store.ingest('b.csv', priceBatch([rt('HB_WEST', T0, 10), rt('HB_WEST', T0 + Q, 21), rt('HB_WEST', T0 + 2 * Q, 30)]));
      expect(r.inserted.prices).toBe(2);
      expect(r.changed).toBe(1);
      expect(r.unchanged).toBe(1);
      expect((await westRt()).map((p) => p.priceUsdPerMWh)).toEqual([10, 21, 30]);
    });

    it('writes nothing when any record is invalid, and says which', async () => {
      await store.ingest('a.csv', priceBatch([rt('HB_WEST', T0, 10)]));
      const bad = priceBatch([rt('HB_WEST', T0 + Q, 20), rt('HB_WEST', T0 + 2 * Q, Number.NaN), rt('HB_WEST', T0 + 3 * Q, 40)]);
      bad.loads.push({ market: 'ERCOT', zone: 'TOTAL', intervalStartMs: T0, intervalMinutes: 60, loadMW: 50_000 });
      let err: unknown;
      try {
        await store.ingest('bad.csv', bad);
      } catch (e) {
        err = e;
      }
      expect(isMulletError(err) && err.code === 'BAD_INPUT').toBe(true);
      expect(String((err as Error).message) + String((err as { where?: string }).where)).toMatch(/prices\[1\]/);
      expect((await westRt()).map((p) => p.priceUsdPerMWh)).toEqual([10]);
      expect(await store.loads({ market: 'ERCOT', zone: 'TOTAL', fromMs: T0, toMs: T0 + MS_PER_HOUR })).toEqual([]);
    });

    it('rejects a start off the interval grid', async () => {
      await expect(store.ingest('x.csv', priceBatch([rt('HB_WEST', T0 + 60_000, 1)]))).rejects.toThrow(/grid/);
    });

    it('counts duplicates inside one batch and keeps the last value', async () => {
      const r = await store.ingest('d.csv', priceBatch([rt('HB_WEST', T0, 10), rt('HB_WEST', T0 + Q, 20), rt('HB_WEST', T0, 11), rt('HB_WEST', T0 + Q, 20)]));
      expect(r.duplicatesInFile).toBe(2);
      expect(r.inserted.prices).toBe(2);
      expect(r.notes.join('\n')).toMatch(/2 duplicate interval\(s\).*1 with different values/);
      expect((await westRt()).map((p) => p.priceUsdPerMWh)).toEqual([11, 20]);
    });

    it('a file imported in batches reports and stores what one batch does: duplicates across batches, gaps, sources', async () => {
      // Two sources, a gap, duplicates in the same batch and in later batches, identical and conflicting.
      const records = [
        rt('HB_WEST', T0, 10),
        rt('HB_WEST', T0 + Q, 20),
        rt('HB_WEST', T0 + 4 * Q, 40),
        rt('HB_WEST', T0, 10),
        rt('HB_WEST', T0 + Q, 21),
        rt('HB_WEST', T0 + 5 * Q, 50),
        rt('HB_WEST', T0 + Q, 22, 'ercot'),
        rt('HB_WEST', T0 + 4 * Q, 40),
        rt('HB_WEST', T0 + 2 * Q, 30, 'ercot'),
        rt('HB_WEST', T0 + 5 * Q, 50),
        rt('HB_WEST', T0 + 9 * Q, 90),
      ];
      const whole = await store.ingest('f.csv', priceBatch(records));
      const rows = await westRt();
      const other = await factory();
      try {
        const session = await other.beginImport('f.csv', 'test-format');
        for (let i = 0; i < records.length; i += 2) await session.add(priceBatch(records.slice(i, i + 2)));
        const streamed = await session.commit();
        expect({ ...streamed, notes: [...streamed.notes].sort() }).toEqual({ ...whole, notes: [...whole.notes].sort() });
        expect(whole.duplicatesInFile).toBe(4);
        expect(whole.notes.join('\n')).toMatch(/4 duplicate interval\(s\) in the file, 1 with different values/);
        expect(await other.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: T0, toMs: T0 + 100 * Q })).toEqual(rows);
      } finally {
        await other.close();
      }
    });

    it('rollback writes nothing of a file, whatever its earlier batches wrote; the store takes the next import', async () => {
      const session = await store.beginImport('r.csv', 'test-format');
      await session.add(priceBatch([rt('HB_WEST', T0, 10), rt('HB_NORTH', T0, 11, 'new-source')]));
      await expect(session.add(priceBatch([rt('HB_WEST', T0 + 60_000, 1)]))).rejects.toThrow(/grid/);
      await expect(session.commit()).rejects.toThrow(/already been committed or rolled back/);
      expect(await store.coverage()).toEqual([]);
      const again = await store.beginImport('r2.csv', 'test-format');
      await again.add(priceBatch([rt('HB_WEST', T0, 12)]));
      await again.rollback();
      await again.rollback();
      expect(await westRt()).toEqual([]);
      expect((await store.ingest('s.csv', priceBatch([rt('HB_WEST', T0, 13)]))).inserted.prices).toBe(1);
    });

    it('reports gaps of the touched series inside the batch span, merged into ranges', async () => {
      const present = [0, 1, 4, 5, 6, 10];
      const r = await store.ingest('g.csv', priceBatch(present.map((i) => rt('HB_WEST', T0 + i * Q, i))));
      expect(r.gaps).toEqual([
        { series: 'ERCOT HB_WEST RT 15min', fromMs: T0 + 2 * Q, toMs: T0 + 3 * Q, missingIntervals: 2 },
        { series: 'ERCOT HB_WEST RT 15min', fromMs: T0 + 7 * Q, toMs: T0 + 9 * Q, missingIntervals: 3 },
      ]);
      // A later file that fills part of a hole only reports what is still missing in its own span.
      const fill = await store.ingest('h.csv', priceBatch([rt('HB_WEST', T0 + 7 * Q, 7), rt('HB_WEST', T0 + 9 * Q, 9)]));
      expect(fill.gaps).toEqual([{ series: 'ERCOT HB_WEST RT 15min', fromMs: T0 + 8 * Q, toMs: T0 + 8 * Q, missingIntervals: 1 }]);
    });

    it('keeps every source and reads the best one per interval (ercot > gridstatus > eia > others)', async () => {
      const h = MS_PER_HOUR;
      await store.ingest('eia.csv', priceBatch([da(T0, 11.23, 'eia'), da(T0 + h, 9.99, 'eia'), da(T0 + 2 * h, 9.5, 'eia'), da(T0 + 3 * h, 7, 'eia')]));
      await store.ingest('gs.csv', priceBatch([da(T0, 11.23, 'gridstatus'), da(T0 + h, 10.01, 'gridstatus')]));
      const official = await store.ingest('ercot.csv', priceBatch([da(T0 + h, 10.0, 'ercot'), da(T0 + 3 * h, 8, 'zz-unknown')]));
      const got = await store.prices({ market: 'ERCOT', settlementPoint: 'HB_HUBAVG', kind: 'DA', fromMs: T0, toMs: T0 + 4 * h });
      expect(got.map((p) => [p.priceUsdPerMWh, p.source])).toEqual([
        [11.23, 'gridstatus'],
        [10.0, 'ercot'],
        [9.5, 'eia'],
        [7, 'eia'],
      ]);
      // Disagreements with the other sources are noted.
      expect(official.notes.join('\n')).toMatch(/ercot vs eia: 1 common interval\(s\), 1 differ/);
      expect(official.notes.join('\n')).toMatch(/ercot vs gridstatus: 1 common interval\(s\), 1 differ/);
      const cov = (await store.coverage()).find((c) => c.series === 'ERCOT HB_HUBAVG DA 60min');
      expect(cov?.sources).toEqual(['ercot', 'gridstatus', 'eia', 'zz-unknown']);
      expect(cov?.count).toBe(4);
    });

    it('stores load by zone with its source and precedence', async () => {
      const load = (zone: string, i: number, mw: number, source: string) => ({ market: 'ERCOT', zone, intervalStartMs: T0 + i * MS_PER_HOUR, intervalMinutes: 60, loadMW: mw, source });
      const r = await store.ingest('load.csv', { ...emptyBatch('load'), loads: [load('TOTAL', 0, 40_000, 'eia'), load('TOTAL', 1, 41_000, 'eia'), load('TOTAL', 1, 41_200, 'ercot'), load('WEST', 0, 1_000, 'eia')] });
      expect(r.inserted.loads).toBe(4);
      expect((await store.loads({ market: 'ERCOT', zone: 'TOTAL', fromMs: T0, toMs: T0 + 2 * MS_PER_HOUR })).map((l) => [l.loadMW, l.source])).toEqual([
        [40_000, 'eia'],
        [41_200, 'ercot'],
      ]);
      expect(await store.loads({ market: 'ERCOT', zone: 'WEST', fromMs: T0, toMs: T0 + 2 * MS_PER_HOUR })).toHaveLength(1);
    });

    it('merges Bitcoin days field by field with per-field precedence', async () => {
      await store.ingest('price.csv', {
        ...emptyBatch('price'),
        btcDays: [
          { dateUtc: '2024-04-19', priceUsd: 63_863, source: 'bitstamp' },
          { dateUtc: '2024-04-19', priceUsd: 63_800, source: 'yahoo' },
          { dateUtc: '2024-04-20', priceUsd: 64_994, source: 'yahoo' },
        ],
      });
      await store.ingest('cm.csv', {
        ...emptyBatch('cm'),
        provider: 'coinmetrics',
        btcDays: [
          { dateUtc: '2024-04-19', priceUsd: 63_900, difficulty: 88e12, feesBtc: 100, blocks: 151 },
          { dateUtc: '2024-04-20', priceUsd: 64_900, difficulty: 88.1e12, feesBtc: 1_206, blocks: 130 },
        ],
      });
      await store.ingest('bc.csv', { ...emptyBatch('bc'), provider: 'blockchain.com', btcDays: [{ dateUtc: '2024-04-20', difficulty: 86.39e12 }] });
      await store.ingest('bs.csv', { ...emptyBatch('bs'), provider: 'blockstats', btcDays: [{ dateUtc: '2024-04-20', feesBtc: 1_000, heightEndOfDay: 840_134 }] });
      const days = await store.btcDays('2024-04-18', '2024-04-20');
      expect(days.map((d) => d.dateUtc)).toEqual(['2024-04-19', '2024-04-20']);
      expect(days[0]).toMatchObject({ priceUsd: 63_863, difficulty: 88e12, feesBtc: 100, blocks: 151, sources: { priceUsd: 'bitstamp', difficulty: 'coinmetrics' } });
      expect(days[1]).toMatchObject({
        priceUsd: 64_900,
        difficulty: 86.39e12,
        feesBtc: 1_206,
        heightEndOfDay: 840_134,
        sources: { priceUsd: 'coinmetrics', difficulty: 'blockchain.com', feesBtc: 'coinmetrics', heightEndOfDay: 'blockstats' },
      });
      expect(await store.btcDays('2024-04-20', '2024-04-20')).toHaveLength(1);
      expect(await store.btcDays('2030-01-01', '2030-12-31')).toEqual([]);
      const again = await store.ingest('cm.csv', {
        ...emptyBatch('cm'),
        provider: 'coinmetrics',
        btcDays: [{ dateUtc: '2024-04-19', priceUsd: 63_900, difficulty: 88e12, feesBtc: 100, blocks: 151 }],
      });
      expect(again.inserted.btcDays).toBe(0);
      expect(again.unchanged).toBe(4);
    });

    it('rejects a malformed Bitcoin date and writes nothing', async () => {
      await expect(store.ingest('b.csv', { ...emptyBatch('b'), btcDays: [{ dateUtc: '2024-04-19', priceUsd: 1 }, { dateUtc: '2024-02-30', priceUsd: 2 }] })).rejects.toThrow(/btcDays\[1\]|calendar date/);
      expect(await store.btcDays('2024-01-01', '2024-12-31')).toEqual([]);
    });

    it('stores difficulty epochs idempotently, sorted by start day', async () => {
      const batch = { ...emptyBatch('epochs'), provider: 'blockchain.com', epochs: [{ startDateUtc: '2024-04-25', difficulty: 88.104e12 }, { startDateUtc: '2024-04-11', difficulty: 86.389e12 }] };
      expect((await store.ingest('e.csv', batch)).inserted.epochs).toBe(2);
      expect((await store.ingest('e.csv', batch)).inserted.epochs).toBe(0);
      expect((await store.epochs()).map((e) => [e.startDateUtc, e.difficulty])).toEqual([
        ['2024-04-11', 86.389e12],
        ['2024-04-25', 88.104e12],
      ]);
    });

    it('stores official 4CP intervals once per month and source, ERCOT before a user file', async () => {
      const jul = Date.parse('2023-07-31T21:45:00Z');
      const batch: ParsedBatch = {
        ...emptyBatch('4cp'),
        provider: 'ercot',
        fourCpIntervals: [
          { market: 'ERCOT', month: '2023-07', intervalStartMs: jul, intervalMinutes: 15, systemLoadMW: 83_032.6 },
          { market: 'ERCOT', month: '2023-06', intervalStartMs: Date.parse('2023-06-27T21:45:00Z'), intervalMinutes: 15 },
        ],
      };
      expect((await store.ingest('4cp.csv', batch)).inserted.fourCpIntervals).toBe(2);
      const again = await store.ingest('4cp.csv', batch);
      expect([again.inserted.fourCpIntervals, again.unchanged]).toEqual([0, 2]);
      // A user's file for the same month ranks after ERCOT's posting; a month only it has is used.
      await store.ingest('mine.csv', {
        ...emptyBatch('4cp'),
        provider: 'user',
        fourCpIntervals: [
          { market: 'ERCOT', month: '2023-07', intervalStartMs: jul + Q, intervalMinutes: 15 },
          { market: 'ERCOT', month: '2021-08', intervalStartMs: Date.parse('2021-08-31T21:30:00Z'), intervalMinutes: 15 },
        ],
      });
      expect((await store.fourCpIntervals({ market: 'ERCOT' })).map((c) => [c.month, c.intervalStartMs, c.systemLoadMW ?? null, c.source])).toEqual([
        ['2021-08', Date.parse('2021-08-31T21:30:00Z'), null, 'user'],
        ['2023-06', Date.parse('2023-06-27T21:45:00Z'), null, 'ercot'],
        ['2023-07', jul, 83_032.6, 'ercot'],
      ]);
      expect((await store.fourCpIntervals({ market: 'ERCOT', fromMonth: '2023-07', toMonth: '2023-09' })).map((c) => c.month)).toEqual(['2023-07']);
      await expect(store.ingest('bad.csv', { ...emptyBatch('4cp'), fourCpIntervals: [{ market: 'ERCOT', month: '2023-13', intervalStartMs: jul, intervalMinutes: 15 }] })).rejects.toThrow(/month must be YYYY-MM/);
      await expect(store.ingest('bad.csv', { ...emptyBatch('4cp'), fourCpIntervals: [{ market: 'ERCOT', month: '2023-07', intervalStartMs: jul + 60_000, intervalMinutes: 15 }] })).rejects.toThrow(/15-minute UTC grid/);
    });

    it('reports coverage per series with the largest gaps', async () => {
      const present = [0, 1, 2, 5, 6, 20, 21];
      await store.ingest('c.csv', priceBatch(present.map((i) => rt('HB_NORTH', T0 + i * Q, i))));
      await store.ingest('b.csv', { ...emptyBatch('b'), provider: 'bitstamp', btcDays: ['2024-01-01', '2024-01-02', '2024-01-05'].map((d) => ({ dateUtc: d, priceUsd: 1 })) });
      const cov = await store.coverage({ topGaps: 1 });
      const north = cov.find((c) => c.series === 'ERCOT HB_NORTH RT 15min');
      expect(north).toMatchObject({
        unit: 'USD/MWh',
        intervalMinutes: 15,
        firstMs: T0,
        lastMs: T0 + 21 * Q,
        count: 7,
        expected: 22,
        missing: 15,
        gapCount: 2,
        gaps: [{ fromMs: T0 + 7 * Q, toMs: T0 + 19 * Q, missingIntervals: 13 }],
        key: { kind: 'price', market: 'ERCOT', settlementPoint: 'HB_NORTH', priceKind: 'RT' },
      });
      const price = cov.find((c) => c.series === 'BTC priceUsd daily');
      expect(price).toMatchObject({ unit: 'USD/BTC', intervalMinutes: 1440, count: 3, expected: 5, missing: 2, gapCount: 1, sources: ['bitstamp'] });
    });

    it('has empty coverage when empty', async () => {
      expect(await store.coverage()).toEqual([]);
      expect(await store.epochs()).toEqual([]);
      expect(await store.fourCpIntervals({ market: 'ERCOT' })).toEqual([]);
    });
  });
}
