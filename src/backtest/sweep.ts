/**
 * Parameter sweeps: one policy run over a grid of its parameters on the same window, net USD per
 * point, so "what threshold should we use" is one command. The market data is read once; each
 * point changes the site (strike offset, 4CP alert risk threshold, wake / sleep delays), rebuilds
 * the dispatch input (alerts depend on the threshold) and settles with the one ledger. The optimum
 * runs once as the reference for regret (none of these parameters changes it).
 */
import { badInput } from '../core/errors.js';
import { prepareDispatchInput } from '../dispatch/input.js';
import { settle } from '../dispatch/ledger.js';
import type { LpSolver } from '../dispatch/lp/solver.js';
import { runPolicy, type PolicyName } from '../dispatch/policies.js';
import type { Site } from '../site/types.js';
import type { MarketStore } from '../market/store-port.js';
import { loadHighsSolver } from '../solver/highs.js';
import { loadBacktestData, type AsPriceSource } from './data.js';
import type { HashpriceSource } from './hashprice.js';
import { cptWindow } from './run.js';

interface ParameterSpec {
  unit: string;
  description: string;
  /** Policies whose result the parameter changes. */
  policies: readonly PolicyName[];
  integer: boolean;
  min: number;
  max: number;
  /** The site file's own value. */
  current: (site: Site) => number;
  apply: (site: Site, value: number) => Site;
  /** Why the parameter cannot apply to this site, if it cannot. */
  unusable?: (site: Site) => string | undefined;
}

const strikeWith = (site: Site, patch: Partial<Site['dispatch']['strike']>): Site => ({ ...site, dispatch: { ...site.dispatch, strike: { ...site.dispatch.strike, ...patch } } });

export const SWEEP_PARAMETERS: Readonly<Record<string, ParameterSpec>> = {
  'strike-offset': {
    unit: 'USD/MWh',
    description: "added to every fleet's strike (break-even or strikeUsdPerMWh)",
    policies: ['strike'],
    integer: false,
    min: -1000,
    max: 1000,
    current: (s) => s.dispatch.strike.offsetUsdPerMWh ?? 0,
    apply: (s, v) => strikeWith(s, { offsetUsdPerMWh: v }),
    unusable: (s) => (s.fleets.length === 0 ? 'the site has no fleets' : undefined),
  },
  'risk-pct': {
    unit: '%',
    description: "4CP alert threshold: a day is an alert day when yesterday's peak load reached this % of the prior 30 days' peak",
    policies: ['strike', 'rolling'],
    integer: false,
    min: 0,
    max: 100,
    current: (s) => s.transmission?.coincidentPeak?.alerts.riskPct ?? NaN,
    apply: (s, v) => {
      const cp = s.transmission?.coincidentPeak;
      return cp ? { ...s, transmission: { ...s.transmission, coincidentPeak: { ...cp, alerts: { ...cp.alerts, riskPct: v } } } } : s;
    },
    unusable: (s) => {
      const cp = s.transmission?.coincidentPeak;
      if (!cp) return 'the site has no transmission.coincidentPeak (4CP) section';
      if (cp.alerts.windows) return 'the site gives explicit 4CP alert windows, which replace the risk threshold';
      return undefined;
    },
  },
  'wake-intervals': {
    unit: 'intervals',
    description: 'wake after this many 15-minute intervals at or below the strike',
    policies: ['strike'],
    integer: true,
    min: 1,
    max: 96,
    current: (s) => s.dispatch.strike.wakeAfterIntervals,
    apply: (s, v) => strikeWith(s, { wakeAfterIntervals: v }),
  },
  'sleep-intervals': {
    unit: 'intervals',
    description: 'sleep after this many 15-minute intervals above the strike',
    policies: ['strike'],
    integer: true,
    min: 1,
    max: 96,
    current: (s) => s.dispatch.strike.sleepAfterIntervals,
    apply: (s, v) => strikeWith(s, { sleepAfterIntervals: v }),
  },
};

export interface SweepAxis {
  name: string;
  values: number[];
}

/** Most points a sweep may run (the product of the axes). */
export const MAX_SWEEP_POINTS = 500;

/** Parses `NAME=v1,v2,…` or `NAME=FROM:TO:STEP`; BAD_INPUT naming `--sweep`. */
export function parseSweep(text: string): SweepAxis {
  const where = '--sweep';
  const eq = text.indexOf('=');
  const name = (eq > 0 ? text.slice(0, eq) : text).trim();
  const spec = SWEEP_PARAMETERS[name];
  if (!spec) throw badInput(`unknown parameter '${name}'; choose from ${Object.keys(SWEEP_PARAMETERS).join(', ')} (NAME=v1,v2,… or NAME=FROM:TO:STEP)`, where);
  const body = eq > 0 ? text.slice(eq + 1).trim() : '';
  let values: number[];
  const range = /^(-?\d+(?:\.\d+)?):(-?\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(body);
  if (range) {
    const [a, b, step] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (!(step > 0)) throw badInput(`${name}: the step must be > 0, got ${step}`, where);
    if (b < a) throw badInput(`${name}: FROM:TO:STEP needs TO >= FROM, got ${a}:${b}`, where);
    values = [];
    for (let k = 0; a + k * step <= b + 1e-9; k++) values.push(Math.round((a + k * step) * 1e9) / 1e9);
  } else {
    values = body.split(',').map((v) => v.trim()).filter((v) => v !== '').map(Number);
    if (values.length === 0 || values.some((v) => !Number.isFinite(v))) throw badInput(`${name}: expected numbers such as ${name}=1,2,4 or ${name}=-20:20:10, got '${body}'`, where);
  }
  for (const v of values) {
    if (v < spec.min || v > spec.max) throw badInput(`${name}: ${v} ${spec.unit} is outside ${spec.min}..${spec.max}`, where);
    if (spec.integer && !Number.isInteger(v)) throw badInput(`${name}: must be whole ${spec.unit}, got ${v}`, where);
  }
  if (values.length > 100) throw badInput(`${name}: ${values.length} values; at most 100 per parameter`, where);
  return { name, values: [...new Set(values)] };
}

export interface SweepPoint {
  params: Record<string, number>;
  netUsd: number;
  /** Net minus the site file's own settings' net, USD. */
  vsSiteUsd: number;
  /** Optimal net minus this net, USD. */
  regretVsOptimalUsd: number;
}

export interface SweepResult {
  policy: PolicyName;
  parameters: { name: string; unit: string; description: string; values: number[]; siteValue: number }[];
  /** The site file's own settings. */
  site: SweepPoint;
  optimalNetUsd: number;
  points: SweepPoint[];
  best: SweepPoint;
  intervals: number;
}

export interface SweepOptions {
  site: Site;
  from: string;
  to: string;
  policy: PolicyName;
  axes: readonly SweepAxis[];
  store: MarketStore;
  hashprice: HashpriceSource;
  nowMs: () => number;
  solver?: LpSolver;
  timeLimitSeconds?: number;
  onProgress?: (done: number, total: number) => void;
  /** AS clearing prices (sites with grid services). */
  asPrices?: AsPriceSource;
}

/** Runs the grid. */
export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  if (o.axes.length === 0) throw badInput('give at least one --sweep NAME=VALUES', '--sweep');
  const names = new Set<string>();
  for (const a of o.axes) {
    if (names.has(a.name)) throw badInput(`'${a.name}' is given twice`, '--sweep');
    names.add(a.name);
    const spec = SWEEP_PARAMETERS[a.name] as ParameterSpec;
    if (!spec.policies.includes(o.policy)) throw badInput(`'${a.name}' does not change the ${o.policy} policy (it applies to ${spec.policies.join(', ')}); choose it with --policy`, '--sweep');
    const why = spec.unusable?.(o.site);
    if (why !== undefined) throw badInput(`'${a.name}' cannot be swept: ${why}`, '--sweep');
  }
  const total = o.axes.reduce((n, a) => n * a.values.length, 1);
  if (total > MAX_SWEEP_POINTS) throw badInput(`${total} points; at most ${MAX_SWEEP_POINTS} (fewer values per parameter)`, '--sweep');
  const { fromMs, toMs } = cptWindow(o.from, o.to);
  const data = await loadBacktestData(o.store, o.site, fromMs, toMs, o.hashprice, o.asPrices);
  const solver = o.solver ?? (await loadHighsSolver());
  const lp = { nowMs: o.nowMs, solver, ...(o.timeLimitSeconds !== undefined ? { timeLimitSeconds: o.timeLimitSeconds } : {}) };
  const netOf = (site: Site, policy: PolicyName): number => {
    const { input } = prepareDispatchInput({ ...data.series, site });
    return settle(input, runPolicy(policy, input, lp).plan).totals.netUsd;
  };
  const optimalNetUsd = netOf(o.site, 'optimal');
  const point = (params: Record<string, number>, site: Site, net: number, siteNet: number): SweepPoint => ({ params, netUsd: net, vsSiteUsd: net - siteNet, regretVsOptimalUsd: optimalNetUsd - net });
  const siteParams = Object.fromEntries(o.axes.map((a) => [a.name, (SWEEP_PARAMETERS[a.name] as ParameterSpec).current(o.site)]));
  const siteNet = netOf(o.site, o.policy);
  const points: SweepPoint[] = [];
  const grid = o.axes.reduce<Record<string, number>[]>((acc, a) => acc.flatMap((p) => a.values.map((v) => ({ ...p, [a.name]: v }))), [{}]);
  grid.forEach((params, i) => {
    let site = o.site;
    for (const [name, v] of Object.entries(params)) site = (SWEEP_PARAMETERS[name] as ParameterSpec).apply(site, v);
    points.push(point(params, site, netOf(site, o.policy), siteNet));
    o.onProgress?.(i + 1, grid.length);
  });
  const best = points.reduce((a, b) => (b.netUsd > a.netUsd ? b : a));
  return {
    policy: o.policy,
    parameters: o.axes.map((a) => {
      const spec = SWEEP_PARAMETERS[a.name] as ParameterSpec;
      return { name: a.name, unit: spec.unit, description: spec.description, values: a.values, siteValue: spec.current(o.site) };
    }),
    site: point(siteParams, o.site, siteNet, siteNet),
    optimalNetUsd,
    points,
    best,
    intervals: data.series.startMs.length,
  };
}
