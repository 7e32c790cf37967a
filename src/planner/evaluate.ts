/**
 * Evaluates one path for a list of schedules: simulates the market, the mining economics of every
 * site, assembles each schedule's cash flows and writes the path's scalar results into a flat
 * Float64Array laid out by `Layout` (what the accumulators stream). The last schedule in the list is
 * the comparison base for IRR and payback (normally "no conversion"). "NPV-only" schedules (the
 * start-year / size grid) follow the full ones and keep just their NPV and its difference to
 * schedule 0 on the same path (common random numbers: the paired difference has a small error).
 */
import { irrAnnual, paybackMonths } from './irr.js';
import { computeSiteMining, newSiteMining, type SiteMining } from './mining.js';
import { newMarketPath, simulateMarket, type MarketPath } from './market-path.js';
import type { PlanModel } from './resolve.js';
import { assemble, cashSeries, newAssemblyContext, newFlows, npvOf, NO_CONVERSION, sitePv, type AssemblyContext, type PortfolioFlows, type Schedule, type SiteDecision } from './schedule.js';

const PER_YEAR = 6; // cash flow, EBITDA, revenue, BTC revenue, BTC share %, AI revenue
const PER_SITE = 3; // mining PV, AI PV, capex PV

export interface Layout {
  years: number;
  sites: number;
  /** Full schedules (every slot) then NPV-only ones (NPV and the paired difference). */
  schedules: number;
  fullSchedules: number;
  perSchedule: number;
  /** First slot of the NPV-only schedules (2 slots each). */
  npvOnlyBase: number;
  marketBase: number;
  slots: number;
  /** Slots that get a histogram (quantiles); the rest keep only sums (means). */
  histogram: boolean[];
}

const HEAD = 4; // NPV, IRR, payback, NPV − NPV of schedule 0

export function makeLayout(model: PlanModel, fullSchedules: number, npvOnlySchedules = 0): Layout {
  const years = model.timeline.months / 12;
  const sites = model.sites.length;
  const perSchedule = HEAD + years * PER_YEAR + sites * PER_SITE;
  const npvOnlyBase = fullSchedules * perSchedule;
  const marketBase = npvOnlyBase + 2 * npvOnlySchedules;
  const slots = marketBase + 1 + years * 3;
  const histogram = new Array<boolean>(slots).fill(true);
  for (let k = 0; k < fullSchedules; k++) {
    const b = k * perSchedule;
    histogram[b + 3] = false;
    for (let y = 0; y < years; y++) {
      histogram[b + HEAD + y * PER_YEAR + 3] = false;
      histogram[b + HEAD + y * PER_YEAR + 5] = false;
    }
    for (let i = 0; i < sites * PER_SITE; i++) histogram[b + HEAD + years * PER_YEAR + i] = false;
  }
  for (let j = 0; j < npvOnlySchedules; j++) histogram[npvOnlyBase + 2 * j + 1] = false;
  return { years, sites, schedules: fullSchedules + npvOnlySchedules, fullSchedules, perSchedule, npvOnlyBase, marketBase, slots, histogram };
}

function fullOnly(l: Layout, k: number): number {
  if (k >= l.fullSchedules) throw new RangeError(`schedule ${k} is NPV-only: it has no slot for this figure`);
  return k * l.perSchedule;
}

/** Slot indices, so readers never hard-code offsets. */
export const slot = {
  npv: (l: Layout, k: number) => (k < l.fullSchedules ? k * l.perSchedule : l.npvOnlyBase + 2 * (k - l.fullSchedules)),
  /** NPV of schedule k minus NPV of schedule 0 on the same path. */
  npvDiff: (l: Layout, k: number) => (k < l.fullSchedules ? k * l.perSchedule + 3 : l.npvOnlyBase + 2 * (k - l.fullSchedules) + 1),
  irr: (l: Layout, k: number) => fullOnly(l, k) + 1,
  paybackYears: (l: Layout, k: number) => fullOnly(l, k) + 2,
  cashFlow: (l: Layout, k: number, y: number) => fullOnly(l, k) + HEAD + y * PER_YEAR,
  ebitda: (l: Layout, k: number, y: number) => fullOnly(l, k) + HEAD + y * PER_YEAR + 1,
  revenue: (l: Layout, k: number, y: number) => fullOnly(l, k) + HEAD + y * PER_YEAR + 2,
  btcRevenue: (l: Layout, k: number, y: number) => fullOnly(l, k) + HEAD + y * PER_YEAR + 3,
  btcShare: (l: Layout, k: number, y: number) => fullOnly(l, k) + HEAD + y * PER_YEAR + 4,
  aiRevenue: (l: Layout, k: number, y: number) => fullOnly(l, k) + HEAD + y * PER_YEAR + 5,
  miningPv: (l: Layout, k: number, s: number) => fullOnly(l, k) + HEAD + l.years * PER_YEAR + s * PER_SITE,
  aiPv: (l: Layout, k: number, s: number) => fullOnly(l, k) + HEAD + l.years * PER_YEAR + s * PER_SITE + 1,
  capexPv: (l: Layout, k: number, s: number) => fullOnly(l, k) + HEAD + l.years * PER_YEAR + s * PER_SITE + 2,
  halvingMs: (l: Layout) => l.marketBase,
  hashprice: (l: Layout, y: number) => l.marketBase + 1 + y * 3,
  btcPrice: (l: Layout, y: number) => l.marketBase + 1 + y * 3 + 1,
  networkEhs: (l: Layout, y: number) => l.marketBase + 1 + y * 3 + 2,
};

export class PathEvaluator {
  readonly layout: Layout;
  private readonly market: MarketPath;
  private readonly mining: SiteMining[];
  private readonly ctx: AssemblyContext;
  private readonly flows: PortfolioFlows[];
  private readonly cash: Float64Array[];
  private readonly incremental: Float64Array;
  /** Full schedules then NPV-only ones. */
  private readonly all: readonly Schedule[];
  /** alias[k] = the first schedule identical to k (duplicates are assembled once). */
  private readonly alias: number[];
  /** Months of the horizon's cash series (payback is counted inside the horizon only). */
  private readonly horizonCash: number;
  private readonly npv: Float64Array;
  /**
   * For NPV-only schedules that differ from schedule 0 at one site: that site and its decision, so
   * the path costs one site's assembly (values are additive across sites), not the portfolio's.
   */
  private readonly oneSite: ({ site: number; decision: SiteDecision } | null)[];
  private readonly scratch: PortfolioFlows;

  constructor(
    readonly model: PlanModel,
    readonly seed: number,
    readonly schedules: readonly Schedule[],
    readonly npvOnly: readonly Schedule[] = [],
  ) {
    this.layout = makeLayout(model, schedules.length, npvOnly.length);
    const T = model.timeline.months;
    const M = model.timeline.extendedMonths;
    this.all = [...schedules, ...npvOnly];
    this.market = newMarketPath(T);
    this.mining = model.sites.map((s) => newSiteMining(s, T));
    this.ctx = newAssemblyContext(model, seed);
    const key = this.all.map((sch) => JSON.stringify(sch));
    this.alias = key.map((k) => key.indexOf(k));
    const first = schedules[0];
    this.oneSite = this.all.map((sch, k) => {
      if (k < schedules.length || !first || this.alias[k] !== k) return null;
      const differs = model.sites.map((_, si) => JSON.stringify(sch[si] ?? NO_CONVERSION) !== JSON.stringify(first[si] ?? NO_CONVERSION));
      if (differs.filter(Boolean).length !== 1) return null;
      const si = differs.indexOf(true);
      return { site: si, decision: sch[si] ?? NO_CONVERSION };
    });
    // Flows and cash only for the schedules assembled in full (first of their kind, no one-site shortcut).
    const assembled = (k: number) => this.alias[k] === k && this.oneSite[k] === null;
    this.flows = this.all.map((_, k) => (assembled(k) ? newFlows(M, model.sites.length) : newFlows(0, 0)));
    this.cash = this.all.map((_, k) => (assembled(k) ? new Float64Array(M + 1) : new Float64Array(0)));
    this.incremental = new Float64Array(M + 1);
    this.horizonCash = T + 1;
    this.npv = new Float64Array(this.all.length);
    this.scratch = newFlows(M, model.sites.length);
  }

  /** Path `pathIndex`'s results into `out` (length layout.slots). */
  evaluate(pathIndex: number, out: Float64Array): void {
    const { model, layout: l } = this;
    simulateMarket(model, this.seed, pathIndex, this.market);
    model.sites.forEach((site, i) => computeSiteMining(model, site, this.market, this.mining[i] as SiteMining));
    const base = this.schedules.length - 1;
    const npv = this.npv;
    const f0 = this.flows[0] as PortfolioFlows;
    this.all.forEach((sch, k) => {
      const a = this.alias[k] as number;
      if (a !== k) {
        npv[k] = npv[a] as number;
        return;
      }
      const one = this.oneSite[k];
      if (one) {
        // Schedule 0 differs only at one site: swap that site's value.
        const si = one.site;
        const before = (f0.miningPv[si] as number) + (f0.aiPv[si] as number) + (f0.capexPv[si] as number);
        npv[k] = (npv[0] as number) - before + sitePv(this.ctx, pathIndex, this.market, this.mining, si, one.decision, this.scratch);
        return;
      }
      const f = this.flows[k] as PortfolioFlows;
      assemble(this.ctx, pathIndex, this.market, this.mining, sch, f);
      npv[k] = npvOf(model, f);
      cashSeries(model, f, this.cash[k] as Float64Array);
    });
    this.all.forEach((_, k) => {
      out[slot.npv(l, k)] = npv[k] as number;
      out[slot.npvDiff(l, k)] = (npv[k] as number) - (npv[0] as number);
    });
    this.schedules.forEach((_, k) => {
      const f = this.flows[this.alias[k] as number] as PortfolioFlows;
      for (let y = 0; y < l.years; y++) {
        let cf = 0;
        let e = 0;
        let btc = 0;
        let rev = 0;
        let ai = 0;
        for (let m = y * 12; m < y * 12 + 12; m++) {
          ai += f.aiRevenue[m] as number;
          const tax = model.taxRate * ((f.ebitda[m] as number) - (f.depreciation[m] as number));
          cf += (f.cashEnd[m] as number) - tax + (f.cashStart[m] as number) - (f.capex[m] as number);
          e += f.ebitda[m] as number;
          btc += f.btcRevenue[m] as number;
          rev += (f.btcRevenue[m] as number) + (f.resaleRevenue[m] as number) + (f.aiRevenue[m] as number);
        }
        out[slot.cashFlow(l, k, y)] = cf;
        out[slot.ebitda(l, k, y)] = e;
        out[slot.revenue(l, k, y)] = rev;
        out[slot.btcRevenue(l, k, y)] = btc;
        out[slot.btcShare(l, k, y)] = rev > 0 ? (100 * btc) / rev : NaN;
        out[slot.aiRevenue(l, k, y)] = ai;
      }
      for (let s = 0; s < l.sites; s++) {
        out[slot.miningPv(l, k, s)] = f.miningPv[s] as number;
        out[slot.aiPv(l, k, s)] = f.aiPv[s] as number;
        out[slot.capexPv(l, k, s)] = f.capexPv[s] as number;
      }
    });
    const bc = this.cash[this.alias[base] as number] as Float64Array;
    this.schedules.forEach((_, k) => {
      if (k === base) {
        out[slot.irr(l, k)] = NaN;
        out[slot.paybackYears(l, k)] = NaN;
        return;
      }
      const c = this.cash[this.alias[k] as number] as Float64Array;
      for (let j = 0; j < c.length; j++) this.incremental[j] = (c[j] as number) - (bc[j] as number);
      out[slot.irr(l, k)] = 100 * irrAnnual(this.incremental);
      // Payback counts from the program's first cash (its first capex or lost mining), within the horizon.
      const pb = paybackMonths(this.incremental, this.horizonCash, firstNonZero(this.incremental, this.horizonCash));
      out[slot.paybackYears(l, k)] = Number.isFinite(pb) ? pb / 12 : NaN;
    });
    out[slot.halvingMs(l)] = this.market.halvingMs;
    for (let y = 0; y < l.years; y++) {
      let hp = 0;
      let px = 0;
      let eh = 0;
      for (let m = y * 12; m < y * 12 + 12; m++) {
        hp += this.market.hashpriceUsdPerPhDay[m] as number;
        px += this.market.btcPriceUsd[m] as number;
        eh += this.market.networkHashrateEhs[m] as number;
      }
      out[slot.hashprice(l, y)] = hp / 12;
      out[slot.btcPrice(l, y)] = px / 12;
      out[slot.networkEhs(l, y)] = eh / 12;
    }
  }

  /** Market path of the last evaluated path (for tests and the deterministic view). */
  lastMarket(): MarketPath {
    return this.market;
  }

  /** Flows of schedule k on the last evaluated path. */
  lastFlows(k: number): PortfolioFlows {
    return this.flows[this.alias[k] as number] as PortfolioFlows;
  }
}

/** Index of the first month whose cash is not zero (a cent), or n when there is none. */
function firstNonZero(c: Float64Array, n: number): number {
  for (let j = 0; j < n; j++) if (Math.abs(c[j] as number) > 0.01) return j;
  return n;
}
