import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { readDataFile } from '../../catalog/data-file.js';
import { badInput, MulletError } from '../../core/errors.js';
import { readChartJsSource } from '../../report/chartjs.js';
import { MS_PER_DAY, parseUtcDate, utcDate } from '../../core/time.js';
import { calibrate, calibrateBtc, defaultCalibrationWindow } from '../../scenario/calibrate.js';
import { DEFAULT_SCENARIO_PARAMS } from '../../scenario/defaults.js';
import { dailyLogReturns } from '../../scenario/estimate.js';
import { SYNTHETIC_LABEL, type ScenarioParams } from '../../scenario/params.js';
import { runPlan, type ComparisonRow, type PlanResult, type ScheduleOutcome, type ScheduleStep } from '../../planner/plan.js';
import { workerRunner } from '../../planner/pool.js';
import { PortfolioSchema } from '../../planner/portfolio.js';
import { paybackText, renderPlanReport } from '../../planner/report.js';
import { resolvePortfolio } from '../../planner/resolve.js';
import { parseScheduleFlag, resolveUserSchedules } from '../../planner/user-schedules.js';
import type { MarketStore } from '../../market/store-port.js';
import { need, opt, type CliIo, type CommandSpec } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { createProgress } from '../progress.js';
import { openExistingStore, resolveStoreLocation } from '../store-open.js';
import { LIMITS } from '../../core/limits.js';

/**
 * Scenario parameters from the store: power and load per settlement point over its default window
 * (the two years ending at its last RT price); Bitcoin over the six years ending the day before the
 * plan starts (or at the store's last BTC price if that is earlier): difficulty growth and fees over
 * all six, BTC drift and volatility over the last halving cycle of them (calibrate.ts), and the
 * bootstrap draws the daily returns of that same cycle, so its volatility is the GBM's.
 */
const BTC_HISTORY_YEARS = 6;

async function fromStore(store: MarketStore, points: string[], planStart: string): Promise<{ paramsFor: (sp: string) => ScenarioParams; returns: Float64Array; notes: string[] }> {
  const params = new Map<string, ScenarioParams>();
  const notes: string[] = [];
  for (const sp of points) {
    const r = await calibrate(store, { settlementPoint: sp, ...(await defaultCalibrationWindow(store, sp)) });
    params.set(sp, r.params);
    notes.push(...r.params.notes.filter((n) => n.startsWith('power') || n.startsWith('load')).map((n) => `${sp} ${n}`));
  }
  const cov = (await store.coverage({ topGaps: 0 })).find((c) => c.key.kind === 'btc' && c.key.field === 'priceUsd');
  const dayBefore = parseUtcDate(planStart) - MS_PER_DAY;
  const toMs = cov ? Math.min(cov.lastMs, dayBefore) : dayBefore;
  const to = utcDate(toMs);
  const from = utcDate(toMs - BTC_HISTORY_YEARS * 365 * MS_PER_DAY);
  const btc = await calibrateBtc(store, { from, to });
  notes.push(...btc.notes);
  const window = btc.btc.priceWindow;
  const days = (await store.btcDays(window.from, window.to)).filter((d) => d.priceUsd !== undefined) as { dateUtc: string; priceUsd: number }[];
  const returns = Float64Array.from(dailyLogReturns(days));
  notes.push(`btc bootstrap history: ${returns.length} daily returns ${window.from}..${window.to}`);
  const base = (sp: string) => params.get(sp) ?? { ...DEFAULT_SCENARIO_PARAMS, settlementPoint: sp };
  return { paramsFor: (sp) => ({ ...base(sp), btc: btc.btc }), returns, notes };
}

/**
 * The planner marks a quantity it cannot define as NaN: an IRR without a sign change of the cash
 * flows, a payback not reached in the horizon, a CVaR or quantile without a histogram, a share of
 * zero revenue, a value per MW of 0 MW. The CLI prints those as 'n/a' (text) and null (JSON),
 * deliberately; any other non-finite number (an Infinity) is still refused by the output layer.
 */
const usdM = (x: number) => (Number.isNaN(x) ? 'n/a' : `${fmt(x / 1e6, 1)}`);
const num = (x: number, decimals: number) => (Number.isNaN(x) ? 'n/a' : fmt(x, decimals));

/** The --json document: the plan result with the planner's undefined quantities (NaN) as null. */
function planJson(value: unknown): unknown {
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  if (Array.isArray(value)) return value.map(planJson);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, planJson(v)]));
}
/** "686.3 ± 4.2": a mean and its standard error, USD M. */
const pmM = (x: { mean: number; se: number }) => `${usdM(x.mean)} ± ${usdM(x.se)}`;

function scheduleLines(steps: readonly ScheduleStep[], refresh: PlanResult['refresh']): string[] {
  if (steps.length === 0 && refresh.length === 0) return ['  no conversion: keep mining everywhere'];
  return [
    ...steps.map(
      (s) =>
        `  ${s.site}: ${fmt(s.itMW, 0)} MW IT (${fmt(s.siteMW, 0)} MW site) on ${s.contract} (${s.contractKind}); construction ${s.conversionStart}, online ${s.online}; displaces ${s.displacedMiningMW.map((d) => `${d.model} ${fmt(d.mw, 0)} MW`).join(', ') || 'no mining'}`,
    ),
    ...refresh.map((r) => `  ${r.site}: refresh ${r.refresh}`),
  ];
}

/** The BTC price process in one line: what the whole plan rides on. */
export function btcProcessLine(b: PlanResult['btcPriceProcess']): string {
  return (
    `BTC price: ${b.model.toUpperCase()}, drift ${fmt(b.driftPctPerYear, 1)} %/yr (${b.driftSource}; median path ${fmt(b.medianGrowthPctPerYear, 1)} %/yr, s.e. ±${fmt(b.driftStdErrPctPerYear, 1)}), ` +
    `volatility ${fmt(b.volPctPerYear, 1)} %/yr (${b.volSource})\n`
  );
}

function outcomeLines(o: ScheduleOutcome): string[] {
  const q = o.npvUsd;
  return [
    `  NPV (USD M): mean ${pmM(q)} (± = standard error), p5 ${usdM(q.p5)}, p50 ${usdM(q.p50)}, p95 ${usdM(q.p95)}; CVaR 5 % ${pmM({ mean: o.cvar5Usd, se: o.cvar5UsdSe })}`,
    `  conversion IRR p50 ${Number.isNaN(o.irrPct.p50) ? 'n/a (no sign change of the cash flows)' : `${fmt(o.irrPct.p50, 1)} %/yr`}; payback p50 ${paybackText(o.paybackYears)}`,
  ];
}

const VERDICT: Record<ComparisonRow['verdict'], string> = { pick: 'the pick', indistinguishable: '≈ pick (not significant)', worse: 'worse', better: 'better' };

function comparisonTable(rows: readonly ComparisonRow[]): string {
  return formatTable(
    ['schedule', 'NPV mean (USD M)', '± SE', 'vs pick (USD M)', '± SE', 'CVaR 5 % (USD M)', '± SE', 'verdict'],
    rows.map((r) => [r.label, usdM(r.npvUsd.mean), usdM(r.npvUsd.se), usdM(r.vsPickUsd.mean), usdM(r.vsPickUsd.se), usdM(r.cvar5Usd.value), usdM(r.cvar5Usd.se), VERDICT[r.verdict]]),
  );
}

function gridTable(rows: readonly ComparisonRow[], kind: 'start-year' | 'size'): string {
  return formatTable(
    ['site', kind === 'start-year' ? 'start year' : 'IT MW', kind === 'start-year' ? 'IT MW' : 'start', 'contract', 'NPV mean (USD M)', '± SE', 'vs pick (USD M)', '± SE', 'CVaR 5 % (USD M)', 'verdict'],
    rows.map((r) => {
      const st = r.schedule.find((x) => x.site === r.site);
      const a = kind === 'start-year' ? String(r.startYear ?? '') : fmt(r.itMW ?? 0, 0);
      const b = kind === 'start-year' ? fmt(r.itMW ?? 0, 0) : (st?.conversionStart ?? 'keeps mining');
      return [r.site ?? '', a, b, r.contract ?? '—', usdM(r.npvUsd.mean), usdM(r.npvUsd.se), usdM(r.vsPickUsd.mean), usdM(r.vsPickUsd.se), usdM(r.cvar5Usd.value), VERDICT[r.verdict]];
    }),
  );
}

function humanReport(r: PlanResult): string {
  const q = (x: PlanResult['npvUsd']) => `mean ${pmM(x)}, p5 ${usdM(x.p5)}, p50 ${usdM(x.p50)}, p95 ${usdM(x.p95)}`;
  const rows = r.comparison.rows;
  const risk = rows.find((x) => x.kind === 'risk-averse');
  const byYear = rows.filter((x) => x.kind === 'start-year');
  const bySize = rows.filter((x) => x.kind === 'size');
  const lines = [
    `${r.portfolio}: ${r.paths} paths, seed ${r.seed}, ${r.horizonYears} years from ${r.startDate}, discount ${r.discountRatePct} %/yr`,
    `power prices: ${SYNTHETIC_LABEL}`,
    '',
    `Schedule maximizing expected NPV (searched on the first ${r.search.paths} paths, then run on all ${r.paths}):`,
    ...scheduleLines(r.schedule, r.refresh),
    ...outcomeLines(r),
    '',
    'Best risk-averse alternative (max CVaR 5 %):',
    ...scheduleLines(r.riskAverse.schedule, r.riskAverse.refresh),
    ...outcomeLines(r.riskAverse),
    ...(risk && risk.verdict !== 'pick' ? [`  vs the pick: ${pmM(risk.vsPickUsd)} M USD on the same paths: ${VERDICT[risk.verdict]}`] : []),
    ...r.userSchedules.flatMap((u) => ['', `Your schedule "${u.name}":`, ...scheduleLines(u.schedule, u.refresh), ...outcomeLines(u)]),
    '',
    `Keep mining (no conversion): NPV (USD M) ${q(r.baseline.npvUsd)}; CVaR 5 % ${pmM({ mean: r.baseline.cvar5Usd, se: r.baseline.cvar5UsdSe })}`,
    `Halving at ${r.halving.height}: p5 ${r.halving.dateP5 ?? 'n/a'}, p50 ${r.halving.dateP50 ?? 'n/a'}, p95 ${r.halving.dateP95 ?? 'n/a'}`,
    '',
    `Schedules compared: ${r.comparison.basis}.`,
    comparisonTable(rows.filter((x) => x.kind !== 'start-year' && x.kind !== 'size')),
    ...(byYear.length ? ['By start year (each site varied alone, the others at the pick; MW and contract the best for that year):', gridTable(byYear, 'start-year')] : []),
    ...(bySize.length ? ['By size (best start and contract for each MW):', gridTable(bySize, 'size')] : []),
    formatTable(
      ['year', 'revenue (USD M)', 'BTC share (%)', 'EBITDA (USD M)', 'cash flow (USD M)', '± SE', 'hashprice (USD/PH/day)', 'BTC (USD)'],
      r.years.map((y) => [y.year, usdM(y.revenueUsd), num(y.btcRevenueSharePct, 1), usdM(y.ebitdaUsd), usdM(y.cashFlowUsd), usdM(y.cashFlowUsdSe), fmt(y.hashpriceUsdPerPhDay, 1), fmt(y.btcPriceUsd, 0)]),
    ),
    formatTable(
      ['site', 'use', 'MW', 'PV (USD M)', '± SE', 'PV per MW (USD M)'],
      r.valuePerMw.map((v) => [v.site, v.use, fmt(v.mw, 0), usdM(v.npvUsd), usdM(v.npvUsdSe), num(v.npvUsdPerMw / 1e6, 2)]),
    ),
    btcProcessLine(r.btcPriceProcess),
    `Sensitivity: ${r.sensitivity.basis}; base ${pmM({ mean: r.sensitivity.baseNpvUsd, se: r.sensitivity.baseNpvUsdSe })} M USD on those ${r.sensitivity.paths} paths.`,
    formatTable(
      ['sensitivity', 'low', 'NPV low (USD M)', 'high', 'NPV high (USD M)', 'range (USD M)'],
      r.sensitivity.bars.map((b) => [b.label, b.lowLabel, usdM(b.lowNpvUsd), b.highLabel, usdM(b.highNpvUsd), usdM(Math.abs(b.highNpvUsd - b.lowNpvUsd))]),
    ),
    'Notes:',
    ...r.notes.map((n) => `  ${n}`),
  ];
  return lines.join('\n') + '\n';
}

const plan: CommandSpec = {
  path: ['plan'],
  summary: 'multi-year Monte Carlo of the mining → AI pivot: NPV, IRR, revenue mix, and the best conversion schedule',
  description:
    'Reads a portfolio (sites, fleets, convertible MW, AI contract options, finance; see examples/) and simulates\n' +
    'BTC price, network hashrate and difficulty (exact retarget, halvings by height), fees, SYNTHETIC power prices\n' +
    'from the scenario generator, AI lease rates and tenant risk. Searches which MW of which site to convert in\n' +
    'which year on which contract. Model and assumptions: src/planner/README.md.',
  options: {
    portfolio: { type: 'string', value: 'FILE', description: 'portfolio YAML/JSON file', required: true },
    paths: { type: 'int', min: 1, max: LIMITS.paths, value: 'N', unit: 'paths', description: 'Monte Carlo paths', default: 2000 },
    years: { type: 'int', min: 1, max: 40, value: 'Y', unit: 'years', description: 'horizon (overrides finance.horizonYears)' },
    seed: { type: 'int', min: 0, max: LIMITS.seed, value: 'S', description: 'random seed (same seed and inputs give the same numbers)', default: 1 },
    report: { type: 'string', value: 'FILE.html', description: 'write a self-contained HTML report (fan charts, tornado)' },
    db: { type: 'string', value: 'FILE', description: 'market database to calibrate power, BTC volatility and the bootstrap from', env: 'MULLET_DB' },
    threads: { type: 'int', min: 1, max: LIMITS.workers, value: 'N', description: 'worker threads (default: available cores)' },
    'search-paths': { type: 'int', min: 10, max: LIMITS.paths, value: 'N', unit: 'paths', description: 'paths for the schedule search and sensitivity', default: 400 },
    schedule: {
      type: 'string',
      value: '[NAME=]SITE:MW@YYYY-MM[:CONTRACT][;…]',
      description: "a schedule of yours to evaluate beside the search's picks on the same paths (MW of IT; 'SITE:none' keeps mining); also the portfolio's schedules: list",
      multiple: true,
    },
  },
  json: true,
  examples: [
    'mullet plan --portfolio examples/portfolio-two-texas-sites.yaml --paths 5000 --report plan.html',
    "mullet plan --portfolio examples/portfolio-two-texas-sites.yaml --schedule 'build-now=Pecos:200@2026-01:hyperscaler-lease'",
    'mullet plan --portfolio p.yaml --db mullet.db --json',
  ],
  async run(args, io: CliIo) {
    const file = need(opt.str(args, 'portfolio'), 'portfolio');
    const paths = need(opt.num(args, 'paths'), 'paths');
    const seed = need(opt.num(args, 'seed'), 'seed');
    const searchPaths = need(opt.num(args, 'search-paths'), 'search-paths');
    const threads = opt.num(args, 'threads') ?? Math.min(availableParallelism(), LIMITS.workers);
    const portfolio = await readDataFile(file, PortfolioSchema, io.cwd);
    const years = opt.num(args, 'years');
    if (years !== undefined) portfolio.finance.horizonYears = years;
    const points = [...new Set(portfolio.sites.map((s) => s.settlementPoint.toUpperCase()))];
    let paramsFor = (sp: string): ScenarioParams => ({ ...DEFAULT_SCENARIO_PARAMS, settlementPoint: sp });
    let returns: Float64Array | undefined;
    const notes: string[] = [];
    const dbFile = opt.str(args, 'db');
    if (dbFile !== undefined) {
      const store = await openExistingStore(resolveStoreLocation(io.cwd, dbFile));
      try {
        const s = await fromStore(store, points, portfolio.finance.startDate);
        paramsFor = s.paramsFor;
        returns = s.returns;
        notes.push(...s.notes);
      } finally {
        await store.close();
      }
    } else {
      notes.push('no --db: power, BTC volatility and the network start use the built-in defaults (HB_WEST shape for every settlement point)');
    }
    const model = resolvePortfolio(portfolio, { paramsFor, seed, notes, ...(returns ? { btcDailyLogReturns: returns } : {}) });
    const fromFile = resolveUserSchedules(model, portfolio.schedules, 'schedules');
    const fromFlags = resolveUserSchedules(model, opt.strs(args, 'schedule').map(parseScheduleFlag), '--schedule');
    for (const u of fromFlags) if (fromFile.some((f) => f.name === u.name)) throw badInput(`schedule name '${u.name}' is also in the portfolio's schedules:`, '--schedule');
    const userSchedules = [...fromFile, ...fromFlags];
    const progress = createProgress(io, 'plan');
    const result = await runPlan(model, {
      paths,
      seed,
      searchPaths,
      userSchedules,
      runner: workerRunner(threads),
      onProgress: (phase, done, total) => {
        if (phase === 'monte-carlo') progress.update(done, total);
      },
    });
    progress.finish(`${paths} paths`);
    const reportFile = opt.str(args, 'report');
    if (reportFile !== undefined) {
      const html = renderPlanReport(result, await readChartJsSource());
      const out = path.resolve(io.cwd, reportFile);
      try {
        await writeFile(out, html, 'utf8');
      } catch (err) {
        throw new MulletError('IO', `cannot write the report: ${(err as Error).message}`, { where: reportFile, cause: err });
      }
      io.stderr(`report written to ${reportFile}\n`);
    }
    if (opt.bool(args, 'json')) printJson(io, planJson(result));
    else io.stdout(humanReport(result));
  },
};

export const planCommands: readonly CommandSpec[] = [plan];
