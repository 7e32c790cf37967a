import { describe, expect, it } from 'vitest';
import { isMulletError } from '../core/errors.js';
import { parseUtcDate } from '../core/time.js';
import { openMarketStore } from '../store/sqlite-store.js';
import { skipWithoutSharedData, sharedFile } from '../testing/data.js';
import { parseDataFile } from '../market/importers/registry.js';
import { emptyBatch } from '../market/types.js';
import { toParsedBatch } from './batch.js';
import { calibrate, calibrateBtc } from './calibrate.js';
import { DEFAULT_SCENARIO_PARAMS } from './defaults.js';
import { fitDayAheadPremium } from './estimate.js';
import { generateMarket, type SyntheticMarket } from './generate.js';
import { SYNTHETIC_MARKET, type MonthHourTable } from './params.js';
import { summarizeMarket } from './summary.js';

const tableMean = (t: MonthHourTable) => t.flat().reduce((a, b) => a + b, 0) / 288;

/** Synthetic BTC days and epochs as a batch, for a throw-away test store only. */
function btcBatch(m: SyntheticMarket) {
  const b = { ...emptyBatch('test-btc'), provider: 'test' };
  b.btcDays = m.btc.days.map((d) => ({ ...d }));
  let prev = NaN;
  for (const d of m.btc.days) {
    if (d.difficulty !== prev) b.epochs.push({ startDateUtc: d.dateUtc, difficulty: d.difficulty });
    prev = d.difficulty;
  }
  return b;
}

describe('calibrate', () => {
  it('an empty store gives the built-in defaults, with a note saying so', async () => {
    const store = await openMarketStore(':memory:');
    const r = await calibrate(store, { settlementPoint: 'hb_west', from: '2024-01-01', to: '2024-12-31' });
    await store.close();
    expect(r.params.source).toBe('defaults');
    expect(r.calibrated).toEqual({ power: false, load: false, btcPrice: false, difficulty: false, fees: false });
    expect(r.params.notes[0]).toMatch(/built-in defaults/);
    expect(r.params.power).toEqual(DEFAULT_SCENARIO_PARAMS.power);
    expect(r.params.settlementPoint).toBe('HB_WEST');
  });

  it('estimates BTC drift and volatility over one halving cycle ending at the window end, with the drift\'s standard error', async () => {
    // 6 years of daily prices: +0.1 %/day for the first two, then ±2 % alternating on top of +0.05 %/day.
    const store = await openMarketStore(':memory:');
    const days = 6 * 365;
    let p = 10_000;
    const btcDays = Array.from({ length: days }, (_, i) => {
      const r = i < 2 * 365 ? 0.001 : 0.0005 + (i % 2 ? 0.02 : -0.02);
      if (i > 0) p *= Math.exp(r);
      return { dateUtc: new Date(Date.parse('2020-01-01T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10), priceUsd: p };
    });
    await store.ingest('btc', { ...emptyBatch('t'), provider: 't', btcDays });
    const to = btcDays[days - 1]?.dateUtc ?? '';
    const r = await calibrateBtc(store, { from: '2020-01-01', to });
    await store.close();
    // The window is the last 1,461 days: 1,460 returns; mean 0.0005 (±0.02 alternates, an even count).
    const g = 0.0005 * 365;
    const sd = Math.sqrt((1460 * 0.02 ** 2) / 1459);
    expect(r.btc.priceWindow).toEqual({ from: btcDays[days - 1461]?.dateUtc, to });
    expect(r.btc.priceVolPerYear).toBeCloseTo(sd * Math.sqrt(365), 9);
    expect(r.btc.priceDriftPerYear).toBeCloseTo(g + (sd * sd * 365) / 2, 9);
    expect(r.btc.priceDriftStdErrPerYear).toBeCloseTo((sd * Math.sqrt(365)) / Math.sqrt(1460 / 365), 9);
    expect(r.notes[0]).toMatch(/btc price: GBM from 1460 daily log returns .* \(one halving cycle\): drift .* \(median path 18\.3 %\/yr/);
  });

  it('rejects a malformed or empty window as bad input', async () => {
    const store = await openMarketStore(':memory:');
    const where = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (err) {
        return isMulletError(err) ? `${err.code} ${err.where ?? ''}` : 'other';
      }
      return 'no error';
    };
    expect(await where(() => calibrate(store, { settlementPoint: 'HB_WEST', from: '2024-13-01', to: '2024-12-31' }))).toBe('BAD_INPUT --from');
    expect(await where(() => calibrate(store, { settlementPoint: 'HB_WEST', from: '2024-02-01', to: '2024-01-01' }))).toBe('BAD_INPUT --to');
    await store.close();
  });

  it('recovers the parameters of a synthetic market it is given (round trip through the store)', async () => {
    const startMs = parseUtcDate('2026-01-01');
    const m = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 99, startMs, days: 730 });
    const store = await openMarketStore(':memory:');
    await store.ingest('synthetic', toParsedBatch(m));
    await store.ingest('synthetic-btc', btcBatch(m));
    const r = await calibrate(store, { market: SYNTHETIC_MARKET, settlementPoint: 'HB_WEST', from: '2026-01-01', to: '2027-12-31' });
    await store.close();
    expect(r.params.source).toBe('calibrated');
    expect(r.samples.priceSource).toBe('RT');
    const d = DEFAULT_SCENARIO_PARAMS;
    const p = r.params;
    expect(tableMean(p.power.bodyMeanUsdPerMWh) / tableMean(d.power.bodyMeanUsdPerMWh)).toBeCloseTo(1, 1);
    expect(tableMean(p.power.negative.probability) / tableMean(d.power.negative.probability)).toBeCloseTo(1, 1);
    expect(p.power.spike.eventsPerDay / d.power.spike.eventsPerDay).toBeGreaterThan(0.7);
    expect(p.power.spike.eventsPerDay / d.power.spike.eventsPerDay).toBeLessThan(1.3);
    expect(p.power.spike.paretoAlpha / d.power.spike.paretoAlpha).toBeGreaterThan(0.8);
    expect(p.power.spike.paretoAlpha / d.power.spike.paretoAlpha).toBeLessThan(1.25);
    expect(p.power.noise.fastAr1).toBeCloseTo(d.power.noise.fastAr1, 1);
    expect(tableMean(p.load.meanMW) / tableMean(d.load.meanMW)).toBeCloseTo(1, 1);
    expect(p.btc.priceVolPerYear / d.btc.priceVolPerYear).toBeGreaterThan(0.85);
    expect(p.btc.priceVolPerYear / d.btc.priceVolPerYear).toBeLessThan(1.15);
    expect(p.btc.feesPerBlock.medianBtc / d.btc.feesPerBlock.medianBtc).toBeCloseTo(1, 0);
    // The start state is the market's last day.
    const last = m.btc.days[m.btc.days.length - 1];
    expect(p.btc.start.heightEndOfDay).toBe(last?.heightEndOfDay);
    expect(p.btc.start.priceUsd).toBe(last?.priceUsd);
  });
});

describe.skipIf(skipWithoutSharedData)('calibrate on the real data', () => {
  it('a year generated from 2024 HB_WEST has the real 2024 mean within 12 %', async () => {
    const store = await openMarketStore(':memory:');
    for (const f of [
      'ercot_rt_15min_hubs_2024.csv',
      'ercot_load_hourly_2020_2025.csv',
      'btc_price_daily.csv',
      'btc_difficulty_epochs_2020_2025.csv',
      'btc_fees_daily_coinmetrics_2023_2025.csv',
      'btc_blocks_per_day.csv',
    ]) {
      await store.ingest(f, (await parseDataFile(sharedFile(f))).batch);
    }
    const from = '2024-01-01';
    const r = await calibrate(store, { settlementPoint: 'HB_WEST', from, to: '2024-12-31' });
    const real = await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: parseUtcDate(from), toMs: parseUtcDate('2025-01-01') });
    await store.close();
    expect(r.calibrated).toEqual({ power: true, load: true, btcPrice: true, difficulty: true, fees: true });
    const realMean = real.reduce((s, p) => s + p.priceUsdPerMWh, 0) / real.length;
    expect(realMean).toBeCloseTo(27.45, 1); // PROVENANCE.md, HB_WEST 2024
    const s = summarizeMarket(generateMarket(r.params, { seed: 1, startMs: parseUtcDate(from), days: 366 }));
    expect(Math.abs(s.rt.meanUsdPerMWh / realMean - 1)).toBeLessThan(0.12);
    const realNegShare = real.filter((p) => p.priceUsdPerMWh < 0).length / real.length;
    expect(Math.abs(s.rt.negativeSharePct / 100 / realNegShare - 1)).toBeLessThan(0.2);
    expect(r.params.btc.start.dateUtc).toBe('2024-12-31');
    expect(r.params.btc.start.heightEndOfDay).toBeGreaterThan(870_000);
    expect(r.params.btc.start.heightEndOfDay).toBeLessThan(880_000);
  });

  it('the synthetic day-ahead mean carries the real DA premium over RT (2023–2024: 11.1 %), within 5 % of the real DA mean', async () => {
    const store = await openMarketStore(':memory:');
    for (const f of ['ercot_rt_15min_hubs_2023.csv', 'ercot_rt_15min_hubs_2024.csv', 'ercot_dam_spp_hubs_lz_hourly_2021_2025.csv']) await store.ingest(f, (await parseDataFile(sharedFile(f))).batch);
    const from = '2023-01-01';
    const r = await calibrate(store, { settlementPoint: 'HB_WEST', from, to: '2024-12-31' });
    const realDa = await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'DA', fromMs: parseUtcDate(from), toMs: parseUtcDate('2025-01-01') });
    await store.close();
    expect(r.params.power.dayAhead.premium).toBeCloseTo(DEFAULT_SCENARIO_PARAMS.power.dayAhead.premium, 3);
    expect(r.params.notes.join('\n')).toMatch(/day-ahead premium: 11\.1 % \(mean DA \/ mean RT − 1 over 175\d\d hours with both\)/);
    const realMean = realDa.reduce((a, p) => a + p.priceUsdPerMWh, 0) / realDa.length;
    const s = summarizeMarket(generateMarket(r.params, { seed: 1, startMs: parseUtcDate(from), days: 731 }));
    // Without the premium the synthetic DA mean was ~12 % below the real one (it followed RT).
    expect(Math.abs(s.da.meanUsdPerMWh / realMean - 1)).toBeLessThan(0.05);
    expect(s.da.meanUsdPerMWh / s.rt.meanUsdPerMWh).toBeGreaterThan(1.05);
  });
});

describe('day-ahead premium', () => {
  it('is Σ DA / Σ hourly-mean RT − 1 over hours with a DA price and all four RT intervals', () => {
    const h = 3_600_000;
    const q = 900_000;
    const rt = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ ms: i * q, value: 10 + (i < 4 ? 0 : 10) }));
    // Hour 0: RT mean 10, DA 12; hour 1: RT mean 20, DA 21; hour 2 has one RT interval only: skipped.
    expect(fitDayAheadPremium(rt, [{ ms: 0, value: 12 }, { ms: h, value: 21 }, { ms: 2 * h, value: 99 }], 15)).toEqual({ premium: 33 / 30 - 1, hours: 2 });
    expect(fitDayAheadPremium(rt, [], 15).premium).toBeNaN();
  });
});
