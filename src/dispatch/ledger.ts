/**
 * The one settlement function every policy's Plan goes through, so results are comparable: per
 * interval and in total, revenue by stream (ai, mining, powerResale, aiFlex, aiPassThrough) and cost
 * by stream (energy, ppa, transmission), all USD, at the realized real-time price. The site's costs
 * are always its whole load's; aiPassThrough is what tenants with powerPassThrough / fourCpPassThrough
 * pay back: their metered energy at the real-time price and their share of the 4CP charge.
 */
import type { Site } from '../site/types.js';
import { fleetHashrateThs, fleetModel, type FleetModel } from './fleet-model.js';
import { candidateIndices } from './fourcp.js';
import type { DispatchInput, Plan } from './types.js';

export interface RevenueUsd {
  ai: number;
  mining: number;
  powerResale: number;
  aiFlex: number;
  /** Energy (at the RT price) and 4CP charges passed through to AI tenants. */
  aiPassThrough: number;
}

export interface CostUsd {
  energy: number;
  ppa: number;
  transmission: number;
}

export interface FleetTotals {
  name: string;
  energyMWh: number;
  revenueUsd: number;
  /** Energy-weighted share of nameplate, percent. */
  uptimePct: number;
}

export interface LedgerTotals {
  netUsd: number;
  revenueUsd: RevenueUsd;
  costUsd: CostUsd;
  /** Fleet energy at the meter, MWh. */
  miningEnergyMWh: number;
  /** Nameplate fleet energy not used, MWh (overclocking above nameplate does not offset it). */
  curtailedMWh: number;
  /** Fleet energy / nameplate fleet energy over priced intervals, percent. */
  miningUptimePct: number;
  /** ¼ × Σ monthly 4CP demands (MW): the charge is usdPerKwYear × 1000 × this (per month's rate). */
  fourCpTagMW: number;
  fourCpDemandsMW: FourCpDemand[];
  siteEnergyMWh: number;
  resaleMWh: number;
  /** IT energy owed to deferrable AI but not delivered within its day, MWh. */
  deferrableShortfallMWh: number;
  /** Intervals whose planned site load exceeded the interconnect (must be 0). */
  importLimitViolations: number;
  fleets: FleetTotals[];
}

/** A site's demand in one month's 4CP settlement and what it costs. */
export interface FourCpDemand {
  month: string;
  basis: 'official' | 'estimated';
  /** The interval that set the demand (the official one, or the worst estimated candidate); NaN when none was settled. */
  intervalStartMs: number;
  /** Site load in that interval, MW (0 when no candidate interval is in the settled intervals). */
  demandMW: number;
  usdPerKwYear: number;
  /** usdPerKwYear × 1000 × ¼ × demandMW. */
  chargeUsd: number;
}

export interface Ledger {
  policy: string;
  siteLoadMW: Float64Array;
  revenue: { ai: Float64Array; mining: Float64Array; powerResale: Float64Array; aiFlex: Float64Array; aiPassThrough: Float64Array };
  cost: { energy: Float64Array; ppa: Float64Array; transmission: Float64Array };
  net: Float64Array;
  totals: LedgerTotals;
}

/** USD per hour per MW of IT for a monthly kW rate: × 1000 kW/MW × 12 months / 8760 h. */
export function usdPerMWhFromKwMonth(usdPerKwMonth: number): number {
  return (usdPerKwMonth * 1000 * 12) / 8760;
}

/** IT energy each deferrable load must get per local day, prorated to the priced intervals of that day. */
export function deferrableRequirementMWh(input: DispatchInput, dailyEnergyMWh: number): Map<number, number> {
  const present = new Map<number, number>();
  for (const d of input.localDay) present.set(d, (present.get(d) ?? 0) + 1);
  const req = new Map<number, number>();
  for (const [d, count] of present) req.set(d, (dailyEnergyMWh * count) / (input.localDayIntervals.get(d) ?? count));
  return req;
}

/** Settles a plan at realized prices. */
export function settle(input: DispatchInput, plan: Plan, models: FleetModel[] = input.site.fleets.map(fleetModel)): Ledger {
  const site: Site = input.site;
  const n = input.startMs.length;
  const dt = input.intervalMinutes / 60;
  const rev = { ai: new Float64Array(n), mining: new Float64Array(n), powerResale: new Float64Array(n), aiFlex: new Float64Array(n), aiPassThrough: new Float64Array(n) };
  const cost = { energy: new Float64Array(n), ppa: new Float64Array(n), transmission: new Float64Array(n) };
  const load = new Float64Array(n);
  const fleets: FleetTotals[] = models.map((m) => ({ name: m.fleet.name, energyMWh: 0, revenueUsd: 0, uptimePct: 0 }));
  const fleetNameplateMWh = models.map((m) => m.nominalMW * dt * n);
  let miningEnergy = 0;
  let curtailed = 0;

  site.ai.forEach((a, k) => {
    const it = plan.aiItMW[k] as Float64Array;
    const rent = usdPerMWhFromKwMonth(a.usdPerKwMonth) * a.itMW * dt;
    for (let t = 0; t < n; t++) {
      const served = it[t] as number;
      load[t] = (load[t] as number) + served * a.pue;
      let r = rent;
      if (a.kind === 'deferrable') r += a.usdPerMWh * served * dt;
      rev.ai[t] = (rev.ai[t] as number) + r;
      if (a.kind === 'capped') rev.aiFlex[t] = (rev.aiFlex[t] as number) + a.usdPerMWhReduced * Math.max(0, a.itMW - served) * dt;
    }
  });
  models.forEach((m, f) => {
    const mw = plan.fleetMW[f] as Float64Array;
    const fee = 1 - m.fleet.poolFeePct / 100;
    const tot = fleets[f] as FleetTotals;
    for (let t = 0; t < n; t++) {
      const p = mw[t] as number;
      load[t] = (load[t] as number) + p;
      const usd = (input.hashpriceUsdPerPhDay[t] as number) * fee * (fleetHashrateThs(m, p) / 1000) * (dt / 24);
      rev.mining[t] = (rev.mining[t] as number) + usd;
      tot.energyMWh += p * dt;
      tot.revenueUsd += usd;
      curtailed += Math.max(0, m.nominalMW - p) * dt;
    }
    miningEnergy += tot.energyMWh;
    const np = fleetNameplateMWh[f] as number;
    tot.uptimePct = np > 0 ? (100 * tot.energyMWh) / np : 0;
  });

  const ppa = site.ppa;
  // Tenants that pay their own energy back, at the real-time price (their 4CP share: below).
  site.ai.forEach((a, k) => {
    if (!a.powerPassThrough) return;
    const it = plan.aiItMW[k] as Float64Array;
    for (let t = 0; t < n; t++) rev.aiPassThrough[t] = (rev.aiPassThrough[t] as number) + (it[t] as number) * a.pue * (input.rtPriceUsdPerMWh[t] as number) * dt;
  });
  let resaleMWh = 0;
  let siteEnergy = 0;
  let violations = 0;
  const limit = site.interconnect.importLimitMW;
  for (let t = 0; t < n; t++) {
    const price = input.rtPriceUsdPerMWh[t] as number;
    const l = load[t] as number;
    siteEnergy += l * dt;
    if (l > limit + 1e-6) violations++;
    if (ppa) {
      cost.ppa[t] = ppa.blockMW * ppa.priceUsdPerMWh * dt;
      cost.energy[t] = Math.max(0, l - ppa.blockMW) * price * dt;
      if (ppa.resale) {
        const unused = Math.max(0, ppa.blockMW - l);
        rev.powerResale[t] = unused * price * dt;
        resaleMWh += unused * dt;
      }
    } else {
      cost.energy[t] = l * price * dt;
    }
  }

  // 4CP: a month's demand is the site load in its settlement interval (official), or the worst of
  // the candidate intervals (estimated); the month's charge is booked in that interval.
  const candidates = candidateIndices(input.startMs, input.fourCpPeaks);
  const demands: FourCpDemand[] = input.fourCpPeaks.map((p, k) => {
    let at = -1;
    for (const t of candidates[k] as number[]) if (at < 0 || (load[t] as number) > (load[at] as number) + 1e-9) at = t;
    const demandMW = at >= 0 ? (load[at] as number) : 0;
    const chargeUsd = p.usdPerKwYear * 1000 * 0.25 * demandMW;
    if (at >= 0) {
      cost.transmission[at] = (cost.transmission[at] as number) + chargeUsd;
      // Tenants that bear their own 4CP pay their load in the interval that set the site's demand.
      site.ai.forEach((a, j) => {
        if (a.fourCpPassThrough) rev.aiPassThrough[at] = (rev.aiPassThrough[at] as number) + p.usdPerKwYear * 1000 * 0.25 * ((plan.aiItMW[j] as Float64Array)[at] as number) * a.pue;
      });
    }
    return { month: p.month, basis: p.basis, intervalStartMs: at >= 0 ? (input.startMs[at] as number) : NaN, demandMW, usdPerKwYear: p.usdPerKwYear, chargeUsd };
  });

  let shortfall = 0;
  site.ai.forEach((a, k) => {
    if (a.kind !== 'deferrable') return;
    const got = new Map<number, number>();
    const it = plan.aiItMW[k] as Float64Array;
    for (let t = 0; t < n; t++) {
      const d = input.localDay[t] as number;
      got.set(d, (got.get(d) ?? 0) + (it[t] as number) * dt);
    }
    for (const [d, req] of deferrableRequirementMWh(input, a.dailyEnergyMWh)) shortfall += Math.max(0, req - (got.get(d) ?? 0) - 1e-6);
  });

  const net = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    net[t] =
      (rev.ai[t] as number) + (rev.mining[t] as number) + (rev.powerResale[t] as number) + (rev.aiFlex[t] as number) + (rev.aiPassThrough[t] as number) -
      (cost.energy[t] as number) - (cost.ppa[t] as number) - (cost.transmission[t] as number);
  }
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
  const nameplate = fleetNameplateMWh.reduce((s, v) => s + v, 0);
  const revenueUsd = { ai: sum(rev.ai), mining: sum(rev.mining), powerResale: sum(rev.powerResale), aiFlex: sum(rev.aiFlex), aiPassThrough: sum(rev.aiPassThrough) };
  const costUsd = { energy: sum(cost.energy), ppa: sum(cost.ppa), transmission: sum(cost.transmission) };
  return {
    policy: plan.policy,
    siteLoadMW: load,
    revenue: rev,
    cost,
    net,
    totals: {
      netUsd: sum(net),
      revenueUsd,
      costUsd,
      miningEnergyMWh: miningEnergy,
      curtailedMWh: curtailed,
      miningUptimePct: nameplate > 0 ? (100 * miningEnergy) / nameplate : 0,
      fourCpTagMW: 0.25 * demands.reduce((s, d) => s + d.demandMW, 0),
      fourCpDemandsMW: demands,
      siteEnergyMWh: siteEnergy,
      resaleMWh,
      deferrableShortfallMWh: shortfall,
      importLimitViolations: violations,
      fleets,
    },
  };
}
