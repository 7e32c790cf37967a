/**
 * The history a replay runs on, and the back-test it is compared with. From the market store it is
 * literally `mullet backtest --policy rolling|strike` on the window (the same loader, the same
 * input, the same policy run and ledger); offline, the labelled synthetic generator.
 */
import { runBacktest } from '../backtest/run.js';
import type { HashpriceSource } from '../backtest/hashprice.js';
import { summarizePolicy, type PolicySummary } from '../backtest/summary.js';
import { MS_PER_DAY, MS_PER_HOUR, parseUtcDate } from '../core/time.js';
import { prepareDispatchInput } from '../dispatch/input.js';
import { settle } from '../dispatch/ledger.js';
import type { LpSolver } from '../dispatch/lp/solver.js';
import { runPolicy } from '../dispatch/policies.js';
import type { DispatchInput } from '../dispatch/types.js';
import { DEFAULT_SCENARIO_PARAMS } from '../scenario/defaults.js';
import { generateMarket, syntheticDailyHashprice } from '../scenario/generate.js';
import { SYNTHETIC_LABEL } from '../scenario/params.js';
import type { Site } from '../site/types.js';
import type { MarketStore } from '../market/store-port.js';
import type { LivePolicy } from './dispatcher.js';

export interface History {
  /** What settles: realized prices, hashprice, 4CP of the window. */
  truth: DispatchInput;
  /** Where it came from (shown with every figure). */
  source: string;
  notes: string[];
  /** The back-test of the same window with the same policy. */
  backtest: PolicySummary;
}

export interface StoreHistoryOptions {
  site: Site;
  store: MarketStore;
  /** CPT days, inclusive. */
  from: string;
  to: string;
  hashprice: HashpriceSource;
  policy: LivePolicy;
  solver: LpSolver;
  nowMs: () => number;
}

export async function storeHistory(o: StoreHistoryOptions): Promise<History> {
  const out = await runBacktest({ site: o.site, store: o.store, from: o.from, to: o.to, hashprice: o.hashprice, policies: [o.policy], solver: o.solver, nowMs: o.nowMs });
  const run = out.runs[0];
  if (!run) throw new Error('back-test returned no run');
  return { truth: out.input, source: `market store, ${o.site.market.settlementPoint} ${o.from}..${o.to} (CPT days)`, notes: out.doc.notes, backtest: run.summary };
}

export interface SyntheticHistoryOptions {
  site: Site;
  /** First UTC day. */
  from: string;
  days: number;
  seed: number;
  policy: LivePolicy;
  solver: LpSolver;
  nowMs: () => number;
}

/** A seeded SYNTHETIC window (labelled): works on a fresh clone with no data. */
export function syntheticHistory(o: SyntheticHistoryOptions): History {
  const startMs = parseUtcDate(o.from);
  const m = generateMarket({ ...DEFAULT_SCENARIO_PARAMS, settlementPoint: o.site.market.settlementPoint }, { seed: o.seed, startMs, days: o.days });
  const rt = m.rtPrice.values;
  const n = rt.length;
  const stepMs = m.rtPrice.intervalMinutes * 60_000;
  const hp = syntheticDailyHashprice(m);
  const starts = new Float64Array(n);
  const da = new Float64Array(n);
  const hashprice = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ms = startMs + i * stepMs;
    starts[i] = ms;
    da[i] = m.daPrice.values[Math.floor((ms - startMs) / MS_PER_HOUR)] as number;
    hashprice[i] = hp[Math.floor((ms - startMs) / MS_PER_DAY)] as number;
  }
  const loadStarts = Float64Array.from({ length: m.systemLoad.values.length }, (_, h) => startMs + h * MS_PER_HOUR);
  const { input, notes } = prepareDispatchInput({
    site: o.site,
    intervalMinutes: m.rtPrice.intervalMinutes,
    fromMs: startMs,
    toMs: startMs + o.days * MS_PER_DAY,
    startMs: starts,
    rtPriceUsdPerMWh: Float64Array.from(rt),
    hashpriceUsdPerPhDay: hashprice,
    daPriceUsdPerMWh: da,
    systemLoad: { startMs: loadStarts, loadMW: m.systemLoad.values },
  });
  const result = runPolicy(o.policy, input, { solver: o.solver, nowMs: o.nowMs });
  const backtest = summarizePolicy(input, result, settle(input, result.plan));
  return { truth: input, source: `${SYNTHETIC_LABEL}: seed ${o.seed}, ${o.days} day(s) from ${o.from}`, notes: [...m.notes, ...notes], backtest };
}
