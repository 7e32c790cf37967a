/**
 * Grid services in dispatch: which resources hold reserve for which product, ERS obligations over
 * their time periods, the LP pieces that co-optimize energy and capacity, and the day-ahead commit
 * rules of `strike` and `rolling` (a real operator is awarded day-ahead and cannot change an award
 * in real time). Pure. MW at the meter; capacity prices USD per MW per hour; see README.md
 * ("Grid services").
 */
import { cptDayIndex, cptHour, cptMonth } from './calendar.js';
import { fourCpRate } from './fourcp.js';
import { breakEvenUsdPerMWh, type FleetModel } from './fleet-model.js';
import { AS_PRODUCTS, eligibleAsProducts } from '../site/grid-products.js';
import type { AsProduct, ErsAward, Site } from '../site/types.js';
import type { DispatchInput, GridAward } from './types.js';

/** A resource that can hold reserve: a fleet (curtailable = what it consumes) or capped AI (what it can still reduce). */
export interface AsResource {
  kind: 'fleet' | 'ai';
  /** Index in site.fleets or site.ai. */
  index: number;
  name: string;
  /** Day-ahead market products it is eligible for and the site bids in. */
  products: AsProduct[];
  /** Most MW it can ever hold, at the meter. */
  maxMW: number;
}

/** The site's reserve-capable resources (fleets first, then capped AI), with their eligible products. */
export function asResources(site: Site): AsResource[] {
  const anc = site.ancillary;
  if (!anc) return [];
  const out: AsResource[] = [];
  site.fleets.forEach((f, i) => {
    if (!f.ancillary) return;
    out.push({ kind: 'fleet', index: i, name: f.name, products: eligibleAsProducts(f.ancillary, anc.products, anc.telemetry, false), maxMW: (f.count * f.powerW * f.pue) / 1e6 });
  });
  site.ai.forEach((a, i) => {
    if (a.kind !== 'capped' || !a.ancillary) return;
    out.push({ kind: 'ai', index: i, name: a.name, products: eligibleAsProducts(a.ancillary, anc.products, anc.telemetry, true), maxMW: (a.itMW * a.pue * a.maxReductionPct) / 100 });
  });
  return out;
}

/** 1 where the interval starting at startMs[t] lies in one of the award's time periods of its contract period. */
export function ersMask(award: ErsAward, startMs: Float64Array): Uint8Array {
  const out = new Uint8Array(startMs.length);
  for (let t = 0; t < startMs.length; t++) {
    const ms = startMs[t] as number;
    if (ms < award.fromMs || ms >= award.toMs) continue;
    const h = cptHour(ms);
    // Day of week of the CPT date: 1970-01-01 was a Thursday (4).
    const dow = (((cptDayIndex(ms) + 4) % 7) + 7) % 7;
    const weekend = dow === 0 || dow === 6;
    for (const tp of award.timePeriods) {
      if ((tp.days === 'weekdays' && weekend) || (tp.days === 'weekends' && !weekend)) continue;
      if (h >= tp.localHours[0] && h < tp.localHours[1]) out[t] = 1;
    }
  }
  return out;
}

/** The site's ERS awards as per-interval awards (MW in every interval of their time periods). */
export function ersAwards(site: Site, startMs: Float64Array): GridAward[] {
  return (site.ancillary?.ers ?? []).map((e) => {
    const mask = ersMask(e, startMs);
    return { resource: e.resource, product: e.product, mw: Float64Array.from(mask, (m) => m * e.mw), usdPerMWh: e.usdPerMWh, ers: e.name };
  });
}

/** Per resource (asResources order): MW the given awards hold each interval. */
export function heldMW(resources: readonly AsResource[], awards: readonly GridAward[], n: number): Float64Array[] {
  return resources.map((r) => {
    const out = new Float64Array(n);
    for (const a of awards) {
      if (a.resource !== r.name) continue;
      for (let t = 0; t < n; t++) out[t] = (out[t] as number) + (a.mw[t] as number);
    }
    return out;
  });
}

/** Clock-hour award blocks of a list of period starts: block index per period and the count. */
export function hourBlocks(startMs: Float64Array): { block: Int32Array; count: number } {
  const block = new Int32Array(startMs.length);
  let count = 0;
  let last = NaN;
  for (let t = 0; t < startMs.length; t++) {
    const h = Math.floor((startMs[t] as number) / 3_600_000);
    if (h !== last) {
      count++;
      last = h;
    }
    block[t] = count - 1;
  }
  return { block, count };
}

/**
 * The LP's view of grid services. Per resource r and period t: Σ_p q_rp(block(t)) + floor_r(t) ≤
 * curtailable_r(t) + u_r(t), where curtailable is the fleet's MW (or capped AI's remaining
 * reduction at the meter) and u a shortfall slack costed SHORTFALL (so a held award can never make
 * a step infeasible). q columns exist only with `offer` (optimal; the day-ahead commit).
 */
export interface AncillaryLpSpec {
  resources: AsResource[];
  /** Per product, per period: capacity price, USD per MW per hour (NaN: no market, no offer). */
  priceUsdPerMWh: Partial<Record<AsProduct, Float64Array>>;
  /** Per period: award block (clock hour); one MW level per block and product. */
  block: Int32Array;
  blockCount: number;
  /** Per resource: MW already held each period (ERS, committed awards); absent = none. */
  floorMW?: Float64Array[];
  /** Create award columns (false: only hold the floors). */
  offer: boolean;
  /** Payments of the held awards with a fixed price (ERS) in the problem, USD: an objective constant. */
  fixedUsd?: number;
}

/**
 * Objective cost per MW of a held award that is not curtailable (shortfall), per hour: above any
 * energy price and above a 4CP settlement (15,000 USD per MW at 60 USD/kW-year), so a step keeps an
 * award unless it physically cannot.
 */
export const AS_SHORTFALL_USD_PER_MWH = 100_000;

/**
 * Per interval: the 4CP charge per MW an award there risks, as known day-ahead — every alert-window
 * hour of a listed month (the day's alert is only known the evening before, after the DAM), or the
 * explicit alert windows. 0 elsewhere or without 4CP. USD per MW.
 */
export function fourCpRiskUsdPerMW(input: DispatchInput): Float64Array {
  const n = input.startMs.length;
  const out = new Float64Array(n);
  const cp = input.site.transmission?.coincidentPeak;
  if (!cp) return out;
  for (let t = 0; t < n; t++) {
    const ms = input.startMs[t] as number;
    const month = cptMonth(ms);
    let risk: boolean;
    if (cp.alerts.windows) risk = input.fourCpAlert[t] === 1;
    else {
      const h = cptHour(ms);
      risk = cp.months.includes(Number(month.slice(5, 7))) && h >= cp.alerts.localHours[0] && h < cp.alerts.localHours[1];
    }
    if (risk) out[t] = fourCpRate(cp, month).usdPerKwYear * 250;
  }
  return out;
}

/** LP spec pieces for the whole window (optimal): offers on every eligible product, ERS as floors. */
export function optimalAncillarySpec(input: DispatchInput): AncillaryLpSpec | undefined {
  const resources = asResources(input.site);
  if (resources.length === 0) return undefined;
  const n = input.startMs.length;
  const { block, count } = hourBlocks(input.startMs);
  const ers = ersAwards(input.site, input.startMs);
  const dt = input.intervalMinutes / 60;
  return {
    resources,
    priceUsdPerMWh: input.asPriceUsdPerMWh ?? {},
    block,
    blockCount: count,
    floorMW: heldMW(resources, ers, n),
    offer: true,
    fixedUsd: ers.reduce((s, a) => s + a.mw.reduce((x, v) => x + v, 0) * (a.usdPerMWh ?? 0) * dt, 0),
  };
}

/** Market awards read from LP values `q(r, p, block)` expanded to the periods. */
export function awardsFromBlocks(spec: AncillaryLpSpec, value: (r: number, p: AsProduct, block: number) => number): GridAward[] {
  const out: GridAward[] = [];
  spec.resources.forEach((res, r) => {
    for (const p of res.products) {
      const mw = new Float64Array(spec.block.length);
      let any = false;
      for (let t = 0; t < spec.block.length; t++) {
        const v = Math.max(0, Math.min(res.maxMW, value(r, p, spec.block[t] as number)));
        mw[t] = v < 1e-7 ? 0 : v;
        if (mw[t] !== 0) any = true;
      }
      if (any) out.push({ resource: res.name, product: p, mw });
    }
  });
  return out;
}

/**
 * `strike`'s day-ahead offers, as a price taker: each resource offers its whole curtailable MW into the
 * dearest eligible product at its opportunity cost, and clears when that product's MCPC covers it.
 * For a fleet the cost of holding MW through an hour is max(0, DA energy price − break-even) (it
 * must run through the hour, strike or not); capped AI, which strike never reduces, offers at 0.
 * Unknown DA prices (NaN) mean no offer for that hour.
 */
export function strikeDayAheadAwards(input: DispatchInput, models: readonly FleetModel[]): GridAward[] {
  const resources = asResources(input.site);
  const n = input.startMs.length;
  const prices = input.asPriceUsdPerMWh ?? {};
  const awards = new Map<string, GridAward>();
  // MW already held for ERS is not offered again (the same MW cannot be sold twice).
  const ers = heldMW(resources, ersAwards(input.site, input.startMs), n);
  // A fleet does not offer where a 4CP alert may come (the rule sleeps there; an award would keep it up).
  const fourCpRisk = fourCpRiskUsdPerMW(input);
  resources.forEach((res, r) => {
    const held = ers[r] as Float64Array;
    for (let t = 0; t < n; t++) {
      const free = res.maxMW - (held[t] as number);
      if (free <= 1e-9) continue;
      let best: AsProduct | undefined;
      let bestPrice = -Infinity;
      for (const p of res.products) {
        const v = prices[p]?.[t];
        if (v !== undefined && Number.isFinite(v) && v > bestPrice) [best, bestPrice] = [p, v];
      }
      if (!best) continue;
      let cost = 0;
      if (res.kind === 'fleet') {
        const da = input.daPriceUsdPerMWh[t] as number;
        if (!Number.isFinite(da) || (fourCpRisk[t] as number) > 0) continue;
        cost = Math.max(0, da - breakEvenUsdPerMWh(models[res.index] as FleetModel, input.hashpriceUsdPerPhDay[t] as number));
      }
      if (bestPrice < cost || bestPrice <= 0) continue;
      const key = `${res.name}\u0000${best}`;
      let a = awards.get(key);
      if (!a) {
        a = { resource: res.name, product: best, mw: new Float64Array(n) };
        awards.set(key, a);
      }
      a.mw[t] = free;
    }
  });
  // DA energy and MCPC are hourly and hashprice daily, so every interval of an hour decides alike.
  return [...awards.values()];
}

/** Awards of a solved LP: its market award columns (layout.asAward), expanded to periods. */
export function readAwards(spec: AncillaryLpSpec, asAward: readonly number[][] | undefined, x: Float64Array): GridAward[] {
  if (!asAward) return [];
  return awardsFromBlocks(spec, (r, p, k) => {
    const res = spec.resources[r] as AsResource;
    const base = (asAward[r] as number[])[res.products.indexOf(p)];
    return base === undefined ? 0 : (x[base + k] as number);
  });
}

/** Per fleet: the MW its awards hold each interval (for the rule-based policies' floors). */
export function fleetFloorsMW(site: Site, awards: readonly GridAward[], n: number): Float64Array[] {
  return site.fleets.map((f) => {
    const out = new Float64Array(n);
    for (const a of awards) if (a.resource === f.name) for (let t = 0; t < n; t++) out[t] = (out[t] as number) + (a.mw[t] as number);
    return out;
  });
}

/** The products with prices in the input, in AS_PRODUCTS order. */
export function pricedProducts(input: DispatchInput): AsProduct[] {
  return AS_PRODUCTS.filter((p) => input.asPriceUsdPerMWh?.[p] !== undefined);
}
