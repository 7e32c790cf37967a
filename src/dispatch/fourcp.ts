/**
 * ERCOT 4CP. In each listed month ERCOT settles transmission on ONE 15-minute interval: the one with
 * the highest ERCOT total demand (NP9-83-M, published each November). A site's demand in that interval
 * sets its tag, ¼ × Σ monthly demands (MW), and the charge `usdPerKwYear × 1000 × tag` (booked here in
 * the window that holds the interval; ERCOT bills it over the next calendar year).
 * - Where the official interval is known (imported from ERCOT's posting), that interval alone counts.
 * - Where it is not (a summer not posted yet, a year ERCOT never listed), the interval is uncertain
 *   inside the hour of highest hourly load and the hour before it (ERCOT's interval fell in that
 *   window in 14 of the 15 posted months of 2022–2025 that have hourly load; September 2024 peaked a
 *   day later than the hourly data says): every 15-minute interval of that window is a candidate and the site's demand is the WORST case over them (a tag can only be
 *   avoided by staying low through the whole window, which is what operators do on a 4CP day).
 * Perfect foresight (optimal) plans against exactly these candidates; strike and rolling only get
 * alerts, forecast here from load known the day before.
 */
import { MS_PER_HOUR, MS_PER_MINUTE } from '../core/time.js';
import { cptWallToUtcMs } from '../core/ercot-time.js';
import type { CoincidentPeak, FourCpAlertConfig } from '../site/types.js';
import { cptDayIndex, cptHour, cptMonth } from './calendar.js';
import type { FourCpPeak } from './types.js';

/** Hourly system load, sorted by hour start (UTC ms). */
export interface HourlyLoad {
  startMs: Float64Array;
  loadMW: Float64Array;
}

/** An official settlement interval as the store gives it. */
export interface OfficialFourCp {
  month: string;
  intervalStartMs: number;
  intervalMinutes: number;
  systemLoadMW?: number;
}

/** ERCOT settles 4CP demand on 15-minute intervals. */
export const FOURCP_INTERVAL_MINUTES = 15;

/**
 * ERCOT's postage-stamp transmission rate by the calendar year it is BILLED, USD per kW-year
 * (PROVENANCE §10: PUCT Dockets 56050, 57491, 59080). Summer Y's tag is billed in Y + 1, so a summer-Y
 * month is priced at the rate of Y + 1. A site's `usdPerKwYear` overrides these defaults.
 */
export const ERCOT_POSTAGE_STAMP_USD_PER_KW_YEAR: Readonly<Record<number, number>> = { 2024: 66.756998, 2025: 68.547301, 2026: 75.52727 };

/** The rate that prices a tag set in `month` ('YYYY-MM'), and where it came from. */
export function fourCpRate(cp: Pick<CoincidentPeak, 'usdPerKwYear'>, month: string): { usdPerKwYear: number; source: string } {
  if (cp.usdPerKwYear !== undefined) return { usdPerKwYear: cp.usdPerKwYear, source: 'site' };
  const billed = Number(month.slice(0, 4)) + 1;
  const known = ERCOT_POSTAGE_STAMP_USD_PER_KW_YEAR[billed];
  if (known !== undefined) return { usdPerKwYear: known, source: `ERCOT postage stamp ${billed}` };
  const years = Object.keys(ERCOT_POSTAGE_STAMP_USD_PER_KW_YEAR).map(Number);
  const nearest = years.reduce((a, b) => (Math.abs(b - billed) < Math.abs(a - billed) ? b : a));
  return { usdPerKwYear: ERCOT_POSTAGE_STAMP_USD_PER_KW_YEAR[nearest] as number, source: `ERCOT postage stamp ${nearest} (no rate on file for ${billed})` };
}

function monthBoundsMs(month: string): { fromMs: number; toMs: number } {
  const year = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  const next = m === 12 ? { year: year + 1, month: 1, day: 1 } : { year, month: m + 1, day: 1 };
  return { fromMs: cptWallToUtcMs({ year, month: m, day: 1 }, 0), toMs: cptWallToUtcMs(next, 0) };
}

/** Listed months ('YYYY-MM', CPT) that overlap [fromMs, toMs). */
export function fourCpMonths(months: readonly number[], fromMs: number, toMs: number): string[] {
  const wanted = new Set<string>();
  for (let t = fromMs; t < toMs; t += MS_PER_HOUR * 24) {
    const m = cptMonth(t);
    if (months.includes(Number(m.slice(5, 7)))) wanted.add(m);
  }
  const last = cptMonth(toMs - 1);
  if (months.includes(Number(last.slice(5, 7)))) wanted.add(last);
  return [...wanted].sort();
}

/** The 15-minute starts of the hour before `hourStartMs` and of that hour: the estimated candidates. */
export function estimatedCandidates(hourStartMs: number): number[] {
  const step = FOURCP_INTERVAL_MINUTES * MS_PER_MINUTE;
  return Array.from({ length: (2 * MS_PER_HOUR) / step }, (_, k) => hourStartMs - MS_PER_HOUR + k * step);
}

/**
 * The coincident peak of every listed month that overlaps [fromMs, toMs): the official interval when
 * one is given for the month, else estimated from the hour of highest hourly system load (months
 * with neither are left out). Rates come from the site, else ERCOT's rate of the billing year.
 */
export function coincidentPeaks(load: HourlyLoad, cp: Pick<CoincidentPeak, 'months' | 'usdPerKwYear'>, fromMs: number, toMs: number, official: readonly OfficialFourCp[] = []): FourCpPeak[] {
  const byMonth = new Map(official.map((o) => [o.month, o]));
  const peaks: FourCpPeak[] = [];
  for (const month of fourCpMonths(cp.months, fromMs, toMs)) {
    const { fromMs: a, toMs: b } = monthBoundsMs(month);
    let best = -Infinity;
    let bestMs = NaN;
    let hours = 0;
    for (let i = 0; i < load.startMs.length; i++) {
      const t = load.startMs[i] as number;
      if (t < a || t >= b) continue;
      hours++;
      const v = load.loadMW[i] as number;
      if (v > best) {
        best = v;
        bestMs = t;
      }
    }
    const rate = fourCpRate(cp, month);
    const o = byMonth.get(month);
    if (o) {
      peaks.push({
        month,
        basis: 'official',
        intervalStartMs: o.intervalStartMs,
        candidateStartMs: [o.intervalStartMs],
        hourStartMs: hours > 0 ? bestMs : NaN,
        systemLoadMW: o.systemLoadMW ?? NaN,
        monthComplete: true,
        usdPerKwYear: rate.usdPerKwYear,
        rateSource: rate.source,
      });
      continue;
    }
    if (hours === 0) continue;
    peaks.push({
      month,
      basis: 'estimated',
      intervalStartMs: NaN,
      candidateStartMs: estimatedCandidates(bestMs),
      hourStartMs: bestMs,
      systemLoadMW: best,
      monthComplete: hours >= Math.round((b - a) / MS_PER_HOUR),
      usdPerKwYear: rate.usdPerKwYear,
      rateSource: rate.source,
    });
  }
  return peaks;
}

/** Per interval: 1 where the interval is (official) or may be (estimated) its month's settlement interval, else 0. */
export function peakWeights(startMs: Float64Array, peaks: readonly FourCpPeak[]): Float64Array {
  const w = new Float64Array(startMs.length);
  const candidates = new Set(peaks.flatMap((p) => p.candidateStartMs));
  for (let i = 0; i < startMs.length; i++) if (candidates.has(startMs[i] as number)) w[i] = 1;
  return w;
}

/** Indices of the priced intervals that are candidates of each peak (same order as `peaks`). */
export function candidateIndices(startMs: Float64Array, peaks: readonly FourCpPeak[]): number[][] {
  const index = new Map<number, number>();
  startMs.forEach((ms, i) => index.set(ms, i));
  return peaks.map((p) => p.candidateStartMs.map((ms) => index.get(ms)).filter((i): i is number => i !== undefined));
}

/**
 * 4CP alert flag per interval, known before the interval. Explicit windows when configured;
 * otherwise a persistence forecast: in a listed month, a CPT day is an alert day when yesterday's
 * peak hourly load reached riskPct % of the highest hourly load of the 30 days before today (no
 * load data for yesterday → alert, to stay safe); alerts cover the local hours [start, end).
 */
export function fourCpAlerts(startMs: Float64Array, months: readonly number[], cfg: FourCpAlertConfig, load: HourlyLoad): Uint8Array {
  const flags = new Uint8Array(startMs.length);
  if (cfg.windows) {
    for (let i = 0; i < startMs.length; i++) {
      const t = startMs[i] as number;
      if (cfg.windows.some((w) => t >= w.fromMs && t < w.toMs)) flags[i] = 1;
    }
    return flags;
  }
  const dayPeak = new Map<number, number>();
  for (let i = 0; i < load.startMs.length; i++) {
    const d = cptDayIndex(load.startMs[i] as number);
    const v = load.loadMW[i] as number;
    if (v > (dayPeak.get(d) ?? -Infinity)) dayPeak.set(d, v);
  }
  const alertDay = new Map<number, boolean>();
  const isAlertDay = (d: number): boolean => {
    const cached = alertDay.get(d);
    if (cached !== undefined) return cached;
    const yesterday = dayPeak.get(d - 1);
    let ref = -Infinity;
    for (let k = d - 30; k <= d - 1; k++) ref = Math.max(ref, dayPeak.get(k) ?? -Infinity);
    const alert = yesterday === undefined || yesterday >= (cfg.riskPct / 100) * ref;
    alertDay.set(d, alert);
    return alert;
  };
  const [h0, h1] = cfg.localHours;
  for (let i = 0; i < startMs.length; i++) {
    const t = startMs[i] as number;
    const h = cptHour(t);
    if (h < h0 || h >= h1) continue;
    if (!months.includes(Number(cptMonth(t).slice(5, 7)))) continue;
    if (isAlertDay(cptDayIndex(t))) flags[i] = 1;
  }
  return flags;
}
