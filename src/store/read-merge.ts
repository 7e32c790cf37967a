/**
 * Reads shared by every store: rows of all sources come in sorted by time, and these pick, per
 * interval or key, the value of the highest-precedence source (precedence.ts), and shape coverage
 * rows. Pure: the stores run the queries and hand the rows in.
 */
import { badInput } from '../core/errors.js';
import { MS_PER_MINUTE, parseUtcDate, utcDate } from '../core/time.js';
import { BTC_FIELDS, type AsPricePoint, type AsPriceProduct, type BtcDay, type BtcField } from '../market/types.js';
import type { GapReport, SeriesCoverage, SeriesKey } from '../market/store-port.js';
import { expectedIntervals, largestGaps } from './gaps.js';
import { BTC_SOURCES, PRICE_SOURCES, bySourcePrecedence, sourceRank } from './precedence.js';

/** One stored row of an interval series: [start ms, value, source id]. */
export type ValueRow = readonly [number, number, number];

/**
 * One point per start from `rows` (sorted by start): the best-ranked source's value (lower rank
 * wins; ties by source id, so the choice is stable).
 */
export function bestPerStart<T>(rows: readonly ValueRow[], order: readonly string[], sourceName: (id: number) => string, make: (startMs: number, value: number, source: string) => T): T[] {
  const rank = (id: number) => sourceRank(order, sourceName(id)) * 1e6 + id;
  const out: T[] = [];
  let i = 0;
  while (i < rows.length) {
    let best = rows[i] as ValueRow;
    let j = i + 1;
    while (j < rows.length && (rows[j] as ValueRow)[0] === best[0]) {
      const r = rows[j] as ValueRow;
      if (rank(r[2]) < rank(best[2])) best = r;
      j++;
    }
    out.push(make(best[0], best[1], sourceName(best[2])));
    i = j;
  }
  return out;
}

/** Bitcoin days from each field's rows ([day ms, value, source id]): per day and field the best source. */
export function mergeBtcDays(rowsByField: ReadonlyMap<BtcField, readonly ValueRow[]>, sourceName: (id: number) => string): BtcDay[] {
  const days = new Map<number, BtcDay>();
  const chosen = new Map<number, Partial<Record<BtcField, string>>>();
  for (const field of BTC_FIELDS) {
    const cmp = bySourcePrecedence(BTC_SOURCES[field]);
    for (const [dayMs, value, sourceId] of rowsByField.get(field) ?? []) {
      const source = sourceName(sourceId);
      let d = days.get(dayMs);
      let sources = chosen.get(dayMs);
      if (!d || !sources) {
        d = { dateUtc: utcDate(dayMs) };
        sources = {};
        days.set(dayMs, d);
        chosen.set(dayMs, sources);
      }
      const current = sources[field];
      if (current === undefined || cmp(source, current) < 0) {
        d[field] = value;
        sources[field] = source;
      }
    }
  }
  return [...days.keys()].sort((a, b) => a - b).map((k) => ({ ...(days.get(k) as BtcDay), sources: chosen.get(k) ?? {} }));
}

/** One row per key: the highest-precedence source's, in first-seen key order. */
export function bestBySource<R extends { source_id: number }, K>(rows: readonly R[], key: (r: R) => K, order: readonly string[], sourceName: (id: number) => string): R[] {
  const cmp = bySourcePrecedence(order);
  const best = new Map<K, R>();
  for (const r of rows) {
    const cur = best.get(key(r));
    if (!cur || cmp(sourceName(r.source_id), sourceName(cur.source_id)) < 0) best.set(key(r), r);
  }
  return [...best.values()];
}

/** AS clearing prices from rows sorted by start: one per interval, ercot first (the price order). */
export function mergeAsPrices(
  q: { market: string; product: AsPriceProduct; kind: 'DA' | 'RT' },
  intervalMinutes: number,
  rows: readonly ValueRow[],
  sourceName: (id: number) => string,
): AsPricePoint[] {
  const out: AsPricePoint[] = [];
  const cmp = bySourcePrecedence(PRICE_SOURCES);
  for (const [startMs, value, sourceId] of rows) {
    const source = sourceName(sourceId);
    const last = out[out.length - 1];
    if (last && last.intervalStartMs === startMs) {
      if (cmp(source, last.source ?? '') < 0) [last.usdPerMWh, last.source] = [value, source];
      continue;
    }
    out.push({ market: q.market, product: q.product, kind: q.kind, intervalStartMs: startMs, intervalMinutes, usdPerMWh: value, source });
  }
  return out;
}

/** A coverage row from one scan of a series' distinct starts. */
export function coverageRow(
  series: string,
  key: SeriesKey,
  unit: string,
  intervalMinutes: number,
  sources: string[],
  scan: { count: number; first: number; last: number; gaps: GapReport[] },
  top: number,
): SeriesCoverage {
  const expected = expectedIntervals(scan.first, scan.last, intervalMinutes * MS_PER_MINUTE);
  return {
    series,
    key,
    unit,
    intervalMinutes,
    sources,
    firstMs: scan.first,
    lastMs: scan.last,
    count: scan.count,
    expected,
    missing: expected - scan.count,
    gapCount: scan.gaps.length,
    gaps: largestGaps(scan.gaps, top),
  };
}

/** A `YYYY-MM-DD` argument as UTC midnight ms (BAD_INPUT naming the argument otherwise). */
export function parseDayArg(date: string, name: string): number {
  try {
    return parseUtcDate(date);
  } catch (err) {
    throw badInput(err instanceof Error ? err.message : String(err), name);
  }
}
