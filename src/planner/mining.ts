/**
 * Mining economics of one site on one path, per MW of site capacity and per month. A machine of
 * efficiency ε earns v = hashprice × (1 − pool fee) / (0.024 · ε · PUE) USD per MWh it uses
 * (src/bitcoin/asic.ts) and sleeps whenever power costs more than v:
 *   market power at RT + adder a:  revenue h·v·F(v − a), energy cost h·(S(v − a) + a·F(v − a))
 *   fixed price c with resale:     mine when p < v, else sell at p: revenue h·v·F(v),
 *                                  resale h·(E[p] − S(v)), energy cost h·c
 *   fixed price c, no resale:      mine when v > c: revenue h·v, energy cost h·c
 * where F, S are the synthetic month's curves (power-pool.ts) and h its hours. The operational
 * extras the dispatch engine values (4CP avoidance, demand response, ancillary services) are left
 * out: a monthly planner counts only energy arbitrage against the break-even.
 */
import { revenueUsdPerMWh } from '../bitcoin/asic.js';
import type { MarketPath } from './market-path.js';
import { GRID_MIN_USD_PER_MWH, GRID_POINTS, GRID_STEP_USD_PER_MWH, poolCurves } from './power-pool.js';
import type { PlanModel, ResolvedSite } from './resolve.js';

/** Per-MW monthly figures of one machine type at one site (length: horizon months). */
export interface PerMwSeries {
  btcRevenue: Float64Array;
  resaleRevenue: Float64Array;
  energyCost: Float64Array;
}

export interface SiteMining {
  /** One per fleet, in the site's (least-efficient-first) order. */
  fleets: PerMwSeries[];
  /** One per refresh option: the replaced fleet's MW running the new machines in every month. */
  refreshed: PerMwSeries[];
  /** The whole site mining at full MW with its original fleets (USD, not per MW): the common base of every schedule. */
  full: { btcRevenue: Float64Array; resaleRevenue: Float64Array; ebitda: Float64Array };
}

function newSeries(T: number): PerMwSeries {
  return { btcRevenue: new Float64Array(T), resaleRevenue: new Float64Array(T), energyCost: new Float64Array(T) };
}

export function newSiteMining(site: ResolvedSite, T: number): SiteMining {
  return {
    fleets: site.fleets.map(() => newSeries(T)),
    refreshed: site.refresh.map(() => newSeries(T)),
    full: { btcRevenue: new Float64Array(T), resaleRevenue: new Float64Array(T), ebitda: new Float64Array(T) },
  };
}

function fill(model: PlanModel, site: ResolvedSite, market: MarketPath, efficiencyJPerTh: number, out: PerMwSeries): void {
  const T = model.timeline.months;
  const c = poolCurves(site.pool, model.scenario.power.mix);
  const runFrac = c.runFrac;
  const costBelow = c.costBelow;
  const p = site.power;
  // Revenue per MWh is linear in hashprice: one call for the constant, then a multiply per month.
  const perHashprice = revenueUsdPerMWh(1, efficiencyJPerTh, site.poolFeePct, site.miningPue);
  const hp = market.hashpriceUsdPerPhDay;
  const rows = market.poolRow;
  const hours = model.timeline.hours;
  const scale = model.priceScale;
  const btc = out.btcRevenue;
  const resale = out.resaleRevenue;
  const cost = out.energyCost;
  if (p.kind === 'fixed' && !p.resale) {
    for (let t = 0; t < T; t++) {
      const v = (hp[t] as number) * perHashprice;
      const on = v > p.usdPerMWh ? (hours[t] as number) : 0;
      btc[t] = on * v;
      resale[t] = 0;
      cost[t] = on * p.usdPerMWh;
    }
    return;
  }
  const adder = p.kind === 'market' ? p.adderUsdPerMWh : 0;
  const resaleOn = p.kind === 'fixed';
  const fixed = p.kind === 'fixed' ? p.usdPerMWh : 0;
  for (let t = 0; t < T; t++) {
    const h = hours[t] as number;
    const v = (hp[t] as number) * perHashprice;
    const sc = scale[t] as number;
    const row = rows[t] as number;
    // F and S of the month at x = v − adder (see power-pool.ts lookup; inlined here, the hot loop).
    const base = row * GRID_POINTS;
    const u = ((v - adder) / sc - GRID_MIN_USD_PER_MWH) / GRID_STEP_USD_PER_MWH;
    let run: number;
    let below: number;
    if (u <= 0) {
      run = runFrac[base] as number;
      below = costBelow[base] as number;
    } else if (u >= GRID_POINTS - 1) {
      run = runFrac[base + GRID_POINTS - 1] as number;
      below = costBelow[base + GRID_POINTS - 1] as number;
    } else {
      const g = Math.floor(u);
      const w = u - g;
      const i = base + g;
      run = (runFrac[i] as number) * (1 - w) + (runFrac[i + 1] as number) * w;
      below = (costBelow[i] as number) * (1 - w) + (costBelow[i + 1] as number) * w;
    }
    below *= sc;
    btc[t] = h * v * run;
    if (resaleOn) {
      resale[t] = h * (sc * (c.mean[row] as number) - below);
      cost[t] = h * fixed;
    } else {
      resale[t] = 0;
      cost[t] = h * (below + adder * run);
    }
  }
}

/** Fills every fleet's and refresh option's per-MW series for this path. */
export function computeSiteMining(model: PlanModel, site: ResolvedSite, market: MarketPath, out: SiteMining): void {
  site.fleets.forEach((f, i) => fill(model, site, market, f.efficiencyJPerTh, out.fleets[i] as PerMwSeries));
  site.refresh.forEach((r, i) => fill(model, site, market, r.efficiencyJPerTh, out.refreshed[i] as PerMwSeries));
  const T = model.timeline.months;
  const { btcRevenue, resaleRevenue, ebitda } = out.full;
  btcRevenue.fill(0);
  resaleRevenue.fill(0);
  ebitda.fill(0);
  const opex = site.miningOpexPerMwMonth;
  site.fleets.forEach((f, i) => {
    const ser = out.fleets[i] as PerMwSeries;
    for (let t = 0; t < T; t++) {
      const b = f.mw * (ser.btcRevenue[t] as number);
      const r = f.mw * (ser.resaleRevenue[t] as number);
      btcRevenue[t] = (btcRevenue[t] as number) + b;
      resaleRevenue[t] = (resaleRevenue[t] as number) + r;
      ebitda[t] = (ebitda[t] as number) + b + r - f.mw * ((ser.energyCost[t] as number) + opex);
    }
  });
}
