/**
 * One Monte Carlo path of the outside world, month by month: BTC price (GBM or block bootstrap of
 * real daily returns), network hashrate responding to lagged hashprice within a build-out limit,
 * blocks and difficulty through the network model (exact retarget, halvings by height), fees as a
 * stochastic share of the subsidy, the AI lease market factor, and the synthetic power month drawn
 * for each calendar month. Buffers are reused across paths (no allocation per month).
 */
import { Rng } from '../core/prng.js';
import { advanceNetwork, initialNetwork, newPeriodBlocks } from './network.js';
import type { PlanModel } from './resolve.js';

/** Random streams per path: market uses k·STREAMS, tenants k·STREAMS + 1 + site·32 + contract. */
export const STREAMS_PER_PATH = 1024;

export interface MarketPath {
  /** Hashprice earned by miners, USD per PH/s per day (includes the sensitivity shock). */
  hashpriceUsdPerPhDay: Float64Array;
  /** BTC price at mid-month (geometric mean of the month's start and end), USD. */
  btcPriceUsd: Float64Array;
  networkHashrateEhs: Float64Array;
  /** Pool row of the power month drawn for each plan month. */
  poolRow: Int32Array;
  /** AI lease market factor at each month's start (1 at the plan start). */
  leaseFactor: Float64Array;
  /** Plan month in which the first halving inside the horizon happened, or −1. */
  halvingMonth: number;
  /** Unix ms of that halving, or NaN. */
  halvingMs: number;
}

export function newMarketPath(months: number): MarketPath {
  return {
    hashpriceUsdPerPhDay: new Float64Array(months),
    btcPriceUsd: new Float64Array(months),
    networkHashrateEhs: new Float64Array(months),
    poolRow: new Int32Array(months),
    leaseFactor: new Float64Array(months),
    halvingMonth: -1,
    halvingMs: NaN,
  };
}

/** Sum of `days` daily returns made of blocks of `blockDays` consecutive days at random starts (circular). */
function bootstrapMonth(r: Float64Array, days: number, blockDays: number, rng: Rng): number {
  let sum = 0;
  let left = days;
  const n = r.length;
  while (left > 0) {
    const len = Math.min(left, blockDays);
    let i = rng.int(n);
    for (let k = 0; k < len; k++) {
      sum += r[i] as number;
      i = i + 1 === n ? 0 : i + 1;
    }
    left -= len;
  }
  return sum;
}

/** Simulates path `pathIndex` of `model` into `out`. */
export function simulateMarket(model: PlanModel, seed: number, pathIndex: number, out: MarketPath): void {
  const rng = new Rng(seed, pathIndex * STREAMS_PER_PATH);
  const tl = model.timeline;
  const T = tl.months;
  const sc = model.scenario;
  const n = sc.network;
  const pool = model.sites[0]?.pool;
  const poolYears = pool?.years ?? 1;
  const net = initialNetwork({ difficulty: n.startDifficulty, height: n.startHeight, timeS: tl.startMs / 1000, hashrateHs: n.startHashrateHs });
  let hashrate = n.startHashrateHs;
  let price = sc.btc.startPriceUsd * model.shocks.btcPrice;
  const f = sc.fees;
  let feeLog = f.sigmaLog * rng.normal();
  let halvings = 0;
  let lease = 1;
  out.halvingMonth = -1;
  out.halvingMs = NaN;
  const b = sc.btc;
  const l = sc.aiLease;
  const period = newPeriodBlocks();
  for (let t = 0; t < T; t++) {
    const seconds = tl.seconds[t] as number;
    const days = seconds / 86_400;
    // BTC price over the month.
    let logret: number;
    if (b.model === 'bootstrap' && b.dailyReturns) logret = bootstrapMonth(b.dailyReturns, Math.round(days), b.blockDays, rng);
    else {
      const dt = days / 365;
      logret = (b.driftPerYear - (b.volPerYear * b.volPerYear) / 2) * dt + b.volPerYear * Math.sqrt(dt) * rng.normal();
    }
    // A drift shock moves every month's log return by the same amount (same draws: common random numbers).
    logret += model.shocks.btcDriftPerYear * (days / 365);
    const next = price * Math.exp(logret);
    const mid = Math.sqrt(price * next);
    // Blocks this month at this month's hashrate.
    const blocks = advanceNetwork(net, seconds, hashrate, period);
    if (blocks.halvingTimeS !== undefined) {
      halvings++;
      if (out.halvingMonth < 0) {
        out.halvingMonth = t;
        out.halvingMs = blocks.halvingTimeS * 1000;
      }
    }
    const subsidyPerBlock = blocks.blocks > 0 ? blocks.subsidyBtc / blocks.blocks : 0;
    const share = f.meanShare * Math.exp(feeLog - (f.sigmaLog * f.sigmaLog) / 2) * Math.pow(f.stepAtHalving, halvings);
    const rewardBtc = subsidyPerBlock * (1 + share);
    // A PH/s earns its share of the month's blocks: 1e15 / H of them.
    const btcPerPhDay = (1e15 / hashrate) * (blocks.blocks / days) * rewardBtc;
    const hp = btcPerPhDay * mid;
    out.hashpriceUsdPerPhDay[t] = hp * model.shocks.hashprice;
    out.btcPriceUsd[t] = mid;
    out.networkHashrateEhs[t] = hashrate / 1e18;
    out.leaseFactor[t] = lease;
    out.poolRow[t] = sc.power.mix ? (tl.calendarMonth[t] as number) : rng.int(poolYears) * 12 + (tl.calendarMonth[t] as number);
    // Next month's hashrate responds to the hashprice `lag` months ago against a falling break-even.
    const lagged = out.hashpriceUsdPerPhDay[Math.max(0, t - n.lagMonths)] as number;
    const breakEven = n.breakEvenUsdPerPhDay * Math.pow(1 - n.effGainPerYear, t / 12);
    const target = n.response * Math.log(Math.max(lagged / model.shocks.hashprice, 1e-9) / breakEven);
    const g = Math.min(n.maxGrowthLog, Math.max(n.minGrowthLog, target)) + n.noiseSigma * rng.normal();
    hashrate *= Math.exp(g);
    price = next;
    feeLog = f.ar1 * feeLog + f.sigmaLog * Math.sqrt(1 - f.ar1 * f.ar1) * rng.normal();
    lease *= Math.exp((l.driftPerYear - (l.volPerYear * l.volPerYear) / 2) / 12 + (l.volPerYear / Math.sqrt(12)) * rng.normal());
  }
}
