/**
 * The Bitcoin network as the planner sees it: hashrate is an input per period, blocks arrive at
 * the expected rate H / (D · 2^32) per second (no Poisson noise: expected values, so a path is
 * smooth), every 2016-block window closes with Bitcoin Core's retarget rule on compact bits
 * (src/bitcoin/retarget.ts) from the window's first and last block times, and the subsidy changes
 * exactly at each halving height (src/bitcoin/subsidy.ts). Heights are fractional (expected chain
 * height); block k counts as mined when the height reaches k.
 */
import { bitsFromDifficulty, coreGetDifficulty, HASHES_PER_DIFFICULTY_1 } from '../bitcoin/difficulty.js';
import { calculateNextWorkRequired, MAINNET_POW } from '../bitcoin/retarget.js';
import { blockSubsidyBtc, HALVING_INTERVAL_BLOCKS } from '../bitcoin/subsidy.js';

const WINDOW = MAINNET_POW.intervalBlocks;
const SPACING_S = MAINNET_POW.targetTimespanS / WINDOW;
/** Heights are compared with this slack so float steps land exactly on event heights. */
const EPS = 1e-7;

export interface NetworkState {
  hashrateHs: number;
  /** Compact bits in force. */
  bits: number;
  /** Difficulty of `bits`, as Bitcoin Core reports it (GetDifficulty). */
  difficulty: number;
  /** Expected chain height (fractional). */
  height: number;
  /** Unix seconds when the current window's first block was mined. */
  windowStartS: number;
  /** Unix seconds of the state. */
  timeS: number;
  retargets: number;
  /** Cached subsidy of the halving epoch last used (it changes only every 210,000 blocks). */
  subsidyEpoch: number;
  subsidyBtc: number;
}

export interface PeriodBlocks {
  /** Blocks mined in the period (fractional: expected). */
  blocks: number;
  /** Σ subsidy over those blocks, BTC (exact by height, so a halving inside the period is split). */
  subsidyBtc: number;
  /** Retargets that happened in the period. */
  retargets: number;
  /** Unix seconds at which a halving block was mined in the period, if one was. */
  halvingTimeS?: number;
  halvingHeight?: number;
}

/** Hashrate (H/s) at which blocks come exactly every 600 s at `difficulty`. */
export function equilibriumHashrateHs(difficulty: number): number {
  return (difficulty * HASHES_PER_DIFFICULTY_1) / SPACING_S;
}

/**
 * A network at `height` (integer) at `timeS`, difficulty rounded to compact bits. The current
 * window is assumed to have run on schedule (600 s per block) unless `windowStartS` is given.
 */
export function initialNetwork(o: { difficulty: number; height: number; timeS: number; hashrateHs?: number; windowStartS?: number }): NetworkState {
  const bits = bitsFromDifficulty(o.difficulty);
  const difficulty = coreGetDifficulty(bits);
  const windowStart = Math.floor(o.height / WINDOW) * WINDOW;
  return {
    hashrateHs: o.hashrateHs ?? equilibriumHashrateHs(difficulty),
    bits,
    difficulty,
    height: o.height,
    windowStartS: o.windowStartS ?? o.timeS - (o.height - windowStart) * SPACING_S,
    timeS: o.timeS,
    retargets: 0,
    subsidyEpoch: -1,
    subsidyBtc: 0,
  };
}

/** The smallest height k ≡ offset (mod m) strictly above h. */
function nextAbove(h: number, m: number, offset: number): number {
  let k = Math.floor((h - offset) / m) * m + offset;
  while (k <= h + EPS) k += m;
  return k;
}

/** The next event height strictly above h: window start (k·2016), window close (k·2016 − 1), halving − 1, halving. */
function nextEventHeight(h: number): number {
  const w0 = nextAbove(h, WINDOW, 0);
  const w1 = nextAbove(h, WINDOW, WINDOW - 1);
  const h0 = nextAbove(h, HALVING_INTERVAL_BLOCKS, 0);
  const h1 = nextAbove(h, HALVING_INTERVAL_BLOCKS, HALVING_INTERVAL_BLOCKS - 1);
  return Math.min(w0 < w1 ? w0 : w1, h0 < h1 ? h0 : h1);
}

function subsidyOf(s: NetworkState, block: number): number {
  const epoch = Math.floor(block / HALVING_INTERVAL_BLOCKS);
  if (epoch !== s.subsidyEpoch) {
    s.subsidyEpoch = epoch;
    s.subsidyBtc = blockSubsidyBtc(block);
  }
  return s.subsidyBtc;
}

export function newPeriodBlocks(): PeriodBlocks {
  return { blocks: 0, subsidyBtc: 0, retargets: 0 };
}

/**
 * Advances `s` by `durationS` seconds with the network hashing at `hashrateHs` throughout; the
 * period's blocks go into `out` (reused by hot loops; a fresh object when omitted).
 */
export function advanceNetwork(s: NetworkState, durationS: number, hashrateHs: number, out: PeriodBlocks = newPeriodBlocks()): PeriodBlocks {
  s.hashrateHs = hashrateHs;
  out.blocks = 0;
  out.subsidyBtc = 0;
  out.retargets = 0;
  delete out.halvingTimeS;
  delete out.halvingHeight;
  let remaining = durationS;
  while (remaining > 0) {
    const rate = hashrateHs / (s.difficulty * HASHES_PER_DIFFICULTY_1);
    const e = nextEventHeight(s.height);
    const dt = (e - s.height) / rate;
    const reached = dt <= remaining;
    const h1 = reached ? e : s.height + rate * remaining;
    const mass = h1 - s.height;
    // Block k is the mass in (k − 1, k]; events split segments so all of it has one subsidy.
    out.subsidyBtc += mass * subsidyOf(s, Math.floor(s.height + EPS) + 1);
    out.blocks += mass;
    s.height = h1;
    const step = reached ? dt : remaining;
    s.timeS += step;
    remaining -= step;
    if (!reached) break;
    s.height = e; // exact, so event tests below are exact
    if (e % HALVING_INTERVAL_BLOCKS === 0) {
      out.halvingTimeS = s.timeS;
      out.halvingHeight = e;
    }
    if (e % WINDOW === 0) s.windowStartS = s.timeS;
    if (e % WINDOW === WINDOW - 1) {
      const next = calculateNextWorkRequired({ bits: s.bits, firstBlockTimeS: Math.round(s.windowStartS), lastBlockTimeS: Math.round(s.timeS) });
      s.bits = next.bits;
      s.difficulty = coreGetDifficulty(next.bits);
      s.retargets++;
      out.retargets++;
    }
  }
  return out;
}
