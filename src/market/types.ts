/**
 * Normalised market records: what importers and fetchers produce and the store ingests.
 * All instants are interval *starts* in UTC milliseconds; prices USD/MWh; load MW.
 */
export type PriceKind = 'RT' | 'DA';

export interface PricePoint {
  market: string; // 'ERCOT'
  /** Settlement point in ERCOT's spelling, upper case: 'HB_WEST', 'HB_HUBAVG', 'LZ_WEST'. */
  settlementPoint: string;
  kind: PriceKind;
  intervalStartMs: number;
  intervalMinutes: number;
  priceUsdPerMWh: number;
  /** Who published the number ('ercot', 'gridstatus', 'eia'); defaults to the batch's provider. */
  source?: string;
}

export interface LoadPoint {
  market: string;
  /** 'TOTAL' for the system, else the weather zone in upper case ('FAR_WEST'). */
  zone: string;
  intervalStartMs: number;
  intervalMinutes: number;
  loadMW: number;
  /** Who published the number ('ercot', 'eia'); defaults to the batch's provider. */
  source?: string;
}

/** The per-day Bitcoin fields the store keeps (one value per day, field and source). */
export const BTC_FIELDS = ['priceUsd', 'difficulty', 'feesBtc', 'blocks', 'heightEndOfDay', 'hashrateThs', 'issuanceBtc'] as const;
export type BtcField = (typeof BTC_FIELDS)[number];

/**
 * One UTC day of Bitcoin network/market data; every field optional because sources differ.
 * On ingest, `source` says who published the values; on read (store.btcDays) each field comes
 * from the highest-precedence source that has it and `sources` names that source per field.
 */
export interface BtcDay {
  dateUtc: string; // YYYY-MM-DD
  /** USD per BTC at the END of the UTC day (24:00 UTC, i.e. the daily close). */
  priceUsd?: number;
  /** Mean difficulty over the day (a blend of two values on a retarget day). */
  difficulty?: number;
  feesBtc?: number; // total fees paid that day
  blocks?: number; // blocks mined that day
  heightEndOfDay?: number;
  hashrateThs?: number;
  /** New coins minted that day (block subsidies), BTC. */
  issuanceBtc?: number;
  source?: string;
  sources?: Partial<Record<BtcField, string>>;
}

/** A difficulty epoch: the difficulty in force from a day on (first full UTC day at it). */
export interface DifficultyEpoch {
  startDateUtc: string;
  difficulty: number;
  startHeight?: number;
  source?: string;
}

/**
 * An official coincident-peak (4CP) settlement interval: the 15-minute interval ERCOT used for one
 * month's transmission demand (NP9-83-M, PROVENANCE §10). The month is the CPT calendar month.
 */
export interface FourCpInterval {
  market: string; // 'ERCOT'
  /** 'YYYY-MM' (CPT calendar month of the interval). */
  month: string;
  /** Start of the settlement interval, UTC ms (ERCOT prints the interval *ending*, local time). */
  intervalStartMs: number;
  intervalMinutes: number;
  /** ERCOT's total 4CP demand in that interval, MW, when published. */
  systemLoadMW?: number;
  /** Who published it ('ercot'); defaults to the batch's provider. */
  source?: string;
}

/** ERCOT ancillary-service products as its reports spell them (NP4-181-ER, NP4-188-CD, NP6-331-CD). */
export const AS_PRICE_PRODUCTS = ['REGUP', 'REGDN', 'RRS', 'ECRS', 'NSPIN'] as const;
export type AsPriceProduct = (typeof AS_PRICE_PRODUCTS)[number];

/**
 * A clearing price for ancillary-service capacity (MCPC): USD per MW of capacity per hour held, for
 * one product and interval. 'DA' = the DAM's hourly MCPC; 'RT' = the 15-minute real-time MCPC ERCOT
 * publishes since real-time co-optimization (NP6-331-CD, from 2025-12).
 */
export interface AsPricePoint {
  market: string; // 'ERCOT'
  product: AsPriceProduct;
  kind: PriceKind;
  intervalStartMs: number;
  intervalMinutes: number;
  usdPerMWh: number;
  source?: string;
}

/** What a parsed source file yields; `source` names the file format recognised. */
export interface ParsedBatch {
  source: string;
  /** Default publisher for records without their own `source` (else `source` is used). */
  provider?: string;
  prices: PricePoint[];
  loads: LoadPoint[];
  btcDays: BtcDay[];
  epochs: DifficultyEpoch[];
  /** Official 4CP settlement intervals (only the 4CP interval files carry them). */
  fourCpIntervals?: FourCpInterval[];
  /** Ancillary-service clearing prices (only the AS price files carry them). */
  asPrices?: AsPricePoint[];
  /** Non-fatal observations (e.g. a DST repeated hour) for the import report. */
  notes: string[];
}

export function emptyBatch(source: string): ParsedBatch {
  return { source, prices: [], loads: [], btcDays: [], epochs: [], notes: [] };
}
