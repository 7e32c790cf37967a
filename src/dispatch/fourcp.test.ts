import { describe, expect, it } from 'vitest';
import { cptDayIndex, cptHour, cptMonth, intervalsInCptDay } from './calendar.js';
import { emptyPlan } from './baseline.js';
import { coincidentPeaks, fourCpAlerts, fourCpRate, peakWeights } from './fourcp.js';
import { settle } from './ledger.js';
import { fleet, input, Q, site } from './testing/fixtures.js';

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
  const cp = { months: [7, 8], usdPerKwYear: 60 };
  it('estimates each listed month from its hour of highest load: the 8 intervals of that hour and the hour before', () => {
    // July complete (31 days), August only 10 days in the data.
    const load = hourly(JUL1, 31 * 24 + 10 * 24, (h) => (h === 500 ? 85_000 : h === 31 * 24 + 40 ? 80_000 : 60_000 + (h % 24) * 100));
    const peaks = coincidentPeaks(load, cp, JUL1, JUL1 + 40 * 24 * H);
    expect(peaks.map((p) => [p.month, p.basis, p.hourStartMs, p.monthComplete, p.candidateStartMs.length, p.candidateStartMs[0]])).toEqual([
      ['2023-07', 'estimated', JUL1 + 500 * H, true, 8, JUL1 + 499 * H],
      ['2023-08', 'estimated', JUL1 + (31 * 24 + 40) * H, false, 8, JUL1 + (31 * 24 + 39) * H],
    ]);
    expect(Number.isNaN(peaks[0]?.intervalStartMs)).toBe(true);
    const starts = Float64Array.from({ length: 12 }, (_, i) => JUL1 + 499 * H - 2 * Q + i * Q);
    expect(Array.from(peakWeights(starts, peaks.slice(0, 1)))).toEqual([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  });

  it("uses ERCOT's official interval where one is given, even when the hourly peak is elsewhere", () => {
    const load = hourly(JUL1, 31 * 24, (h) => (h === 500 ? 85_000 : 60_000));
    const official = [{ month: '2023-07', intervalStartMs: JUL1 + 30 * 24 * H + 16 * H + 45 * 60_000, intervalMinutes: 15, systemLoadMW: 83_032.6 }];
    const [p] = coincidentPeaks(load, cp, JUL1, JUL1 + 31 * 24 * H, official);
    expect(p).toMatchObject({ month: '2023-07', basis: 'official', intervalStartMs: official[0]?.intervalStartMs, candidateStartMs: [official[0]?.intervalStartMs], hourStartMs: JUL1 + 500 * H, systemLoadMW: 83_032.6, usdPerKwYear: 60, rateSource: 'site' });
    // Official months need no load data at all.
    expect(coincidentPeaks({ startMs: new Float64Array(0), loadMW: new Float64Array(0) }, cp, JUL1, JUL1 + 31 * 24 * H, official)).toHaveLength(1);
  });

  it("prices a tag at the site's rate, else at ERCOT's postage-stamp rate of the billing year (summer Y → Y + 1)", () => {
    expect(fourCpRate({ usdPerKwYear: 60 }, '2024-08')).toEqual({ usdPerKwYear: 60, source: 'site' });
    expect(fourCpRate({}, '2023-08')).toEqual({ usdPerKwYear: 66.756998, source: 'ERCOT postage stamp 2024' });
    expect(fourCpRate({}, '2024-08').usdPerKwYear).toBe(68.547301);
    expect(fourCpRate({}, '2025-07').usdPerKwYear).toBe(75.52727);
    expect(fourCpRate({}, '2021-07')).toEqual({ usdPerKwYear: 66.756998, source: 'ERCOT postage stamp 2024 (no rate on file for 2022)' });
  });
});

describe('4CP settlement in the ledger (by hand)', () => {
  // One 40 MW fleet over 2023-07-31 15:00–18:00 CDT (12 intervals); its MW steps down each interval.
  const start = Date.parse('2023-07-31T20:00:00Z');
  const mwAt = (i: number) => 40 - 2 * i;
  const s = site({ transmission: { coincidentPeak: { months: [7], usdPerKwYear: 60, alerts: { localHours: [14, 19], riskPct: 95 } } }, fleets: [fleet('f', 40)] });
  const plan = (inp: ReturnType<typeof input>) => {
    const p = emptyPlan('hand', inp);
    (p.fleetMW[0] as Float64Array).set(Array.from({ length: 12 }, (_, i) => mwAt(i)));
    return p;
  };

  it("settles an official interval at exactly that interval: ERCOT's 2023-07-31 16:45 CDT", () => {
    // 16:45 CDT = 21:45 UTC = interval 7 of the window: the fleet draws 40 − 14 = 26 MW there.
    const official = [{ month: '2023-07', intervalStartMs: Date.parse('2023-07-31T21:45:00Z'), intervalMinutes: 15, systemLoadMW: 83_032.6 }];
    const inp = input(s, new Array<number>(12).fill(20), { startMs: start, official });
    const t = settle(inp, plan(inp)).totals;
    expect(t.fourCpDemandsMW).toEqual([{ month: '2023-07', basis: 'official', intervalStartMs: Date.parse('2023-07-31T21:45:00Z'), demandMW: 26, usdPerKwYear: 60, chargeUsd: 60 * 1000 * 0.25 * 26 }]);
    expect(t.fourCpTagMW).toBe(6.5);
    expect(t.costUsd.transmission).toBe(390_000);
    // The whole charge sits in that one interval of the per-interval ledger.
    const l = settle(inp, plan(inp));
    expect(Array.from(l.cost.transmission).map((v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0)).toEqual([7]);
  });

  it('settles an estimated month at the worst interval of the peak hour and the hour before', () => {
    // Peak hourly load 17:00–18:00 CDT (22:00 UTC): candidates 16:00–18:00 CDT = intervals 4..11; worst 40 − 8 = 32 MW.
    const load = hourly(Date.parse('2023-07-01T05:00:00Z'), 31 * 24, (h) => (h === 30 * 24 + 17 ? 85_000 : 60_000));
    const inp = input(s, new Array<number>(12).fill(20), { startMs: start, load });
    const [d] = settle(inp, plan(inp)).totals.fourCpDemandsMW;
    expect(d).toEqual({ month: '2023-07', basis: 'estimated', intervalStartMs: start + 4 * Q, demandMW: 32, usdPerKwYear: 60, chargeUsd: 60 * 250 * 32 });
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
