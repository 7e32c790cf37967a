/**
 * Shared vocabulary of dispatch: the input every policy sees (plain typed arrays, one entry per
 * priced interval), the Plan every policy returns, and the reasons for curtailment. Prices USD/MWh,
 * power MW at the meter unless a name says IT, hashprice USD per PH/s per day, time UTC ms.
 */
import type { AsProduct, GridProduct, Site } from '../site/types.js';

/** Why a fleet ran below its nameplate power in an interval. */
export const Reason = {
  none: 0,
  /** Power (or resale) was worth more than hashing. */
  price: 1,
  /** A 4CP settlement candidate interval (optimal) or a 4CP alert (strike, rolling). */
  fourCp: 2,
  /** The interconnect was full. */
  importLimit: 3,
  /** Moving towards the target at the ramp limit. */
  ramp: 4,
  /** Machines asleep for less than minOffMinutes. */
  minOff: 5,
} as const;
// (A fleet held up by a grid award runs: it is not curtailed, so awards need no reason code.)
export type ReasonCode = (typeof Reason)[keyof typeof Reason];
export const REASON_NAMES: readonly string[] = ['', 'price', '4cp', 'import-limit', 'ramp', 'min-off'];

/**
 * One month's 4CP settlement: ERCOT's official 15-minute interval, or (estimated) the candidate
 * intervals it may be (the hour of highest hourly ERCOT load and the hour before it).
 */
export interface FourCpPeak {
  /** 'YYYY-MM' (CPT calendar month). */
  month: string;
  basis: 'official' | 'estimated';
  /** Official settlement interval start, UTC ms; NaN when estimated. */
  intervalStartMs: number;
  /** 15-minute interval starts (UTC ms) that can set the tag: the official one alone, or 8 estimated ones. */
  candidateStartMs: number[];
  /** Hour of highest hourly ERCOT TOTAL load in the month, UTC ms (NaN without load data). */
  hourStartMs: number;
  /** ERCOT's 4CP demand in the official interval, or the hourly peak when estimated, MW (NaN if unknown). */
  systemLoadMW: number;
  /** False when an estimate rests on a month of load with missing hours: the peak hour may be wrong. */
  monthComplete: boolean;
  /** Rate that prices this month's tag, USD/kW-year: the site's, else ERCOT's rate of the billing year (Y + 1). */
  usdPerKwYear: number;
  /** Where the rate came from ('site', 'ERCOT postage stamp 2024', ...). */
  rateSource: string;
}

export interface DispatchInput {
  site: Site;
  /** Settlement interval length, minutes (15 in ERCOT RT). */
  intervalMinutes: number;
  /** Interval starts, UTC ms, ascending; gaps (intervals without a price) are absent. */
  startMs: Float64Array;
  /** Realized real-time price: what settles. */
  rtPriceUsdPerMWh: Float64Array;
  /** Hashprice of the interval's UTC day. */
  hashpriceUsdPerPhDay: Float64Array;
  /** Day-ahead price of the interval's hour; NaN where unknown. Rolling uses it as a forecast. */
  daPriceUsdPerMWh: Float64Array;
  /** 1 where the interval is (official) or may be (estimated) its month's 4CP settlement interval, else 0. */
  fourCpPeakWeight: Float64Array;
  /** 1 when a 4CP alert is in force (known before the interval; strike and rolling use it). */
  fourCpAlert: Uint8Array;
  /** 4CP settlement of the listed months that overlap the window (official or estimated). */
  fourCpPeaks: FourCpPeak[];
  /** CPT calendar day of each interval (days since 1970-01-01 of the local date). */
  localDay: Int32Array;
  /** Intervals a full local day has (92/96/100 at 15 min), indexed like localDay values via a map. */
  localDayIntervals: ReadonlyMap<number, number>;
  /**
   * Day-ahead clearing price of each AS product per interval (the hour's MCPC), USD per MW per hour;
   * NaN where unknown (no award can be made or settled there). Absent: no AS market data.
   */
  asPriceUsdPerMWh?: Partial<Record<AsProduct, Float64Array>>;
  /** ERCOT deployments of grid products in the window (settled by the ledger; absent: none). */
  asDeployments?: readonly AsDeployment[];
}

/** ERCOT told the holders of `product` to curtail `fraction` of their award over [startMs, endMs). */
export interface AsDeployment {
  product: GridProduct;
  startMs: number;
  endMs: number;
  /** Share of each award deployed, 0..1 (ERCOT often deploys part of ECRS). */
  fraction: number;
}

/**
 * MW a resource holds for a grid product, per interval: curtailable load it must keep consuming and
 * drop when deployed. Market products are paid the day-ahead MCPC; ERS its contract price.
 */
export interface GridAward {
  /** Fleet or capped-AI name. */
  resource: string;
  product: GridProduct;
  mw: Float64Array;
  /** Fixed availability price (ERS), USD per MW per hour; absent = the product's MCPC. */
  usdPerMWh?: number;
  /** ERS award name, for ERS. */
  ers?: string;
}

/** MW per load per interval, with the reason for each fleet curtailment. */
export interface Plan {
  policy: string;
  /** Per site.fleets[i]: MW at the meter. */
  fleetMW: Float64Array[];
  /** Per site.ai[i]: IT MW served (firm: itMW; capped: itMW − reduction; deferrable: scheduled). */
  aiItMW: Float64Array[];
  /** Per site.fleets[i]: ReasonCode when below nameplate. */
  reason: Uint8Array[];
  /** Grid-service awards held (absent: energy only). */
  awards?: GridAward[];
}

export interface PolicyResult {
  plan: Plan;
  /** Wall time of the policy (model build + solve + extraction), seconds; 0 without a clock. */
  solveSeconds: number;
  /** Solves that failed, timed out or were infeasible and were replaced by the safe policy. */
  safeFallbacks: number;
  notes: string[];
}

export interface PolicyOptions {
  /** Injected clock for solveSeconds (the core never reads the wall clock itself). */
  nowMs?: () => number;
  /** Called with (done, total) steps for progress display. */
  onProgress?: (done: number, total: number) => void;
}
