/**
 * Sensitivity (tornado): mean NPV of a schedule with one input moved down and up, everything else at
 * base, on the same paths (common random numbers, so the bars show the input's effect, not noise).
 * Hashprice is shocked as earned by the portfolio's miners; the network still responds to the
 * unshocked hashprice (the shock is "our hashprice assumption is off", not a different world).
 */
import { PathEvaluator, slot } from './evaluate.js';
import type { PlanModel, Shocks } from './resolve.js';
import type { Schedule } from './schedule.js';
import { stdErrFromSums } from './stats.js';

export interface TornadoBar {
  factor: 'btcPrice' | 'btcDrift' | 'hashprice' | 'leaseRate' | 'capex' | 'leadTime';
  label: string;
  lowLabel: string;
  highLabel: string;
  lowNpvUsd: number;
  highNpvUsd: number;
  /** Standard errors of (shocked − base) mean NPV on the same paths, USD. */
  lowVsBaseUsdSe: number;
  highVsBaseUsdSe: number;
}

export interface Sensitivity {
  paths: number;
  /** Mean NPV of the schedule on these paths (the bars' base: not the headline, which uses all paths). */
  baseNpvUsd: number;
  baseNpvUsdSe: number;
  basis: string;
  bars: TornadoBar[];
}

function npvs(model: PlanModel, seed: number, schedule: Schedule, paths: number): Float64Array {
  const ev = new PathEvaluator(model, seed, [schedule]);
  const out = new Float64Array(ev.layout.slots);
  const v = new Float64Array(paths);
  for (let p = 0; p < paths; p++) {
    ev.evaluate(p, out);
    v[p] = out[slot.npv(ev.layout, 0)] as number;
  }
  return v;
}

/** Mean and standard error of the values. */
function meanSe(v: Float64Array): { mean: number; se: number } {
  let sum = 0;
  let sq = 0;
  for (const x of v) {
    sum += x;
    sq += x * x;
  }
  return { mean: sum / v.length, se: stdErrFromSums(v.length, sum, sq) };
}

const FACTORS: { factor: TornadoBar['factor']; label: string; low: Partial<Shocks>; high: Partial<Shocks>; lowLabel: string; highLabel: string }[] = [
  { factor: 'btcPrice', label: 'BTC price', low: { btcPrice: 0.7 }, high: { btcPrice: 1.3 }, lowLabel: '−30 %', highLabel: '+30 %' },
  { factor: 'hashprice', label: 'Hashprice', low: { hashprice: 0.7 }, high: { hashprice: 1.3 }, lowLabel: '−30 %', highLabel: '+30 %' },
  { factor: 'leaseRate', label: 'AI lease rate', low: { leaseRate: 0.8 }, high: { leaseRate: 1.2 }, lowLabel: '−20 %', highLabel: '+20 %' },
  { factor: 'capex', label: 'Conversion capex', low: { capex: 1.2 }, high: { capex: 0.8 }, lowLabel: '+20 %', highLabel: '−20 %' },
  { factor: 'leadTime', label: 'Lead time', low: { leadTimeMonths: 6 }, high: { leadTimeMonths: -6 }, lowLabel: '+6 months', highLabel: '−6 months' },
];

/**
 * The BTC drift moved by ± one standard error of its calibration (σ / √years of the window): the
 * default drift is an estimate from one halving cycle, and this bar shows what it is worth.
 */
function driftFactor(model: PlanModel): (typeof FACTORS)[number] {
  const se = model.scenario.btc.driftStdErrPerYear;
  const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} %/yr`;
  return {
    factor: 'btcDrift',
    label: `BTC drift (${pct(model.scenario.btc.driftPerYear)} ± 1 s.e.)`,
    low: { btcDriftPerYear: -se },
    high: { btcDriftPerYear: se },
    lowLabel: pct(model.scenario.btc.driftPerYear - se),
    highLabel: pct(model.scenario.btc.driftPerYear + se),
  };
}

/** Tornado bars for `schedule` over `paths` paths (low = the unfavourable side where it is known). */
export function sensitivity(model: PlanModel, seed: number, schedule: Schedule, paths: number): Sensitivity {
  const base = npvs(model, seed, schedule, paths);
  const shocked = (shock: Partial<Shocks>) => {
    const v = npvs({ ...model, shocks: { ...model.shocks, ...shock } }, seed, schedule, paths);
    const d = Float64Array.from(v, (x, i) => x - (base[i] as number));
    return { mean: meanSe(v).mean, diffSe: meanSe(d).se };
  };
  const bars = [...FACTORS, driftFactor(model)].map((f) => {
    const lo = shocked(f.low);
    const hi = shocked(f.high);
    return { factor: f.factor, label: f.label, lowLabel: f.lowLabel, highLabel: f.highLabel, lowNpvUsd: lo.mean, highNpvUsd: hi.mean, lowVsBaseUsdSe: lo.diffSe, highVsBaseUsdSe: hi.diffSe };
  });
  bars.sort((a, b) => Math.abs(b.highNpvUsd - b.lowNpvUsd) - Math.abs(a.highNpvUsd - a.lowNpvUsd));
  const b = meanSe(base);
  return {
    paths,
    baseNpvUsd: b.mean,
    baseNpvUsdSe: b.se,
    basis: `mean NPV of the expected-NPV pick on the first ${paths} paths (each bar on the same paths); the headline mean uses all paths`,
    bars,
  };
}
