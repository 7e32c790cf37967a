import type { AsPricePoint, AsPriceProduct, BtcDay, DifficultyEpoch, FourCpInterval, LoadPoint, ParsedBatch, PriceKind, PricePoint } from './types.js';

/** Outcome of ingesting one parsed file: idempotent upserts, plus what the data looks like. */
export interface ImportReport {
  file: string;
  /** The format that produced the batch (ParsedBatch.source). */
  source: string;
  /** Rows newly written or changed, by series kind. Re-importing the same file gives zeros. */
  inserted: { prices: number; loads: number; btcDays: number; epochs: number; fourCpIntervals: number; asPrices: number };
  /** Of `inserted`, how many replaced a different stored value for the same key and source. */
  changed: number;
  /** Rows already present with identical values. */
  unchanged: number;
  /** Same key twice inside the file (e.g. an ERCOT DST repeated hour) with the values kept. */
  duplicatesInFile: number;
  /** Gaps found in the series this file touched, after the import. */
  gaps: GapReport[];
  notes: string[];
}

/** One file's import in progress (MarketStore.beginImport). */
export interface ImportSession {
  /** Validates and writes one batch; on failure everything of the file is rolled back and the error thrown. */
  add(batch: ParsedBatch): Promise<void>;
  /** Commits the file; the report covers every batch (duplicates across batches, gaps of the whole file). */
  commit(): Promise<ImportReport>;
  /** Writes nothing of the file (idempotent; a no-op after commit). */
  rollback(): Promise<void>;
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
  /** Unit of the values: 'USD/MWh', 'MW', 'USD', 'BTC', 'TH/s', 'blocks', ... */
  unit: string;
  intervalMinutes: number;
  /** Sources present in the series, highest precedence first. */
  sources: string[];
  firstMs: number;
  lastMs: number;
  /** Distinct interval starts present (any source). */
  count: number;
  /** Intervals from first to last inclusive. */
  expected: number;
  /** expected − count. */
  missing: number;
  /** Number of separate gaps; `gaps` holds only the largest few. */
  gapCount: number;
  gaps: GapReport[];
}

/** A price query; time range is half-open: interval starts in [fromMs, toMs). */
export interface PriceQuery {
  market: string;
  settlementPoint: string;
  kind: PriceKind;
  fromMs: number;
  toMs: number;
  /** Interval length; default: the finest stored for this point and kind. */
  intervalMinutes?: number;
}

/**
 * The market data store, as its users (back-test, dispatch inputs, live operations, importers and
 * fetchers) need it: this port is theirs, and `store/` implements it. Every method is asynchronous
 * so that a networked database (PostgreSQL) fits behind it as well as the embedded SQLite default;
 * every implementation passes the same contract suite (store/market-store.contract.ts). Reads
 * return rows sorted by time and, where several sources hold the same interval, the value of the
 * highest-precedence source (store/precedence.ts).
 */
export interface MarketStore {
  /** Upserts one parsed file in one transaction: all of it or, on any invalid record, nothing. */
  ingest(file: string, batch: ParsedBatch): Promise<ImportReport>;
  /**
   * Starts a streamed import of one file (one transaction, one import at a time per store): `add`
   * each batch of its records, then `commit`, or `rollback` to write nothing of it. A batch with an
   * invalid record rolls the whole file back (and throws).
   */
  beginImport(file: string, source: string): Promise<ImportSession>;
  prices(q: PriceQuery): Promise<PricePoint[]>;
  /** Load in MW for interval starts in [fromMs, toMs). */
  loads(q: { market: string; zone: string; fromMs: number; toMs: number }): Promise<LoadPoint[]>;
  /** Daily Bitcoin data merged across sources for [fromDate, toDate] inclusive (YYYY-MM-DD). */
  btcDays(fromDate: string, toDate: string): Promise<BtcDay[]>;
  epochs(): Promise<DifficultyEpoch[]>;
  /**
   * Official 4CP settlement intervals of `market` for CPT months in [fromMonth, toMonth] ('YYYY-MM',
   * inclusive; omitted = unbounded), one per month (the highest-precedence source), by month.
   */
  fourCpIntervals(q: { market: string; fromMonth?: string; toMonth?: string }): Promise<FourCpInterval[]>;
  /**
   * Ancillary-service clearing prices of one product for interval starts in [fromMs, toMs), sorted,
   * the highest-precedence source per interval (ercot first). `intervalMinutes` defaults to the finest stored.
   */
  asPrices(q: { market: string; product: AsPriceProduct; kind: 'DA' | 'RT'; fromMs: number; toMs: number; intervalMinutes?: number }): Promise<AsPricePoint[]>;
  /** Per AS price series (market, product, DA/RT, interval): first and last start, UTC ms, and count of intervals (any source). */
  asPriceCoverage(): Promise<{ market: string; product: string; kind: 'DA' | 'RT'; intervalMinutes: number; firstMs: number; lastMs: number; count: number }[]>;
  /** Per series: first/last, count vs expected, and the `topGaps` (default 5) largest gaps. */
  coverage(opts?: { topGaps?: number }): Promise<SeriesCoverage[]>;
  /** Releases the connection(s); the store is unusable afterwards. */
  close(): Promise<void>;
}
