import type { HashpriceInputs } from '../bitcoin/hashprice.js';
import { blockSubsidyBtc } from '../bitcoin/subsidy.js';
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, parseUtcDate, utcDate } from '../core/time.js';
import type { MarketStore } from './store-port.js';
import type { BtcDay } from './types.js';

/** How far back a missing difficulty may be carried forward (it changes every ~2 weeks). */
export const DIFFICULTY_LOOKBACK_DAYS = 30;
/** How far a height may be rebuilt from daily block counts (the longest gap in the shared data is 116 days). */
export const HEIGHT_REBUILD_MAX_DAYS = 400;

/**
 * Fees as a share of the block subsidy where the store has no fee data for a day (before 2022-12-30
 * in the shared data). 3 % is the planner's documented default (Coin Metrics fee shares: 5.9 % in
 * 2023, 5.6 % in 2024, 1.0 % in 2025). Early 2021 was far higher (~0.55 BTC/block in May 2021,
 * ~9 % of 6.25) and 2022 lower: set the share when you know the period.
 */
export const DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT = 3;

/** One input that was not read directly from the day's data, and how it was rebuilt. */
export interface DerivedInput {
  input: 'height' | 'subsidy' | 'fees' | 'difficulty';
  how: string;
}

/** Hashprice inputs for one UTC day, with where each carried-forward or rebuilt value came from. */
export interface HashpriceInputsForDate extends HashpriceInputs {
  dateUtc: string;
  /** End-of-day height whose subsidy is used (the day's, else rebuilt from block counts, else the previous day's). */
  height: number;
  heightDateUtc: string;
  /** The day whose difficulty is used: `dateUtc`, else the latest earlier day within 30 days. */
  difficultyDateUtc: string;
  /** Total fees and block count of the day (fees: assumed × blocks when `derived` says so). */
  feesBtc: number;
  blocks: number;
  /** Inputs rebuilt or carried rather than read for the day; empty when all were observed that day. */
  derived: DerivedInput[];
  /** Things a reader must know (e.g. a difficulty past the last observation in the store). */
  warnings: string[];
}

export interface HashpriceInputOptions {
  /**
   * When the day has no fee data, assume fees per block = this share of the subsidy (percent) and
   * say so in `derived`; absent = such a day is NO_DATA.
   */
  feeShareOfSubsidyPct?: number;
}

const fmtInt = (v: number) => Math.round(v).toLocaleString('en-US');

/**
 * The end-of-day height of `date` rebuilt from daily block counts and the nearest day with a known
 * height (before: + blocks after it; after: − blocks up to it), or undefined when a count is missing.
 */
export function rebuildHeight(rows: readonly BtcDay[], date: string): { height: number; how: string } | undefined {
  const i = rows.findIndex((r) => r.dateUtc === date);
  if (i < 0) return undefined;
  const consecutive = (a: BtcDay, b: BtcDay) => parseUtcDate(b.dateUtc) - parseUtcDate(a.dateUtc) === MS_PER_DAY;
  let back: { height: number; how: string; days: number } | undefined;
  let sum = 0;
  for (let k = i; k > 0; k--) {
    const row = rows[k] as BtcDay;
    const prev = rows[k - 1] as BtcDay;
    if (row.blocks === undefined || !consecutive(prev, row)) break;
    sum += row.blocks;
    if (prev.heightEndOfDay !== undefined) {
      back = { height: prev.heightEndOfDay + sum, how: `${fmtInt(prev.heightEndOfDay)} at the end of ${prev.dateUtc} + ${fmtInt(sum)} blocks mined since (daily block counts)`, days: i - k + 1 };
      break;
    }
  }
  let fwd: { height: number; how: string; days: number } | undefined;
  sum = 0;
  for (let k = i + 1; k < rows.length; k++) {
    const row = rows[k] as BtcDay;
    if (row.blocks === undefined || !consecutive(rows[k - 1] as BtcDay, row)) break;
    if (row.heightEndOfDay !== undefined) {
      fwd = { height: row.heightEndOfDay - row.blocks - sum, how: `${fmtInt(row.heightEndOfDay)} at the end of ${row.dateUtc} − ${fmtInt(row.blocks + sum)} blocks mined after ${date} (daily block counts)`, days: k - i };
      break;
    }
    sum += row.blocks;
  }
  const best = back && fwd ? (back.days <= fwd.days ? back : fwd) : (back ?? fwd);
  return best ? { height: best.height, how: best.how } : undefined;
}

/**
 * Bitcoin days already read, for the pure hashprice computations: `btcDays(a, b)` returns the rows of
 * [a, b] (YYYY-MM-DD, inclusive). The store's read is asynchronous; read the window once
 * (`readBtcDayView`) and compute every day from it.
 */
export interface BtcDayView {
  btcDays(fromDate: string, toDate: string): readonly BtcDay[];
}

/** A view over rows already read (any order; returned sorted by date). */
export function btcDayView(rows: readonly BtcDay[]): BtcDayView {
  const sorted = [...rows].sort((a, b) => (a.dateUtc < b.dateUtc ? -1 : a.dateUtc > b.dateUtc ? 1 : 0));
  return { btcDays: (a, b) => sorted.filter((d) => d.dateUtc >= a && d.dateUtc <= b) };
}

/** Reads from the store every Bitcoin day the hashprice of the UTC days [fromDate, toDate] can need (height rebuild and difficulty look-back included). */
export async function readBtcDayView(store: Pick<MarketStore, 'btcDays'>, fromDate: string, toDate: string): Promise<BtcDayView> {
  const rows = await store.btcDays(utcDate(parseUtcDate(fromDate) - HEIGHT_REBUILD_MAX_DAYS * MS_PER_DAY), utcDate(parseUtcDate(toDate) + HEIGHT_REBUILD_MAX_DAYS * MS_PER_DAY));
  return btcDayView(rows);
}

/**
 * Reads the hashprice inputs for UTC day `dateUtc` (YYYY-MM-DD) from the market store: price = that
 * day's priceUsd; fees per block = feesBtc / blocks of that day (or, with `feeShareOfSubsidyPct`, an
 * assumed share of the subsidy when the day has no fees); height = that day's heightEndOfDay, else
 * rebuilt from daily block counts and the nearest known height, else the previous day's; subsidy from
 * that height (cross-checked with the day's issuance / blocks); difficulty = that day's, else the
 * latest within 30 days before (a warning when the store has no later observation at all). Throws
 * NO_DATA naming every missing field and the date. `derived` lists every input not observed that day.
 */
export function hashpriceInputsForDate(store: BtcDayView, dateUtc: string, options: HashpriceInputOptions = {}): HashpriceInputsForDate {
  const dayMs = parseUtcDate(dateUtc);
  const rows = store.btcDays(utcDate(dayMs - HEIGHT_REBUILD_MAX_DAYS * MS_PER_DAY), utcDate(dayMs + HEIGHT_REBUILD_MAX_DAYS * MS_PER_DAY));
  const day: BtcDay | undefined = rows.find((r) => r.dateUtc === dateUtc);
  const prevDate = utcDate(dayMs - MS_PER_DAY);
  const prev = rows.find((r) => r.dateUtc === prevDate);
  const oldest = utcDate(dayMs - DIFFICULTY_LOOKBACK_DAYS * MS_PER_DAY);
  const withDifficulty = [...rows].reverse().find((r) => r.dateUtc <= dateUtc && r.dateUtc >= oldest && r.difficulty !== undefined);
  const derived: DerivedInput[] = [];
  const warnings: string[] = [];

  let height: { value: number; dateUtc: string } | undefined;
  if (day?.heightEndOfDay !== undefined) height = { value: day.heightEndOfDay, dateUtc };
  else {
    const rebuilt = rebuildHeight(rows, dateUtc);
    if (rebuilt) {
      height = { value: rebuilt.height, dateUtc };
      derived.push({ input: 'height', how: `${fmtInt(rebuilt.height)} = ${rebuilt.how}` });
    } else if (prev?.heightEndOfDay !== undefined) height = { value: prev.heightEndOfDay, dateUtc: prevDate };
  }

  const missing: string[] = [];
  if (day?.priceUsd === undefined) missing.push('BTC price (priceUsd)');
  const hasFees = day?.feesBtc !== undefined;
  if (!hasFees && options.feeShareOfSubsidyPct === undefined) missing.push('total fees (feesBtc)');
  if (day?.blocks === undefined || day.blocks <= 0) missing.push('block count (blocks)');
  if (height === undefined) missing.push(`block height (heightEndOfDay of ${dateUtc} or ${prevDate}, or daily block counts back to a known height)`);
  if (withDifficulty === undefined) missing.push(`difficulty (on ${dateUtc} or within ${DIFFICULTY_LOOKBACK_DAYS} days before)`);
  if (missing.length > 0 || day?.priceUsd === undefined || day.blocks === undefined || height === undefined || withDifficulty?.difficulty === undefined) {
    const what = day === undefined ? 'no Bitcoin data at all' : `missing ${missing.join(', ')}`;
    throw new MulletError('NO_DATA', `market store has ${what} for ${dateUtc}; import a source covering that day`, { where: `btc day ${dateUtc}` });
  }

  let subsidyBtc = blockSubsidyBtc(height.value);
  if (day.issuanceBtc !== undefined && day.blocks > 0) {
    const observed = day.issuanceBtc / day.blocks;
    // Issuance / blocks is the day's mean subsidy: it differs from the height's only across a halving.
    if (Math.abs(observed - subsidyBtc) > 1e-6 * subsidyBtc && derived.some((d) => d.input === 'height')) {
      derived.push({ input: 'subsidy', how: `${observed} BTC = issuance ${day.issuanceBtc} BTC / ${day.blocks} blocks (the rebuilt height gives ${subsidyBtc})` });
      subsidyBtc = observed;
    }
  }

  let feesBtc: number;
  if (day.feesBtc !== undefined) feesBtc = day.feesBtc;
  else {
    const share = options.feeShareOfSubsidyPct as number;
    feesBtc = (share / 100) * subsidyBtc * day.blocks;
    derived.push({ input: 'fees', how: `ASSUMED ${share} % of the ${subsidyBtc} BTC subsidy = ${((share / 100) * subsidyBtc).toFixed(4)} BTC/block (no fee data for the day)` });
  }

  if (withDifficulty.dateUtc !== dateUtc) {
    const age = Math.round((dayMs - parseUtcDate(withDifficulty.dateUtc)) / MS_PER_DAY);
    const later = rows.find((r) => r.dateUtc > dateUtc && r.difficulty !== undefined);
    derived.push({ input: 'difficulty', how: `carried from ${withDifficulty.dateUtc} (${age} day${age === 1 ? '' : 's'} before)` });
    if (later === undefined) {
      warnings.push(
        `difficulty is STALE: ${dateUtc} is ${age} day${age === 1 ? '' : 's'} past the store's last difficulty observation (${withDifficulty.dateUtc}); retargets every ~14 days since are not reflected`,
      );
    }
  }

  return {
    dateUtc,
    btcPriceUsd: day.priceUsd,
    difficulty: withDifficulty.difficulty,
    difficultyDateUtc: withDifficulty.dateUtc,
    height: height.value,
    heightDateUtc: height.dateUtc,
    subsidyBtc,
    feesBtc,
    blocks: day.blocks,
    feesBtcPerBlock: feesBtc / day.blocks,
    derived,
    warnings,
  };
}
