/**
 * Evaluates one path for a list of schedules: simulates the market, the mining economics of every
 * site, assembles each schedule's cash flows and writes the path's scalar results into a flat
 * Float64Array laid out by `Layout` (what the accumulators stream). The last schedule in the list is
 * the comparison base for IRR and payback (normally "no conversion").
 */
import { irrAnnual, paybackMonths } from './irr.js';
import { computeSiteMining, newSiteMining, type SiteMining } from './mining.js';
import { newMarketPath, simulateMarket, type MarketPath } from './market-path.js';
import type { PlanModel } from './resolve.js';
import { assemble, cashSeries, newAssemblyContext, newFlows, npvOf, type AssemblyContext, type PortfolioFlows, type Schedule } from './schedule.js';

const PER_YEAR = 6; // cash flow, EBITDA, revenue, BTC revenue, BTC share %, AI revenue
const PER_SITE = 3; // mining PV, AI PV, capex PV

export interface Layout {
  years: number;
  sites: number;
  schedules: number;
  perSchedule: number;
  marketBase: number;
  slots: number;
  /** Slots that get a histogram (quantiles); the rest keep only sums (means). */
  histogram: boolean[];
}

export function makeLayout(model: PlanModel, schedules: number): Layout {
  const years = model.timeline.months / 12;
  const sites = model.sites.length;
  const perSchedule = 3 + years * PER_YEAR + sites * PER_SITE;
  const marketBase = schedules * perSchedule;
  const slots = marketBase + 1 + years * 3;
  const histogram = new Array<boolean>(slots).fill(true);
  for (let k = 0; k < schedules; k++) {
    const b = k * perSchedule;
    for (let y = 0; y < years; y++) {
      histogram[b + 3 + y * PER_YEAR + 3] = false;
      histogram[b + 3 + y * PER_YEAR + 5] = false;
    }
    for (let i = 0; i < sites * PER_SITE; i++) histogram[b + 3 + years * PER_YEAR + i] = false;
  }
  return { years, sites, schedules, perSchedule, marketBase, slots, histogram };
}

/** Slot indices, so readers never hard-code offsets. */
export const slot = {
  npv: (l: Layout, k: number) => k * l.perSchedule,
  irr: (l: Layout, k: number) => k * l.perSchedule + 1,
  paybackYears: (l: Layout, k: number) => k * l.perSchedule + 2,
  cashFlow: (l: Layout, k: number, y: number) => k * l.perSchedule + 3 + y * PER_YEAR,
  ebitda: (l: Layout, k: number, y: number) => k * l.perSchedule + 3 + y * PER_YEAR + 1,
  revenue: (l: Layout, k: number, y: number) => k * l.perSchedule + 3 + y * PER_YEAR + 2,
  btcRevenue: (l: Layout, k: number, y: number) => k * l.perSchedule + 3 + y * PER_YEAR + 3,
  btcShare: (l: Layout, k: number, y: number) => k * l.perSchedule + 3 + y * PER_YEAR + 4,
  aiRevenue: (l: Layout, k: number, y: number) => k * l.perSchedule + 3 + y * PER_YEAR + 5,
  miningPv: (l: Layout, k: number, s: number) => k * l.perSchedule + 3 + l.years * PER_YEAR + s * PER_SITE,
  aiPv: (l: Layout, k: number, s: number) => k * l.perSchedule + 3 + l.years * PER_YEAR + s * PER_SITE + 1,
  capexPv: (l: Layout, k: number, s: number) => k * l.perSchedule + 3 + l.years * PER_YEAR + s * PER_SITE + 2,
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
  /** alias[k] = the first schedule identical to k (duplicates are assembled once). */
  private readonly alias: number[];

  constructor(
    readonly model: PlanModel,
    readonly seed: number,
    readonly schedules: readonly Schedule[],
  ) {
    this.layout = makeLayout(model, schedules.length);
    const T = model.timeline.months;
    const M = model.timeline.extendedMonths;
    this.market = newMarketPath(T);
    this.mining = model.sites.map((s) => newSiteMining(s, T));
    this.ctx = newAssemblyContext(model, seed);
    this.flows = schedules.map(() => newFlows(M, model.sites.length));
    this.cash = schedules.map(() => new Float64Array(M + 1));
    this.incremental = new Float64Array(M + 1);
    const key = schedules.map((sch) => JSON.stringify(sch));
    this.alias = key.map((k) => key.indexOf(k));
  }

  /** Path `pathIndex`'s results into `out` (length layout.slots). */
  evaluate(pathIndex: number, out: Float64Array): void {
    const { model, layout: l } = this;
    simulateMarket(model, this.seed, pathIndex, this.market);
    model.sites.forEach((site, i) => computeSiteMining(model, site, this.market, this.mining[i] as SiteMining));
    const base = this.schedules.length - 1;
    this.schedules.forEach((sch, k) => {
      const a = this.alias[k] as number;
      if (a !== k) {
        for (let i = 0; i < l.perSchedule; i++) out[k * l.perSchedule + i] = out[a * l.perSchedule + i] as number;
        (this.cash[k] as Float64Array).set(this.cash[a] as Float64Array);
        return;
      }
      const f = this.flows[k] as PortfolioFlows;
      assemble(this.ctx, pathIndex, this.market, this.mining, sch, f);
      out[slot.npv(l, k)] = npvOf(model, f);
      cashSeries(model, f, this.cash[k] as Float64Array);
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
    const bc = this.cash[base] as Float64Array;
    this.schedules.forEach((_, k) => {
      if (k === base) {
        out[slot.irr(l, k)] = NaN;
        out[slot.paybackYears(l, k)] = NaN;
        return;
      }
      const c = this.cash[k] as Float64Array;
      for (let j = 0; j < c.length; j++) this.incremental[j] = (c[j] as number) - (bc[j] as number);
      out[slot.irr(l, k)] = 100 * irrAnnual(this.incremental);
      const pb = paybackMonths(this.incremental);
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
    return this.flows[k] as PortfolioFlows;
  }
}
