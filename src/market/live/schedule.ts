/**
 * When each feed polls next: pure functions of "now" (UTC ms) and what the feed last saw. No clock
 * reads, no timers; the scheduler (feeds.ts) turns the answers into timeouts.
 */
import { backoffDelayMs } from '../../net/http-client.js';
import { cptDate } from '../fetchers/ercot-mis.js';
import { cptWallToUtcMs } from '../../core/ercot-time.js';

const DAY_MS = 86_400_000;

/**
 * The next instant strictly after `nowMs` on the grid `k·everyMs + offsetMs` (UTC, epoch-aligned):
 * RT postings every 15 min + publish delay, load hourly at :10, mempool every 5 min.
 */
export function nextOnGridMs(nowMs: number, everyMs: number, offsetMs = 0): number {
  if (!(everyMs > 0)) throw new RangeError(`everyMs must be > 0, got ${everyMs}`);
  const k = Math.floor((nowMs - offsetMs) / everyMs) + 1;
  return k * everyMs + offsetMs;
}

/** CPT calendar date ('YYYY-MM-DD') `days` after the CPT date of `utcMs`. */
export function cptDatePlus(utcMs: number, days: number): string {
  const d = new Date(Date.parse(`${cptDate(utcMs)}T00:00:00Z`) + days * DAY_MS);
  return d.toISOString().slice(0, 10);
}

function civil(date: string): { year: number; month: number; day: number } {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return { year: y, month: m, day: d };
}

/** UTC ms of a CPT wall time on a CPT date (a time skipped by spring-forward moves an hour later). */
export function cptWallMs(date: string, minuteOfDay: number): number {
  try {
    return cptWallToUtcMs(civil(date), minuteOfDay);
  } catch {
    return cptWallToUtcMs(civil(date), minuteOfDay + 60);
  }
}

/** [start, end) in UTC ms of a CPT operating day (23, 24 or 25 hours long). */
export function cptDayRangeMs(date: string): { startMs: number; endMs: number } {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  return { startMs: cptWallMs(date, 0), endMs: cptWallMs(next, 0) };
}

/**
 * Day-ahead: ERCOT posts the DAM results for tomorrow once a day (~13:30 CPT). With tomorrow held,
 * the next poll is at the publish time of the following day; before today's publish time, at it;
 * after it and still missing, `retryEveryMs` later (until the day is present).
 */
export function nextDaPollMs(nowMs: number, o: { publishAtMinuteCpt: number; retryEveryMs: number; haveTomorrow: boolean }): number {
  const today = cptDate(nowMs);
  const publishToday = cptWallMs(today, o.publishAtMinuteCpt);
  // Tomorrow is in: the next thing to wait for is the day after's posting, tomorrow afternoon.
  if (o.haveTomorrow) return cptWallMs(cptDatePlus(nowMs, 1), o.publishAtMinuteCpt);
  if (nowMs < publishToday) return publishToday;
  return nowMs + o.retryEveryMs;
}

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Wait before retrying after the n-th consecutive failure: the HTTP client's equal-jitter
 * exponential step (half the capped step plus a random half), so one policy governs every retry.
 * `random` is uniform [0, 1), injected (seeded in tests).
 */
export function retryDelayMs(consecutiveFailures: number, policy: BackoffPolicy, random: () => number): number {
  const n = Math.max(1, Math.min(consecutiveFailures, 60));
  return backoffDelayMs(n, { attempts: Infinity, ...policy }, random);
}

/** A small seeded PRNG (mulberry32): uniform [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
