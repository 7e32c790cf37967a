/**
 * The validated site model: what dispatch, the back-test and the site agent work from. Built by
 * parseSite() from YAML; every load has a unique name. Units are in the field names; power at the
 * meter unless a name says IT (critical IT load, before PUE).
 */
import type { EfficiencyPoint } from '../catalog/types.js';

export type { EfficiencyPoint };

/**
 * Energy terms of an AI load. powerPassThrough: the tenant reimburses its metered energy (IT × PUE)
 * at the real-time price of the site's settlement point (the planner's contracts[].powerPassThrough,
 * same default for leases); fourCpPassThrough: it also pays its share of the 4CP transmission charge
 * (its load in the coincident-peak hour). Either way the site's import, PPA and 4CP tag see the load.
 */
export interface EnergyTerms {
  powerPassThrough: boolean;
  fourCpPassThrough: boolean;
}

export interface FirmAi extends EnergyTerms {
  kind: 'firm';
  name: string;
  itMW: number;
  pue: number;
  /** Lease rate per kW of critical IT per month; accrues per hour as × 12 / 8760. */
  usdPerKwMonth: number;
}

export interface DeferrableAi extends EnergyTerms {
  kind: 'deferrable';
  name: string;
  /** Maximum IT power, MW. */
  itMW: number;
  pue: number;
  /** IT energy the tenant must receive within each local (CPT) day, MWh. */
  dailyEnergyMWh: number;
  /** Paid per MWh of IT energy delivered. */
  usdPerMWh: number;
  /** Optional capacity fee per kW of IT per month (default 0). */
  usdPerKwMonth: number;
}

export interface CappedAi extends EnergyTerms {
  kind: 'capped';
  name: string;
  itMW: number;
  pue: number;
  usdPerKwMonth: number;
  /** Largest reduction, percent of itMW. */
  maxReductionPct: number;
  /** Reduction budget per year, in hours at full depth (energy budget = hours × max reduction MW). */
  maxHoursPerYear: number;
  /** Paid to the site per MWh of IT energy reduced (negative: the site pays the tenant). */
  usdPerMWhReduced: number;
  /** Longest single curtailment the contract allows, minutes (site files default it to 240). */
  maxEventMinutes?: number;
  /** Notice the tenant must get before a curtailment, minutes (default 0). */
  noticeMinutes?: number;
  /** Grid products the reducible part may be offered into (absent: none). */
  ancillary?: ResourceAncillary;
}

export type AiLoad = FirmAi | DeferrableAi | CappedAi;

/** ERCOT day-ahead ancillary-service markets a load resource can sell into (see dispatch/ancillary.ts). */
export type AsProduct = 'RRS' | 'ECRS' | 'NSPIN';
/** Emergency Response Service: 10- and 30-minute products procured per contract period and time period. */
export type ErsProduct = 'ERS-10' | 'ERS-30';
/** Every grid product a resource can hold MW for. */
export type GridProduct = AsProduct | ErsProduct;

/**
 * What a curtailable resource (a fleet, or capped AI through its actuator) declares to the grid.
 * Eligibility follows the response time, the telemetry and (RRS) an under-frequency relay; parse.ts
 * refuses a product the resource does not qualify for, saying why.
 */
export interface ResourceAncillary {
  /** Products this resource offers ('ERS' = may carry the site's ERS awards that name it). */
  offer: (AsProduct | 'ERS')[];
  /** Signal to load reduced, seconds (miners sleep in seconds; capped AI through BMC caps: tens of seconds to minutes). */
  responseSeconds: number;
  /** An under-frequency relay trips this load (ERCOT's RRS from load resources). */
  relay: boolean;
}

export interface Fleet {
  name: string;
  /** Catalog model name when given. */
  model?: string;
  /** Nameplate hashrate per machine, TH/s. */
  hashrateThs: number;
  /** Nameplate wall power per machine, W. */
  powerW: number;
  count: number;
  poolFeePct: number;
  pue: number;
  /** Ramp limit at the meter, MW per minute; undefined = unlimited. */
  rampMWPerMinute?: number;
  /** A machine put to sleep stays asleep at least this long, minutes (0 = no constraint). */
  minOffMinutes: number;
  /** Cost of waking one machine, USD (wear, staff), 0 = none. */
  startCostUsd: number;
  /** Strike price for the `strike` policy, USD/MWh at the meter; undefined = break-even. */
  strikeUsdPerMWh?: number;
  /** Power-target curve (power fraction of nameplate → J/TH) used as a continuous actuator. */
  efficiencyCurve?: readonly EfficiencyPoint[];
  /**
   * Dispatch whole machines (the optimal policy's MILP). Defaults to true when the fleet has a
   * minimum off-time or a start cost and no efficiency curve; rolling relaxes it per step.
   */
  integerMachines: boolean;
  /** Grid products the fleet may be offered into (absent: none). */
  ancillary?: ResourceAncillary;
}

export interface CoincidentPeak {
  /** Calendar months (1..12) whose coincident-peak hour sets the transmission charge. */
  months: number[];
  /** Transmission rate, USD/kW-year; absent = ERCOT's postage-stamp rate of the billing year (dispatch/fourcp.ts). */
  usdPerKwYear?: number;
  alerts: FourCpAlertConfig;
}

/** How 4CP alerts are raised for the strike and rolling policies (no perfect foresight). */
export interface FourCpAlertConfig {
  /** Local (CPT) clock hours [start, end) during which an alert day is curtailed. */
  localHours: [number, number];
  /** A day is an alert day when yesterday's peak load ≥ this percent of the prior 30 days' peak. */
  riskPct: number;
  /** Explicit alert windows (UTC ms, [fromMs, toMs)); when given they replace the forecast. */
  windows?: { fromMs: number; toMs: number }[];
}

export interface Ppa {
  blockMW: number;
  priceUsdPerMWh: number;
  resale: boolean;
}

export interface StrikeConfig {
  /** Sleep after the price exceeds the strike for this many consecutive intervals. */
  sleepAfterIntervals: number;
  /** Wake after the price is at or below the strike for this many consecutive intervals. */
  wakeAfterIntervals: number;
  /** Added to every fleet's strike, USD/MWh (default 0; `backtest --sweep strike-offset=…` varies it). */
  offsetUsdPerMWh?: number;
  /**
   * A real-time price at or above this, USD/MWh, sleeps every fleet on that price alone (no
   * sleepAfterIntervals count, no ramp-down); absent: no high strike. Back-test and agent alike.
   */
  highStrikeUsdPerMWh?: number | undefined;
}

export interface RollingConfig {
  /** Look-ahead of each re-optimization, hours. */
  horizonHours: number;
  /** Re-optimize every this many minutes (a multiple of the interval length). */
  stepMinutes: number;
  /**
   * Forecast for the step being executed: 'rt-persistence' (last realized real-time price, what
   * an operator watching the market sees) or 'da' (the day-ahead price).
   */
  nearTerm: 'rt-persistence' | 'da';
}

export interface DispatchConfig {
  strike: StrikeConfig;
  rolling: RollingConfig;
  /** Solver wall-clock limit per solve, seconds; on expiry the safe fallback is used. */
  timeLimitSeconds: number;
}

/**
 * An ERS award: MW a named resource must keep curtailable in every interval of the award's time
 * periods, for the whole contract period; paid usdPerMWh per MW per hour of availability.
 */
export interface ErsAward {
  name: string;
  product: ErsProduct;
  /** Fleet or capped-AI name that carries the obligation. */
  resource: string;
  mw: number;
  /** Availability price cleared for the time period, USD per MW per hour. */
  usdPerMWh: number;
  /** Contract period, [fromMs, toMs) UTC (from CPT dates). */
  fromMs: number;
  toMs: number;
  /** Time periods inside the contract period (CPT clock hours [start, end) on the given days). */
  timePeriods: { days: 'all' | 'weekdays' | 'weekends'; localHours: [number, number] }[];
}

export interface SiteAncillary {
  /** Day-ahead AS markets the site bids in (awards are hourly, paid the DAM MCPC). */
  products: AsProduct[];
  /** The site streams real-time telemetry to its QSE (ERCOT requires it of RRS/ECRS/Non-Spin load resources). */
  telemetry: boolean;
  ers: ErsAward[];
  /** Charged per MWh of a deployment the site failed to deliver, USD/MWh (on top of losing the capacity payment). */
  penaltyUsdPerMWh: number;
  /** SB 6 (2025): the site can draw ≥ 75 MW, so it is a large load with curtailment obligations (derived). */
  sb6LargeLoad: boolean;
}

export interface Site {
  name: string;
  market: { iso: 'ERCOT'; settlementPoint: string };
  interconnect: { importLimitMW: number };
  transmission?: { coincidentPeak?: CoincidentPeak };
  ppa?: Ppa;
  ai: AiLoad[];
  fleets: Fleet[];
  dispatch: DispatchConfig;
  /** Grid services (absent: energy only). */
  ancillary?: SiteAncillary;
}
