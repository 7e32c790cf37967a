/**
 * ERCOT labels intervals in Central Prevailing Time (CPT: CST −06:00, CDT −05:00) by the hour they
 * END in (HE 01 = 00:00–01:00 local). Mullet stores interval STARTS in UTC. These pure helpers do
 * the conversion, including the two DST days: spring-forward has 23 hours (HE 03 does not exist),
 * fall-back has 25 (HE 02 twice; the second one carries DSTFlag / Repeated Hour Flag = Y and is
 * 01:00–02:00 CST). No clock, no I/O, no time-zone database: US DST rules are written out.
 */
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from './time.js';

export const CST_OFFSET_MINUTES = -360;
export const CDT_OFFSET_MINUTES = -300;

export interface CivilDate {
  year: number;
  month: number; // 1..12
  day: number; // 1..31
}

/** Day of month of the n-th Sunday (n >= 1) of a month, or the last Sunday when n = -1. */
function sunday(year: number, month: number, n: number): number {
  if (n > 0) {
    const dow = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
    return 1 + ((7 - dow) % 7) + 7 * (n - 1);
  }
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const dow = new Date(Date.UTC(year, month - 1, lastDay)).getUTCDay();
  return lastDay - dow;
}

const boundsCache = new Map<number, { startMs: number; endMs: number }>();

/**
 * The UTC instants at which CPT daylight time starts (02:00 CST → 03:00 CDT) and ends
 * (02:00 CDT → 01:00 CST) in `year`. US rules since 2007 (second Sunday of March, first Sunday
 * of November) and 1987–2006 (first Sunday of April, last Sunday of October).
 */
export function cptDstBoundsUtcMs(year: number): { startMs: number; endMs: number } {
  const cached = boundsCache.get(year);
  if (cached) return cached;
  if (!Number.isInteger(year) || year < 1987 || year > 9999) {
    throw new RangeError(`CPT daylight-saving rules are implemented for 1987..9999, got year ${year}`);
  }
  const [startMonth, startSunday, endMonth, endSunday] = year >= 2007 ? [3, 2, 11, 1] : [4, 1, 10, -1];
  // 02:00 CST = 08:00 UTC; 02:00 CDT = 07:00 UTC.
  const startMs = Date.UTC(year, startMonth - 1, sunday(year, startMonth, startSunday), 8);
  const endMs = Date.UTC(year, endMonth - 1, sunday(year, endMonth, endSunday), 7);
  const bounds = { startMs, endMs };
  boundsCache.set(year, bounds);
  return bounds;
}

/** UTC offset of Central Prevailing Time at a UTC instant, in minutes (−360 CST, −300 CDT). */
export function cptOffsetMinutes(utcMs: number): number {
  const { startMs, endMs } = cptDstBoundsUtcMs(new Date(utcMs).getUTCFullYear());
  return utcMs >= startMs && utcMs < endMs ? CDT_OFFSET_MINUTES : CST_OFFSET_MINUTES;
}

/**
 * UTC ms of a CPT wall-clock time (`minuteOfDay` minutes after local midnight of `date`).
 * In the repeated fall-back hour (01:00–01:59) `repeated` picks the second, CST occurrence.
 * Throws RangeError for a wall time that does not exist (spring-forward 02:00–02:59) or for
 * `repeated` on a time that is not repeated.
 */
export function cptWallToUtcMs(date: CivilDate, minuteOfDay: number, repeated = false): number {
  const wallMs = Date.UTC(date.year, date.month - 1, date.day) + minuteOfDay * MS_PER_MINUTE;
  const asStandard = wallMs - CST_OFFSET_MINUTES * MS_PER_MINUTE;
  const asDaylight = wallMs - CDT_OFFSET_MINUTES * MS_PER_MINUTE;
  const standardOk = cptOffsetMinutes(asStandard) === CST_OFFSET_MINUTES;
  const daylightOk = cptOffsetMinutes(asDaylight) === CDT_OFFSET_MINUTES;
  if (standardOk && daylightOk) return repeated ? asStandard : asDaylight;
  const label = `${isoDate(date)} ${hhmm(minuteOfDay)} CPT`;
  if (repeated) throw new RangeError(`${label} is flagged as the repeated hour but is not repeated that day`);
  if (standardOk) return asStandard;
  if (daylightOk) return asDaylight;
  throw new RangeError(`${label} does not exist (clocks skip 02:00–02:59 on the spring-forward day)`);
}

/**
 * UTC start (ms) of an ERCOT interval labelled by hour ending `hourEnding` (1..24) on a CPT
 * operating day; `interval` (1..intervalsPerHour) selects the sub-hourly interval inside it.
 */
export function ercotIntervalStartUtcMs(
  date: CivilDate,
  hourEnding: number,
  repeated: boolean,
  interval = 1,
  intervalsPerHour = 1,
): number {
  if (!Number.isInteger(hourEnding) || hourEnding < 1 || hourEnding > 24) {
    throw new RangeError(`hour ending must be 1..24, got ${hourEnding}`);
  }
  if (!Number.isInteger(interval) || interval < 1 || interval > intervalsPerHour) {
    throw new RangeError(`interval must be 1..${intervalsPerHour}, got ${interval}`);
  }
  const minuteOfDay = (hourEnding - 1) * 60 + ((interval - 1) * 60) / intervalsPerHour;
  return cptWallToUtcMs(date, minuteOfDay, repeated);
}

/** Number of hours in a CPT operating day: 23 on spring-forward, 25 on fall-back, else 24. */
export function cptDayHours(date: CivilDate): number {
  const start = cptWallToUtcMs(date, 0);
  const next = new Date(Date.UTC(date.year, date.month - 1, date.day) + MS_PER_DAY);
  const end = cptWallToUtcMs({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, 0);
  return (end - start) / MS_PER_HOUR;
}

/** Parses ERCOT's 'MM/DD/YYYY' delivery date; throws RangeError when malformed or impossible. */
export function parseErcotDate(text: string): CivilDate {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (!m) throw new RangeError(`expected a date MM/DD/YYYY, got '${text}'`);
  const date = { year: Number(m[3]), month: Number(m[1]), day: Number(m[2]) };
  const probe = new Date(Date.UTC(date.year, date.month - 1, date.day));
  if (probe.getUTCMonth() !== date.month - 1 || probe.getUTCDate() !== date.day) {
    throw new RangeError(`not a calendar date: '${text}'`);
  }
  return date;
}

/** Parses an hour-ending label: '01:00'..'24:00' or '1'..'24'. Throws RangeError otherwise. */
export function parseHourEnding(text: string): number {
  const m = /^(\d{1,2})(?::00)?$/.exec(text);
  const he = m ? Number(m[1]) : NaN;
  if (!(he >= 1 && he <= 24)) throw new RangeError(`expected an hour ending 1..24 or 01:00..24:00, got '${text}'`);
  return he;
}

/** ISO 8601 local CPT rendering of a UTC instant, e.g. '2024-11-03T01:00:00-06:00'. */
export function formatCpt(utcMs: number): string {
  const offset = cptOffsetMinutes(utcMs);
  const local = new Date(utcMs + offset * MS_PER_MINUTE).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function isoDate(d: CivilDate): string {
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

function hhmm(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}
