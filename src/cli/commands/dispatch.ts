/**
 * `mullet dispatch plan`: the agent's plan file for an operating day (default tomorrow, CPT) from
 * the day-ahead prices in the market store. The day's DA prices are known the day before, so the
 * plan is dispatched on them as if realized (optimal: the LP with HiGHS; strike; mining-only) and
 * written with `planFileFromPlan()` — each interval carries the DA price it was planned on — for
 * `mullet agent --plan FILE` (the agent re-reads the file when it changes; it is replaced
 * atomically, so the agent never reads half of it).
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, readBtcDayView } from '../../market/hashprice-inputs.js';
import { dailyHashprice } from '../../backtest/hashprice.js';
import { cptWindow } from '../../backtest/run.js';
import { badInput, MulletError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { MS_PER_DAY, MS_PER_MINUTE, parseUtcDate, systemClock, utcDate } from '../../core/time.js';
import { prepareDispatchInput } from '../../dispatch/input.js';
import { fleetModel, strikeUsdPerMWh } from '../../dispatch/fleet-model.js';
import { needsSolver, runPolicy, type PolicyName } from '../../dispatch/policies.js';
import { planFileFromPlan } from '../../fleet/agent/plan-file.js';
import { formatCpt } from '../../core/ercot-time.js';
import { parseSite } from '../../site/parse.js';
import type { Site } from '../../site/types.js';
import type { MarketStore } from '../../market/store-port.js';
import { need, opt, type CommandSpec } from '../command.js';
import { readFlagFile } from '../flag-file.js';
import { fmt, printJson } from '../output.js';
import { DB_OPTION, openExistingStore, resolveStoreLocation } from '../store-open.js';

const INTERVAL_MINUTES = 15;
/** Policies that can plan a day from its DA prices (rolling needs realized prices as it goes). */
const PLAN_POLICIES = ['optimal', 'strike', 'mining-only'] as const;
/** The hashprice of the latest day with Bitcoin data, at most this many days before the plan day. */
const HASHPRICE_LOOKBACK_DAYS = 14;

/** The CPT operating day after the one `nowMs` falls in, 'YYYY-MM-DD'. */
export function tomorrowCpt(nowMs: number): string {
  return utcDate(parseUtcDate(formatCpt(nowMs).slice(0, 10)) + MS_PER_DAY);
}

/** DA price of every 15-minute interval of [fromMs, toMs), NaN where the store has none. */
async function daPrices(store: MarketStore, site: Site, fromMs: number, toMs: number): Promise<Float64Array> {
  const step = INTERVAL_MINUTES * MS_PER_MINUTE;
  const out = new Float64Array((toMs - fromMs) / step).fill(NaN);
  for (const p of await store.prices({ market: site.market.iso, settlementPoint: site.market.settlementPoint, kind: 'DA', fromMs: fromMs - MS_PER_DAY, toMs })) {
    for (let t = p.intervalStartMs; t < p.intervalStartMs + p.intervalMinutes * MS_PER_MINUTE; t += step) {
      if (t >= fromMs && t < toMs) out[(t - fromMs) / step] = p.priceUsdPerMWh;
    }
  }
  return out;
}

/** The latest store hashprice at most HASHPRICE_LOOKBACK_DAYS before `day` (tomorrow's is not known yet). */
async function latestHashprice(store: MarketStore, day: string): Promise<{ usdPerPhDay: number; day: string } | null> {
  const days: string[] = [];
  for (let k = 0; k <= HASHPRICE_LOOKBACK_DAYS; k++) days.push(utcDate(parseUtcDate(day) - k * MS_PER_DAY));
  const hp = dailyHashprice({ kind: 'store', feeShareOfSubsidyPct: DEFAULT_FEE_SHARE_OF_SUBSIDY_PCT, feeShareIsDefault: true }, days, await readBtcDayView(store, days[days.length - 1] ?? day, day));
  for (const d of days) {
    const v = hp.get(d);
    if (v !== undefined) return { usdPerPhDay: v, day: d };
  }
  return null;
}

const plan: CommandSpec = {
  path: ['dispatch', 'plan'],
  summary: "write the agent's plan file for an operating day from the day-ahead prices in the store",
  description: [
    'Dispatches the site over one CPT operating day (default: tomorrow) on its day-ahead prices,',
    'known the day before, and writes the plan file `mullet agent --plan FILE` follows (MW per fleet',
    'per 15-minute interval, each with the DA price it was planned on). Every interval of the day',
    'needs a DA price (import or fetch them first). The hashprice is the latest day the store has',
    'Bitcoin data for (at most 14 days back), or --hashprice-usd-per-ph-day. The file is replaced',
    'atomically, so a running agent picks it up whole.',
  ].join('\n'),
  options: {
    site: { type: 'string', value: 'FILE', description: 'site YAML file', required: true },
    date: { type: 'string', value: 'YYYY-MM-DD', description: 'CPT operating day to plan (default: tomorrow in CPT)' },
    policy: { type: 'string', value: 'NAME', description: 'dispatch policy run on the DA prices', choices: PLAN_POLICIES, default: 'optimal' },
    out: { type: 'string', value: 'FILE', description: 'plan file to write', default: 'plan.json' },
    db: DB_OPTION,
    'hashprice-usd-per-ph-day': { type: 'number', min: 0, max: LIMITS.hashpriceUsdPerPhDay, value: 'X', unit: 'USD/PH/day', description: 'hashprice for the day instead of the latest in the store' },
    'time-limit': { type: 'number', gt: 0, max: LIMITS.periodS, value: 'SECONDS', unit: 's', description: 'solver time limit (default: site dispatch.timeLimitSeconds)' },
  },
  json: true,
  examples: ['mullet dispatch plan --site examples/riot-style-miner.yaml --out plan.json', 'mullet dispatch plan --site site.yaml --date 2025-08-02 --policy strike --json'],
  async run(args, io) {
    const siteFile = need(opt.str(args, 'site'), 'site');
    const site = parseSite(await readFlagFile(io, siteFile, '--site'), { file: siteFile });
    if (site.fleets.length === 0) throw badInput('the site has no fleets: there is nothing for the agent to plan', '--site');
    const day = opt.str(args, 'date') ?? tomorrowCpt(systemClock.nowMs());
    let fromMs: number;
    let toMs: number;
    try {
      ({ fromMs, toMs } = cptWindow(day, day));
    } catch (err) {
      throw badInput(err instanceof Error ? err.message.replace(/^--from: /, '') : String(err), '--date');
    }
    const policy = (opt.str(args, 'policy') ?? 'optimal') as PolicyName;
    const out = path.resolve(io.cwd, opt.str(args, 'out') ?? 'plan.json');
    const store = await openExistingStore(resolveStoreLocation(io.cwd, opt.str(args, 'db') ?? './mullet.db'));
    let da: Float64Array;
    let hashprice: { usdPerPhDay: number; day: string | null };
    try {
      da = await daPrices(store, site, fromMs, toMs);
      const constant = opt.num(args, 'hashprice-usd-per-ph-day');
      const fromStore = constant === undefined ? await latestHashprice(store, day) : null;
      if (constant === undefined && !fromStore) {
        throw new MulletError('NO_DATA', `the market store has no Bitcoin data to compute a hashprice from in the ${HASHPRICE_LOOKBACK_DAYS} days up to ${day}; import Bitcoin data or give --hashprice-usd-per-ph-day`, { where: '--db' });
      }
      hashprice = constant !== undefined ? { usdPerPhDay: constant, day: null } : (fromStore as { usdPerPhDay: number; day: string });
    } finally {
      await store.close();
    }
    const missing = da.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0);
    if (missing > 0) {
      const first = da.findIndex((v) => Number.isNaN(v));
      throw new MulletError(
        'NO_DATA',
        `${missing} of ${da.length} intervals of ${day} (CPT) have no ${site.market.iso} ${site.market.settlementPoint} day-ahead price (first: ${formatCpt(fromMs + first * INTERVAL_MINUTES * MS_PER_MINUTE).slice(0, 16)} CPT); ` +
          "a plan with holes would put the agent in safe mode there: fetch or import the day's DA prices ('mullet fetch', 'mullet data import')",
        { where: 'market.settlementPoint' },
      );
    }
    const startMs = Float64Array.from({ length: da.length }, (_, i) => fromMs + i * INTERVAL_MINUTES * MS_PER_MINUTE);
    // The strike rule decides an interval on the price before it (real time is known only after);
    // day-ahead prices are known in advance, so it is handed each interval's own price.
    const seen = policy === 'strike' ? Float64Array.from(da, (_, i) => da[Math.min(i + 1, da.length - 1)] as number) : da;
    const { input, notes } = prepareDispatchInput({
      site,
      intervalMinutes: INTERVAL_MINUTES,
      fromMs,
      toMs,
      startMs,
      rtPriceUsdPerMWh: seen,
      daPriceUsdPerMWh: da,
      hashpriceUsdPerPhDay: new Float64Array(da.length).fill(hashprice.usdPerPhDay),
    });
    const timeLimit = opt.num(args, 'time-limit');
    const solver = needsSolver(policy) ? await (await import('../../solver/highs.js')).loadHighsSolver() : undefined;
    const result = runPolicy(policy, input, { nowMs: () => systemClock.nowMs(), ...(solver ? { solver } : {}), ...(timeLimit !== undefined ? { timeLimitSeconds: timeLimit } : {}) });
    const offset = site.dispatch.strike.offsetUsdPerMWh ?? 0;
    const strikes = site.fleets.map((f) => strikeUsdPerMWh(fleetModel(f), hashprice.usdPerPhDay) + offset);
    const file = planFileFromPlan(site, result.plan, startMs, INTERVAL_MINUTES, da, strikes);
    const tmp = `${out}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(file, null, 1) + '\n');
    await rename(tmp, out);
    const hours = INTERVAL_MINUTES / 60;
    const nameplateMW = site.fleets.reduce((a, f) => a + (f.count * f.powerW * f.pue) / 1e6, 0);
    const miningMWh = file.intervals.reduce((a, iv) => a + iv.fleetMW.reduce((x, y) => x + y, 0) * hours, 0);
    const curtailedIntervals = file.intervals.filter((iv) => iv.fleetMW.reduce((x, y) => x + y, 0) < nameplateMW - 1e-6).length;
    const meanDa = da.reduce((a, b) => a + b, 0) / da.length;
    const allNotes = [...notes, ...result.notes, ...(result.safeFallbacks > 0 ? [`${result.safeFallbacks} solve(s) fell back to the strike rule`] : [])];
    const summary = {
      file: out,
      site: site.name,
      date: day,
      policy: result.plan.policy,
      intervals: file.intervals.length,
      firstIntervalStart: file.intervals[0]?.start ?? null,
      miningMWh,
      curtailedIntervals,
      meanDaPriceUsdPerMWh: meanDa,
      hashpriceUsdPerPhDay: hashprice.usdPerPhDay,
      hashpriceDay: hashprice.day,
      safeFallbacks: result.safeFallbacks,
      notes: allNotes,
    };
    if (opt.bool(args, 'json')) {
      printJson(io, summary);
      return;
    }
    io.stdout(
      [
        `${out}: ${site.name} ${day} (CPT), ${policy} on day-ahead prices (mean ${fmt(meanDa, 2)} USD/MWh), hashprice ${fmt(hashprice.usdPerPhDay, 2)} USD/PH/day${hashprice.day ? ` (${hashprice.day})` : ''}`,
        `${file.intervals.length} intervals, ${fmt(miningMWh, 1)} MWh of mining, ${curtailedIntervals} interval(s) below nameplate; run it with: mullet agent --plan ${path.relative(io.cwd, out) || out} …`,
        ...allNotes.map((n) => `note: ${n}`),
        '',
      ].join('\n'),
    );
  },
};

export const dispatchCommands: readonly CommandSpec[] = [plan];
