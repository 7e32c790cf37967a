/**
 * "Hashrate implications": X EH/s leaves mining for AI, linearly over D days. Until the next
 * retarget the remaining hashrate finds blocks more slowly; Bitcoin Core's rule then lowers the
 * difficulty (at most ÷4 per window) and the miners who stay earn more per PH. Simulated day by day
 * with the planner's network model (exact retarget, halvings by height), against a baseline where
 * nobody leaves. BTC price and fees per block are held at their starting values.
 */
import { advanceNetwork, equilibriumHashrateHs, initialNetwork, newPeriodBlocks } from './network.js';

export interface WhatIfInput {
  startMs: number;
  difficulty: number;
  height: number;
  /** Network hashrate before the exit, H/s (default: 600-second blocks at `difficulty`). */
  hashrateHs?: number;
  exitEhs: number;
  overDays: number;
  /** Days to simulate. */
  days: number;
  btcPriceUsd: number;
  feesBtcPerBlock: number;
}

export interface WhatIfDay {
  dateUtc: string;
  hashrateEhs: number;
  blocks: number;
  /** Average seconds between blocks that day. */
  blockTimeS: number;
  /** Difficulty at the end of the day. */
  difficulty: number;
  /** What one PH/s earns that day, USD (subsidy + fees, at the held BTC price). */
  hashpriceUsdPerPhDay: number;
  baselineBlockTimeS: number;
  baselineHashpriceUsdPerPhDay: number;
}

export interface WhatIfRetarget {
  dateUtc: string;
  height: number;
  difficultyBefore: number;
  difficultyAfter: number;
  changePct: number;
}

export interface WhatIfResult {
  start: { dateUtc: string; height: number; difficulty: number; hashrateEhs: number; hashpriceUsdPerPhDay: number };
  exitEhs: number;
  overDays: number;
  days: WhatIfDay[];
  retargets: WhatIfRetarget[];
  summary: {
    /** Slowest daily average block time, seconds. */
    maxBlockTimeS: number;
    /** First retarget at or after the exit began, if within the simulated days. */
    firstRetargetDate: string | null;
    /** Difficulty change from the start to the end of the simulation, percent. */
    difficultyChangePct: number;
    /** Hashprice for the miners who stay at the end vs the start, percent. */
    stayerHashpriceChangePct: number;
    /** Stayers' hashprice at the end vs the no-exit baseline at the end, percent. */
    stayerHashpriceVsBaselinePct: number;
    /** Blocks not mined over the period vs the baseline (slower blocks before the retarget). */
    blocksLostVsBaseline: number;
  };
}

/** Runs the exit scenario and its no-exit baseline side by side. */
export function networkWhatIf(i: WhatIfInput): WhatIfResult {
  if (!(i.exitEhs >= 0)) throw new RangeError(`exitEhs must be >= 0, got ${i.exitEhs}`);
  const startS = i.startMs / 1000;
  const exit = initialNetwork({ difficulty: i.difficulty, height: i.height, timeS: startS, ...(i.hashrateHs !== undefined ? { hashrateHs: i.hashrateHs } : {}) });
  const base = initialNetwork({ difficulty: i.difficulty, height: i.height, timeS: startS, ...(i.hashrateHs !== undefined ? { hashrateHs: i.hashrateHs } : {}) });
  const d0 = exit.difficulty; // the start difficulty after compact rounding
  const h0 = i.hashrateHs ?? equilibriumHashrateHs(d0);
  if (i.exitEhs * 1e18 >= h0) throw new RangeError(`exit of ${i.exitEhs} EH/s is not below the network's ${(h0 / 1e18).toFixed(1)} EH/s`);
  const pb = newPeriodBlocks();
  const bb = newPeriodBlocks();
  const perPh = (blocks: number, subsidy: number, h: number) => (blocks > 0 ? (1e15 / h) * (subsidy + blocks * i.feesBtcPerBlock) * i.btcPriceUsd : 0);
  const days: WhatIfDay[] = [];
  const retargets: WhatIfRetarget[] = [];
  let blocksLost = 0;
  for (let d = 0; d < i.days; d++) {
    const left = i.overDays <= 0 ? 1 : Math.min(1, (d + 1) / i.overDays);
    const h = h0 - i.exitEhs * 1e18 * left;
    const before = exit.difficulty;
    advanceNetwork(exit, 86_400, h, pb);
    advanceNetwork(base, 86_400, h0, bb);
    if (pb.retargets > 0) {
      retargets.push({ dateUtc: new Date(exit.timeS * 1000 - 1).toISOString().slice(0, 10), height: Math.floor(exit.height / 2016) * 2016, difficultyBefore: before, difficultyAfter: exit.difficulty, changePct: 100 * (exit.difficulty / before - 1) });
    }
    blocksLost += bb.blocks - pb.blocks;
    days.push({
      dateUtc: new Date(i.startMs + d * 86_400_000).toISOString().slice(0, 10),
      hashrateEhs: h / 1e18,
      blocks: pb.blocks,
      blockTimeS: pb.blocks > 0 ? 86_400 / pb.blocks : Infinity,
      difficulty: exit.difficulty,
      hashpriceUsdPerPhDay: perPh(pb.blocks, pb.subsidyBtc, h),
      baselineBlockTimeS: bb.blocks > 0 ? 86_400 / bb.blocks : Infinity,
      baselineHashpriceUsdPerPhDay: perPh(bb.blocks, bb.subsidyBtc, h0),
    });
  }
  const first = days[0];
  const last = days[days.length - 1];
  const hp0 = first?.baselineHashpriceUsdPerPhDay ?? NaN;
  return {
    start: { dateUtc: new Date(i.startMs).toISOString().slice(0, 10), height: i.height, difficulty: d0, hashrateEhs: h0 / 1e18, hashpriceUsdPerPhDay: hp0 },
    exitEhs: i.exitEhs,
    overDays: i.overDays,
    days,
    retargets,
    summary: {
      maxBlockTimeS: Math.max(...days.map((x) => x.blockTimeS)),
      firstRetargetDate: retargets[0]?.dateUtc ?? null,
      difficultyChangePct: last ? 100 * (last.difficulty / d0 - 1) : NaN,
      stayerHashpriceChangePct: last ? 100 * (last.hashpriceUsdPerPhDay / hp0 - 1) : NaN,
      stayerHashpriceVsBaselinePct: last ? 100 * (last.hashpriceUsdPerPhDay / last.baselineHashpriceUsdPerPhDay - 1) : NaN,
      blocksLostVsBaseline: blocksLost,
    },
  };
}
