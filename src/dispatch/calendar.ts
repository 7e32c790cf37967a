/** Local (CPT) calendar helpers for dispatch: ERCOT settles in local days, dispatch runs in UTC. */
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from '../core/time.js';
import { cptDayHours, cptOffsetMinutes } from '../core/ercot-time.js';

// CPT offsets change only on whole UTC hours, so one lookup per hour serves a year of intervals.
const offsetByHour = new Map<number, number>();
function localMs(utcMs: number): number {
  const h = Math.floor(utcMs / MS_PER_HOUR);
  let off = offsetByHour.get(h);
  if (off === undefined) {
    off = cptOffsetMinutes(h * MS_PER_HOUR);
    if (offsetByHour.size > 200_000) offsetByHour.clear();
    offsetByHour.set(h, off);
  }
  return utcMs + off * MS_PER_MINUTE;
}

/** CPT calendar day of a UTC instant, as days since 1970-01-01 of the local date. */
export function cptDayIndex(utcMs: number): number {
  return Math.floor(localMs(utcMs) / MS_PER_DAY);
}

/** CPT wall-clock hour (0..23) of a UTC instant. */
export function cptHour(utcMs: number): number {
  const local = localMs(utcMs);
  return Math.floor((local - Math.floor(local / MS_PER_DAY) * MS_PER_DAY) / MS_PER_HOUR);
}

const monthByDay = new Map<number, string>();
/** 'YYYY-MM' of the CPT calendar month of a UTC instant. */
export function cptMonth(utcMs: number): string {
  const d = cptDayIndex(utcMs);
  let m = monthByDay.get(d);
  if (m === undefined) {
    m = new Date(d * MS_PER_DAY).toISOString().slice(0, 7);
    monthByDay.set(d, m);
  }
  return m;
}

/** Settlement intervals in a CPT day (96 at 15 min; 92 / 100 on the DST days). */
export function intervalsInCptDay(dayIndex: number, intervalMinutes: number): number {
  const d = new Date(dayIndex * MS_PER_DAY);
  const hours = cptDayHours({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
  return Math.round((hours * 60) / intervalMinutes);
}

/** Local day index and the full-day interval count of every day present in `startMs`. */
export function localDays(startMs: Float64Array, intervalMinutes: number): { localDay: Int32Array; dayIntervals: Map<number, number> } {
  const localDay = new Int32Array(startMs.length);
  const dayIntervals = new Map<number, number>();
  for (let i = 0; i < startMs.length; i++) {
    const d = cptDayIndex(startMs[i] as number);
    localDay[i] = d;
    if (!dayIntervals.has(d)) dayIntervals.set(d, intervalsInCptDay(d, intervalMinutes));
  }
  return { localDay, dayIntervals };
}
