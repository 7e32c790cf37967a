import { describe, expect, it } from 'vitest';
import { MAINNET_POW } from '../bitcoin/retarget.js';
import { toParsedBatch } from './batch.js';
import { DEFAULT_SCENARIO_PARAMS } from './defaults.js';
import { generateMarket } from './generate.js';
import { SYNTHETIC_LABEL, SYNTHETIC_MARKET } from './params.js';
import { summarizeMarket } from './summary.js';

const START = Date.parse('2026-01-01T00:00:00Z');

describe('generateMarket', () => {
  it('is deterministic: same seed, identical series; another seed differs', () => {
    const a = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 7, startMs: START, days: 20 });
    const b = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 7, startMs: START, days: 20 });
    const c = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 8, startMs: START, days: 20 });
    expect(Array.from(b.rtPrice.values)).toEqual(Array.from(a.rtPrice.values));
    expect(Array.from(b.daPrice.values)).toEqual(Array.from(a.daPrice.values));
    expect(Array.from(b.systemLoad.values)).toEqual(Array.from(a.systemLoad.values));
    expect(b.btc.days).toEqual(a.btc.days);
    expect(Array.from(c.rtPrice.values)).not.toEqual(Array.from(a.rtPrice.values));
  });

  it('labels every output synthetic', () => {
    const m = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 1, startMs: START, days: 2 });
    for (const x of [m, m.rtPrice, m.daPrice, m.systemLoad, m.btc]) {
      expect(x.synthetic).toBe(true);
      expect(x.label).toBe(SYNTHETIC_LABEL);
    }
    expect(m.market).toBe(SYNTHETIC_MARKET);
    const s = summarizeMarket(m);
    expect(s.synthetic).toBe(true);
    expect(s.label).toBe(SYNTHETIC_LABEL);
  });

  it('has the right shapes and bounds', () => {
    const m = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 3, startMs: START, days: 10 });
    expect(m.rtPrice.values).toHaveLength(960);
    expect(m.daPrice.values).toHaveLength(240);
    expect(m.systemLoad.values).toHaveLength(240);
    expect(m.btc.days).toHaveLength(10);
    expect(m.btc.days[0]?.dateUtc).toBe('2026-01-01');
    for (const v of m.rtPrice.values) {
      expect(v).toBeGreaterThanOrEqual(-251);
      expect(v).toBeLessThanOrEqual(5000);
    }
    for (const v of m.systemLoad.values) expect(v).toBeLessThanOrEqual(DEFAULT_SCENARIO_PARAMS.load.capMW);
    const hourly = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 3, startMs: START, days: 10, intervalMinutes: 60 });
    expect(hourly.rtPrice.values).toHaveLength(240);
    expect(() => generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 3, startMs: START + 1, days: 1 })).toThrow(RangeError);
    expect(() => generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 3, startMs: START, days: 1, intervalMinutes: 7 })).toThrow(RangeError);
  });

  it('a year from the defaults looks like HB_WEST 2023–2024 (means, negatives, spikes, load)', () => {
    const s = summarizeMarket(generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 11, startMs: START, days: 365 }));
    // Real HB_WEST RT 2023–2024: mean 38.4, median 20.8, 9.3 % negative, 1 % above $300 (PROVENANCE.md).
    expect(s.rt.meanUsdPerMWh).toBeGreaterThan(30);
    expect(s.rt.meanUsdPerMWh).toBeLessThan(47);
    expect(s.rt.p50UsdPerMWh).toBeGreaterThan(14);
    expect(s.rt.p50UsdPerMWh).toBeLessThan(26);
    expect(s.rt.negativeSharePct).toBeGreaterThan(6);
    expect(s.rt.negativeSharePct).toBeLessThan(13);
    expect(s.rt.spikeIntervals / (365 * 96)).toBeGreaterThan(0.004);
    expect(s.rt.spikeIntervals / (365 * 96)).toBeLessThan(0.02);
    expect(Math.abs(s.da.meanUsdPerMWh / s.rt.meanUsdPerMWh - 1)).toBeLessThan(0.15);
    expect(s.load.meanMW).toBeGreaterThan(45_000);
    expect(s.load.meanMW).toBeLessThan(58_000);
    // BTC: realized vol near the 51.8 %/yr parameter; ~144 blocks a day.
    expect(s.btc.realizedVolPerYear).toBeGreaterThan(0.4);
    expect(s.btc.realizedVolPerYear).toBeLessThan(0.65);
    expect(s.btc.meanBlocksPerDay).toBeGreaterThan(130);
    expect(s.btc.meanBlocksPerDay).toBeLessThan(160);
  });

  it('difficulty changes only when a 2016-block window closes, by the retarget rule', () => {
    const m = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 5, startMs: START, days: 120 });
    const days = m.btc.days;
    let retargets = 0;
    for (let i = 1; i < days.length; i++) {
      const prev = days[i - 1];
      const cur = days[i];
      if (!prev || !cur) continue;
      if (cur.difficulty !== prev.difficulty) {
        retargets++;
        // The window boundary fell inside the previous day.
        const start = prev.heightEndOfDay - prev.blocks;
        expect(Math.floor((prev.heightEndOfDay + 1) / MAINNET_POW.intervalBlocks)).toBeGreaterThan(Math.floor((start + 1) / MAINNET_POW.intervalBlocks));
        expect(cur.difficulty / prev.difficulty).toBeLessThan(4.0001);
        expect(cur.difficulty / prev.difficulty).toBeGreaterThan(0.2499);
      }
      expect(cur.heightEndOfDay).toBe(prev.heightEndOfDay + cur.blocks);
    }
    expect(retargets).toBeGreaterThanOrEqual(7);
    expect(retargets).toBeLessThanOrEqual(10);
  });
});

describe('toParsedBatch', () => {
  it('stores RT, DA and load under SYNTH-ERCOT and leaves BTC days out, saying why', () => {
    const m = generateMarket(DEFAULT_SCENARIO_PARAMS, { seed: 1, startMs: START, days: 2 });
    const b = toParsedBatch(m);
    expect(b.prices).toHaveLength(192 + 48);
    expect(b.loads).toHaveLength(48);
    expect(b.btcDays).toHaveLength(0);
    expect(new Set(b.prices.map((p) => p.market))).toEqual(new Set([SYNTHETIC_MARKET]));
    expect(b.prices[1]?.intervalStartMs).toBe(START + 15 * 60_000);
    expect(b.prices.find((p) => p.kind === 'DA')?.intervalMinutes).toBe(60);
    expect(b.notes.join(' ')).toContain(SYNTHETIC_LABEL);
  });
});
