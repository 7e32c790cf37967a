import { HALVING_INTERVAL_BLOCKS, SATS_PER_BTC, blockSubsidySats } from '../../bitcoin/subsidy.js';
import { MS_PER_DAY, utcDate } from '../../core/time.js';
import { emptyBatch, type BtcDay, type DifficultyEpoch, type ParsedBatch } from '../types.js';
import type { BlockFeesPoint, DifficultyAdjustmentRow, HashrateResponse, HistoricalPrice } from './mempool.js';

/**
 * Pure conversion of validated mempool responses into the normalised records (BtcDay per UTC day,
 * DifficultyEpoch per retarget). Nothing here reads the clock: `nowMs` says which days are over.
 */

const S = 1000;
const H_PER_TH = 1e12;

/** Days whose end (next 00:00 UTC) is at or before nowMs: only those are complete. */
function dayIsOver(date: string, nowMs: number): boolean {
  return Date.parse(`${date}T00:00:00Z`) + MS_PER_DAY <= nowMs;
}

/**
 * Daily hashrate: mempool stamps each value at the 00:00 UTC that *ends* the 24 h of blocks it
 * was estimated from, so the value belongs to the day before its timestamp. H/s → TH/s.
 */
export function hashrateDays(hashrates: HashrateResponse['hashrates']): BtcDay[] {
  return hashrates.map((h) => ({ dateUtc: utcDate(h.timestamp * S - 1), hashrateThs: h.avgHashrate / H_PER_TH }));
}

export interface Adjustment {
  timestampS: number;
  height: number;
  difficulty: number;
  /** New / previous difficulty, when the source gives it: lets the first retarget day be blended. */
  ratio?: number;
}

/**
 * Difficulty by day as the store defines it: the mean over the UTC day, time-weighted across a
 * retarget (≈ block-weighted, since blocks arrive at a steady rate within a day). Runs from the
 * first adjustment's day (the day after when the difficulty before it is unknown) to `lastDate`.
 */
export function difficultyDays(adjustments: readonly Adjustment[], lastDate: string): BtcDay[] {
  const sorted = [...adjustments].sort((a, b) => a.timestampS - b.timestampS);
  const first = sorted[0];
  if (!first) return [];
  const firstMs = first.timestampS * S;
  let dayMs = Date.parse(`${utcDate(firstMs)}T00:00:00Z`);
  const before = first.ratio !== undefined && first.ratio > 0 ? first.difficulty / first.ratio : undefined;
  if (before === undefined && firstMs > dayMs) dayMs += MS_PER_DAY;
  let current = before ?? first.difficulty;
  let k = 0;
  while (k < sorted.length && (sorted[k] as Adjustment).timestampS * S <= dayMs) current = (sorted[k++] as Adjustment).difficulty;
  const out: BtcDay[] = [];
  for (const endMs = Date.parse(`${lastDate}T00:00:00Z`); dayMs <= endMs; dayMs += MS_PER_DAY) {
    const nextDayMs = dayMs + MS_PER_DAY;
    if (k >= sorted.length || (sorted[k] as Adjustment).timestampS * S >= nextDayMs) {
      out.push({ dateUtc: utcDate(dayMs), difficulty: current });
      continue;
    }
    let weighted = 0;
    let t = dayMs;
    while (k < sorted.length && (sorted[k] as Adjustment).timestampS * S < nextDayMs) {
      const a = sorted[k++] as Adjustment;
      weighted += current * ((a.timestampS * S - t) / MS_PER_DAY);
      t = a.timestampS * S;
      current = a.difficulty;
    }
    weighted += current * ((nextDayMs - t) / MS_PER_DAY);
    out.push({ dateUtc: utcDate(dayMs), difficulty: weighted });
  }
  return out;
}

/** Epochs from `/difficulty-adjustments` rows; an epoch starts on its first full UTC day. */
export function epochsFromAdjustments(rows: readonly DifficultyAdjustmentRow[]): DifficultyEpoch[] {
  return [...rows]
    .sort((a, b) => a[1] - b[1])
    .map(([timestampS, startHeight, difficulty]) => ({
      startDateUtc: utcDate(Math.ceil(timestampS / 86_400) * MS_PER_DAY),
      difficulty,
      startHeight,
    }));
}

/**
 * Fees, block count and end-of-day height per UTC day, estimated from `/mining/blocks/fees`
 * buckets (blocks grouped by `timestamp DIV bucket`, bucket 1 s … 1 day, always within one UTC day;
 * each point carries the mean height and mean fees per block of its bucket, not the count).
 *
 * Blocks are consecutive in height, so the height boundary between neighbouring buckets is
 * estimated at the midpoint of their mean heights; a bucket holds (next boundary − previous one)
 * blocks and pays avgFees × that. Boundary errors telescope, so a day's block count is off by a
 * few blocks at most (the two end boundaries), and its fees by the matching share. A day is kept
 * only with buckets on both sides (the first and last day of the response are partial) and once
 * it is over by `nowMs`.
 */
export function feeDays(points: readonly BlockFeesPoint[], nowMs: number): { days: BtcDay[]; skipped: string[] } {
  const p = [...points].sort((a, b) => a.timestamp - b.timestamp || a.avgHeight - b.avgHeight);
  const n = p.length;
  const days: BtcDay[] = [];
  const skipped: string[] = [];
  if (n < 3) return { days, skipped };
  const boundary = (k: number) => ((p[k] as BlockFeesPoint).avgHeight + (p[k + 1] as BlockFeesPoint).avgHeight) / 2;
  const dateOf = (k: number) => utcDate((p[k] as BlockFeesPoint).timestamp * S);
  let a = 0;
  while (a < n) {
    const date = dateOf(a);
    let b = a;
    while (b + 1 < n && dateOf(b + 1) === date) b++;
    if (a > 0 && b < n - 1 && dayIsOver(date, nowMs)) {
      let feesSats = 0;
      let ok = true;
      for (let k = a; k <= b; k++) {
        const blocks = boundary(k) - boundary(k - 1);
        if (blocks < 0) ok = false;
        feesSats += (p[k] as BlockFeesPoint).avgFees * blocks;
      }
      const heightEnd = Math.round(boundary(b) - 0.5);
      const heightStart = Math.round(boundary(a - 1) - 0.5);
      if (ok && heightEnd >= heightStart) {
        days.push({
          dateUtc: date,
          feesBtc: Math.round(feesSats) / SATS_PER_BTC,
          blocks: heightEnd - heightStart,
          heightEndOfDay: heightEnd,
          issuanceBtc: Number(subsidySats(heightStart + 1, heightEnd)) / SATS_PER_BTC,
        });
      } else {
        skipped.push(date);
      }
    }
    a = b + 1;
  }
  return { days, skipped };
}

/** Sum of block subsidies for heights from..to inclusive, in sats (constant within a halving era). */
export function subsidySats(fromHeight: number, toHeight: number): bigint {
  let total = 0n;
  for (let h = fromHeight; h <= toHeight; ) {
    const end = Math.min(toHeight, (Math.floor(h / HALVING_INTERVAL_BLOCKS) + 1) * HALVING_INTERVAL_BLOCKS - 1);
    total += BigInt(end - h + 1) * blockSubsidySats(h);
    h = end + 1;
  }
  return total;
}

/**
 * USD close per UTC day, as the store defines priceUsd: the last price mempool recorded in
 * (00:00, 24:00] of the day; an entry stamped exactly 00:00 closes the day before (older history
 * is one entry per day at 00:00 UTC, recent history hourly). Non-positive entries (mempool's
 * "missing") are ignored; days not over by `nowMs` are dropped.
 */
export function priceDays(history: HistoricalPrice, nowMs: number): BtcDay[] {
  const last = new Map<string, { time: number; usd: number }>();
  for (const p of history.prices) {
    if (!(p.USD > 0)) continue;
    const date = utcDate(p.time * S - 1);
    const prev = last.get(date);
    if (!prev || p.time > prev.time) last.set(date, { time: p.time, usd: p.USD });
  }
  return [...last.entries()]
    .filter(([date]) => dayIsOver(date, nowMs))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([dateUtc, { usd }]) => ({ dateUtc, priceUsd: usd }));
}

/** Merges partial BtcDay records by date (later fields fill gaps, never overwrite). */
export function mergeDays(...lists: readonly (readonly BtcDay[])[]): BtcDay[] {
  const byDate = new Map<string, BtcDay>();
  for (const list of lists) {
    for (const d of list) {
      const prev = byDate.get(d.dateUtc);
      byDate.set(d.dateUtc, prev ? { ...d, ...prev } : { ...d });
    }
  }
  return [...byDate.values()].sort((a, b) => (a.dateUtc < b.dateUtc ? -1 : a.dateUtc > b.dateUtc ? 1 : 0));
}

export interface MempoolResponses {
  hashrate?: HashrateResponse;
  adjustments?: readonly DifficultyAdjustmentRow[];
  fees?: readonly BlockFeesPoint[];
  history?: HistoricalPrice;
}

/**
 * One ParsedBatch from whatever responses were fetched. Difficulty days run from the first known
 * adjustment to the last day the hashrate series covers (the hashrate response is the day
 * calendar; an adjustment list alone is turned into epochs, never extended to today).
 */
export function mempoolBatch(r: MempoolResponses, nowMs: number, source = 'mempool'): ParsedBatch {
  const batch = emptyBatch(source);
  batch.provider = 'mempool';
  const hr = (r.hashrate?.hashrates ?? []).filter((h) => dayIsOver(utcDate(h.timestamp * S - 1), nowMs));
  const hashDays = hashrateDays(hr);
  const adjustments: Adjustment[] = [
    ...(r.hashrate?.difficulty ?? []),
    ...(r.adjustments ?? []).map(([timestampS, height, difficulty, ratio]) => ({ timestampS, height, difficulty, ...(ratio > 0 ? { ratio } : {}) })),
  ];
  const lastDate = hashDays.map((d) => d.dateUtc).sort().at(-1);
  const diffDays = lastDate === undefined ? [] : difficultyDays(dedupeByHeight(adjustments), lastDate);
  const fees = feeDays(r.fees ?? [], nowMs);
  const prices = r.history ? priceDays(r.history, nowMs) : [];
  batch.btcDays = mergeDays(hashDays, diffDays, fees.days, prices);
  batch.epochs = epochsFromAdjustments(r.adjustments ?? []);
  if (fees.days.length) {
    batch.notes.push(`fees, blocks and end-of-day heights for ${fees.days.length} days are estimated from bucket averages (a few blocks per day at most)`);
  }
  if (fees.skipped.length) batch.notes.push(`fee buckets out of height order on ${fees.skipped.join(', ')}; those days were skipped`);
  return batch;
}

/** One adjustment per height; a ratio known from either list is kept. */
function dedupeByHeight(adjustments: readonly Adjustment[]): Adjustment[] {
  const byHeight = new Map<number, Adjustment>();
  for (const a of adjustments) {
    const prev = byHeight.get(a.height);
    const ratio = prev?.ratio ?? a.ratio;
    byHeight.set(a.height, { ...(prev ?? a), ...(ratio === undefined ? {} : { ratio }) });
  }
  return [...byHeight.values()];
}
