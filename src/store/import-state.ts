/**
 * What one streamed import carries across its batches, and the report logic every store shares
 * (SQLite and PostgreSQL): duplicates in the file, repeats of earlier batches, the file's gaps and
 * the source-comparison notes. Pure: the stores do the reading and writing and hand rows in.
 */
import { MS_PER_MINUTE, utcDate } from '../core/time.js';
import type { GapReport, ImportReport } from '../market/store-port.js';
import { findGaps, gapBetween } from './gaps.js';
import { forEachUnionGap, IntervalSet, PageBudget } from './interval-set.js';
import type { Group } from './batch.js';

/** Gaps listed in one import report at most; the rest are counted in a note (a file can have millions). */
export const MAX_LISTED_GAPS = 10_000;
/** Interval maps of one import at most: 256 MiB (e.g. 1,000 settlement points × 60 years of 15-min data). */
export const MAX_INTERVAL_PAGES = 256 * 1024;

/** Tolerances for "the sources disagree": half a cent per MWh, 0.05 MW, one part per million. */
export const PRICE_TOLERANCE = 0.005;
export const LOAD_TOLERANCE = 0.05;
export const BTC_RELATIVE_TOLERANCE = 1e-6;

export type PointTable = 'prices' | 'loads';
/** The tables of interval series an import tracks. */
export type SeriesTable = PointTable | 'btc_daily';

/** Key, time and value columns of a series table. */
export function columnsOf(table: SeriesTable): [string, string, string] {
  switch (table) {
    case 'prices':
      return ['series_id', 'start_ms', 'usd_per_mwh'];
    case 'loads':
      return ['series_id', 'start_ms', 'mw'];
    case 'btc_daily':
      return ['field', 'day_ms', 'value'];
  }
}

/** What one import has written to one series and source: its intervals and its duplicates. */
export interface Tracker {
  table: SeriesTable;
  keyId: number | string;
  label: string;
  source: string;
  stepMs: number;
  kind: 'price' | 'load' | 'btc';
  set: IntervalSet;
  duplicates: number;
  conflicting: number;
  firstConflictMs?: number;
}

/** An empty report for `file`. */
export function newImportReport(file: string, source: string): ImportReport {
  return { file, source, inserted: { prices: 0, loads: 0, btcDays: 0, epochs: 0, fourCpIntervals: 0, asPrices: 0 }, changed: 0, unchanged: 0, duplicatesInFile: 0, gaps: [], notes: [] };
}

/** The state of one open import, shared by its batches. */
export class ImportState {
  private readonly byKey = new Map<string, Tracker>();
  private readonly indexSets = new Map<string, IntervalSet>();
  private readonly budget: PageBudget;
  /** Source pairs already compared (a file with two sources compares them once). */
  readonly compared = new Set<string>();

  constructor(readonly report: ImportReport) {
    this.budget = new PageBudget(MAX_INTERVAL_PAGES, report.file);
  }

  tracker(key: string, make: () => Omit<Tracker, 'set' | 'duplicates' | 'conflicting'>): Tracker {
    let t = this.byKey.get(key);
    if (!t) {
      t = { ...make(), set: new IntervalSet(this.budget), duplicates: 0, conflicting: 0 };
      this.byKey.set(key, t);
    }
    return t;
  }

  trackers(): IterableIterator<Tracker> {
    return this.byKey.values();
  }

  /** A set of integer keys (epoch days, 4CP months) for duplicates across batches, by name. */
  indexSet(name: string): IntervalSet {
    let set = this.indexSets.get(name);
    if (!set) {
      set = new IntervalSet(this.budget);
      this.indexSets.set(name, set);
    }
    return set;
  }
}

/** A batch's group split into starts this file already wrote in an earlier batch and the fresh rest. */
export interface RepeatSplit {
  /** Indices into the group of the repeated starts (ascending), empty when none. */
  repeats: number[];
  /** The group without its repeats; its starts are now recorded in the tracker's set. */
  fresh: Group<unknown>;
}

/**
 * Counts the group's own duplicates into the tracker and splits off the starts an earlier batch of
 * the file wrote (compare them with `compareRepeats` before rewriting).
 */
export function splitRepeats(t: Tracker, g: Group<unknown>): RepeatSplit {
  t.duplicates += g.duplicates;
  t.conflicting += g.conflicting;
  if (g.firstConflictMs !== undefined) t.firstConflictMs = Math.min(t.firstConflictMs ?? Infinity, g.firstConflictMs);
  const repeats: number[] = [];
  for (let i = 0; i < g.startsMs.length; i++) {
    if (t.set.has((g.startsMs[i] as number) / t.stepMs)) repeats.push(i);
  }
  let fresh = g;
  if (repeats.length > 0) {
    const repeated = new Set(repeats);
    fresh = { ...g, startsMs: g.startsMs.filter((_, i) => !repeated.has(i)), values: g.values.filter((_, i) => !repeated.has(i)) };
  }
  for (const start of fresh.startsMs) t.set.add(start / t.stepMs);
  return { repeats, fresh };
}

/**
 * Repeats are duplicates in the file: compared with what the file wrote before (`stored`: this
 * source's [start, value] rows over the repeats' range, ascending), counted (conflicting when the
 * value differs) and returned as the group to rewrite (the last one in the file wins).
 */
export function compareRepeats(t: Tracker, g: Group<unknown>, repeats: readonly number[], stored: Iterator<readonly [number, number]>): Group<unknown> {
  const rewrite: Group<unknown> = { ...g, startsMs: [], values: [], duplicates: 0, conflicting: 0 };
  let row = stored.next();
  for (const i of repeats) {
    const start = g.startsMs[i] as number;
    const value = g.values[i] as number;
    while (!row.done && row.value[0] < start) row = stored.next();
    t.duplicates++;
    if (row.done || row.value[0] !== start || row.value[1] !== value) {
      t.conflicting++;
      t.firstConflictMs = Math.min(t.firstConflictMs ?? Infinity, start);
      rewrite.startsMs.push(start);
      rewrite.values.push(value);
    }
  }
  return rewrite;
}

/** The first and last repeated start of a split (the range to read the stored values over). */
export function repeatRange(g: Group<unknown>, repeats: readonly number[]): [number, number] {
  return [g.startsMs[repeats[0] as number] as number, g.startsMs[repeats[repeats.length - 1] as number] as number];
}

/**
 * At commit: adds every tracker's duplicates to the report with a note, and groups the trackers by
 * series (table and key), whose gaps are reported together (other sources count as present).
 */
export function summarizeDuplicates(imp: ImportState): Tracker[][] {
  const report = imp.report;
  const bySeries = new Map<string, Tracker[]>();
  for (const t of imp.trackers()) {
    report.duplicatesInFile += t.duplicates;
    if (t.duplicates > 0) {
      const conflict =
        t.conflicting > 0 ? `, ${t.conflicting} with different values (last kept; first at ${new Date(t.firstConflictMs ?? t.set.min * t.stepMs).toISOString()})` : ', identical values';
      report.notes.push(`${t.label} [${t.source}]: ${t.duplicates} duplicate interval(s) in the file${conflict}`);
    }
    const key = `${t.table}\u0000${String(t.keyId)}`;
    const list = bySeries.get(key);
    if (list) list.push(t);
    else bySeries.set(key, [t]);
  }
  return [...bySeries.values()];
}

/**
 * The file's own gaps in one series (runs of intervals missing from the union of its sources'
 * sets), as ranges of interval starts [fromMs, toMs] inclusive, ascending. Every start of the file
 * is stored by now, so the stored series can only have gaps inside these: only they are looked up.
 */
export function fileGaps(label: string, stepMs: number, sets: readonly IntervalSet[]): GapReport[] {
  const out: GapReport[] = [];
  forEachUnionGap(sets, (from, to) => out.push(gapBetween(label, (from - 1) * stepMs, (to + 1) * stepMs, stepMs)));
  return out;
}

/**
 * Adds what is still missing of one file gap, given the starts other sources hold inside it
 * (`present`, ascending, distinct); returns how many intervals they fill.
 */
export function resolveGap(gap: GapReport, present: readonly number[], stepMs: number, gaps: GapCollector): number {
  if (present.length === 0) {
    gaps.add(gap);
    return 0;
  }
  for (const g of findGaps(gap.series, [gap.fromMs - stepMs, ...present, gap.toMs + stepMs], stepMs)) gaps.add(g);
  return present.length;
}

/** The note when other sources fill part of a file's gaps. */
export function filledNote(label: string, filled: number): string {
  return `${label}: the file lacks ${fmtNum(filled)} interval(s) in its span that other sources in the store fill`;
}

/** Collects an import's gaps into its report: the first MAX_LISTED_GAPS, then only counted. */
export class GapCollector {
  private unlisted = 0;
  private unlistedIntervals = 0;
  private largestUnlisted: GapReport | undefined;

  constructor(private readonly report: ImportReport) {}

  add(gap: GapReport): void {
    if (this.report.gaps.length < MAX_LISTED_GAPS) {
      this.report.gaps.push(gap);
      return;
    }
    this.unlisted++;
    this.unlistedIntervals += gap.missingIntervals;
    if (!this.largestUnlisted || gap.missingIntervals > this.largestUnlisted.missingIntervals) this.largestUnlisted = gap;
  }

  note(text: string): void {
    this.report.notes.push(text);
  }

  finish(): void {
    const big = this.largestUnlisted;
    if (!big) return;
    this.report.notes.push(
      `${fmtNum(this.unlisted)} more gap(s) with ${fmtNum(this.unlistedIntervals)} missing interval(s) not listed (the first ${fmtNum(MAX_LISTED_GAPS)} are); largest of them ${fmtNum(big.missingIntervals)} in ${big.series} from ${isoMinute(big.fromMs)}`,
    );
  }
}

/** How a tracker's source is compared with the others of its series: tolerance and wording. */
export interface Comparison {
  /** Relative difference (Bitcoin fields) or absolute (prices, load). */
  relative: boolean;
  tolerance: number;
  unit: string;
}

export function comparisonFor(t: Tracker): Comparison {
  if (t.kind === 'btc') return { relative: true, tolerance: BTC_RELATIVE_TOLERANCE, unit: '' };
  return t.kind === 'price' ? { relative: false, tolerance: PRICE_TOLERANCE, unit: 'USD/MWh' } : { relative: false, tolerance: LOAD_TOLERANCE, unit: 'MW' };
}

/** Claims the (series, source pair) comparison for this import; false when it was already made. */
export function claimComparison(imp: ImportState, t: Tracker, other: string): boolean {
  const pair = `${t.table}\u0000${String(t.keyId)}\u0000${[t.source, other].sort().join('\u0000')}`;
  if (imp.compared.has(pair)) return false;
  imp.compared.add(pair);
  return true;
}

/** The note comparing `t`'s source with `other` on their common intervals (null when none in common). */
export function comparisonNote(
  t: Tracker,
  other: string,
  common: number,
  differ: number,
  worst: { t: number; av: number; bv: number; d: number } | undefined,
): string | null {
  if (common === 0) return null;
  const cmp = comparisonFor(t);
  let text = `${t.label}: ${t.source} vs ${other}: ${common.toLocaleString('en-US')} common interval(s), ${differ.toLocaleString('en-US')} differ`;
  if (differ > 0 && worst) {
    const when = t.table === 'btc_daily' ? utcDate(worst.t) : isoMinute(worst.t);
    const size = cmp.relative ? `${(worst.d * 100).toFixed(3)} %` : `${fmtNum(worst.d)} ${cmp.unit}`;
    text += ` (largest ${size} at ${when}: ${fmtNum(worst.av)} vs ${fmtNum(worst.bv)})`;
  }
  return text;
}

/** The 4CP note when a month's official interval moves. */
export function fourCpChangedNote(market: string, month: string, source: string, fromMs: number, toMs: number): string {
  return `4CP ${market} ${month} [${source}]: interval changed from ${isoMinute(fromMs)} to ${isoMinute(toMs)}`;
}

/** A 4CP month as an integer key (year × 12 + month) for the duplicate sets. */
export function monthIndex(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7));
}

/** The duplicate-set name of one AS price series and source. */
export function asPriceSetName(r: { market: string; product: string; kind: string; intervalMinutes: number; source: string }): string {
  return `as\u0000${r.market}\u0000${r.product}\u0000${r.kind}\u0000${r.intervalMinutes}\u0000${r.source}`;
}

export function asPriceIndex(r: { startMs: number; intervalMinutes: number }): number {
  return r.startMs / (r.intervalMinutes * MS_PER_MINUTE);
}

export function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}

export function fmtNum(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 4 });
}
