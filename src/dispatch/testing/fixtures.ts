/** Small hand-made sites and inputs for dispatch tests (test-only; excluded from the build). */
import type { Fleet, Site } from '../../site/types.js';
import { prepareDispatchInput } from '../input.js';
import type { HourlyLoad, OfficialFourCp } from '../fourcp.js';
import type { DispatchInput } from '../types.js';

/** AI energy terms where the site pays the energy and the 4CP charge (what these tests exercise). */
export const SITE_PAYS = { powerPassThrough: false, fourCpPassThrough: false } as const;

/** 2023-08-01 00:00 CDT. */
export const T0 = Date.parse('2023-08-01T05:00:00Z');
export const Q = 15 * 60_000;

/** A fleet of `mw` MW worth `usdPerMWh` at hashprice 24 (20 J/TH, PUE 1, no pool fee). */
export function fleet(name: string, mw: number, usdPerMWh = 50, extra: Partial<Fleet> = {}): Fleet {
  // value = HP / (0.024 × ε): at HP 24 and 20 J/TH that is 50 USD/MWh; scale ε for other values.
  const eps = (20 * 50) / usdPerMWh;
  const powerW = 2000;
  return {
    name,
    hashrateThs: powerW / eps,
    powerW,
    count: Math.round((mw * 1e6) / powerW),
    poolFeePct: 0,
    pue: 1,
    minOffMinutes: 0,
    startCostUsd: 0,
    integerMachines: false,
    ...extra,
  };
}

export function site(partial: Partial<Site> = {}): Site {
  return {
    name: 'test',
    market: { iso: 'ERCOT', settlementPoint: 'HB_WEST' },
    interconnect: { importLimitMW: 1000 },
    ai: [],
    fleets: [],
    dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 1 }, rolling: { horizonHours: 2, stepMinutes: 15, nearTerm: 'rt-persistence' }, timeLimitSeconds: 30 },
    ...partial,
  };
}

export function input(s: Site, prices: readonly number[], opts: { hashprice?: number; startMs?: number; load?: HourlyLoad; da?: readonly number[]; official?: OfficialFourCp[] } = {}): DispatchInput {
  const start = opts.startMs ?? T0;
  const n = prices.length;
  const startMs = Float64Array.from({ length: n }, (_, i) => start + i * Q);
  const { input: inp } = prepareDispatchInput({
    site: s,
    intervalMinutes: 15,
    fromMs: start,
    toMs: start + n * Q,
    startMs,
    rtPriceUsdPerMWh: Float64Array.from(prices),
    hashpriceUsdPerPhDay: new Float64Array(n).fill(opts.hashprice ?? 24),
    ...(opts.da ? { daPriceUsdPerMWh: Float64Array.from(opts.da) } : {}),
    ...(opts.load ? { systemLoad: opts.load } : {}),
    ...(opts.official ? { officialFourCp: opts.official } : {}),
  });
  return inp;
}

/** A seeded linear congruential generator in [0, 1): test prices that are the same on every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
