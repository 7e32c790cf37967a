/**
 * The planner end to end: schedule search on a subset of paths, the full Monte Carlo of the chosen
 * schedule, its risk-averse alternative and the no-conversion baseline, the sensitivity bars, and
 * the result document (`mullet plan --json`).
 */
import { halvingHeightAfter } from '../bitcoin/halving.js';
import { SYNTHETIC_LABEL } from '../scenario/params.js';
import { slotMean, slotStdErr, type Accumulator } from './accumulate.js';
import { slot, type Layout } from './evaluate.js';
import { runMonteCarlo, type ChunkRunner } from './montecarlo.js';
import type { BtcPriceProcess, PlanModel } from './resolve.js';
import { displacedMw, NO_CONVERSION, type Schedule } from './schedule.js';
import { searchSchedules, type GridPoint } from './search.js';
import { sensitivity, type Sensitivity } from './sensitivity.js';
import { meanStdErr, quantile, summarize, tailMean, tailMeanStdErr } from './stats.js';
import type { NamedSchedule } from './user-schedules.js';

/** Two-sided 95 % normal quantile: a paired difference within ±Z standard errors is not significant. */
export const Z_95 = 1.96;

export interface PlanOptions {
  paths: number;
  seed: number;
  /** Paths for the schedule search and the sensitivity runs (default min(paths, 400)). */
  searchPaths?: number;
  runner?: ChunkRunner;
  /** Schedules the user asked for, evaluated on the same paths as the search's picks. */
  userSchedules?: NamedSchedule[];
  onProgress?: (phase: 'search' | 'monte-carlo' | 'sensitivity', done: number, total: number) => void;
}

export interface Quantiles {
  mean: number;
  /** Standard error of the mean (Monte Carlo noise), same unit. */
  se: number;
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
  /** Standard errors of the means above (USD). */
  revenueUsdSe: number;
  ebitdaUsdSe: number;
  cashFlowUsd: number;
  cashFlowUsdSe: number;
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
  cvar5UsdSe: number;
  irrPct: { p50: number; p5: number; p95: number; definedPathsPct: number };
  /**
   * Years from the program's first cash (first capex or first month of lost mining) until the
   * cumulative incremental cash vs keep-mining is back to zero, within the horizon. p50 is null when
   * fewer than half the paths recover within the horizon ("not within horizon").
   */
  paybackYears: { p50: number | null; recoveredPathsPct: number; countedFrom: 'first capex'; withinYears: number };
  years: YearRow[];
  valuePerMw: { site: string; use: 'mining' | 'ai'; mw: number; npvUsd: number; npvUsdSe: number; npvUsdPerMw: number }[];
}

/** One schedule in the side-by-side comparison (all on the same paths). */
export interface ComparisonRow {
  label: string;
  kind: 'pick' | 'risk-averse' | 'user' | 'keep-mining' | 'start-year' | 'size';
  /** The site whose decision the row varies (start-year and size rows). */
  site: string | null;
  /** Calendar year construction starts at that site (start-year rows). */
  startYear: number | null;
  itMW: number | null;
  contract: string | null;
  schedule: ScheduleStep[];
  npvUsd: { mean: number; se: number };
  cvar5Usd: { value: number; se: number };
  /** Mean of (this NPV − the pick's NPV) on each path, with its standard error (common random numbers). */
  vsPickUsd: { mean: number; se: number };
  /** 'indistinguishable': the paired difference is within ±1.96 standard errors of zero. */
  verdict: 'pick' | 'indistinguishable' | 'worse' | 'better';
}

export interface Comparison {
  paths: number;
  basis: string;
  z: number;
  rows: ComparisonRow[];
}

export interface PlanResult extends ScheduleOutcome {
  portfolio: string;
  paths: number;
  seed: number;
  horizonYears: number;
  startDate: string;
  discountRatePct: number;
  riskAverse: ScheduleOutcome;
  /** The user's schedules (portfolio `schedules:` and --schedule), same paths. */
  userSchedules: (ScheduleOutcome & { name: string })[];
  baseline: { npvUsd: Quantiles; cvar5Usd: number; cvar5UsdSe: number; years: YearRow[] };
  /** Every schedule evaluated, side by side with standard errors: the picks, the user's, start year and size per site. */
  comparison: Comparison;
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
  if (!h) return { mean: slotMean(acc, i), se: slotStdErr(acc, i), p5: NaN, p50: NaN, p95: NaN };
  const s = summarize(h);
  return { mean: s.mean, se: meanStdErr(h), p5: s.p5, p50: s.p50, p95: s.p95 };
}

function cvar(acc: Accumulator, i: number): { value: number; se: number } {
  const h = acc.hists[i];
  return h ? { value: tailMean(h, 0.05), se: tailMeanStdErr(h, 0.05) } : { value: NaN, se: NaN };
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
      revenueUsdSe: slotStdErr(acc, slot.revenue(l, k, y)),
      ebitdaUsdSe: e.se,
      cashFlowUsd: cf.mean,
      cashFlowUsdSe: cf.se,
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
  const irrHist = acc.hists[slot.irr(l, k)];
  const pbHist = acc.hists[slot.paybackYears(l, k)];
  const d = describeSchedule(model, s);
  const valuePerMw: ScheduleOutcome['valuePerMw'] = [];
  model.sites.forEach((site, i) => {
    const dec = s[i] ?? NO_CONVERSION;
    const mPv = slotMean(acc, slot.miningPv(l, k, i));
    valuePerMw.push({ site: site.name, use: 'mining', mw: site.miningMW, npvUsd: mPv, npvUsdSe: slotStdErr(acc, slot.miningPv(l, k, i)), npvUsdPerMw: site.miningMW > 0 ? mPv / site.miningMW : NaN });
    if (dec.itMW > 0) {
      const aPv = slotMean(acc, slot.aiPv(l, k, i)) + slotMean(acc, slot.capexPv(l, k, i));
      // AI and capex PVs are correlated; the larger of the two errors is a lower bound, their sum an upper one.
      const se = Math.max(slotStdErr(acc, slot.aiPv(l, k, i)), slotStdErr(acc, slot.capexPv(l, k, i)));
      valuePerMw.push({ site: site.name, use: 'ai', mw: dec.itMW, npvUsd: aPv, npvUsdSe: se, npvUsdPerMw: aPv / dec.itMW });
    }
  });
  return {
    schedule: d.steps,
    refresh: d.refresh,
    npvUsd: quantiles(acc, slot.npv(l, k)),
    cvar5Usd: cvar(acc, slot.npv(l, k)).value,
    cvar5UsdSe: cvar(acc, slot.npv(l, k)).se,
    irrPct: {
      p50: irrHist ? quantile(irrHist, 0.5) : NaN,
      p5: irrHist ? quantile(irrHist, 0.05) : NaN,
      p95: irrHist ? quantile(irrHist, 0.95) : NaN,
      definedPathsPct: (100 * (acc.counts[slot.irr(l, k)] as number)) / acc.paths,
    },
    paybackYears: {
      // Median over all paths, the unrecovered ones counting as "later than the horizon".
      p50: pbHist && (acc.counts[slot.paybackYears(l, k)] as number) >= acc.paths / 2 ? quantile(pbHist, (0.5 * acc.paths) / (acc.counts[slot.paybackYears(l, k)] as number)) : null,
      recoveredPathsPct: (100 * (acc.counts[slot.paybackYears(l, k)] as number)) / acc.paths,
      countedFrom: 'first capex',
      withinYears: model.timeline.months / 12,
    },
    years: yearRows(model, l, acc, k),
    valuePerMw,
  };
}

/** Short label of a site decision: "Pecos 200 MW from 2028-01 on hyperscaler-lease". */
function stepLabel(st: ScheduleStep): string {
  return `${st.site} ${Number(st.itMW.toFixed(1))} MW from ${st.conversionStart} on ${st.contract}`;
}

function comparisonRows(model: PlanModel, l: Layout, acc: Accumulator, entries: { k: number; kind: ComparisonRow['kind']; label: string; schedule: Schedule; grid?: GridPoint }[]): ComparisonRow[] {
  const pickKey = JSON.stringify(entries[0]?.schedule ?? []);
  const startYear = new Date(model.timeline.startMs).getUTCFullYear();
  return entries.map((e) => {
    const npv = quantiles(acc, slot.npv(l, e.k));
    const diff = { mean: slotMean(acc, slot.npvDiff(l, e.k)), se: slotStdErr(acc, slot.npvDiff(l, e.k)) };
    const same = JSON.stringify(e.schedule) === pickKey;
    const verdict: ComparisonRow['verdict'] = same ? 'pick' : Math.abs(diff.mean) <= Z_95 * diff.se ? 'indistinguishable' : diff.mean < 0 ? 'worse' : 'better';
    const steps = describeSchedule(model, e.schedule).steps;
    const g = e.grid;
    const site = g ? model.sites[g.site] : undefined;
    const contract = g && site?.ai && g.decision.itMW > 0 ? (site.ai.contracts[g.decision.contract]?.name ?? null) : null;
    return {
      label: e.label,
      kind: e.kind,
      site: site?.name ?? null,
      startYear: g && g.decision.itMW > 0 ? startYear + Math.floor(g.decision.startMonth / 12) : null,
      itMW: g ? g.decision.itMW : null,
      contract,
      schedule: steps,
      npvUsd: { mean: npv.mean, se: npv.se },
      cvar5Usd: cvar(acc, slot.npv(l, e.k)),
      vsPickUsd: same ? { mean: 0, se: 0 } : diff,
      verdict,
    };
  });
}

function gridLabel(model: PlanModel, g: GridPoint): string {
  const site = model.sites[g.site];
  const name = site?.name ?? `site ${g.site}`;
  if (g.decision.itMW <= 0) return `${name} keeps mining`;
  const st = describeSchedule(model, g.schedule).steps.find((x) => x.site === name);
  return st ? stepLabel(st) : name;
}

/** Runs the whole plan. */
export async function runPlan(model: PlanModel, opts: PlanOptions): Promise<PlanResult> {
  const searchPaths = Math.max(1, Math.min(opts.paths, opts.searchPaths ?? 400));
  opts.onProgress?.('search', 0, searchPaths);
  const search = searchSchedules(model, opts.seed, searchPaths);
  opts.onProgress?.('search', searchPaths, searchPaths);
  const baseline: Schedule = model.sites.map(() => NO_CONVERSION);
  const users = opts.userSchedules ?? [];
  // Full schedules (the last is the IRR/payback base), then the start-year / size grid (NPV only).
  const schedules = [search.best, search.riskAverse, ...users.map((u) => u.schedule), baseline];
  const baseIndex = schedules.length - 1;
  const mc = await runMonteCarlo(model, opts.seed, schedules, opts.paths, {
    ...(opts.runner ? { runner: opts.runner } : {}),
    npvOnly: search.grid.map((g) => g.schedule),
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
  const rows = comparisonRows(model, l, acc, [
    { k: 0, kind: 'pick', label: 'expected-NPV pick', schedule: search.best },
    { k: 1, kind: 'risk-averse', label: 'risk-averse pick (max CVaR 5 %)', schedule: search.riskAverse },
    ...users.map((u, j) => ({ k: 2 + j, kind: 'user' as const, label: `yours: ${u.name}`, schedule: u.schedule })),
    { k: baseIndex, kind: 'keep-mining', label: 'keep mining everywhere', schedule: baseline },
    ...search.grid.map((g, j) => ({ k: schedules.length + j, kind: g.kind, label: gridLabel(model, g), schedule: g.schedule, grid: g })),
  ]);
  const notes = [...model.notes];
  const better = rows.filter((r) => r.verdict === 'better').sort((a, b) => b.vsPickUsd.mean - a.vsPickUsd.mean)[0];
  if (better) {
    notes.push(
      `on all ${opts.paths} paths, "${better.label}" has a higher mean NPV than the pick by ${(better.vsPickUsd.mean / 1e6).toFixed(1)} ± ${(better.vsPickUsd.se / 1e6).toFixed(1)} M USD (the search ranked candidates on its first ${searchPaths} paths; raise --search-paths)`,
    );
  }
  const baseCvar = cvar(acc, slot.npv(l, baseIndex));
  return {
    portfolio: model.name,
    paths: opts.paths,
    seed: opts.seed,
    horizonYears: model.timeline.months / 12,
    startDate: startMonth,
    discountRatePct: 100 * model.timeline.discountRatePerYear,
    ...best,
    riskAverse: risk,
    userSchedules: users.map((u, j) => ({ name: u.name, ...outcome(model, l, acc, 2 + j, u.schedule) })),
    baseline: { npvUsd: quantiles(acc, slot.npv(l, baseIndex)), cvar5Usd: baseCvar.value, cvar5UsdSe: baseCvar.se, years: yearRows(model, l, acc, baseIndex) },
    comparison: {
      paths: opts.paths,
      basis: `every schedule on the same ${opts.paths} paths (common random numbers); ± is one standard error; a difference within ±${Z_95} standard errors of the paired difference is statistically indistinguishable`,
      z: Z_95,
      rows,
    },
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
    notes,
  };
}
