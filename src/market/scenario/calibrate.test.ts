import { describe, expect, it } from 'vitest';
import { isMulletError } from '../../core/errors.js';
import { parseUtcDate } from '../../core/time.js';
import { openMarketStore } from '../../store/sqlite-store.js';
import { skipWithoutSharedData, sharedFile } from '../../testing/data.js';
import { parseDataFile } from '../importers/registry.js';
import { emptyBatch } from '../types.js';
import { toParsedBatch } from './batch.js';
import { calibrate } from './calibrate.js';
import { DEFAULT_SCENARIO_PARAMS } from './defaults.js';
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
  it('an empty store gives the built-in defaults, with a note saying so', () => {
    const store = openMarketStore(':memory:');
    const r = calibrate(store, { settlementPoint: 'hb_west', from: '2024-01-01', to: '2024-12-31' });
    store.close();
    expect(r.params.source).toBe('defaults');
    expect(r.calibrated).toEqual({ power: false, load: false, btcPrice: false, difficulty: false, fees: false });
    expect(r.params.notes[0]).toMatch(/built-in defaults/);
    expect(r.params.power).toEqual(DEFAULT_SCENARIO_PARAMS.power);
    expect(r.params.settlementPoint).toBe('HB_WEST');
  });

  it('rejects a malformed or empty window as bad input', () => {
    const store = openMarketStore(':memory:');
    const where = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return isMulletError(err) ? `${err.code} ${err.where ?? ''}` : 'other';
      }
      return 'no error';
    };
    expect(where(() => calibrate(store, { settlementPoint: 'HB_WEST', from: '2024-13-01', to: '2024-12-31' }))).toBe('BAD_INPUT --from');
    expect(where(() => calibrate(store, { settlementPoint: 'HB_WEST', from: '2024-02-01', to: '2024-01-01' }))).toBe('BAD_INPUT --to');
    store.close();
  });

  it('recovers the parameters of a synthetic market it is given (round trip through the store)', () => {
    const startMs = parseUtcDate('2026-01-01');
    const m = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 99, startMs, days: 730 });
    const store = openMarketStore(':memory:');
    store.ingest('synthetic', toParsedBatch(m));
    store.ingest('synthetic-btc', btcBatch(m));
    const r = calibrate(store, { market: SYNTHETIC_MARKET, settlementPoint: 'HB_WEST', from: '2026-01-01', to: '2027-12-31' });
    store.close();
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
    const store = openMarketStore(':memory:');
    for (const f of [
      'ercot_rt_15min_hubs_2024.csv',
      'ercot_load_hourly_2020_2025.csv',
      'btc_price_daily.csv',
      'btc_difficulty_epochs_2020_2025.csv',
      'btc_fees_daily_coinmetrics_2023_2025.csv',
      'btc_blocks_per_day.csv',
    ]) {
      store.ingest(f, (await parseDataFile(sharedFile(f))).batch);
    }
    const from = '2024-01-01';
    const r = calibrate(store, { settlementPoint: 'HB_WEST', from, to: '2024-12-31' });
    const real = store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: parseUtcDate(from), toMs: parseUtcDate('2025-01-01') });
    store.close();
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
});
