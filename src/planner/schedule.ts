/**
 * A conversion schedule (per site: how many MW of IT, starting which month, on which contract, and
 * which fleet refreshes to buy) and the portfolio cash flows it produces on one path.
 *
 * Conventions: converted IT MW need `itMW × AI PUE` site MW, taken first from unused interconnect
 * headroom, then from mining, least-efficient fleet first; displaced machines stop at the
 * conversion start. Capex is spread evenly over the lead time from the start. Tax (optional) is
 * linear, τ·(EBITDA − straight-line depreciation) each month, i.e. losses offset other income
 * (a tax shield), which keeps site values additive. Mining ends at the horizon (no terminal value).
 */
import { computeAiPerMw, leadMonths, newAiPerMw, type AiPerMw } from './ai.js';
import type { MarketPath } from './market-path.js';
import type { PerMwSeries, SiteMining } from './mining.js';
import type { PlanModel, ResolvedSite } from './resolve.js';

export interface SiteDecision {
  /** MW of IT to build (0: keep mining everything). */
  itMW: number;
  /** Plan month the conversion starts (mining on the displaced MW stops then). */
  startMonth: number;
  /** Index into the site's contract options. */
  contract: number;
  /** Bit r set: buy refresh option r. */
  refreshMask: number;
}

export type Schedule = SiteDecision[];

export const NO_CONVERSION: SiteDecision = { itMW: 0, startMonth: 0, contract: 0, refreshMask: 0 };

/** Site MW displaced from each fleet (site order) by `itMW` of AI. */
export function displacedMw(site: ResolvedSite, itMW: number): number[] {
  const need = itMW * (site.ai?.pue ?? 1);
  let left = Math.max(0, need - Math.max(0, site.interconnectMW - site.miningMW));
  return site.fleets.map((f) => {
    const take = Math.min(f.mw, left);
    left -= take;
    return take;
  });
}

/** −dfStart[m] + τ·(PV of the depreciation of 1 USD spent at month m): the after-tax PV of 1 USD of capex. */
export function capexFactors(model: PlanModel): Float64Array {
  const tl = model.timeline;
  const M = tl.extendedMonths;
  const D = Math.max(1, model.depreciationMonths);
  const cum = new Float64Array(M + 1);
  for (let k = 0; k < M; k++) cum[k + 1] = (cum[k] as number) + (tl.dfEnd[k] as number);
  const out = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    const shield = ((cum[Math.min(M, m + D)] as number) - (cum[m] as number)) / D;
    out[m] = -(tl.dfStart[m] as number) + model.taxRate * shield;
  }
  return out;
}

/** Monthly portfolio flows (extended timeline) plus per-site present values. */
export interface PortfolioFlows {
  btcRevenue: Float64Array;
  resaleRevenue: Float64Array;
  aiRevenue: Float64Array;
  ebitda: Float64Array;
  /** Cash at month end before tax; cash at month start (prepayments − capex). */
  cashEnd: Float64Array;
  cashStart: Float64Array;
  capex: Float64Array;
  depreciation: Float64Array;
  /** After-tax present values by site: mining, AI, capex (conversion + refresh). */
  miningPv: Float64Array;
  aiPv: Float64Array;
  capexPv: Float64Array;
}

export function newFlows(M: number, sites: number): PortfolioFlows {
  const f = () => new Float64Array(M);
  return {
    btcRevenue: f(),
    resaleRevenue: f(),
    aiRevenue: f(),
    ebitda: f(),
    cashEnd: f(),
    cashStart: f(),
    capex: f(),
    depreciation: f(),
    miningPv: new Float64Array(sites),
    aiPv: new Float64Array(sites),
    capexPv: new Float64Array(sites),
  };
}

function clearFlows(o: PortfolioFlows): void {
  for (const a of [o.btcRevenue, o.resaleRevenue, o.aiRevenue, o.ebitda, o.cashEnd, o.cashStart, o.capex, o.depreciation, o.miningPv, o.aiPv, o.capexPv]) a.fill(0);
}

export interface AssemblyContext {
  model: PlanModel;
  seed: number;
  capexFactor: Float64Array;
  ai: AiPerMw;
  /** Scratch: one site's mining EBITDA by month. */
  siteEbitda: Float64Array;
}

export function newAssemblyContext(model: PlanModel, seed: number): AssemblyContext {
  return { model, seed, capexFactor: capexFactors(model), ai: newAiPerMw(model.timeline.extendedMonths), siteEbitda: new Float64Array(model.timeline.months) };
}

function addCapex(ctx: AssemblyContext, out: PortfolioFlows, site: number, m: number, usd: number): void {
  if (usd === 0 || m >= ctx.model.timeline.extendedMonths) return;
  out.capex[m] = (out.capex[m] as number) + usd;
  out.capexPv[site] = (out.capexPv[site] as number) + usd * (ctx.capexFactor[m] as number);
  const D = Math.max(1, ctx.model.depreciationMonths);
  const M = ctx.model.timeline.extendedMonths;
  for (let k = m; k < Math.min(M, m + D); k++) out.depreciation[k] = (out.depreciation[k] as number) + usd / D;
}

/** The conversion capex per MW of IT after the tenant's share, with the capex shock. */
export function conversionCapexPerMw(model: PlanModel, site: ResolvedSite, contract: number): number {
  const ai = site.ai;
  if (!ai) return 0;
  return Math.max(0, ai.capexPerMw * model.shocks.capex - (ai.contracts[contract]?.tenantCapexPerMw ?? 0));
}

/** Assembles the portfolio's monthly flows for `schedule` on this path. */
export function assemble(ctx: AssemblyContext, pathIndex: number, market: MarketPath, mining: SiteMining[], schedule: Schedule, out: PortfolioFlows): void {
  clearFlows(out);
  for (let si = 0; si < ctx.model.sites.length; si++) assembleSite(ctx, pathIndex, market, mining, si, schedule[si] ?? NO_CONVERSION, out);
}

/**
 * After-tax PV of one site under decision `d` on this path: its part of npvOf (values are additive
 * across sites, see the module comment), so a schedule that differs from another at one site
 * differs in NPV by exactly this site's change. `scratch` is overwritten.
 */
export function sitePv(ctx: AssemblyContext, pathIndex: number, market: MarketPath, mining: SiteMining[], si: number, d: SiteDecision, scratch: PortfolioFlows): number {
  clearFlows(scratch);
  assembleSite(ctx, pathIndex, market, mining, si, d, scratch);
  return (scratch.miningPv[si] as number) + (scratch.aiPv[si] as number) + (scratch.capexPv[si] as number);
}

/** Adds site `si`'s flows under decision `d` into `out` (which assemble clears first). */
function assembleSite(ctx: AssemblyContext, pathIndex: number, market: MarketPath, mining: SiteMining[], si: number, d: SiteDecision, out: PortfolioFlows): void {
  const { model } = ctx;
  const tl = model.timeline;
  const T = tl.months;
  const tau = model.taxRate;
  const site = model.sites[si] as ResolvedSite;
  {
    const sm = mining[si] as SiteMining;
    const conv = d.itMW > 0 && site.ai ? d.itMW : 0;
    const displaced = displacedMw(site, conv);
    const s = conv > 0 ? d.startMonth : T;
    // Start from the whole site mining (computed once per path), then take out the displaced MW
    // from the conversion start and swap refreshed fleets' machines from the refresh month.
    const btcOut = out.btcRevenue;
    const resaleOut = out.resaleRevenue;
    const ebitdaOut = out.ebitda;
    const cashOut = out.cashEnd;
    const full = sm.full;
    for (let t = 0; t < T; t++) {
      btcOut[t] = (btcOut[t] as number) + (full.btcRevenue[t] as number);
      resaleOut[t] = (resaleOut[t] as number) + (full.resaleRevenue[t] as number);
    }
    const siteEbitda = ctx.siteEbitda;
    siteEbitda.set(full.ebitda);
    const opex = site.miningOpexPerMwMonth;
    for (let fi = 0; fi < site.fleets.length; fi++) {
      const f = site.fleets[fi] as ResolvedSite['fleets'][number];
      const base = sm.fleets[fi] as PerMwSeries;
      const gone = displaced[fi] as number;
      let rIdx = -1;
      for (let ri = 0; ri < site.refresh.length; ri++) if ((site.refresh[ri] as { fleetIndex: number }).fleetIndex === fi && (d.refreshMask & (1 << ri)) !== 0) rIdx = ri;
      const refresh = rIdx >= 0 ? site.refresh[rIdx] : undefined;
      const switchAt = refresh ? Math.min(T, refresh.month) : T;
      const newSer = rIdx >= 0 ? (sm.refreshed[rIdx] as PerMwSeries) : base;
      if (gone <= 0 && switchAt >= T) continue;
      for (let t = Math.min(s, switchAt); t < T; t++) {
        const mwNow = t >= s ? f.mw - gone : f.mw;
        // Remove the base machines that are gone (displaced) or replaced (refreshed), add the new ones.
        const removed = t >= switchAt ? f.mw : gone;
        const added = t >= switchAt ? mwNow : 0;
        const db = added * (newSer.btcRevenue[t] as number) - removed * (base.btcRevenue[t] as number);
        const dr = added * (newSer.resaleRevenue[t] as number) - removed * (base.resaleRevenue[t] as number);
        const dc = added * ((newSer.energyCost[t] as number) + opex) - removed * ((base.energyCost[t] as number) + opex);
        btcOut[t] = (btcOut[t] as number) + db;
        resaleOut[t] = (resaleOut[t] as number) + dr;
        siteEbitda[t] = (siteEbitda[t] as number) + db + dr - dc;
      }
      if (refresh && refresh.month < T && f.mw > 0) {
        const kept = s <= refresh.month ? f.mw - gone : f.mw;
        addCapex(ctx, out, si, refresh.month, (refresh.capexUsd * kept) / f.mw);
      }
    }
    let miningPv = 0;
    const dfEnd = tl.dfEnd;
    for (let t = 0; t < T; t++) {
      const e = siteEbitda[t] as number;
      ebitdaOut[t] = (ebitdaOut[t] as number) + e;
      cashOut[t] = (cashOut[t] as number) + e;
      miningPv += (dfEnd[t] as number) * e;
    }
    miningPv *= 1 - tau;
    out.miningPv[si] = miningPv;
    if (conv <= 0 || !site.ai) return;
    const ai = ctx.ai;
    computeAiPerMw(model, ctx.seed, pathIndex, market, site, d.contract, s, ai);
    let aiPv = 0;
    for (let m = 0; m < tl.extendedMonths; m++) {
      const rev = conv * (ai.revenue[m] as number);
      const e = conv * (ai.ebitda[m] as number);
      const ce = conv * (ai.cashEnd[m] as number);
      const cs = conv * (ai.cashStart[m] as number);
      out.aiRevenue[m] = (out.aiRevenue[m] as number) + rev;
      out.ebitda[m] = (out.ebitda[m] as number) + e;
      out.cashEnd[m] = (out.cashEnd[m] as number) + ce;
      out.cashStart[m] = (out.cashStart[m] as number) + cs;
      aiPv += (tl.dfEnd[m] as number) * (ce - tau * e) + (tl.dfStart[m] as number) * cs;
      const gpu = conv * (ai.capex[m] as number);
      if (gpu > 0) {
        out.capex[m] = (out.capex[m] as number) + gpu;
        aiPv += gpu * (ctx.capexFactor[m] as number);
        const D = Math.max(1, model.depreciationMonths);
        for (let k = m; k < Math.min(tl.extendedMonths, m + D); k++) out.depreciation[k] = (out.depreciation[k] as number) + gpu / D;
      }
    }
    out.aiPv[si] = aiPv;
    const L = leadMonths(model, site);
    const capex = conv * conversionCapexPerMw(model, site, d.contract);
    if (L === 0) addCapex(ctx, out, si, s, capex);
    else for (let k = 0; k < L; k++) addCapex(ctx, out, si, s + k, capex / L);
  }
}

/** After-tax NPV of assembled flows: Σ dfEnd·(cashEnd − τ(EBITDA − depreciation)) + Σ dfStart·(cashStart − capex). */
export function npvOf(model: PlanModel, f: PortfolioFlows): number {
  const tl = model.timeline;
  let v = 0;
  for (let m = 0; m < tl.extendedMonths; m++) {
    const tax = model.taxRate * ((f.ebitda[m] as number) - (f.depreciation[m] as number));
    v += (tl.dfEnd[m] as number) * ((f.cashEnd[m] as number) - tax) + (tl.dfStart[m] as number) * ((f.cashStart[m] as number) - (f.capex[m] as number));
  }
  return v;
}

/**
 * Net cash by month as a single series for IRR and payback: c[j] = start-of-month cash of month j
 * + end-of-month cash of month j − 1 (so discounting c[j] by (1 + r)^(−j/12) reproduces npvOf).
 */
export function cashSeries(model: PlanModel, f: PortfolioFlows, out: Float64Array): void {
  const M = model.timeline.extendedMonths;
  out.fill(0);
  for (let m = 0; m < M; m++) {
    const tax = model.taxRate * ((f.ebitda[m] as number) - (f.depreciation[m] as number));
    out[m] = (out[m] as number) + (f.cashStart[m] as number) - (f.capex[m] as number);
    out[m + 1] = (out[m + 1] as number) + (f.cashEnd[m] as number) - tax;
  }
}
