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
import type { AsProduct } from '../site/types.js';
import type { DispatchInput, GridAward, Plan } from './types.js';

export interface RevenueUsd {
  ai: number;
  mining: number;
  powerResale: number;
  aiFlex: number;
  /** Energy (at the RT price) and 4CP charges passed through to AI tenants. */
  aiPassThrough: number;
  /** Grid services: AS capacity payments (day-ahead MCPC) and ERS availability payments, gross. */
  ancillary: number;
}

export interface CostUsd {
  energy: number;
  ppa: number;
  transmission: number;
  /** Capacity payments clawed back for awarded MW that was not curtailable, plus missed-deployment penalties. */
  ancillaryPenalty: number;
}

/** What grid services did over the window (money is in RevenueUsd.ancillary and CostUsd.ancillaryPenalty). */
export interface AncillaryTotals {
  /** Gross capacity / availability revenue by product (RRS, ECRS, NSPIN, ERS-10, ERS-30), USD. */
  byProductUsd: Record<string, number>;
  /** Net effect of deployments on the energy streams (mining lost, energy not bought), USD; included in those streams. */
  deploymentUsd: number;
  /** Energy curtailed for deployments, MWh. */
  deployedMWh: number;
  /** Deployed MWh the site could not deliver (penalised), MWh. */
  missedMWh: number;
  /** Award MWh that was not curtailable when held (capacity clawed back), MWh. */
  shortfallMWh: number;
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
  ancillary: AncillaryTotals;
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
  revenue: { ai: Float64Array; mining: Float64Array; powerResale: Float64Array; aiFlex: Float64Array; aiPassThrough: Float64Array; ancillary: Float64Array };
  cost: { energy: Float64Array; ppa: Float64Array; transmission: Float64Array; ancillaryPenalty: Float64Array };
  /** Gross grid-service revenue per product and interval, USD (only products with an award). */
  ancillaryByProduct: Record<string, Float64Array>;
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

/**
 * The non-performance penalty of a deployment, USD: MW not delivered × hours × the site's
 * `ancillary.penaltyUsdPerMWh`. One rule for the back-test (per interval) and the live agent (per
 * deployment, `fleet/agent/grid.ts`).
 */
export function missedDeploymentPenaltyUsd(missedMW: number, hours: number, penaltyUsdPerMWh: number): number {
  return Math.max(0, missedMW) * Math.max(0, hours) * penaltyUsdPerMWh;
}

/**
 * Settles a plan at realized prices. Grid awards (plan.awards) earn their capacity price; ERCOT's
 * deployments (input.asDeployments) curtail the awarded MW, so the energy streams settle the
 * delivered load; awarded MW that was not curtailable loses its payment, and a deployment the site
 * could not deliver is charged site.ancillary.penaltyUsdPerMWh.
 */
export function settle(input: DispatchInput, plan: Plan, models: FleetModel[] = input.site.fleets.map(fleetModel)): Ledger {
  const grid = settleAncillary(input, plan);
  const ledger = settleEnergy(input, grid.delivered, models, grid);
  if (grid.delivered !== plan) ledger.totals.ancillary.deploymentUsd = settleEnergy(input, grid.delivered, models).totals.netUsd - settleEnergy(input, plan, models).totals.netUsd;
  return ledger;
}

interface GridSettlement {
  delivered: Plan;
  revenue: Float64Array;
  penalty: Float64Array;
  byProduct: Record<string, Float64Array>;
  totals: { deployedMWh: number; missedMWh: number; shortfallMWh: number };
}

/** Curtailable MW of an award's resource at t: the fleet's MW, or capped AI's remaining reduction at the meter. */
function curtailableMW(site: Site, plan: Plan, resource: string, t: number): number {
  const f = site.fleets.findIndex((x) => x.name === resource);
  if (f >= 0) return (plan.fleetMW[f] as Float64Array)[t] as number;
  const k = site.ai.findIndex((x) => x.name === resource);
  const a = site.ai[k];
  if (!a || a.kind !== 'capped') return 0;
  return Math.max(0, (((plan.aiItMW[k] as Float64Array)[t] as number) - a.itMW * (1 - a.maxReductionPct / 100)) * a.pue);
}

function settleAncillary(input: DispatchInput, plan: Plan): GridSettlement {
  const n = input.startMs.length;
  const dt = input.intervalMinutes / 60;
  const site = input.site;
  const revenue = new Float64Array(n);
  const penalty = new Float64Array(n);
  const byProduct: Record<string, Float64Array> = {};
  const totals = { deployedMWh: 0, missedMWh: 0, shortfallMWh: 0 };
  const awards = plan.awards ?? [];
  if (awards.length === 0) return { delivered: plan, revenue, penalty, byProduct, totals };
  const priceOf = (a: GridAward, t: number): number => {
    if (a.usdPerMWh !== undefined) return a.usdPerMWh;
    const v = input.asPriceUsdPerMWh?.[a.product as AsProduct]?.[t];
    return v !== undefined && Number.isFinite(v) ? v : 0;
  };
  // Capacity revenue, and the clawback where a resource held more than it could curtail.
  const byResource = new Map<string, GridAward[]>();
  for (const a of awards) {
    byProduct[a.product] ??= new Float64Array(n);
    const arr = byProduct[a.product] as Float64Array;
    for (let t = 0; t < n; t++) {
      const usd = (a.mw[t] as number) * priceOf(a, t) * dt;
      arr[t] = (arr[t] as number) + usd;
      revenue[t] = (revenue[t] as number) + usd;
    }
    byResource.set(a.resource, [...(byResource.get(a.resource) ?? []), a]);
  }
  for (const [resource, list] of byResource) {
    for (let t = 0; t < n; t++) {
      let held = 0;
      let usd = 0;
      for (const a of list) {
        held += a.mw[t] as number;
        usd += (a.mw[t] as number) * priceOf(a, t) * dt;
      }
      const short = held - curtailableMW(site, plan, resource, t);
      if (held <= 1e-9 || short <= 1e-6) continue;
      totals.shortfallMWh += short * dt;
      penalty[t] = (penalty[t] as number) + (usd * short) / held;
    }
  }
  const deps = input.asDeployments ?? [];
  if (deps.length === 0) return { delivered: plan, revenue, penalty, byProduct, totals };
  // Deployments: the awarded MW drops (time-weighted over the interval); what cannot drop is missed.
  const delivered: Plan = { ...plan, fleetMW: plan.fleetMW.map((a) => a.slice()), aiItMW: plan.aiItMW.map((a) => a.slice()) };
  const lenMs = input.intervalMinutes * 60_000;
  const rate = site.ancillary?.penaltyUsdPerMWh ?? 0;
  for (const d of deps) {
    for (const a of awards) {
      if (a.product !== d.product) continue;
      const f = site.fleets.findIndex((x) => x.name === a.resource);
      const k = site.ai.findIndex((x) => x.name === a.resource);
      for (let t = 0; t < n; t++) {
        const s = input.startMs[t] as number;
        const overlap = Math.min(s + lenMs, d.endMs) - Math.max(s, d.startMs);
        if (overlap <= 0) continue;
        const want = (a.mw[t] as number) * d.fraction * (overlap / lenMs);
        if (want <= 0) continue;
        const can = curtailableMW(site, delivered, a.resource, t);
        const drop = Math.min(want, can);
        if (f >= 0) (delivered.fleetMW[f] as Float64Array)[t] = ((delivered.fleetMW[f] as Float64Array)[t] as number) - drop;
        else {
          const ai = site.ai[k];
          if (ai) (delivered.aiItMW[k] as Float64Array)[t] = ((delivered.aiItMW[k] as Float64Array)[t] as number) - drop / ai.pue;
        }
        totals.deployedMWh += drop * dt;
        const missed = want - drop;
        if (missed > 1e-9) {
          totals.missedMWh += missed * dt;
          penalty[t] = (penalty[t] as number) + missedDeploymentPenaltyUsd(missed, dt, rate);
        }
      }
    }
  }
  return { delivered, revenue, penalty, byProduct, totals };
}

/** The energy streams of a plan, plus the grid-service streams already worked out. */
function settleEnergy(input: DispatchInput, plan: Plan, models: FleetModel[], grid?: GridSettlement): Ledger {
  const site: Site = input.site;
  const n = input.startMs.length;
  const dt = input.intervalMinutes / 60;
  const rev = {
    ai: new Float64Array(n),
    mining: new Float64Array(n),
    powerResale: new Float64Array(n),
    aiFlex: new Float64Array(n),
    aiPassThrough: new Float64Array(n),
    ancillary: grid?.revenue ?? new Float64Array(n),
  };
  const cost = { energy: new Float64Array(n), ppa: new Float64Array(n), transmission: new Float64Array(n), ancillaryPenalty: grid?.penalty ?? new Float64Array(n) };
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
      (rev.ai[t] as number) + (rev.mining[t] as number) + (rev.powerResale[t] as number) + (rev.aiFlex[t] as number) + (rev.aiPassThrough[t] as number) + (rev.ancillary[t] as number) -
      (cost.energy[t] as number) - (cost.ppa[t] as number) - (cost.transmission[t] as number) - (cost.ancillaryPenalty[t] as number);
  }
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
  const nameplate = fleetNameplateMWh.reduce((s, v) => s + v, 0);
  const revenueUsd = { ai: sum(rev.ai), mining: sum(rev.mining), powerResale: sum(rev.powerResale), aiFlex: sum(rev.aiFlex), aiPassThrough: sum(rev.aiPassThrough), ancillary: sum(rev.ancillary) };
  const costUsd = { energy: sum(cost.energy), ppa: sum(cost.ppa), transmission: sum(cost.transmission), ancillaryPenalty: sum(cost.ancillaryPenalty) };
  const byProduct = grid?.byProduct ?? {};
  const byProductUsd: Record<string, number> = {};
  for (const [p, arr] of Object.entries(byProduct)) byProductUsd[p] = sum(arr);
  return {
    policy: plan.policy,
    siteLoadMW: load,
    revenue: rev,
    cost,
    ancillaryByProduct: byProduct,
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
      ancillary: { byProductUsd, deploymentUsd: 0, deployedMWh: grid?.totals.deployedMWh ?? 0, missedMWh: grid?.totals.missedMWh ?? 0, shortfallMWh: grid?.totals.shortfallMWh ?? 0 },
    },
  };
}
