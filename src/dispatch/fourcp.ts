/**
 * ERCOT 4CP: in each listed month the coincident-peak hour is the hour of highest ERCOT TOTAL load;
 * a site's demand in it (average of its intervals) sets the transmission charge
 * usdPerKwYear × 1000 × ¼ × Σ monthly demands (MW). Perfect foresight (optimal) knows the hour;
 * strike and rolling only get alerts, forecast here from load known the day before.
 */
import { MS_PER_HOUR } from '../core/time.js';
import { cptWallToUtcMs } from '../market/ercot-time.js';
import type { FourCpAlertConfig } from '../site/types.js';
import { cptDayIndex, cptHour, cptMonth } from './calendar.js';
import type { FourCpPeak } from './types.js';

/** Hourly system load, sorted by hour start (UTC ms). */
export interface HourlyLoad {
  startMs: Float64Array;
  loadMW: Float64Array;
}

function monthBoundsMs(month: string): { fromMs: number; toMs: number } {
  const year = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  const next = m === 12 ? { year: year + 1, month: 1, day: 1 } : { year, month: m + 1, day: 1 };
  return { fromMs: cptWallToUtcMs({ year, month: m, day: 1 }, 0), toMs: cptWallToUtcMs(next, 0) };
}

/** Realized coincident peak of every listed month that overlaps [fromMs, toMs). */
export function coincidentPeaks(load: HourlyLoad, months: readonly number[], fromMs: number, toMs: number): FourCpPeak[] {
  const wanted = new Set<string>();
  for (let t = fromMs; t < toMs; t += MS_PER_HOUR * 24) {
    const m = cptMonth(t);
    if (months.includes(Number(m.slice(5, 7)))) wanted.add(m);
  }
  const last = cptMonth(toMs - 1);
  if (months.includes(Number(last.slice(5, 7)))) wanted.add(last);
  const peaks: FourCpPeak[] = [];
  for (const month of [...wanted].sort()) {
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
    if (hours === 0) continue;
    peaks.push({ month, hourStartMs: bestMs, systemLoadMW: best, monthComplete: hours >= Math.round((b - a) / MS_PER_HOUR) });
  }
  return peaks;
}

/** Per interval: 1/n for the n priced intervals inside a peak hour, else 0. */
export function peakWeights(startMs: Float64Array, peaks: readonly FourCpPeak[]): Float64Array {
  const w = new Float64Array(startMs.length);
  for (const p of peaks) {
    const idx: number[] = [];
    for (let i = 0; i < startMs.length; i++) {
      const t = startMs[i] as number;
      if (t >= p.hourStartMs && t < p.hourStartMs + MS_PER_HOUR) idx.push(i);
    }
    for (const i of idx) w[i] = 1 / idx.length;
  }
  return w;
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
