/**
 * AI capacity cash flows per MW of IT for one contract option signed at plan month `s`:
 * - the conversion runs `lead` months; the contract is signed at s (prepayment then), billing
 *   starts at s + lead along the contract's own schedule (escalator, ramp, prepay credit: from
 *   src/compute/contract.ts), scaled by the lease market factor at signing;
 * - a tenant defaults with a constant monthly hazard; the hall then sits idle `reletMonths` and is
 *   re-let at the market factor of that month (same terms); at the end of a term the tenant renews
 *   with probability `renewalProb`, else the hall is re-let after `reletMonths`;
 * - no new contract is signed after the horizon; with terminal value 'contracted', contracts signed
 *   before it run to their end (defaults still apply) and count;
 * - the site pays the AI energy for gpu-cloud (and non-pass-through leases): IT MW × PUE × hours ×
 *   (mean RT price + adder, or the fixed price); GPUs are bought at each gpu-cloud contract start;
 *   opex runs from delivery to the horizon, and after it only while contracted.
 * The same tenant draws serve every `s` (common random numbers), so candidates differ only by the decision.
 */
import { Rng } from '../core/prng.js';
import { STREAMS_PER_PATH, type MarketPath } from './market-path.js';
import type { PlanModel, ResolvedContract, ResolvedSite } from './resolve.js';

/** Per MW of IT, by plan month over the extended timeline. */
export interface AiPerMw {
  revenue: Float64Array;
  /** Recognized revenue − opex − energy: the EBITDA contribution. */
  ebitda: Float64Array;
  /** Cash at the month's end: billed cash (after the prepay credit) − opex − energy. */
  cashEnd: Float64Array;
  /** Cash at the month's start: prepayments. */
  cashStart: Float64Array;
  /** GPU purchases at the month's start (depreciated for tax). */
  capex: Float64Array;
}

export function newAiPerMw(M: number): AiPerMw {
  return { revenue: new Float64Array(M), ebitda: new Float64Array(M), cashEnd: new Float64Array(M), cashStart: new Float64Array(M), capex: new Float64Array(M) };
}

function clear(a: AiPerMw): void {
  a.revenue.fill(0);
  a.ebitda.fill(0);
  a.cashEnd.fill(0);
  a.cashStart.fill(0);
  a.capex.fill(0);
}

/** Energy price the site pays in month m, USD/MWh (mean of the path's month; after the horizon, the calendar mixture). */
function energyPrice(model: PlanModel, site: ResolvedSite, market: MarketPath, m: number): number {
  const p = site.power;
  if (p.kind === 'fixed') return p.usdPerMWh;
  const T = model.timeline.months;
  const mean = m < T ? (model.scenario.power.mix ? site.pool.mixMean[market.poolRow[m] as number] : site.pool.meanPrice[market.poolRow[m] as number]) : site.pool.mixMean[model.timeline.calendarMonth[m] as number];
  return (mean as number) * (model.priceScale[m] as number) + p.adderUsdPerMWh;
}

/** Lead time after the sensitivity shift, months (never negative). */
export function leadMonths(model: PlanModel, site: ResolvedSite): number {
  return Math.max(0, (site.ai?.leadTimeMonths ?? 0) + model.shocks.leadTimeMonths);
}

/** Fills `out` with the per-MW cash flows of contract `ci` at `site` signed at month `s` on this path. */
export function computeAiPerMw(model: PlanModel, seed: number, pathIndex: number, market: MarketPath, site: ResolvedSite, ci: number, s: number, out: AiPerMw): void {
  clear(out);
  const ai = site.ai;
  const c = ai?.contracts[ci];
  if (!ai || !c) return;
  const tl = model.timeline;
  const T = tl.months;
  const M = tl.extendedMonths;
  const limit = model.terminal === 'contracted' ? M : T;
  const ten = model.scenario.tenants;
  const rng = new Rng(seed, pathIndex * STREAMS_PER_PATH + 1 + site.index * 32 + ci);
  const delivered = s + leadMonths(model, site);
  // Opex from delivery to the horizon, whatever the contract state (the hall exists).
  for (let m = delivered; m < T; m++) {
    out.ebitda[m] = (out.ebitda[m] as number) - ai.opexPerMwMonth;
    out.cashEnd[m] = (out.cashEnd[m] as number) - ai.opexPerMwMonth;
  }
  let sign = s;
  let start = delivered;
  while (start < limit && sign < T) {
    const factor = (market.leaseFactor[Math.min(sign, T - 1)] as number) * model.shocks.leaseRate;
    out.cashStart[sign] = (out.cashStart[sign] as number) + c.prepayPerMw * factor;
    if (c.gpuCapexPerMw > 0 && start < limit) out.capex[start] = (out.capex[start] as number) + c.gpuCapexPerMw;
    const uDefault = rng.nextOpen();
    const uRenew = rng.next();
    const tau = ten.defaultHazardPerMonth > 0 ? Math.floor(-Math.log(uDefault) / ten.defaultHazardPerMonth) : Infinity;
    const end = start + c.termMonths;
    const stop = Math.min(end, start + tau);
    fillContract(model, site, market, c, start, Math.min(stop, limit), factor, out);
    const next = Math.max(start + 1, stop < end ? stop + ten.reletMonths : uRenew < ten.renewalProb ? end : end + ten.reletMonths);
    sign = next;
    start = next;
  }
}

function fillContract(model: PlanModel, site: ResolvedSite, market: MarketPath, c: ResolvedContract, start: number, stop: number, factor: number, out: AiPerMw): void {
  const ai = site.ai;
  if (!ai) return;
  const T = model.timeline.months;
  for (let m = start; m < stop; m++) {
    const k = m - start;
    const rev = (c.revenuePerMw[k] as number) * factor;
    const cash = (c.cashPerMw[k] as number) * factor;
    let cost = m >= T ? ai.opexPerMwMonth : 0; // after the horizon, opex only while contracted
    if (c.sitePaysPower) cost += (c.onlineFrac[k] as number) * ai.pue * (model.timeline.hours[m] as number) * energyPrice(model, site, market, m);
    out.revenue[m] = (out.revenue[m] as number) + rev;
    out.ebitda[m] = (out.ebitda[m] as number) + rev - cost;
    out.cashEnd[m] = (out.cashEnd[m] as number) + cash - cost;
  }
}
