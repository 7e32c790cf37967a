/**
 * Grid services for `rolling` (kept apart from rolling.ts so the stepper stays small): awards are
 * committed day-ahead and held in real time. For each CPT day the site's offers clear in the DAM as a
 * price taker: the dispatch LP over that day at the day-ahead energy price and the day-ahead MCPC
 * (what the DAM co-optimization does with a bid at the site's true value), with the hashprice known
 * the day before, and every 4CP alert-window hour priced as a possible settlement interval (the day's
 * alert is not known at DAM time). Hours without a DA price get no offer. The awards (plus ERS) then become floors in
 * every step: the step LP must keep that MW curtailable, price spike or not.
 */
import { ersAwards, fourCpRiskUsdPerMW, heldMW, hourBlocks, readAwards, asResources, type AncillaryLpSpec, type AsResource } from './ancillary.js';
import { buildDispatchLp, type DispatchLpSpec } from './formulation.js';
import type { FleetModel } from './fleet-model.js';
import type { LpSolver } from './lp/solver.js';
import type { AsProduct } from '../site/types.js';
import type { DispatchInput, GridAward } from './types.js';

export interface RollingGrid {
  awards: GridAward[];
  notes: string[];
  /** Spec fields for a step whose periods start at interval indices `first` and end at i1. */
  stepSpec(first: readonly number[], i1: number, periodStartMs: Float64Array): { ancillary?: AncillaryLpSpec };
  /** Per fleet: MW held at interval t (the strike fallback keeps it running). */
  fleetFloor(t: number): { floorMW?: number[] };
}

const NONE: RollingGrid = { awards: [], notes: [], stepSpec: () => ({}), fleetFloor: () => ({}) };

/** Day-ahead awards for the window and the floors every step must hold. */
export function rollingGrid(input: DispatchInput, models: FleetModel[], solver: LpSolver, timeLimitSeconds: number): RollingGrid {
  const site = input.site;
  const resources = asResources(site);
  if (resources.length === 0) return NONE;
  const n = input.startMs.length;
  const notes: string[] = [];
  const market = dayAheadAwards(input, models, resources, solver, timeLimitSeconds, notes);
  const awards = [...market, ...ersAwards(site, input.startMs)].filter((a) => a.mw.some((v) => v > 0));
  const held = heldMW(resources, awards, n);
  const fleetHeld = site.fleets.map((f) => {
    const r = resources.findIndex((x) => x.kind === 'fleet' && x.name === f.name);
    return r >= 0 ? (held[r]) : undefined;
  });
  return {
    awards,
    notes,
    stepSpec(first, i1, periodStartMs) {
      const len = first.length;
      const floorMW = held.map((h) => {
        const out = new Float64Array(len);
        for (let p = 0; p < len; p++) {
          const end = p + 1 < len ? (first[p + 1] as number) : i1;
          for (let t = first[p] as number; t < end; t++) out[p] = Math.max(out[p] as number, h[t] as number);
        }
        return out;
      });
      if (!floorMW.some((f) => f.some((v) => v > 0))) return {};
      const { block, count } = hourBlocks(periodStartMs);
      return { ancillary: { resources, priceUsdPerMWh: {}, block, blockCount: count, floorMW, offer: false } };
    },
    fleetFloor(t) {
      return { floorMW: fleetHeld.map((h) => (h ? (h[t] as number) : 0)) };
    },
  };
}

function dayAheadAwards(input: DispatchInput, models: FleetModel[], resources: AsResource[], solver: LpSolver, timeLimitSeconds: number, notes: string[]): GridAward[] {
  const site = input.site;
  const n = input.startMs.length;
  const prices = input.asPriceUsdPerMWh ?? {};
  const out = new Map<string, GridAward>();
  const ers = heldMW(resources, ersAwards(site, input.startMs), n);
  // At DAM time the day's 4CP alert is not known: every alert-window hour of a listed month is priced
  // as a possible settlement interval (as rolling prices days after today), so awards avoid them.
  const fourCp = fourCpRiskUsdPerMW(input);
  let failed = 0;
  let from = 0;
  while (from < n) {
    let to = from;
    while (to < n && input.localDay[to] === input.localDay[from]) to++;
    // The day's priced intervals with a DA energy price: the DAM clears only those hours.
    const idx: number[] = [];
    for (let t = from; t < to; t++) if (Number.isFinite(input.daPriceUsdPerMWh[t])) idx.push(t);
    if (idx.length > 0) {
      const pick = (a: Float64Array) => Float64Array.from(idx, (t) => a[t] as number);
      const startMs = pick(input.startMs);
      const { block, count } = hourBlocks(startMs);
      const asPrices: Partial<Record<AsProduct, Float64Array>> = {};
      for (const [p, arr] of Object.entries(prices) as [AsProduct, Float64Array][]) asPrices[p] = pick(arr);
      // Known at DAM time: yesterday's hashprice (the day's own on the first day of the window).
      const hp = input.hashpriceUsdPerPhDay[from > 0 ? from - 1 : from] as number;
      const ancillary: AncillaryLpSpec = { resources, priceUsdPerMWh: asPrices, block, blockCount: count, floorMW: ers.map((h) => pick(h)), offer: true };
      const spec: DispatchLpSpec = {
        site,
        models,
        intervalMinutes: input.intervalMinutes,
        startMs,
        priceUsdPerMWh: pick(input.daPriceUsdPerMWh),
        hashpriceUsdPerPhDay: new Float64Array(idx.length).fill(hp),
        fourCpUsdPerMW: pick(fourCp),
        deferrableGroups: site.ai.map(() => []),
        cappedBudgetMWh: site.ai.map(() => 0),
        relaxIntegers: true,
        ancillary,
      };
      const { model, layout } = buildDispatchLp(spec);
      const sol = solver.solve(model, { timeLimitSeconds });
      if (sol.feasible && sol.colValue && sol.status === 'optimal') {
        for (const a of readAwards(ancillary, layout.asAward, sol.colValue)) {
          const key = `${a.resource}\u0000${a.product}`;
          let full = out.get(key);
          if (!full) {
            full = { resource: a.resource, product: a.product, mw: new Float64Array(n) };
            out.set(key, full);
          }
          idx.forEach((t, k) => ((full).mw[t] = a.mw[k] as number));
        }
      } else failed++;
    }
    from = to;
  }
  if (failed > 0) notes.push(`grid services: the day-ahead commitment failed on ${failed} day(s); no market awards on those days`);
  const days = new Set(input.localDay).size;
  const withDa = new Set(Array.from(input.localDay).filter((_, t) => Number.isFinite(input.daPriceUsdPerMWh[t]))).size;
  if (withDa < days) notes.push(`grid services: ${days - withDa} of ${days} day(s) have no day-ahead price; no market offers on them`);
  return [...out.values()];
}
