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
}

export interface LoadPoint {
  market: string;
  /** 'TOTAL' for the system, else the weather zone in upper case ('FAR_WEST'). */
  zone: string;
  intervalStartMs: number;
  intervalMinutes: number;
  loadMW: number;
}

/** One UTC day of Bitcoin network/market data; every field optional because sources differ. */
export interface BtcDay {
  dateUtc: string; // YYYY-MM-DD
  priceUsd?: number;
  difficulty?: number;
  feesBtc?: number; // total fees paid that day
  blocks?: number; // blocks mined that day
  heightEndOfDay?: number;
  hashrateThs?: number;
}

/** A difficulty epoch: the difficulty in force from a day on (first full UTC day at it). */
export interface DifficultyEpoch {
  startDateUtc: string;
  difficulty: number;
  startHeight?: number;
}

/** What a parsed source file yields; `source` names the file format recognised. */
export interface ParsedBatch {
  source: string;
  prices: PricePoint[];
  loads: LoadPoint[];
  btcDays: BtcDay[];
  epochs: DifficultyEpoch[];
  /** Non-fatal observations (e.g. a DST repeated hour) for the import report. */
  notes: string[];
}

export function emptyBatch(source: string): ParsedBatch {
  return { source, prices: [], loads: [], btcDays: [], epochs: [], notes: [] };
}
