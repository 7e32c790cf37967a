import { describe, expect, it } from 'vitest';
import { emptyBatch, type PricePoint } from '../market/types.js';
import { openMarketStore } from '../store/sqlite-store.js';
import { parseSite } from '../site/parse.js';
import { loadBacktestData } from './data.js';
import { parseHashpriceCsv } from './hashprice.js';
import { cptWindow, runBacktest } from './run.js';

const STORE_HP = { kind: 'store', feeShareOfSubsidyPct: 3, feeShareIsDefault: true } as const;

const SITE = parseSite(`name: t
market: { iso: ERCOT, settlementPoint: HB_WEST }
interconnect: { importLimitMW: 50 }
fleets:
  - { name: a, hashrateThs: 100, powerW: 2000, count: 5000, poolFeePct: 0, pue: 1 }
`);

async function storeWith(prices: [number, number][]) {
  const store = await openMarketStore(':memory:', { clock: { nowMs: () => 0 } });
  const batch = emptyBatch('test');
  batch.prices = prices.map(([ms, p]): PricePoint => ({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', intervalStartMs: ms, intervalMinutes: 15, priceUsdPerMWh: p, source: 'ercot' }));
  await store.ingest('test.csv', batch);
  return store;
}

describe('back-test data', () => {
  const { fromMs } = cptWindow('2023-08-01', '2023-08-01');
  const q = 15 * 60_000;

  it('skips and reports intervals without a price instead of inventing one', async () => {
    const prices: [number, number][] = [];
    for (let i = 0; i < 96; i++) if (i < 10 || i >= 13) prices.push([fromMs + i * q, 20 + i]);
    const store = await storeWith(prices);
    const d = await loadBacktestData(store, SITE, fromMs, fromMs + 96 * q, { kind: 'constant', usdPerPhDay: 24 });
    expect(d.expectedIntervals).toBe(96);
    expect(d.series.startMs.length).toBe(93);
    expect(d.gaps).toEqual([{ fromMs: fromMs + 10 * q, toMs: fromMs + 13 * q, intervals: 3, reason: 'no real-time price' }]);
    expect(d.notes[0]).toMatch(/3 of 96 intervals skipped/);
    expect(Array.from(d.series.rtPriceUsdPerMWh.slice(9, 11))).toEqual([29, 33]);
    await store.close();
  });

  it('reports days without hashprice as gaps, and fails clearly when there is none at all', async () => {
    const store = await storeWith(Array.from({ length: 96 * 2 }, (_, i): [number, number] => [fromMs + i * q, 20]));
    const csv = new Map([['2023-08-01', 50]]);
    const d = await loadBacktestData(store, SITE, fromMs, fromMs + 192 * q, { kind: 'csv', file: 'hp.csv', byDay: csv });
    // The CPT day starts at 05:00 UTC: the first 76 intervals are on UTC 2023-08-01 (with a hashprice).
    expect(d.series.startMs.length).toBe(76);
    expect(d.gaps[0]).toMatchObject({ intervals: 116, reason: 'no hashprice' });
    await expect(loadBacktestData(store, SITE, fromMs, fromMs + 96 * q, STORE_HP)).rejects.toThrow(/no hashprice .* --hashprice-usd-per-ph-day/);
    await store.close();
  });

  it('runs and settles a policy over a store window', async () => {
    const store = await storeWith(Array.from({ length: 96 }, (_, i): [number, number] => [fromMs + i * q, i % 2 ? 100 : 20]));
    const out = await runBacktest({ site: SITE, from: '2023-08-01', to: '2023-08-01', policies: ['strike', 'mining-only'], store, hashprice: { kind: 'constant', usdPerPhDay: 24 }, nowMs: () => 0 });
    expect(out.runs.map((r) => r.summary.intervals)).toEqual([96, 96]);
    // mining-only: 48 × (50 − 20) + 48 × (50 − 100) at 10 MW × 0.25 h.
    expect(out.runs[1]?.summary.netUsd).toBeCloseTo((48 * 30 - 48 * 50) * 10 * 0.25, 6);
    expect(out.doc.gaps.missingIntervals).toBe(0);
    await store.close();
  });
});

describe('a back-test before the fee data starts (summer 2022)', () => {
  // Two CPT days of July 2022; the store has price, difficulty, blocks and heights but no fees
  // (as the shared data before 2022-12-30): the run goes ahead with a labelled fee assumption.
  const { fromMs } = cptWindow('2022-07-11', '2022-07-12');
  const q = 15 * 60_000;
  const days = ['2022-07-11', '2022-07-12', '2022-07-13'];
  const btc = days.map((d, i) => ({ dateUtc: d, priceUsd: 20_000 + 100 * i, difficulty: 27.69e12, blocks: 144, heightEndOfDay: 744_000 + 144 * i }));

  it('runs with the default fee share, names it in the notes and the source, and prices each day by the formula', async () => {
    const store = await storeWith(Array.from({ length: 192 }, (_, i): [number, number] => [fromMs + i * q, 30]));
    await store.ingest('btc.csv', { ...emptyBatch('btc'), provider: 'test', btcDays: btc });
    const out = await runBacktest({ site: SITE, from: '2022-07-11', to: '2022-07-12', policies: ['mining-only'], store, hashprice: STORE_HP, nowMs: () => 0 });
    expect(out.data.assumedFeeDays).toEqual(days);
    expect(out.doc.notes.join('\n')).toMatch(/FEE ASSUMPTION: the store has no fee data for 3 days, 2022-07-11\.\.2022-07-13; their hashprice assumes fees = 3 % of the block subsidy \(default/);
    expect(out.doc.hashprice.source).toMatch(/ASSUMED fees of 3 % of the subsidy on 3 day\(s\)/);
    // The first interval (2022-07-11 05:00 UTC) is on UTC day 2022-07-11: HP = (6.25 × 1.03) × 20,000 × 1e15 × 86,400 / (27.69e12 × 2^32).
    const hp = (6.25 * 1.03 * 20_000 * 1e15 * 86_400) / (27.69e12 * 2 ** 32);
    expect(out.input.hashpriceUsdPerPhDay[0]).toBeCloseTo(hp, 9);
    await store.close();
  });

  it('takes the share the user sets', async () => {
    const store = await storeWith(Array.from({ length: 96 }, (_, i): [number, number] => [fromMs + i * q, 30]));
    await store.ingest('btc.csv', { ...emptyBatch('btc'), provider: 'test', btcDays: btc });
    const out = await runBacktest({ site: SITE, from: '2022-07-11', to: '2022-07-11', policies: ['mining-only'], store, hashprice: { kind: 'store', feeShareOfSubsidyPct: 9, feeShareIsDefault: false }, nowMs: () => 0 });
    expect(out.doc.notes.join('\n')).toMatch(/assumes fees = 9 % of the block subsidy \(--fee-share-of-subsidy-pct\)/);
    expect(out.input.hashpriceUsdPerPhDay[0]).toBeCloseTo((6.25 * 1.09 * 20_000 * 1e15 * 86_400) / (27.69e12 * 2 ** 32), 9);
    await store.close();
  });
});

describe('hashprice CSV', () => {
  it('parses date,value rows and names the bad line', () => {
    expect(parseHashpriceCsv('date,hp\n2023-08-01,55.5\n2023-08-02,60\n', 'hp.csv')).toEqual(new Map([['2023-08-01', 55.5], ['2023-08-02', 60]]));
    expect(() => parseHashpriceCsv('date,hp\n2023-08-01,abc\n', 'hp.csv')).toThrow(/second column/);
    expect(() => parseHashpriceCsv('date,hp\n2023-08-01,1\n2023-13-01,2\n', 'hp.csv')).toThrow(expect.objectContaining({ where: 'hp.csv:3' }));
  });

  it('reads CPT windows inclusive of --to and rejects reversed ones', () => {
    const w = cptWindow('2023-11-05', '2023-11-05');
    expect((w.toMs - w.fromMs) / 3_600_000).toBe(25);
    expect(() => cptWindow('2023-08-02', '2023-08-01')).toThrow(/must not be before/);
    expect(() => cptWindow('2023-8-1', '2023-08-01')).toThrow(/YYYY-MM-DD/);
  });
});
