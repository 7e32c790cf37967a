/**
 * Back-test orchestration: store → series → dispatch input → each policy → the one ledger →
 * summaries. The CLI and the benchmark call this; the pure core does the work.
 */
import { badInput } from '../core/errors.js';
import { MS_PER_DAY, parseUtcDate } from '../core/time.js';
import { prepareDispatchInput } from '../dispatch/input.js';
import { settle, type Ledger } from '../dispatch/ledger.js';
import { loadHighsSolver } from '../solver/highs.js';
import type { LpSolver } from '../dispatch/lp/solver.js';
import { needsSolver, runPolicy, type PolicyName } from '../dispatch/policies.js';
import type { AsDeployment, DispatchInput, PolicyResult } from '../dispatch/types.js';
import { cptWallToUtcMs } from '../core/ercot-time.js';
import type { Site } from '../site/types.js';
import type { MarketStore } from '../market/store-port.js';
import { loadBacktestData, type AsPriceSource, type BacktestData } from './data.js';
import type { HashpriceSource } from './hashprice.js';
import { addRegret, backtestDocument, identicalPairs, roundBreakdown, summarizePolicy, type BacktestDocument, type PolicySummary } from './summary.js';
import { regretByCause } from '../dispatch/compare.js';

export interface PolicyRun {
  policy: PolicyName;
  result: PolicyResult;
  ledger: Ledger;
  summary: PolicySummary;
}

export interface BacktestOutcome {
  data: BacktestData;
  input: DispatchInput;
  runs: PolicyRun[];
  doc: BacktestDocument;
}

export interface BacktestOptions {
  site: Site;
  /** CPT calendar days, inclusive: 'YYYY-MM-DD'. */
  from: string;
  to: string;
  policies: readonly PolicyName[];
  store: MarketStore;
  hashprice: HashpriceSource;
  nowMs: () => number;
  solver?: LpSolver;
  timeLimitSeconds?: number;
  /** Reference policy for regret by cause (default: optimal when it ran). */
  regretVs?: PolicyName;
  /** AS clearing prices: the store (default) or SYNTHETIC. */
  asPrices?: AsPriceSource;
  /** Re-run policies without each grid product to show what it added (--compare does). */
  productValues?: boolean;
  /** ERCOT deployments of grid products to settle (--as-deployments). */
  asDeployments?: readonly AsDeployment[];
  /** Progress hooks per policy (the CLI draws bars on stderr). */
  progress?: (policy: PolicyName) => { update(done: number, total: number): void; finish(message?: string): void };
}

/** Longest back-test window, days: 10 years (one optimal LP over a year takes ~400 MB). */
export const MAX_WINDOW_DAYS = 3653;

/** [fromMs, toMs) of CPT days `from`..`to` inclusive; BAD_INPUT naming the flag when malformed. */
export function cptWindow(from: string, to: string): { fromMs: number; toMs: number } {
  const day = (s: string, flag: string) => {
    try {
      const d = new Date(parseUtcDate(s));
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    } catch (err) {
      throw badInput(err instanceof Error ? err.message : String(err), flag);
    }
  };
  const a = day(from, '--from');
  const b = day(to, '--to');
  const next = new Date(parseUtcDate(to) + MS_PER_DAY);
  const fromMs = cptWallToUtcMs(a, 0);
  const toMs = cptWallToUtcMs({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, 0);
  if (cptWallToUtcMs(b, 0) < fromMs) throw badInput(`must not be before --from ${from}`, '--to');
  if (toMs - fromMs > MAX_WINDOW_DAYS * MS_PER_DAY) throw badInput(`is more than ${MAX_WINDOW_DAYS} days (10 years) after --from ${from}; back-test in parts`, '--to');
  return { fromMs, toMs };
}

function describeSource(h: HashpriceSource, data: BacktestData): string {
  if (h.kind === 'store' && data.assumedFeeDays.length > 0) {
    return `market store (daily BTC price, difficulty, fees, height); ASSUMED fees of ${h.feeShareOfSubsidyPct} % of the subsidy on ${data.assumedFeeDays.length} day(s) without fee data`;
  }
  return describeHashpriceSource(h);
}

function describeHashpriceSource(h: HashpriceSource): string {
  switch (h.kind) {
    case 'constant':
      return `constant ${h.usdPerPhDay} USD/PH/day`;
    case 'csv':
      return `series ${h.file}`;
    case 'store':
      return 'market store (daily BTC price, difficulty, fees, height)';
  }
}

/** Runs the policies over the window and settles each with the same ledger. */
export async function runBacktest(o: BacktestOptions): Promise<BacktestOutcome> {
  const { fromMs, toMs } = cptWindow(o.from, o.to);
  const data = await loadBacktestData(o.store, o.site, fromMs, toMs, o.hashprice, o.asPrices);
  const prepared = prepareDispatchInput(data.series);
  const notes = prepared.notes;
  let input = prepared.input;
  if (o.asDeployments) {
    const inWindow = o.asDeployments.filter((d) => d.endMs > fromMs && d.startMs < toMs);
    input = { ...input, asDeployments: inWindow };
    notes.push(`grid services: ${inWindow.length} deployment(s) in the window settled (of ${o.asDeployments.length} given)`);
  } else if (o.site.ancillary) notes.push('grid services: no deployments given (--as-deployments): none settled, so the deployments\' energy effect is missing from net');
  const solver = o.policies.some(needsSolver) ? (o.solver ?? (await loadHighsSolver())) : undefined;
  const runs: PolicyRun[] = [];
  for (const policy of o.policies) {
    const bar = o.progress?.(policy);
    // Single-solve policies have no steps to report: show that they started.
    if (policy !== 'rolling') bar?.update(0, 1);
    const result = runPolicy(policy, input, {
      nowMs: o.nowMs,
      ...(solver ? { solver } : {}),
      ...(o.timeLimitSeconds !== undefined ? { timeLimitSeconds: o.timeLimitSeconds } : {}),
      ...(bar ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}),
    });
    const ledger = settle(input, result.plan);
    bar?.finish(`net ${Math.round(ledger.totals.netUsd).toLocaleString('en-US')} USD`);
    runs.push({ policy, result, ledger, summary: summarizePolicy(input, result, ledger) });
  }
  addRegret(runs.map((r) => r.summary));
  const ref = runs.find((r) => r.policy === (o.regretVs ?? 'optimal'));
  if (ref) {
    for (const r of runs) if (r !== ref) r.summary.regretByCause = roundBreakdown(regretByCause(input, { plan: r.result.plan, ledger: r.ledger }, { plan: ref.result.plan, ledger: ref.ledger }));
  }
  if (o.productValues) {
    for (const r of runs) {
      // Rolling re-solves every step: leave-one-out re-runs of it cost a back-test each, so they are left to the user.
      if (r.policy === 'rolling') continue;
      const v = productValues(input, r.policy, r.ledger.totals.netUsd, { nowMs: o.nowMs, ...(solver ? { solver } : {}), ...(o.timeLimitSeconds !== undefined ? { timeLimitSeconds: o.timeLimitSeconds } : {}) });
      if (v) {
        r.summary.ancillaryValueByProduct = v.values;
        r.summary.notes.push(...v.notes);
      }
    }
  }
  const doc = backtestDocument(o.site.name, o.site.market.settlementPoint, o.from, o.to, data, input, describeSource(o.hashprice, data), [...data.notes, ...notes]);
  doc.identical = identicalPairs(input, runs);
  return { data, input, runs, doc };
}


/**
 * What each grid product added to a policy's net: net(all products) − net(without that product), and
 * `allProducts`: net(all) − net(no grid services). USD, rounded to the cent. Undefined without products.
 * A re-run that was not solved to optimality (a MIP stopped at the time limit, a safe fallback) makes
 * its difference unreliable: it is reported as null with a note (raise --time-limit).
 */
export function productValues(input: DispatchInput, policy: PolicyName, netUsd: number, options: Parameters<typeof runPolicy>[2]): { values: Record<string, number | null>; notes: string[] } | undefined {
  const anc = input.site.ancillary;
  if (!anc) return undefined;
  const products = [...anc.products, ...new Set(anc.ers.map((e) => e.product))];
  if (products.length === 0) return undefined;
  const notes: string[] = [];
  const without = (drop: readonly string[], label: string): number | null => {
    const site: Site = { ...input.site, ancillary: { ...anc, products: anc.products.filter((p) => !drop.includes(p)), ers: anc.ers.filter((e) => !drop.includes(e.product)) } };
    const alt = { ...input, site };
    const r = runPolicy(policy, alt, options);
    const inexact = r.safeFallbacks > 0 || r.notes.some((n) => /time-limit|stopped at/.test(n));
    if (inexact) {
      notes.push(`value of ${label}: the re-run without it was not solved to optimality (${r.notes.find((n) => /time-limit|stopped at|FALLBACK/.test(n)) ?? 'safe fallback'}); reported as null (raise --time-limit)`);
      return null;
    }
    return Math.round((netUsd - settle(alt, r.plan).totals.netUsd) * 100) / 100;
  };
  const values: Record<string, number | null> = {};
  for (const p of products) values[p] = without([p], p);
  values.allProducts = without(products, 'all products');
  return { values, notes };
}
