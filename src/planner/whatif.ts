/**
 * "Hashrate implications": hashrate leaves mining (for AI, a ban, a curtailment) along a profile of
 * EH/s over days: linear between its points, held after the last one, so an exit can be permanent
 * (X EH/s over D days) or temporary (leave, then return; a negative value is hashrate joining). Until
 * the next retarget the remaining hashrate finds blocks more slowly; Bitcoin Core's rule then changes
 * the difficulty (at most ×4/÷4 per window) and the miners who stay earn more per PH. Simulated day
 * by day with the planner's network model (exact retarget, halvings by height), against a baseline
 * where nobody leaves. BTC price and fees per block are held at their starting values.
 */
import { advanceNetwork, equilibriumHashrateHs, initialNetwork, newPeriodBlocks } from './network.js';

/** One point of an exit profile: `exitEhs` have left `dayOffset` days after the start. */
export interface ExitPoint {
  dayOffset: number;
  exitEhs: number;
}

export interface WhatIfInput {
  startMs: number;
  difficulty: number;
  height: number;
  /** Network hashrate before the exit, H/s (default: 600-second blocks at `difficulty`). */
  hashrateHs?: number;
  /** First block time of the current 2016-block window, UTC ms (default: the window ran on schedule). */
  windowStartMs?: number;
  /** Hashrate gone (EH/s) over time: linear between points (ascending dayOffset), 0 before the first, held after the last. */
  exit: ExitPoint[];
  /** Days to simulate. */
  days: number;
  btcPriceUsd: number;
  feesBtcPerBlock: number;
}

export interface WhatIfDay {
  dateUtc: string;
  /** Hashrate gone that day (mean over the day), EH/s. */
  exitEhs: number;
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
  exit: { dateUtc: string; exitEhs: number }[];
  /** Largest exit of the profile, EH/s. */
  peakExitEhs: number;
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

/** The profile's exit (EH/s) at `day` days after the start: linear between points, held after the last. */
export function exitAt(points: readonly ExitPoint[], day: number): number {
  const first = points[0];
  if (!first || day < first.dayOffset) return 0;
  for (let k = 1; k < points.length; k++) {
    const a = points[k - 1] as ExitPoint;
    const b = points[k] as ExitPoint;
    if (day < b.dayOffset) return a.exitEhs + ((b.exitEhs - a.exitEhs) * (day - a.dayOffset)) / (b.dayOffset - a.dayOffset);
  }
  return (points[points.length - 1] as ExitPoint).exitEhs;
}

/** Mean of the profile over day [d, d + 1) (exact for a piecewise-linear profile, by 8-point midpoints). */
function exitOverDay(points: readonly ExitPoint[], d: number): number {
  let s = 0;
  for (let k = 0; k < 8; k++) s += exitAt(points, d + (k + 0.5) / 8);
  return s / 8;
}

/** X EH/s leaving linearly over D days (0 = at once) and staying away: the `--exit-ehs --over-days` shorthand. */
export function linearExit(exitEhs: number, overDays: number): ExitPoint[] {
  return overDays <= 0 ? [{ dayOffset: 0, exitEhs }] : [{ dayOffset: 0, exitEhs: 0 }, { dayOffset: overDays, exitEhs }];
}

/** Runs the exit scenario and its no-exit baseline side by side. */
export function networkWhatIf(i: WhatIfInput): WhatIfResult {
  for (let k = 0; k < i.exit.length; k++) {
    const p = i.exit[k] as ExitPoint;
    if (!Number.isFinite(p.exitEhs) || !Number.isFinite(p.dayOffset)) throw new RangeError(`exit point ${k + 1}: must be finite`);
    if (k > 0 && p.dayOffset < (i.exit[k - 1] as ExitPoint).dayOffset) throw new RangeError(`exit point ${k + 1}: dates must not go backwards`);
  }
  const startS = i.startMs / 1000;
  const init = { difficulty: i.difficulty, height: i.height, timeS: startS, ...(i.hashrateHs !== undefined ? { hashrateHs: i.hashrateHs } : {}), ...(i.windowStartMs !== undefined ? { windowStartS: i.windowStartMs / 1000 } : {}) };
  const exit = initialNetwork(init);
  const base = initialNetwork(init);
  const d0 = exit.difficulty; // the start difficulty after compact rounding
  const h0 = i.hashrateHs ?? equilibriumHashrateHs(d0);
  const peak = Math.max(0, ...i.exit.map((p) => p.exitEhs));
  if (peak * 1e18 >= h0) throw new RangeError(`exit of ${peak} EH/s is not below the network's ${(h0 / 1e18).toFixed(1)} EH/s`);
  const pb = newPeriodBlocks();
  const bb = newPeriodBlocks();
  const perPh = (blocks: number, subsidy: number, h: number) => (blocks > 0 ? (1e15 / h) * (subsidy + blocks * i.feesBtcPerBlock) * i.btcPriceUsd : 0);
  const days: WhatIfDay[] = [];
  const retargets: WhatIfRetarget[] = [];
  let blocksLost = 0;
  for (let d = 0; d < i.days; d++) {
    const gone = exitOverDay(i.exit, d);
    const h = h0 - gone * 1e18;
    const before = exit.difficulty;
    advanceNetwork(exit, 86_400, h, pb);
    advanceNetwork(base, 86_400, h0, bb);
    if (pb.retargets > 0) {
      retargets.push({ dateUtc: new Date(exit.timeS * 1000 - 1).toISOString().slice(0, 10), height: Math.floor(exit.height / 2016) * 2016, difficultyBefore: before, difficultyAfter: exit.difficulty, changePct: 100 * (exit.difficulty / before - 1) });
    }
    blocksLost += bb.blocks - pb.blocks;
    days.push({
      dateUtc: new Date(i.startMs + d * 86_400_000).toISOString().slice(0, 10),
      exitEhs: gone,
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
    exit: i.exit.map((p) => ({ dateUtc: new Date(i.startMs + p.dayOffset * 86_400_000).toISOString().slice(0, 10), exitEhs: p.exitEhs })),
    peakExitEhs: peak,
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

/** A real difficulty epoch: the difficulty in force from its first full UTC day. */
export interface RealEpoch {
  firstFullDayUtc: string;
  difficulty: number;
}

export interface EpochComparison {
  /** 1 = the first retarget after the start. */
  n: number;
  simulated: { dateUtc: string; difficultyAfter: number; changePct: number } | null;
  /** `retargetDayUtc` is the day before the first full day at the new difficulty (±1 day). */
  real: { retargetDayUtc: string; firstFullDayUtc: string; difficulty: number; changePct: number } | null;
  /** Simulated retarget day − real retarget day, days. */
  dayDifference: number | null;
  /** Simulated change − real change, percentage points. */
  changeDifferencePctPoints: number | null;
}

export interface HistoryComparison {
  epochs: EpochComparison[];
  /** Blocks over the simulated days that have a real daily count. */
  blocks: { days: number; simulated: number; real: number };
  /** Difficulty at the end of the simulation vs the real difficulty in force then, percent. */
  endDifficultyDifferencePct: number | null;
}

/**
 * The what-if next to what really happened: the k-th simulated retarget against the k-th real one
 * after the start (`epochs` sorted, including the one in force at the start), and blocks per day.
 */
export function compareWithHistory(r: WhatIfResult, epochs: readonly RealEpoch[], realBlocks: ReadonlyMap<string, number>): HistoryComparison {
  const start = r.start.dateUtc;
  const endDay = r.days[r.days.length - 1]?.dateUtc ?? start;
  const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
  const shift = (d: string, k: number) => new Date(dayMs(d) + k * 86_400_000).toISOString().slice(0, 10);
  const real: NonNullable<EpochComparison['real']>[] = [];
  for (let k = 1; k < epochs.length; k++) {
    const e = epochs[k] as RealEpoch;
    const retargetDay = shift(e.firstFullDayUtc, -1);
    if (retargetDay < start || retargetDay > endDay) continue;
    real.push({ retargetDayUtc: retargetDay, firstFullDayUtc: e.firstFullDayUtc, difficulty: e.difficulty, changePct: 100 * (e.difficulty / (epochs[k - 1] as RealEpoch).difficulty - 1) });
  }
  const rows: EpochComparison[] = [];
  for (let k = 0; k < Math.max(real.length, r.retargets.length); k++) {
    const s = r.retargets[k];
    const e = real[k];
    rows.push({
      n: k + 1,
      simulated: s ? { dateUtc: s.dateUtc, difficultyAfter: s.difficultyAfter, changePct: s.changePct } : null,
      real: e ?? null,
      dayDifference: s && e ? Math.round((dayMs(s.dateUtc) - dayMs(e.retargetDayUtc)) / 86_400_000) : null,
      changeDifferencePctPoints: s && e ? s.changePct - e.changePct : null,
    });
  }
  let days = 0;
  let sim = 0;
  let act = 0;
  for (const d of r.days) {
    const b = realBlocks.get(d.dateUtc);
    if (b === undefined) continue;
    days++;
    sim += d.blocks;
    act += b;
  }
  const inForce = [...epochs].filter((e) => e.firstFullDayUtc <= shift(endDay, 1)).pop();
  const last = r.days[r.days.length - 1];
  return {
    epochs: rows,
    blocks: { days, simulated: sim, real: act },
    endDifficultyDifferencePct: inForce && last ? 100 * (last.difficulty / inForce.difficulty - 1) : null,
  };
}
