/**
 * The Bitcoin network's measured state at 00:00 UTC of a day, from the store's daily data, for the
 * network what-if: hashrate from the blocks actually found at the difficulty over the 14 days
 * before (not "600-second blocks at the difficulty"), the difficulty in force, the height (measured,
 * rebuilt from block counts, or extrapolated with a warning), when the current retarget window
 * started, and the price and fees of the day before. Every value says where it came from; every
 * fallback to a default is named. Pure: works on rows the caller read.
 */
import { HASHES_PER_DIFFICULTY_1 } from '../bitcoin/difficulty.js';
import { blockSubsidyBtc } from '../bitcoin/subsidy.js';
import { MulletError } from '../core/errors.js';
import { MS_PER_DAY, parseUtcDate, utcDate } from '../core/time.js';
import { rebuildHeight } from './hashprice-inputs.js';
import { latestDifficulty } from '../scenario/calibrate.js';
import type { BtcDay, DifficultyEpoch } from './types.js';

/** Days of blocks × difficulty the hashrate is measured over. */
export const HASHRATE_WINDOW_DAYS = 14;
/** Fewer measured days than this and the hashrate falls back to 600-second blocks at the difficulty. */
const MIN_HASHRATE_DAYS = 7;
const WINDOW_BLOCKS = 2016;
/** A day's fees per block may stand in for a missing later day's up to this many days. */
const FEE_CARRY_DAYS = 30;
const SPACING_S = 600;

export interface MeasuredNetworkState {
  /** The state is at 00:00 UTC of this day (the what-if's first simulated day). */
  dateUtc: string;
  difficulty: number;
  difficultyHow: string;
  /** Height at the end of the day before. */
  height: number;
  heightHow: string;
  hashrateHs: number;
  hashrateHow: string;
  /** First block time of the current 2016-block window, UTC ms; undefined = assume it ran on schedule. */
  windowStartMs?: number;
  windowStartHow: string;
  btcPriceUsd: number;
  priceHow: string;
  feesBtcPerBlock: number;
  feesHow: string;
  /** Inputs that fell back to a default or an assumption (one line each). */
  defaults: string[];
  /** Things a reader must check (stale difficulty, extrapolated height). */
  warnings: string[];
}

/**
 * The difficulty in force at 00:00 of `date`: the latest epoch started by then, or the latest daily
 * value equal to the day before's (a retarget day's daily mean blends two difficulties).
 */
const difficultyAt = latestDifficulty;

/** End-of-day heights: measured ones, and the days after them filled forward with daily block counts. */
function heightsByDay(rows: readonly BtcDay[]): Map<string, number> {
  const out = new Map<string, number>();
  let prev: { dateUtc: string; height: number } | undefined;
  for (const r of rows) {
    if (r.heightEndOfDay !== undefined) prev = { dateUtc: r.dateUtc, height: r.heightEndOfDay };
    else if (prev && r.blocks !== undefined && parseUtcDate(r.dateUtc) - parseUtcDate(prev.dateUtc) === MS_PER_DAY) prev = { dateUtc: r.dateUtc, height: prev.height + r.blocks };
    else continue;
    out.set(r.dateUtc, prev.height);
  }
  return out;
}

/**
 * The last day whose price, fees, block count and difficulty were all observed and whose height is
 * known or rebuildable: the what-if's default start is the day after it, so no input is carried.
 */
export function lastCompleteDay(rows: readonly BtcDay[]): string | undefined {
  const heights = heightsByDay(rows);
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i] as BtcDay;
    if (r.priceUsd === undefined || r.feesBtc === undefined || r.blocks === undefined || r.blocks <= 0 || r.difficulty === undefined) continue;
    if (heights.has(r.dateUtc) || rebuildHeight(rows, r.dateUtc) !== undefined) return r.dateUtc;
  }
  return undefined;
}

const fmtInt = (v: number) => Math.round(v).toLocaleString('en-US');

/**
 * The network at 00:00 UTC of `dateUtc` from `rows` (every stored day up to at least the day before,
 * sorted) and `epochs`. Fees: the day before's fees per block, else `feeShareOfSubsidyPct` of the
 * subsidy (named as a default). Throws NO_DATA when there is no price or difficulty on or before it.
 */
export function measuredNetworkState(rows: readonly BtcDay[], epochs: readonly DifficultyEpoch[], dateUtc: string, o: { feeShareOfSubsidyPct: number }): MeasuredNetworkState {
  const dayMs = parseUtcDate(dateUtc);
  const before = utcDate(dayMs - MS_PER_DAY);
  const upTo = rows.filter((r) => r.dateUtc <= before);
  const defaults: string[] = [];
  const warnings: string[] = [];
  const ageDays = (d: string) => Math.round((dayMs - parseUtcDate(d)) / MS_PER_DAY) - 1;

  const diff = difficultyAt(epochs, rows, dateUtc);
  if (!diff) throw new MulletError('NO_DATA', `the market store has no difficulty on or before ${dateUtc}; import btc_network_daily_blockchaincom.csv or Coin Metrics`, { where: '--db' });
  let difficultyHow = diff.dateUtc === dateUtc ? `in force since ${diff.dateUtc} (epoch start)` : `in force on ${diff.dateUtc}`;
  const laterDifficulty = rows.some((r) => r.dateUtc >= dateUtc && r.difficulty !== undefined) || epochs.some((e) => e.startDateUtc > dateUtc);
  if (!laterDifficulty && ageDays(diff.dateUtc) > 1) {
    warnings.push(`difficulty is STALE: the store's last observation is ${diff.dateUtc}, ${ageDays(diff.dateUtc)} days before ${dateUtc}; retargets since are not reflected`);
    difficultyHow += ' (STALE)';
  }

  const priced = [...upTo].reverse().find((r) => r.priceUsd !== undefined);
  if (priced?.priceUsd === undefined) throw new MulletError('NO_DATA', `the market store has no BTC price before ${dateUtc}; import btc_price_daily.csv`, { where: '--db' });
  const priceHow = priced.dateUtc === before ? `close of ${before} (00:00 UTC of ${dateUtc})` : `close of ${priced.dateUtc}, ${ageDays(priced.dateUtc)} days before (no later price)`;
  if (priced.dateUtc !== before) warnings.push(`BTC price is from ${priced.dateUtc}, ${ageDays(priced.dateUtc)} days before ${dateUtc}`);

  // Height at the end of the day before: measured, rebuilt from block counts, else extrapolated.
  const heights = heightsByDay(rows);
  let height = heights.get(before);
  let heightHow: string;
  if (height !== undefined) {
    const row = rows.find((r) => r.dateUtc === before);
    heightHow = row?.heightEndOfDay !== undefined ? `end of ${before}` : `end of ${before}, rebuilt from daily block counts`;
  } else {
    const rebuilt = rebuildHeight(rows, before);
    if (rebuilt) {
      height = rebuilt.height;
      heightHow = `end of ${before}: ${rebuilt.how}`;
    } else {
      const known = [...heights.entries()].filter(([d]) => d < before).pop();
      if (!known) throw new MulletError('NO_DATA', `the market store has no block height before ${dateUtc}; import btc_blocks_per_day.csv`, { where: '--db' });
      const days = ageDays(known[0]);
      height = known[1] + 144 * days;
      heightHow = `${fmtInt(known[1])} at the end of ${known[0]} + 144 blocks/day for ${days} days (EXTRAPOLATED)`;
      if (days > 1) {
        warnings.push(
          `height ${fmtInt(height)} is extrapolated ${days} days past the store's last known height (${known[0]}); the real tip may differ by several blocks a day (2025 averaged ~145/day): check it before relying on retarget dates`,
        );
      }
    }
  }

  // Hashrate: Σ blocks × difficulty × 2^32 over the 14 days before, per second.
  let work = 0;
  let counted = 0;
  for (let k = 1; k <= HASHRATE_WINDOW_DAYS; k++) {
    const d = utcDate(dayMs - k * MS_PER_DAY);
    const row = rows.find((r) => r.dateUtc === d);
    const dd = row?.difficulty ?? difficultyAt(epochs, rows, d)?.difficulty;
    if (row?.blocks === undefined || dd === undefined) continue;
    work += row.blocks * dd;
    counted++;
  }
  let hashrateHs: number;
  let hashrateHow: string;
  if (counted >= MIN_HASHRATE_DAYS) {
    hashrateHs = (work * HASHES_PER_DIFFICULTY_1) / (counted * 86_400);
    hashrateHow = `blocks found × difficulty over the ${counted} days before (${utcDate(dayMs - HASHRATE_WINDOW_DAYS * MS_PER_DAY)}..${before})`;
  } else {
    hashrateHs = (diff.difficulty * HASHES_PER_DIFFICULTY_1) / SPACING_S;
    hashrateHow = '600-second blocks at the difficulty (DEFAULT)';
    defaults.push(`hashrate: only ${counted} of the ${HASHRATE_WINDOW_DAYS} days before have block counts; assumed 600-second blocks at the difficulty`);
  }

  // When the current window's first block was mined: interpolated within the day its height was reached.
  const windowStart = Math.floor(height / WINDOW_BLOCKS) * WINDOW_BLOCKS;
  let windowStartMs: number | undefined;
  let windowStartHow = 'assumed on schedule (600 s per block since the window began): no heights around it in the store';
  for (const r of upTo) {
    const end = heights.get(r.dateUtc);
    const prevEnd = heights.get(utcDate(parseUtcDate(r.dateUtc) - MS_PER_DAY));
    if (end === undefined || prevEnd === undefined || r.blocks === undefined || r.blocks <= 0) continue;
    if (prevEnd < windowStart && windowStart <= end) {
      windowStartMs = parseUtcDate(r.dateUtc) + ((windowStart - prevEnd - 0.5) / r.blocks) * MS_PER_DAY;
      windowStartHow = `block ${fmtInt(windowStart)} mined on ${r.dateUtc} (interpolated within the day's ${r.blocks} blocks)`;
      break;
    }
  }
  if (windowStartMs === undefined) defaults.push(`retarget window: ${windowStartHow}`);

  // Fees: the day before's; a recent day's (within 30 days) is carried and said; else the share default.
  const feeRow = [...upTo].reverse().find((r) => r.feesBtc !== undefined && r.blocks !== undefined && r.blocks > 0);
  let feesBtcPerBlock: number;
  let feesHow: string;
  if (feeRow && ageDays(feeRow.dateUtc) <= FEE_CARRY_DAYS) {
    feesBtcPerBlock = (feeRow.feesBtc as number) / (feeRow.blocks as number);
    feesHow = feeRow.dateUtc === before ? `fees / blocks of ${before}` : `fees / blocks of ${feeRow.dateUtc}, carried ${ageDays(feeRow.dateUtc)} days`;
  } else {
    const subsidy = blockSubsidyBtc(height);
    feesBtcPerBlock = (o.feeShareOfSubsidyPct / 100) * subsidy;
    feesHow = `ASSUMED ${o.feeShareOfSubsidyPct} % of the ${subsidy} BTC subsidy (DEFAULT)`;
    defaults.push(`fees: the store has no fees within ${FEE_CARRY_DAYS} days before ${dateUtc}${feeRow ? ` (last: ${feeRow.dateUtc})` : ''}; assumed ${o.feeShareOfSubsidyPct} % of the subsidy = ${feesBtcPerBlock.toFixed(4)} BTC/block (--fees-btc-per-block to set)`);
  }

  return {
    dateUtc,
    difficulty: diff.difficulty,
    difficultyHow,
    height,
    heightHow,
    hashrateHs,
    hashrateHow,
    ...(windowStartMs === undefined ? {} : { windowStartMs }),
    windowStartHow,
    btcPriceUsd: priced.priceUsd,
    priceHow,
    feesBtcPerBlock,
    feesHow,
    defaults,
    warnings,
  };
}
