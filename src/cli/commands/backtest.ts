import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { badInput, MulletError } from '../../core/errors.js';
import { systemClock } from '../../core/time.js';
import { readChartJsSource } from '../../report/chartjs.js';
import { parseHashpriceCsv, type HashpriceSource } from '../../backtest/hashprice.js';
import { ledgerCsv } from '../../backtest/ledger-csv.js';
import { renderBacktestReport } from '../../backtest/report.js';
import { runBacktest, type BacktestOutcome } from '../../backtest/run.js';
import type { AsPriceSource } from '../../backtest/data.js';
import { parseDeploymentsCsv } from '../../backtest/deployments.js';
import { parseSweep, runSweep, SWEEP_PARAMETERS, type SweepPoint, type SweepResult } from '../../backtest/sweep.js';
import type { BacktestDocument, PolicySummary } from '../../backtest/summary.js';
import { REGRET_CAUSE_LABELS, REGRET_CAUSES } from '../../dispatch/compare.js';
import { isPolicyName, POLICY_NAMES, type PolicyName } from '../../dispatch/policies.js';
import { formatCpt } from '../../core/ercot-time.js';
import { DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT } from '../../market/hashprice-inputs.js';
import { parseSite } from '../../site/parse.js';
import { opt, need, type CliIo, type CommandSpec, type ParsedArgs } from '../command.js';
import { fmt, formatTable, printJson } from '../output.js';
import { createProgress } from '../progress.js';
import { DB_OPTION, openExistingStore, resolveStoreLocation } from '../store-open.js';
import { LIMITS } from '../../core/limits.js';
import { readFlagFile } from '../flag-file.js';


/**
 * `--compare all` in the order a comparison reads: the rule peers ship first (the primary: its
 * ledger columns and charts lead), the causal optimizer, the upper bound, the do-nothing baseline.
 */
export const COMPARE_ALL: readonly PolicyName[] = ['strike', 'rolling', 'optimal', 'mining-only'];

function policiesFrom(args: ParsedArgs): PolicyName[] {
  const primary = opt.str(args, 'policy');
  const compare = opt.str(args, 'compare');
  if (primary === undefined && compare === undefined) throw badInput(`give --policy (${POLICY_NAMES.join(', ')}) or --compare`, '--policy');
  const list: PolicyName[] = [];
  if (primary !== undefined) list.push(primary as PolicyName);
  if (compare !== undefined) {
    const names = compare === 'all' ? [...COMPARE_ALL] : compare.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const n of names) {
      if (!isPolicyName(n)) throw badInput(`unknown policy '${n}'; choose from ${POLICY_NAMES.join(', ')} or 'all'`, '--compare');
      if (!list.includes(n)) list.push(n);
    }
    // Regret needs the optimum.
    if (!list.includes('optimal')) list.push('optimal');
  }
  return list;
}

function hashpriceFrom(args: ParsedArgs, csvText: string | undefined): HashpriceSource {
  const constant = opt.num(args, 'hashprice-usd-per-ph-day');
  const csv = opt.str(args, 'hashprice-csv');
  if (constant !== undefined && csv !== undefined) throw badInput('give either --hashprice-usd-per-ph-day or --hashprice-csv, not both', '--hashprice-csv');
  if (constant !== undefined) return { kind: 'constant', usdPerPhDay: constant };
  if (csv !== undefined && csvText !== undefined) return { kind: 'csv', file: csv, byDay: parseHashpriceCsv(csvText, csv) };
  const share = opt.num(args, 'fee-share-of-subsidy-pct');
  if (share !== undefined && (constant !== undefined || csv !== undefined)) throw badInput('applies to the store hashprice only; drop it or --hashprice-*', '--fee-share-of-subsidy-pct');
  return { kind: 'store', feeShareOfSubsidyPct: share ?? DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, feeShareIsDefault: share === undefined };
}

/** A product's added value, or 'n/a' when its re-run was not solved to optimality (null). */
const valueCell = (v: number | null | undefined) => (v === null ? 'n/a' : fmt(v ?? 0, 0));

function humanSummary(out: BacktestOutcome): string {
  const d = out.doc;
  const lines = [
    `${d.site} at ${d.settlementPoint}, ${d.window.from}..${d.window.to} (CPT): ${fmt(d.intervals, 0)} of ${fmt(d.expectedIntervals, 0)} intervals settled${d.gaps.missingIntervals ? ` (${fmt(d.gaps.missingIntervals, 0)} skipped: gaps)` : ''}; hashprice ${fmt(d.hashprice.meanUsdPerPhDay)} USD/PH/day mean (${d.hashprice.source})`,
  ];
  if (d.fourCpPeaks.length) {
    const local = (iso: string) => formatCpt(Date.parse(iso)).slice(0, 16).replace('T', ' ');
    const when = (p: BacktestDocument['fourCpPeaks'][number]) =>
      p.basis === 'official'
        ? `${p.month} ${(p.intervalStartLocal ?? '').slice(0, 16).replace('T', ' ')} (official)`
        : `${p.month} worst of ${local(p.candidatesFromUtc)}–${local(p.candidatesToUtc).slice(11)} (estimated)`;
    lines.push(`4CP settlement intervals (CPT, 15-minute starts): ${d.fourCpPeaks.map(when).join(', ')}`);
  }
  lines.push('');
  const s = out.runs.map((r) => r.summary);
  const regret = s.some((x) => x.regretVsOptimalUsd !== undefined);
  const grid = s.some((x) => x.revenueUsd.ancillary !== 0 || x.costUsd.ancillaryPenalty !== 0);
  const headers = ['policy', 'net USD', 'AI USD', 'mining USD', 'resale USD', 'AI flex USD', 'AI pass-through USD', ...(grid ? ['grid services USD', 'grid penalties USD'] : []), 'energy USD', 'PPA USD', '4CP USD', 'mining MWh', 'uptime %', '4CP tag MW', ...(regret ? ['regret USD', 'regret %'] : []), 'solve s', 'fallbacks'];
  const row = (x: PolicySummary) => [
    x.policy,
    fmt(x.netUsd, 0),
    fmt(x.revenueUsd.ai, 0),
    fmt(x.revenueUsd.mining, 0),
    fmt(x.revenueUsd.powerResale, 0),
    fmt(x.revenueUsd.aiFlex, 0),
    fmt(x.revenueUsd.aiPassThrough, 0),
    ...(grid ? [fmt(x.revenueUsd.ancillary, 0), fmt(x.costUsd.ancillaryPenalty, 0)] : []),
    fmt(x.costUsd.energy, 0),
    fmt(x.costUsd.ppa, 0),
    fmt(x.costUsd.transmission, 0),
    fmt(x.miningEnergyMWh, 0),
    fmt(x.miningUptimePct, 1),
    fmt(x.fourCpTagMW, 2),
    ...(regret ? [fmt(x.regretVsOptimalUsd ?? 0, 0), fmt(x.regretVsOptimalPct ?? 0, 2)] : []),
    fmt(x.solveSeconds, 2),
    x.safeFallbacks,
  ];
  lines.push(formatTable(headers, s.map(row)));
  const withCauses = s.filter((x) => x.regretByCause !== undefined);
  if (withCauses.length > 0) {
    const ref = withCauses[0]?.regretByCause?.reference ?? 'optimal';
    const causes = REGRET_CAUSES.filter((c) => withCauses.some((x) => Math.abs(x.regretByCause?.causes.find((k) => k.cause === c)?.usd ?? 0) >= 0.5));
    lines.push(`Regret vs ${ref} by cause (USD; what ${ref} earned that the policy did not, interval by interval):`);
    lines.push(
      formatTable(
        ['policy', ...causes.map((c) => REGRET_CAUSE_LABELS[c]), 'total'],
        withCauses.map((x) => [x.policy, ...causes.map((c) => fmt(x.regretByCause?.causes.find((k) => k.cause === c)?.usd ?? 0, 0)), fmt(x.regretByCause?.gapUsd ?? 0, 0)]),
      ),
    );
  }
  const products = [...new Set(s.flatMap((x) => [...Object.keys(x.ancillaryByProduct), ...Object.keys(x.ancillaryValueByProduct ?? {})]))].filter((p) => p !== 'allProducts');
  if (products.length > 0) {
    lines.push('Grid services by product (USD): capacity revenue, and what the product added to net (net − net without it; re-run per product):');
    lines.push(
      formatTable(
        ['policy', ...products.flatMap((p) => [`${p} revenue`, `${p} added`]), 'all products added'],
        s.map((x) => [x.policy, ...products.flatMap((p) => [fmt(x.ancillaryByProduct[p] ?? 0, 0), x.ancillaryValueByProduct ? valueCell(x.ancillaryValueByProduct[p]) : '—']), x.ancillaryValueByProduct ? valueCell(x.ancillaryValueByProduct.allProducts) : '—']),
      ),
    );
  }
  for (const i of d.identical) lines.push(`same result: ${i.why}`);
  for (const x of s) for (const n of x.notes) lines.push(`${x.policy}: ${n}`);
  for (const n of d.notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

const backtest: CommandSpec = {
  path: ['backtest'],
  summary: 'replay real ERCOT prices through a dispatch policy and settle a full ledger',
  description: [
    'Runs a site (YAML, see examples/) over CPT days --from..--to (inclusive) at 15-minute real-time',
    'settlement. Policies: mining-only (fleets always on), strike (sleep above break-even, as peers do),',
    'optimal (perfect-foresight LP/MIP with HiGHS: the upper bound), rolling (re-optimizes every step over',
    'a look-ahead with day-ahead forecasts, settles at real-time). Intervals without a price are skipped',
    'and reported, never invented. A solver failure or time-out falls back to the strike rule.',
  ].join('\n'),
  options: {
    site: { type: 'string', value: 'FILE', description: 'site YAML file', required: true },
    from: { type: 'string', value: 'YYYY-MM-DD', description: 'first CPT operating day', required: true },
    to: { type: 'string', value: 'YYYY-MM-DD', description: 'last CPT operating day (inclusive)', required: true },
    policy: { type: 'string', value: 'NAME', description: 'policy to run (optional with --compare: it is then the primary one)', choices: POLICY_NAMES },
    compare: { type: 'string', value: 'POLICIES', description: "comma-separated policies (or 'all') to run on the same window; optimal is added for regret" },
    db: DB_OPTION,
    'hashprice-usd-per-ph-day': { type: 'number', min: 0, max: LIMITS.hashpriceUsdPerPhDay, value: 'X', unit: 'USD/PH/day', description: 'constant hashprice instead of the store (what-if)' },
    'hashprice-csv': { type: 'string', value: 'FILE', description: 'daily hashprice series: header, then YYYY-MM-DD,USD per PH/s per day' },
    'fee-share-of-subsidy-pct': {
      type: 'number',
      min: 0,
      max: 1000,
      value: 'PCT',
      unit: '% of subsidy',
      description: `fees per block assumed on days the store has no fee data (before 2022-12-30 in the shared data), labelled in the notes (default ${DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT})`,
    },
    report: { type: 'string', value: 'FILE.html', description: 'write a self-contained HTML report (charts inline)' },
    ledger: { type: 'string', value: 'FILE.csv', description: 'write the per-interval ledger of every policy run (a policy column; one block of rows per policy)' },
    sweep: {
      type: 'string',
      value: 'NAME=VALUES',
      description: `run --policy (default strike) over a grid and report net USD per point; NAME one of ${Object.keys(SWEEP_PARAMETERS).join(', ')}; VALUES v1,v2,… or FROM:TO:STEP (repeat for more axes)`,
      multiple: true,
    },
    'as-prices': {
      type: 'string',
      value: 'SOURCE',
      description: "AS clearing prices for sites with ancillary.products: 'store' (ERCOT's NP4-181-ER / NP4-188-CD imported; default) or 'synthetic[:SEED]' (SYNTHETIC, calibrated to published annual means; seed default 1)",
    },
    'as-deployments': { type: 'string', value: 'FILE.csv', description: "ERCOT deployments of grid products to settle: header 'product,start_utc,end_utc,fraction'" },
    'regret-vs': { type: 'string', value: 'NAME', description: 'reference policy for regret by cause (default optimal, when it runs)', choices: POLICY_NAMES },
    'time-limit': { type: 'number', gt: 0, max: LIMITS.periodS, value: 'SECONDS', unit: 's', description: 'solver time limit per solve (default: site dispatch.timeLimitSeconds)' },
  },
  json: true,
  examples: [
    'mullet backtest --site examples/riot-style-miner.yaml --from 2023-08-01 --to 2023-08-31 --policy optimal --json',
    'mullet backtest --site examples/riot-style-miner.yaml --from 2023-06-01 --to 2023-09-30 --sweep risk-pct=90:99:1 --sweep strike-offset=-10,0,10',
    'mullet backtest --site examples/west-texas-hybrid.yaml --from 2023-07-01 --to 2023-09-30 --compare strike,rolling --report bt.html',
  ],
  async run(args, io) {
    const siteFile = need(opt.str(args, 'site'), 'site');
    const sweeps = opt.strs(args, 'sweep');
    if (sweeps.length > 0) return runSweepCommand(args, io, siteFile, sweeps);
    const policies = policiesFrom(args);
    const common = await commonInputs(args, io, siteFile);
    const regretVs = opt.str(args, 'regret-vs') as PolicyName | undefined;
    if (regretVs !== undefined && !policies.includes(regretVs)) throw badInput(`'${regretVs}' is not among the policies run (${policies.join(', ')})`, '--regret-vs');
    const store = await openExistingStore(resolveStoreLocation(io.cwd, opt.str(args, 'db') ?? './mullet.db'));
    let out: BacktestOutcome;
    try {
      out = await runBacktest({
        ...common.run,
        policies,
        store,
        ...(regretVs !== undefined ? { regretVs } : {}),
        productValues: opt.str(args, 'compare') !== undefined,
        progress: (p) => createProgress(io, p, () => systemClock.nowMs()),
      });
    } finally {
      await store.close();
    }
    const primary = out.runs[0];
    if (!primary) throw new MulletError('INTERNAL', 'no policy ran');
    const ledgerFile = opt.str(args, 'ledger');
    if (ledgerFile !== undefined) {
      await writeFile(path.resolve(io.cwd, ledgerFile), ledgerCsv(out.input, out.runs.map((r) => ({ plan: r.result.plan, ledger: r.ledger }))));
      io.stderr(`ledger: ${ledgerFile} (${out.input.startMs.length} intervals × ${out.runs.length} polic${out.runs.length === 1 ? 'y' : 'ies'}: ${out.runs.map((r) => r.policy).join(', ')})\n`);
    }
    const reportFile = opt.str(args, 'report');
    if (reportFile !== undefined) {
      const html = renderBacktestReport({
        doc: out.doc,
        input: out.input,
        runs: out.runs.map((r) => ({ plan: r.result.plan, ledger: r.ledger, summary: r.summary })),
        chartJsSource: await readChartJsSource(),
      });
      await writeFile(path.resolve(io.cwd, reportFile), html);
      io.stderr(`report: ${reportFile} (${Math.round(html.length / 1024)} KiB)\n`);
    }
    if (opt.bool(args, 'json')) {
      const compare = out.runs.length > 1 ? { compare: out.runs.map((r) => r.summary) } : {};
      printJson(io, { ...out.doc, ...primary.summary, notes: [...out.doc.notes, ...primary.summary.notes], ...compare });
    } else io.stdout(humanSummary(out));
  },
};

/** What every back-test run reads from the flags and files: the site, the window, the hashprice source, the solver limit. */
async function commonInputs(args: ParsedArgs, io: CliIo, siteFile: string) {
  const csvFile = opt.str(args, 'hashprice-csv');
  const csvText = csvFile === undefined ? undefined : await readFlagFile(io, csvFile, '--hashprice-csv');
  const hashprice = hashpriceFrom(args, csvText);
  const site = parseSite(await readFlagFile(io, siteFile, '--site'), { file: siteFile });
  const timeLimit = opt.num(args, 'time-limit');
  const deployFile = opt.str(args, 'as-deployments');
  return {
    site,
    run: {
      site,
      from: need(opt.str(args, 'from'), 'from'),
      to: need(opt.str(args, 'to'), 'to'),
      hashprice,
      nowMs: () => systemClock.nowMs(),
      ...(timeLimit !== undefined ? { timeLimitSeconds: timeLimit } : {}),
      asPrices: asPricesFrom(args),
      ...(deployFile !== undefined ? { asDeployments: parseDeploymentsCsv(await readFlagFile(io, deployFile, '--as-deployments'), deployFile) } : {}),
    },
  };
}

function asPricesFrom(args: ParsedArgs): AsPriceSource {
  const v = opt.str(args, 'as-prices');
  if (v === undefined || v === 'store') return { kind: 'store' };
  const m = /^synthetic(?::(.{1,64}))?$/.exec(v);
  if (!m) throw badInput(`must be 'store' or 'synthetic[:SEED]', got '${v}'`, '--as-prices');
  const seed = m[1] ?? '1';
  return { kind: 'synthetic', seed: /^\d+$/.test(seed) ? Number(seed) : seed };
}

/** `backtest --sweep`: one policy over a grid of its parameters. */
async function runSweepCommand(args: ParsedArgs, io: CliIo, siteFile: string, sweeps: string[]): Promise<void> {
  for (const flag of ['compare', 'report', 'ledger', 'regret-vs'] as const) {
    if (opt.str(args, flag) !== undefined) throw badInput(`is not available with --sweep (run the best point without --sweep for its report and ledger)`, `--${flag}`);
  }
  const policy = (opt.str(args, 'policy') ?? 'strike') as PolicyName;
  const axes = sweeps.map(parseSweep);
  const common = await commonInputs(args, io, siteFile);
  const site = common.site;
  const store = await openExistingStore(resolveStoreLocation(io.cwd, opt.str(args, 'db') ?? './mullet.db'));
  const bar = createProgress(io, `sweep ${policy}`, () => systemClock.nowMs());
  let r: SweepResult;
  try {
    r = await runSweep({
      ...common.run,
      policy,
      axes,
      store,
      onProgress: (d, t) => bar.update(d, t),
    });
  } finally {
    await store.close();
  }
  bar.finish(`${r.points.length} points`);
  if (opt.bool(args, 'json')) {
    printJson(io, { site: site.name, window: { from: opt.str(args, 'from'), to: opt.str(args, 'to') }, sweep: r });
    return;
  }
  const names = r.parameters.map((p) => p.name);
  const label = (pt: SweepPoint) => names.map((n) => `${n}=${pt.params[n] ?? ''}`).join(', ');
  io.stdout(
    [
      `${site.name}, ${opt.str(args, 'from') ?? ''}..${opt.str(args, 'to') ?? ''} (CPT), ${fmt(r.intervals, 0)} intervals: ${r.policy} over ${r.points.length} points; optimal nets ${fmt(r.optimalNetUsd, 0)} USD`,
      ...r.parameters.map((p) => `  ${p.name} (${p.unit}): ${p.description}; the site file has ${fmt(p.siteValue, p.unit === 'intervals' ? 0 : 2)}`),
      '',
      formatTable(
        [...names.map((n) => `${n} (${r.parameters.find((p) => p.name === n)?.unit ?? ''})`), 'net USD', 'vs site file USD', 'regret vs optimal USD', ''],
        r.points.map((pt) => [...names.map((n) => fmt(pt.params[n] ?? NaN, Number.isInteger(pt.params[n]) ? 0 : 2)), fmt(pt.netUsd, 0), fmt(pt.vsSiteUsd, 0), fmt(pt.regretVsOptimalUsd, 0), pt === r.best ? '← best' : '']),
      ),
      `best: ${label(r.best)} → net ${fmt(r.best.netUsd, 0)} USD (${r.best.vsSiteUsd >= 0 ? '+' : ''}${fmt(r.best.vsSiteUsd, 0)} vs the site file's ${label(r.site)}; ${fmt(r.best.regretVsOptimalUsd, 0)} short of optimal)`,
      ...r.parameters
        .filter((p) => p.values.length > 1 && (r.best.params[p.name] === Math.min(...p.values) || r.best.params[p.name] === Math.max(...p.values)))
        .map((p) => `note: the best ${p.name} is at the edge of the values tried (${Math.min(...p.values)}..${Math.max(...p.values)} ${p.unit}): widen the sweep before taking it`),
      '',
    ].join('\n'),
  );
}

export const backtestCommands: readonly CommandSpec[] = [backtest];
