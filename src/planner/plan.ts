/**
 * The planner end to end: schedule search on a subset of paths, the full Monte Carlo of the chosen
 * schedule, its risk-averse alternative and the no-conversion baseline, the sensitivity bars, and
 * the result document (`mullet plan --json`).
 */
import { halvingHeightAfter } from '../bitcoin/halving.js';
import { SYNTHETIC_LABEL } from '../market/scenario/params.js';
import { slotMean, type Accumulator } from './accumulate.js';
import { slot, type Layout } from './evaluate.js';
import { runMonteCarlo, type ChunkRunner } from './montecarlo.js';
import type { BtcPriceProcess, PlanModel } from './resolve.js';
import { displacedMw, NO_CONVERSION, type Schedule } from './schedule.js';
import { searchSchedules } from './search.js';
import { sensitivity, type Sensitivity } from './sensitivity.js';
import { quantile, summarize, tailMean } from './stats.js';

export interface PlanOptions {
  paths: number;
  seed: number;
  /** Paths for the schedule search and the sensitivity runs (default min(paths, 400)). */
  searchPaths?: number;
  runner?: ChunkRunner;
  onProgress?: (phase: 'search' | 'monte-carlo' | 'sensitivity', done: number, total: number) => void;
}

export interface Quantiles {
  mean: number;
  p5: number;
  p50: number;
  p95: number;
}

export interface ScheduleStep {
  site: string;
  itMW: number;
  siteMW: number;
  contract: string;
  contractKind: 'lease' | 'gpu-cloud';
  /** First month of construction (mining on the displaced MW stops), YYYY-MM. */
  conversionStart: string;
  /** First billed month, YYYY-MM. */
  online: string;
  displacedMiningMW: { model: string; mw: number }[];
}

export interface RefreshStep {
  site: string;
  refresh: string;
}

export interface YearRow {
  year: number;
  revenueUsd: number;
  btcRevenueUsd: number;
  aiRevenueUsd: number;
  /** Power sold back at real-time prices (fixed-price sites with resale). */
  resaleRevenueUsd: number;
  btcRevenueSharePct: number;
  ebitdaUsd: number;
  cashFlowUsd: number;
  cashFlowUsdP5: number;
  cashFlowUsdP95: number;
  btcRevenueSharePctP5: number;
  btcRevenueSharePctP95: number;
  ebitdaUsdP5: number;
  ebitdaUsdP95: number;
  hashpriceUsdPerPhDay: number;
  btcPriceUsd: number;
  networkHashrateEhs: number;
}

export interface ScheduleOutcome {
  schedule: ScheduleStep[];
  refresh: RefreshStep[];
  npvUsd: Quantiles;
  cvar5Usd: number;
  irrPct: { p50: number; p5: number; p95: number; definedPathsPct: number };
  paybackYears: { p50: number; recoveredPathsPct: number };
  years: YearRow[];
  valuePerMw: { site: string; use: 'mining' | 'ai'; mw: number; npvUsd: number; npvUsdPerMw: number }[];
}

export interface PlanResult extends ScheduleOutcome {
  portfolio: string;
  paths: number;
  seed: number;
  horizonYears: number;
  startDate: string;
  discountRatePct: number;
  riskAverse: ScheduleOutcome;
  baseline: { npvUsd: Quantiles; cvar5Usd: number; years: YearRow[] };
  halving: { height: number; dateP5: string | null; dateP50: string | null; dateP95: string | null; pathsWithHalvingPct: number };
  search: { paths: number; candidatesPerSite: number[]; bestMeanUsd: number; bestCvar5Usd: number; riskAverseMeanUsd: number; riskAverseCvar5Usd: number };
  sensitivity: Sensitivity;
  /** The BTC price process (drift, volatility, their calibration window and method). */
  btcPriceProcess: BtcPriceProcess;
  powerPrices: { synthetic: true; label: typeof SYNTHETIC_LABEL };
  notes: string[];
}

const ym = (ms: number) => new Date(ms).toISOString().slice(0, 7);

function describeSchedule(model: PlanModel, s: Schedule): { steps: ScheduleStep[]; refresh: RefreshStep[] } {
  const steps: ScheduleStep[] = [];
  const refresh: RefreshStep[] = [];
  model.sites.forEach((site, i) => {
    const d = s[i] ?? NO_CONVERSION;
    site.refresh.forEach((r, k) => {
      if ((d.refreshMask & (1 << k)) !== 0) refresh.push({ site: site.name, refresh: r.label });
    });
    if (d.itMW <= 0 || !site.ai) return;
    const c = site.ai.contracts[d.contract];
    const lead = Math.max(0, site.ai.leadTimeMonths + model.shocks.leadTimeMonths);
    const tl = model.timeline;
    const at = (m: number) => ym(m < tl.monthStartMs.length ? (tl.monthStartMs[m] as number) : Date.UTC(new Date(tl.startMs).getUTCFullYear(), new Date(tl.startMs).getUTCMonth() + m, 1));
    steps.push({
      site: site.name,
      itMW: d.itMW,
      siteMW: d.itMW * site.ai.pue,
      contract: c?.name ?? '',
      contractKind: c?.kind ?? 'lease',
      conversionStart: at(d.startMonth),
      online: at(d.startMonth + lead),
      displacedMiningMW: displacedMw(site, d.itMW)
        .map((mw, fi) => ({ model: site.fleets[fi]?.model ?? '', mw }))
        .filter((x) => x.mw > 0),
    });
  });
  return { steps, refresh };
}

function quantiles(acc: Accumulator, i: number): Quantiles {
  const h = acc.hists[i];
  if (!h) return { mean: slotMean(acc, i), p5: NaN, p50: NaN, p95: NaN };
  const s = summarize(h);
  return { mean: s.mean, p5: s.p5, p50: s.p50, p95: s.p95 };
}

function yearRows(model: PlanModel, l: Layout, acc: Accumulator, k: number): YearRow[] {
  const startYear = new Date(model.timeline.startMs).getUTCFullYear();
  const rows: YearRow[] = [];
  for (let y = 0; y < l.years; y++) {
    const rev = slotMean(acc, slot.revenue(l, k, y));
    const btc = slotMean(acc, slot.btcRevenue(l, k, y));
    const ai = slotMean(acc, slot.aiRevenue(l, k, y));
    const cf = quantiles(acc, slot.cashFlow(l, k, y));
    const share = quantiles(acc, slot.btcShare(l, k, y));
    const e = quantiles(acc, slot.ebitda(l, k, y));
    rows.push({
      year: startYear + y,
      revenueUsd: rev,
      btcRevenueUsd: btc,
      aiRevenueUsd: ai,
      resaleRevenueUsd: rev - btc - ai,
      // Ratio of mean revenues: the portfolio's expected mix, not the mean of per-path ratios.
      btcRevenueSharePct: rev > 0 ? (100 * btc) / rev : NaN,
      ebitdaUsd: e.mean,
      cashFlowUsd: cf.mean,
      cashFlowUsdP5: cf.p5,
      cashFlowUsdP95: cf.p95,
      btcRevenueSharePctP5: share.p5,
      btcRevenueSharePctP95: share.p95,
      ebitdaUsdP5: e.p5,
      ebitdaUsdP95: e.p95,
      hashpriceUsdPerPhDay: slotMean(acc, slot.hashprice(l, y)),
      btcPriceUsd: slotMean(acc, slot.btcPrice(l, y)),
      networkHashrateEhs: slotMean(acc, slot.networkEhs(l, y)),
    });
  }
  return rows;
}

function outcome(model: PlanModel, l: Layout, acc: Accumulator, k: number, s: Schedule): ScheduleOutcome {
  const npvHist = acc.hists[slot.npv(l, k)];
  const irrHist = acc.hists[slot.irr(l, k)];
  const pbHist = acc.hists[slot.paybackYears(l, k)];
  const d = describeSchedule(model, s);
  const valuePerMw: ScheduleOutcome['valuePerMw'] = [];
  model.sites.forEach((site, i) => {
    const dec = s[i] ?? NO_CONVERSION;
    const mPv = slotMean(acc, slot.miningPv(l, k, i));
    valuePerMw.push({ site: site.name, use: 'mining', mw: site.miningMW, npvUsd: mPv, npvUsdPerMw: site.miningMW > 0 ? mPv / site.miningMW : NaN });
    if (dec.itMW > 0) {
      const aPv = slotMean(acc, slot.aiPv(l, k, i)) + slotMean(acc, slot.capexPv(l, k, i));
      valuePerMw.push({ site: site.name, use: 'ai', mw: dec.itMW, npvUsd: aPv, npvUsdPerMw: aPv / dec.itMW });
    }
  });
  return {
    schedule: d.steps,
    refresh: d.refresh,
    npvUsd: quantiles(acc, slot.npv(l, k)),
    cvar5Usd: npvHist ? tailMean(npvHist, 0.05) : NaN,
    irrPct: {
      p50: irrHist ? quantile(irrHist, 0.5) : NaN,
      p5: irrHist ? quantile(irrHist, 0.05) : NaN,
      p95: irrHist ? quantile(irrHist, 0.95) : NaN,
      definedPathsPct: (100 * (acc.counts[slot.irr(l, k)] as number)) / acc.paths,
    },
    paybackYears: {
      p50: pbHist && (acc.counts[slot.paybackYears(l, k)] as number) > acc.paths / 2 ? quantile(pbHist, (0.5 * acc.paths) / (acc.counts[slot.paybackYears(l, k)] as number)) : NaN,
      recoveredPathsPct: (100 * (acc.counts[slot.paybackYears(l, k)] as number)) / acc.paths,
    },
    years: yearRows(model, l, acc, k),
    valuePerMw,
  };
}

/** Runs the whole plan. */
export async function runPlan(model: PlanModel, opts: PlanOptions): Promise<PlanResult> {
  const searchPaths = Math.max(1, Math.min(opts.paths, opts.searchPaths ?? 400));
  opts.onProgress?.('search', 0, searchPaths);
  const search = searchSchedules(model, opts.seed, searchPaths);
  opts.onProgress?.('search', searchPaths, searchPaths);
  const baseline: Schedule = model.sites.map(() => NO_CONVERSION);
  const schedules = [search.best, search.riskAverse, baseline];
  const mc = await runMonteCarlo(model, opts.seed, schedules, opts.paths, {
    ...(opts.runner ? { runner: opts.runner } : {}),
    onProgress: (d, t) => opts.onProgress?.('monte-carlo', d, t),
  });
  opts.onProgress?.('sensitivity', 0, 1);
  const sens = sensitivity(model, opts.seed, search.best, Math.min(searchPaths, 200));
  opts.onProgress?.('sensitivity', 1, 1);
  const { layout: l, acc } = mc;
  const best = outcome(model, l, acc, 0, search.best);
  const risk = outcome(model, l, acc, 1, search.riskAverse);
  const halvingHist = acc.hists[slot.halvingMs(l)];
  const halvingCount = acc.counts[slot.halvingMs(l)] as number;
  const day = (q: number) => (halvingHist && halvingCount > 0 ? new Date(quantile(halvingHist, q)).toISOString().slice(0, 10) : null);
  const startMonth = new Date(model.timeline.startMs).toISOString().slice(0, 10);
  return {
    portfolio: model.name,
    paths: opts.paths,
    seed: opts.seed,
    horizonYears: model.timeline.months / 12,
    startDate: startMonth,
    discountRatePct: 100 * model.timeline.discountRatePerYear,
    ...best,
    riskAverse: risk,
    baseline: { npvUsd: quantiles(acc, slot.npv(l, 2)), cvar5Usd: acc.hists[slot.npv(l, 2)] ? tailMean(acc.hists[slot.npv(l, 2)] as NonNullable<Accumulator['hists'][number]>, 0.05) : NaN, years: yearRows(model, l, acc, 2) },
    halving: {
      height: halvingHeightAfter(model.scenario.network.startHeight),
      dateP5: day(0.05),
      dateP50: day(0.5),
      dateP95: day(0.95),
      pathsWithHalvingPct: (100 * halvingCount) / acc.paths,
    },
    search: {
      paths: search.paths,
      candidatesPerSite: search.candidates.map((c) => c.length),
      bestMeanUsd: search.bestMeanUsd,
      bestCvar5Usd: search.bestCvar5Usd,
      riskAverseMeanUsd: search.riskAverseMeanUsd,
      riskAverseCvar5Usd: search.riskAverseCvar5Usd,
    },
    sensitivity: sens,
    btcPriceProcess: model.btcPriceProcess,
    powerPrices: { synthetic: true, label: SYNTHETIC_LABEL },
    notes: model.notes,
  };
}
