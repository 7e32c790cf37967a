import { describe, expect, it } from 'vitest';
import {
  dailyLogReturns,
  fitEpochGrowth,
  fitFees,
  fitGbm,
  fitLoadCoupling,
  fitNegatives,
  fitSpikes,
  localDayKey,
  monthHourMeans,
  robustStd,
  type TimedValue,
} from './estimate.js';

const Q = 15 * 60_000;
/** 2024-01-01 00:00 CST = 06:00 UTC: local hour 0 of January. */
const T0 = Date.parse('2024-01-01T06:00:00Z');
const series = (values: number[], start = T0): TimedValue[] => values.map((value, i) => ({ ms: start + i * Q, value }));

describe('fitSpikes', () => {
  it('counts runs as events and fits a censored Pareto tail', () => {
    // 96 intervals (one day): a 2-interval event at 400, 500 and a 1-interval event at the cap.
    const v = new Array<number>(96).fill(10);
    v[1] = 400;
    v[2] = 500;
    v[5] = 5000;
    const f = fitSpikes(series(v), Q, 300, 5000);
    expect(f.events).toBe(2);
    expect(f.spikeIntervals).toBe(3);
    expect(f.eventsPerDay).toBeCloseTo(2, 12);
    expect(f.meanDurationIntervals).toBeCloseTo(1.5, 12);
    // Two uncensored values; the capped one adds only to the exposure.
    const exposure = Math.log(400 / 300) + Math.log(500 / 300) + Math.log(5000 / 300);
    expect(f.paretoAlpha).toBeCloseTo(2 / exposure, 12);
    // Events start in local hours 0 and 1 (intervals 1 and 5); add-½ smoothing: (1 + ½) / (14 / 24).
    expect(f.hourWeight[0]).toBeCloseTo(1.5 / (14 / 24), 12);
    expect(f.hourWeight[1]).toBeCloseTo(1.5 / (14 / 24), 12);
    expect(f.hourWeight[2]).toBeCloseTo(0.5 / (14 / 24), 12);
    expect(f.hourWeight.reduce((a, b) => a + b, 0) / 24).toBeCloseTo(1, 12);
    expect(f.eventsByDay.get(localDayKey(T0))).toBe(2);
  });

  it('a gap breaks a run into two events', () => {
    const s = [
      { ms: T0, value: 400 },
      { ms: T0 + 2 * Q, value: 400 },
    ];
    expect(fitSpikes(s, Q, 300, 5000).events).toBe(2);
  });
});

describe('fitNegatives', () => {
  it('runs, depth and share by cell', () => {
    const f = fitNegatives(series([-10, -20, 5, -30]), Q);
    expect(f.negativeIntervals).toBe(3);
    expect(f.meanRunIntervals).toBe(1.5);
    expect(f.meanDepthUsdPerMWh).toBe(20);
    expect(f.probability[0]?.[0]).toBe(0.75);
    expect(f.probability[6]?.[12]).toBe(0);
  });
});

describe('monthHourMeans', () => {
  it('averages a cell and fills empty cells from the same hour, then from the overall mean', () => {
    const { table, filledCells } = monthHourMeans([
      { ms: T0, value: 10 },
      { ms: T0 + Q, value: 20 },
      { ms: Date.parse('2024-07-01T07:00:00Z'), value: 40 }, // July, local hour 1
    ]);
    expect(table[0]?.[0]).toBe(15);
    expect(table[6]?.[1]).toBe(40);
    expect(table[3]?.[0]).toBe(15); // April hour 0 from January hour 0
    expect(table[3]?.[5]).toBeCloseTo(70 / 3, 12); // no hour-5 data anywhere: overall mean
    expect(filledCells).toBe(288 - 2);
  });
});

describe('BTC and fee estimators', () => {
  it('GBM drift and volatility from daily log returns', () => {
    const days = [100, Math.exp(0.01) * 100, 100, Math.exp(0.01) * 100, 100].map((priceUsd, i) => ({
      dateUtc: `2024-01-0${i + 1}`,
      priceUsd,
    }));
    const r = dailyLogReturns(days);
    expect(r).toHaveLength(4);
    const g = fitGbm(r);
    const s = Math.sqrt((4 * 0.0001) / 3);
    expect(g.volPerYear).toBeCloseTo(s * Math.sqrt(365), 12);
    expect(g.driftPerYear).toBeCloseTo(((s * s) / 2) * 365, 12);
  });

  it('skips returns across missing days', () => {
    expect(dailyLogReturns([{ dateUtc: '2024-01-01', priceUsd: 1 }, { dateUtc: '2024-01-03', priceUsd: 2 }])).toEqual([]);
  });

  it('epoch growth: constant 10 % per epoch', () => {
    const g = fitEpochGrowth([100, 110, 121, 133.1]);
    expect(g.meanLog).toBeCloseTo(Math.log(1.1), 12);
    expect(g.sdLog).toBeCloseTo(0, 12);
  });

  it('fees: median and AR(1) over consecutive days', () => {
    const f = fitFees([
      { dateUtc: '2024-01-01', feesBtcPerBlock: 0.1 },
      { dateUtc: '2024-01-02', feesBtcPerBlock: 0.2 },
      { dateUtc: '2024-01-03', feesBtcPerBlock: 0.4 },
      { dateUtc: '2024-01-04', feesBtcPerBlock: 0.8 },
    ]);
    expect(f.medianBtc).toBeCloseTo(Math.sqrt(0.2 * 0.4), 12);
    expect(f.dailyAr1).toBeCloseTo(1, 12); // a straight line in logs
  });

  it('robustStd is IQR / 1.349', () => {
    expect(robustStd([1, 2, 3, 4, 5, 6, 7, 8])).toBeCloseTo(3.5 / 1.349, 12);
  });

  it('load coupling: spikes only on hot days give a positive c', () => {
    const levels = new Map<number, number>();
    for (let d = 0; d < 60; d++) levels.set(19_723 + d, d % 2 === 0 ? 0.1 : -0.1); // January 2024 days
    const events = new Map<number, number>();
    for (let d = 0; d < 60; d += 2) events.set(19_723 + d, 1);
    expect(fitLoadCoupling(events, levels)).toBeGreaterThan(0.9);
  });
});
