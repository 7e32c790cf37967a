/** Summary statistics of a synthetic market, for the CLI and tests. Labelled synthetic. */
import type { SyntheticMarket } from './generate.js';
import { SYNTHETIC_LABEL } from './params.js';

export interface SyntheticSummary {
  synthetic: true;
  label: typeof SYNTHETIC_LABEL;
  market: string;
  settlementPoint: string;
  seed: number | string;
  fromDate: string;
  days: number;
  paramsSource: string;
  notes: string[];
  rt: {
    intervalMinutes: number;
    meanUsdPerMWh: number;
    p50UsdPerMWh: number;
    p99UsdPerMWh: number;
    maxUsdPerMWh: number;
    minUsdPerMWh: number;
    /** Intervals above the spike threshold, and runs of them. */
    spikeIntervals: number;
    spikeEvents: number;
    spikeThresholdUsdPerMWh: number;
    negativeIntervals: number;
    negativeSharePct: number;
  };
  da: { meanUsdPerMWh: number };
  load: { meanMW: number; maxMW: number };
  btc: {
    startPriceUsd: number;
    endPriceUsd: number;
    /** √365 × standard deviation of daily log returns. */
    /** Annualised stdev of daily log returns; null with fewer than 3 days (no spread of returns to measure). */
    realizedVolPerYear: number | null;
    startDifficulty: number;
    endDifficulty: number;
    meanFeesBtcPerDay: number;
    meanBlocksPerDay: number;
    heightEnd: number;
  };
}

function quantileSorted(s: Float64Array, p: number): number {
  const i = p * (s.length - 1);
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (i - lo);
}

function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return xs.length ? s / xs.length : NaN;
}

/** Summary of `m`; `spikeThresholdUsdPerMWh` defines a spike interval (default $300/MWh). */
export function summarizeMarket(m: SyntheticMarket, spikeThresholdUsdPerMWh = 300): SyntheticSummary {
  const rt = m.rtPrice.values;
  const sorted = Float64Array.from(rt).sort();
  let spikeIntervals = 0;
  let spikeEvents = 0;
  let negative = 0;
  let prevSpike = false;
  for (const v of rt) {
    const spike = v > spikeThresholdUsdPerMWh;
    if (spike) {
      spikeIntervals++;
      if (!prevSpike) spikeEvents++;
    }
    if (v < 0) negative++;
    prevSpike = spike;
  }
  const days = m.btc.days;
  const returns: number[] = [];
  for (let i = 1; i < days.length; i++) returns.push(Math.log((days[i] as { priceUsd: number }).priceUsd / (days[i - 1] as { priceUsd: number }).priceUsd));
  const mr = meanOf(returns);
  const vol = returns.length > 1 ? Math.sqrt(returns.reduce((s, r) => s + (r - mr) ** 2, 0) / (returns.length - 1)) * Math.sqrt(365) : null;
  const first = days[0];
  const last = days[days.length - 1];
  let maxLoad = -Infinity;
  for (const v of m.systemLoad.values) if (v > maxLoad) maxLoad = v;
  return {
    synthetic: true,
    label: SYNTHETIC_LABEL,
    market: m.market,
    settlementPoint: m.settlementPoint,
    seed: m.seed,
    fromDate: new Date(m.startMs).toISOString().slice(0, 10),
    days: m.days,
    paramsSource: m.paramsSource,
    notes: m.notes,
    rt: {
      intervalMinutes: m.rtPrice.intervalMinutes,
      meanUsdPerMWh: meanOf(rt),
      p50UsdPerMWh: quantileSorted(sorted, 0.5),
      p99UsdPerMWh: quantileSorted(sorted, 0.99),
      maxUsdPerMWh: sorted[sorted.length - 1] as number,
      minUsdPerMWh: sorted[0] as number,
      spikeIntervals,
      spikeEvents,
      spikeThresholdUsdPerMWh,
      negativeIntervals: negative,
      negativeSharePct: (100 * negative) / rt.length,
    },
    da: { meanUsdPerMWh: meanOf(m.daPrice.values) },
    load: { meanMW: meanOf(m.systemLoad.values), maxMW: maxLoad },
    btc: {
      startPriceUsd: first?.priceUsd ?? NaN,
      endPriceUsd: last?.priceUsd ?? NaN,
      realizedVolPerYear: vol,
      startDifficulty: first?.difficulty ?? NaN,
      endDifficulty: last?.difficulty ?? NaN,
      meanFeesBtcPerDay: meanOf(days.map((d) => d.feesBtc)),
      meanBlocksPerDay: meanOf(days.map((d) => d.blocks)),
      heightEnd: last?.heightEndOfDay ?? NaN,
    },
  };
}
