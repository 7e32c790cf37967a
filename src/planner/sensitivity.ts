/**
 * Sensitivity (tornado): mean NPV of a schedule with one input moved down and up, everything else at
 * base, on the same paths (common random numbers, so the bars show the input's effect, not noise).
 * Hashprice is shocked as earned by the portfolio's miners; the network still responds to the
 * unshocked hashprice (the shock is "our hashprice assumption is off", not a different world).
 */
import { PathEvaluator, slot } from './evaluate.js';
import type { PlanModel, Shocks } from './resolve.js';
import type { Schedule } from './schedule.js';

export interface TornadoBar {
  factor: 'btcPrice' | 'btcDrift' | 'hashprice' | 'leaseRate' | 'capex' | 'leadTime';
  label: string;
  lowLabel: string;
  highLabel: string;
  lowNpvUsd: number;
  highNpvUsd: number;
}

export interface Sensitivity {
  paths: number;
  baseNpvUsd: number;
  bars: TornadoBar[];
}

function meanNpv(model: PlanModel, seed: number, schedule: Schedule, paths: number): number {
  const ev = new PathEvaluator(model, seed, [schedule]);
  const out = new Float64Array(ev.layout.slots);
  let sum = 0;
  for (let p = 0; p < paths; p++) {
    ev.evaluate(p, out);
    sum += out[slot.npv(ev.layout, 0)] as number;
  }
  return sum / paths;
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
  const base = meanNpv(model, seed, schedule, paths);
  const bars = [...FACTORS, driftFactor(model)].map((f) => ({
    factor: f.factor,
    label: f.label,
    lowLabel: f.lowLabel,
    highLabel: f.highLabel,
    lowNpvUsd: meanNpv({ ...model, shocks: { ...model.shocks, ...f.low } }, seed, schedule, paths),
    highNpvUsd: meanNpv({ ...model, shocks: { ...model.shocks, ...f.high } }, seed, schedule, paths),
  }));
  bars.sort((a, b) => Math.abs(b.highNpvUsd - b.lowNpvUsd) - Math.abs(a.highNpvUsd - a.lowNpvUsd));
  return { paths, baseNpvUsd: base, bars };
}
