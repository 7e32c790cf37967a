/**
 * Daily Bitcoin market and network model for the synthetic market: GBM price, a hashrate random
 * walk whose drift and spread reproduce the calibrated difficulty growth per epoch, Poisson block
 * arrivals, difficulty through Bitcoin Core's retarget rule (src/bitcoin), AR(1) log fees per block.
 */
import { bitsFromDifficulty, difficultyFromBits, HASHES_PER_DIFFICULTY_1 } from '../bitcoin/difficulty.js';
import { calculateNextWorkRequired, MAINNET_POW } from '../bitcoin/retarget.js';
import { MS_PER_DAY, utcDate } from '../core/time.js';
import type { BtcParams } from './params.js';
import type { Rng } from '../core/prng.js';

const TARGET_SPACING_S = MAINNET_POW.targetTimespanS / MAINNET_POW.intervalBlocks;
const EPOCH_DAYS = MAINNET_POW.targetTimespanS / 86_400;

/** One generated UTC day; the same fields as the store's BtcDay, all present. */
export interface SyntheticBtcDay {
  dateUtc: string;
  /** Price at the day's end (24:00 UTC, the daily close), USD: the store's convention. */
  priceUsd: number;
  /** Difficulty in force during the day (a retarget takes effect at the end of the day it falls in). */
  difficulty: number;
  feesBtc: number;
  blocks: number;
  heightEndOfDay: number;
  /** Network hashrate that day, TH/s. */
  hashrateThs: number;
}

export interface BtcState {
  priceUsd: number;
  hashrateHs: number;
  difficulty: number;
  height: number;
  /** Unix seconds of the current retarget window's first block. */
  windowStartS: number;
  feesLog: number;
}

/** The state at `startMs` (a UTC midnight): on-schedule window, hashrate at equilibrium with difficulty. */
export function initialBtcState(p: BtcParams, startMs: number): BtcState {
  const height = p.start.heightEndOfDay;
  const intoWindow = height % MAINNET_POW.intervalBlocks;
  return {
    priceUsd: p.start.priceUsd,
    hashrateHs: (p.start.difficulty * HASHES_PER_DIFFICULTY_1) / TARGET_SPACING_S,
    difficulty: p.start.difficulty,
    height,
    windowStartS: Math.round(startMs / 1000 - intoWindow * TARGET_SPACING_S),
    feesLog: Math.log(p.start.feesBtcPerBlock / p.feesPerBlock.medianBtc),
  };
}

/** Generates one day starting at `dayStartMs` and advances the state to the next day. */
export function stepBtcDay(p: BtcParams, s: BtcState, rng: Rng, dayStartMs: number): SyntheticBtcDay {
  const dayStartS = dayStartMs / 1000;
  const expectedBlocks = (86_400 * s.hashrateHs) / (s.difficulty * HASHES_PER_DIFFICULTY_1);
  const blocks = rng.poisson(expectedBlocks);
  const feesPerBlock = p.feesPerBlock.medianBtc * Math.exp(s.feesLog);
  const dt = 1 / 365;
  const sigma = p.priceVolPerYear;
  s.priceUsd *= Math.exp((p.priceDriftPerYear - (sigma * sigma) / 2) * dt + sigma * Math.sqrt(dt) * rng.normal());
  const day: SyntheticBtcDay = {
    dateUtc: utcDate(dayStartMs),
    priceUsd: s.priceUsd,
    difficulty: s.difficulty,
    feesBtc: feesPerBlock * blocks,
    blocks,
    heightEndOfDay: s.height + blocks,
    hashrateThs: s.hashrateHs / 1e12,
  };
  // Blocks are spread evenly over the day; a window that closes today retargets at the day's end
  // (daily resolution: blocks after the boundary are still counted at the old difficulty).
  const firstHeight = s.height + 1;
  const lastHeight = s.height + blocks;
  const timeOf = (h: number) => Math.round(dayStartS + (86_400 * (h - s.height)) / blocks);
  for (let w = Math.ceil((firstHeight + 1) / MAINNET_POW.intervalBlocks) * MAINNET_POW.intervalBlocks; w <= lastHeight + 1; w += MAINNET_POW.intervalBlocks) {
    // Block w−1 closes the window [w−2016, w−1]; block w starts the next one.
    const lastBlockTimeS = timeOf(w - 1);
    const next = calculateNextWorkRequired({ bits: bitsFromDifficulty(s.difficulty), firstBlockTimeS: s.windowStartS, lastBlockTimeS });
    s.difficulty = difficultyFromBits(next.bits);
    s.windowStartS = w <= lastHeight ? timeOf(w) : Math.round(dayStartS + 86_400);
  }
  s.height = lastHeight;
  const g = p.difficultyGrowthPerEpoch;
  s.hashrateHs *= Math.exp(g.meanLog / EPOCH_DAYS + (g.sdLog / Math.sqrt(EPOCH_DAYS)) * rng.normal());
  const f = p.feesPerBlock;
  const phi = Math.max(0, f.dailyAr1);
  s.feesLog = phi * s.feesLog + f.sigmaLog * Math.sqrt(1 - phi * phi) * rng.normal();
  return day;
}

/** Days between two UTC midnights (helper for callers iterating days). */
export function dayStartMs(startMs: number, dayIndex: number): number {
  return startMs + dayIndex * MS_PER_DAY;
}
