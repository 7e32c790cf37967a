import type { BtcDay, DifficultyEpoch, LoadPoint, ParsedBatch, PriceKind, PricePoint } from '../market/types.js';

/** Outcome of ingesting one parsed file: idempotent upserts, plus what the data looks like. */
export interface ImportReport {
  file: string;
  source: string;
  /** Rows newly written or changed, by series kind. Re-importing the same file gives zeros. */
  inserted: { prices: number; loads: number; btcDays: number; epochs: number };
  /** Rows already present with identical values. */
  unchanged: number;
  /** Same key twice inside the file (e.g. an ERCOT DST repeated hour) with the values kept. */
  duplicatesInFile: number;
  /** Gaps found in the series this file touched, after the import. */
  gaps: GapReport[];
  notes: string[];
}

export interface SeriesKey {
  kind: 'price' | 'load' | 'btc';
  market?: string;
  settlementPoint?: string;
  priceKind?: PriceKind;
  zone?: string;
  /** For kind 'btc': 'priceUsd' | 'difficulty' | 'feesBtc' | 'heightEndOfDay' | ... */
  field?: string;
}

export interface GapReport {
  series: string; // human label, e.g. 'ERCOT HB_WEST RT 15min'
  /** First missing interval start, UTC ms. */
  fromMs: number;
  /** Last missing interval start, UTC ms (inclusive). */
  toMs: number;
  missingIntervals: number;
}

export interface SeriesCoverage {
  series: string;
  key: SeriesKey;
  intervalMinutes: number;
  firstMs: number;
  lastMs: number;
  count: number;
  expected: number;
  gaps: GapReport[];
}

/**
 * The market data store. SQLite (embedded) is the default implementation; every implementation
 * passes the same contract suite. Reads return rows sorted by time.
 */
export interface MarketStore {
  ingest(file: string, batch: ParsedBatch): ImportReport;
  prices(q: { market: string; settlementPoint: string; kind: PriceKind; fromMs: number; toMs: number }): PricePoint[];
  loads(q: { market: string; zone: string; fromMs: number; toMs: number }): LoadPoint[];
  /** Daily Bitcoin data merged across sources for [fromDate, toDate] inclusive (YYYY-MM-DD). */
  btcDays(fromDate: string, toDate: string): BtcDay[];
  epochs(): DifficultyEpoch[];
  coverage(): SeriesCoverage[];
  close(): void;
}
