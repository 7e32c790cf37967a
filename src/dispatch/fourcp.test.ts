import { describe, expect, it } from 'vitest';
import { cptDayIndex, cptHour, cptMonth, intervalsInCptDay } from './calendar.js';
import { coincidentPeaks, fourCpAlerts, peakWeights } from './fourcp.js';

const H = 3_600_000;
// 2023-07-01 00:00 CDT.
const JUL1 = Date.parse('2023-07-01T05:00:00Z');

function hourly(fromMs: number, hours: number, f: (h: number) => number) {
  return { startMs: Float64Array.from({ length: hours }, (_, h) => fromMs + h * H), loadMW: Float64Array.from({ length: hours }, (_, h) => f(h)) };
}

describe('CPT calendar', () => {
  it('counts 92 and 100 intervals on the DST days', () => {
    expect(intervalsInCptDay(cptDayIndex(Date.parse('2023-03-12T12:00:00Z')), 15)).toBe(92);
    expect(intervalsInCptDay(cptDayIndex(Date.parse('2023-11-05T12:00:00Z')), 15)).toBe(100);
    expect(intervalsInCptDay(cptDayIndex(Date.parse('2023-08-01T12:00:00Z')), 15)).toBe(96);
  });

  it('gives local hour and month across the UTC midnight', () => {
    const t = Date.parse('2023-08-01T03:30:00Z'); // 2023-07-31 22:30 CDT
    expect(cptHour(t)).toBe(22);
    expect(cptMonth(t)).toBe('2023-07');
  });
});

describe('coincident peaks', () => {
  it('picks the hour of highest system load per listed month and flags incomplete months', () => {
    // July complete (31 days), August only 10 days in the data.
    const load = hourly(JUL1, 31 * 24 + 10 * 24, (h) => (h === 500 ? 85_000 : h === 31 * 24 + 40 ? 80_000 : 60_000 + (h % 24) * 100));
    const peaks = coincidentPeaks(load, [7, 8], JUL1, JUL1 + 40 * 24 * H);
    expect(peaks.map((p) => [p.month, p.hourStartMs, p.monthComplete])).toEqual([
      ['2023-07', JUL1 + 500 * H, true],
      ['2023-08', JUL1 + (31 * 24 + 40) * H, false],
    ]);
    const starts = Float64Array.from({ length: 8 }, (_, i) => JUL1 + 500 * H - 2 * 900_000 + i * 900_000);
    expect(Array.from(peakWeights(starts, peaks.slice(0, 1)))).toEqual([0, 0, 0.25, 0.25, 0.25, 0.25, 0, 0]);
  });
});

describe('4CP alerts', () => {
  const cfg = { localHours: [14, 19] as [number, number], riskPct: 95 };
  it('alerts on days after a near-peak day, in the local window, in listed months only', () => {
    // Daily peak 70 GW from June 1, except Aug 3 (day 63) peaking at 60 GW (< 95 % of 70).
    const from = JUL1 - 30 * 24 * H; // June 1
    const load = hourly(from, 70 * 24, (h) => (Math.floor(h / 24) === 63 ? 60_000 : h % 24 === 17 ? 70_000 : 50_000));
    const aug4 = Date.parse('2023-08-04T05:00:00Z');
    const aug5 = Date.parse('2023-08-05T05:00:00Z');
    const starts = Float64Array.from([aug4 + 15 * H, aug4 + 10 * H, aug5 + 15 * H, aug5 + 19 * H]);
    expect(Array.from(fourCpAlerts(starts, [8], cfg, load))).toEqual([0, 0, 1, 0]);
    expect(Array.from(fourCpAlerts(starts, [9], cfg, load))).toEqual([0, 0, 0, 0]);
  });

  it('alerts when yesterday has no load data (safe), and uses explicit windows when given', () => {
    const t = Float64Array.from([JUL1 + 15 * H]);
    expect(Array.from(fourCpAlerts(t, [7], cfg, { startMs: new Float64Array(0), loadMW: new Float64Array(0) }))).toEqual([1]);
    const windows = [{ fromMs: JUL1, toMs: JUL1 + H }];
    expect(Array.from(fourCpAlerts(Float64Array.from([JUL1, JUL1 + H]), [7], { ...cfg, windows }, { startMs: new Float64Array(0), loadMW: new Float64Array(0) }))).toEqual([1, 0]);
  });
});
