import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO_PARAMS } from '../scenario/defaults.js';
import { SYNTHETIC_LABEL } from '../scenario/params.js';
import { deterministicPlan } from './deterministic.js';
import { PathEvaluator, slot } from './evaluate.js';
import { runMonteCarlo } from './montecarlo.js';
import { runPlan } from './plan.js';
import { PortfolioSchema } from './portfolio.js';
import { resolvePortfolio, type PlanModel } from './resolve.js';
import { cashSeries, NO_CONVERSION, type Schedule } from './schedule.js';
import { candidateValues, searchSchedules } from './search.js';
import { parseScheduleFlag, resolveUserSchedules } from './user-schedules.js';

const ZERO_VOL = {
  btc: { model: 'gbm', volPctPerYear: 0, driftPctPerYear: 5 },
  fees: { sigmaLog: 0 },
  network: { noisePctPerMonth: 0 },
  power: { sampling: 'mean', poolYears: 1 },
  aiLease: { volPctPerYear: 0 },
  tenants: { defaultPctPerYear: 0, renewalPct: 100 },
};

describe('BTC price process', () => {
  const bare = { name: 'p', finance: { startDate: '2026-01-01', horizonYears: 8, discountRatePct: 10 }, scenarios: { power: { poolYears: 1 } }, sites: [miningSite(false)] };

  it('defaults to the calibrated drift (not zero) and says where it and the volatility came from', () => {
    const m = model(bare);
    const d = DEFAULT_SCENARIO_PARAMS.btc;
    expect(m.scenario.btc.driftPerYear).toBe(d.priceDriftPerYear);
    expect(m.btcPriceProcess).toMatchObject({ model: 'gbm', driftSource: 'calibrated, the built-in defaults 2022-01-01..2025-12-29' });
    expect(m.btcPriceProcess.volPctPerYear).toBeCloseTo(51.8, 9);
    // The median path grows at μ − σ²/2 (16.1 %/yr), not shrinks as with μ = 0 (−13.4 %/yr: 34 % of the price after 8 years).
    expect(m.btcPriceProcess.medianGrowthPctPerYear).toBeCloseTo(100 * (0.295 - 0.518 ** 2 / 2), 9);
    expect(Math.exp(8 * (0.295 - 0.518 ** 2 / 2))).toBeGreaterThan(3.5);
    expect(m.notes.join('\n')).toMatch(/btc drift: 29\.5 %\/yr \(calibrated, the built-in defaults 2022-01-01\.\.2025-12-29; the median path grows 16\.1 %\/yr; s\.e\. ±25\.9 %\/yr/);
    const own = model({ ...bare, scenarios: { ...bare.scenarios, btc: { driftPctPerYear: 0 } } });
    expect(own.btcPriceProcess.driftSource).toBe('portfolio (scenarios.btc.driftPctPerYear)');
  });

  it('the tornado moves the drift by ± one standard error, on the same paths', async () => {
    const r = await runPlan(model(bare), { paths: 60, seed: 3, searchPaths: 60 });
    const bar = r.sensitivity.bars.find((b) => b.factor === 'btcDrift');
    expect(bar?.label).toBe('BTC drift (+29.5 %/yr ± 1 s.e.)');
    expect([bar?.lowLabel, bar?.highLabel]).toEqual(['+3.6 %/yr', '+55.4 %/yr']);
    // A miner is worth more when BTC drifts up.
    expect(bar?.highNpvUsd).toBeGreaterThan(r.sensitivity.baseNpvUsd);
    expect(bar?.lowNpvUsd).toBeLessThan(r.sensitivity.baseNpvUsd);
    expect(r.btcPriceProcess.driftPctPerYear).toBeCloseTo(29.5, 9);
  });
});

function model(raw: unknown, seed = 1): PlanModel {
  return resolvePortfolio(PortfolioSchema.parse(raw), { paramsFor: () => DEFAULT_SCENARIO_PARAMS, seed });
}

const miningSite = (ai: boolean) => ({
  name: 'West',
  interconnectMW: 120,
  power: { kind: 'market', adderUsdPerMWh: 5 },
  mining: {
    opexUsdPerMWYear: 40000,
    fleets: [
      { model: 'Antminer S21', count: 10000 },
      { model: 'Antminer S19j Pro', count: 20000 },
    ],
    refresh: [{ replaces: 'Antminer S19j Pro', model: 'Antminer S21 XP', usdPerTh: 12, year: 2027 }],
  },
  ...(ai
    ? {
        ai: {
          convertibleItMW: 60,
          stepItMW: 30,
          pue: 1.25,
          capexUsdPerMW: 9_000_000,
          leadTimeMonths: 12,
          opexUsdPerMWYear: 80_000,
          contracts: [
            { name: 'lease', kind: 'lease', usdPerKwMonth: 150, termYears: 10, escalatorPct: 3, prepayPct: 10, rampMonths: 6 },
            { name: 'cloud', kind: 'gpu-cloud', gpu: 'H100 SXM', usdPerGpuHour: 1.8, termYears: 5, escalatorPct: -10, usdPerGpu: 35_000 },
          ],
        },
      }
    : {}),
});

const fixedSite = {
  name: 'North',
  settlementPoint: 'HB_NORTH',
  interconnectMW: 60,
  power: { kind: 'fixed', usdPerMWh: 30, resale: true },
  mining: { fleets: [{ model: 'Antminer S19 XP', count: 15000 }] },
};

const finance = { startDate: '2026-01-01', horizonYears: 4, discountRatePct: 10, taxRatePct: 21 };

describe('planner: zero volatility', () => {
  it('every Monte Carlo path equals the deterministic cash flow', async () => {
    const m = model({ name: 'zv', finance, scenarios: ZERO_VOL, sites: [miningSite(true), fixedSite] });
    const schedule: Schedule = [{ itMW: 30, startMonth: 12, contract: 0, refreshMask: 1 }, NO_CONVERSION];
    const det = deterministicPlan(m, 7, schedule);
    const mc = await runMonteCarlo(m, 7, [schedule, schedule.map(() => NO_CONVERSION)], 300);
    const h = mc.acc.hists[slot.npv(mc.layout, 0)];
    expect(h).toBeTruthy();
    const mean = (mc.acc.sums[slot.npv(mc.layout, 0)] as number) / 300;
    expect(mean).toBeCloseTo(det.npvUsd, 0);
    expect(Math.abs(mean / det.npvUsd - 1)).toBeLessThan(1e-12);
    // All paths identical: min = max = the deterministic NPV, so every quantile is it.
    const t = h?.totals as Float64Array;
    expect(t[2]).toBe(det.npvUsd);
    expect(t[3]).toBe(det.npvUsd);
    // Year-1 EBITDA the same way.
    const e0 = (mc.acc.sums[slot.ebitda(mc.layout, 0, 0)] as number) / 300;
    const detE0 = det.flows.ebitda.subarray(0, 12).reduce((a, b) => a + b, 0);
    expect(Math.abs(e0 / detE0 - 1)).toBeLessThan(1e-12);
    // With drift 5 %/yr and no volatility the BTC price grows exactly along e^{μt}.
    expect((det.btcPriceUsd[12] as number) / (det.btcPriceUsd[0] as number)).toBeCloseTo(Math.exp(0.05 * (365 / 365)), 2);
  });
});

describe('planner: lease-only site', () => {
  it('NPV equals the closed-form escalating annuity', () => {
    const r = 150;
    const mw = 50;
    const e = 0.03;
    const d = 0.08;
    const years = 10;
    const m = model({
      name: 'lease only',
      finance: { startDate: '2026-01-01', horizonYears: years, discountRatePct: 100 * d, terminalValue: 'none' },
      scenarios: ZERO_VOL,
      sites: [
        {
          name: 'Shell',
          interconnectMW: 60,
          power: { kind: 'market' },
          ai: {
            convertibleItMW: mw,
            pue: 1.1,
            capexUsdPerMW: 0,
            leadTimeMonths: 0,
            contracts: [{ name: 'lease', kind: 'lease', usdPerKwMonth: r, termYears: years, escalatorPct: 100 * e }],
          },
        },
      ],
    });
    const det = deterministicPlan(m, 1, [{ itMW: mw, startMonth: 0, contract: 0, refreshMask: 0 }]);
    // Month m (1-based) pays MW·1000·r·(1+e)^floor((m−1)/12), discounted (1+d)^(−m/12):
    // Σ_y ((1+e)/(1+d))^y · Σ_{k=1..12} (1+d)^(−k/12).
    const a = (1 - 1 / (1 + d)) / (Math.pow(1 + d, 1 / 12) - 1);
    const q = (1 + e) / (1 + d);
    const closed = mw * 1000 * r * a * ((1 - Math.pow(q, years)) / (1 - q));
    expect(det.npvUsd).toBeCloseTo(closed, 2);
  });
});

describe('planner: halving', () => {
  it('lands at height 1,050,000, and faster hashrate growth moves its date earlier', () => {
    const base = { name: 'h', finance: { ...finance, horizonYears: 4 }, sites: [fixedSite] };
    const slow = deterministicPlan(model({ ...base, scenarios: { ...ZERO_VOL, network: { noisePctPerMonth: 0, responsePerMonth: 0 } } }), 1, [NO_CONVERSION]);
    const fast = deterministicPlan(model({ ...base, scenarios: { ...ZERO_VOL, network: { noisePctPerMonth: 0, responsePerMonth: 1, maxBuildOutPctPerMonth: 4, breakEvenHashpriceUsdPerPhDay: 1 } } }), 1, [NO_CONVERSION]);
    // Flat hashrate at equilibrium: 600 s blocks from the start height (930,088 on 2025-12-29 + 3 days).
    const start = Date.parse('2026-01-01T00:00:00Z');
    const blocks = 1_050_000 - (930_088 + 3 * 144);
    expect(Math.abs(slow.halvingMs - (start + blocks * 600_000))).toBeLessThan(86_400_000 * 3);
    // +4 %/month hashrate keeps blocks ~2 % faster than 600 s (difficulty lags one window): ~2 weeks earlier.
    expect(fast.halvingMs).toBeLessThan(slow.halvingMs - 7 * 86_400_000);
    // The subsidy halves at the halving: hashprice falls by about half in that month's neighbourhood.
    const month = new Date(slow.halvingMs).getUTCMonth() + 12 * (new Date(slow.halvingMs).getUTCFullYear() - 2026);
    expect((slow.hashpriceUsdPerPhDay[month + 1] as number) / (slow.hashpriceUsdPerPhDay[month - 1] as number)).toBeCloseTo(0.5, 1);
  });
});

describe('planner: search and Monte Carlo', () => {
  const raw = { name: 'p', finance, scenarios: { power: { poolYears: 2 } }, sites: [miningSite(true), fixedSite] };

  it('candidate NPVs from suffix sums equal the assembled cash flows', () => {
    const m = model(raw);
    const { candidates, values } = candidateValues(m, 3, 4);
    const cands = candidates[0] ?? [];
    for (const ci of [0, 1, cands.length - 1, Math.floor(cands.length / 2)]) {
      const sched: Schedule = [cands[ci] ?? NO_CONVERSION, NO_CONVERSION];
      const ev = new PathEvaluator(m, 3, [sched]);
      const out = new Float64Array(ev.layout.slots);
      for (let p = 0; p < 4; p++) {
        ev.evaluate(p, out);
        const site0 = (values[0] as Float64Array)[ci * 4 + p] as number;
        const site1 = (values[1] as Float64Array)[0 * 4 + p] as number;
        expect(site0 + site1).toBeCloseTo(out[slot.npv(ev.layout, 0)] as number, 0);
      }
    }
  });

  it('same seed, same numbers; another seed, other numbers', async () => {
    const m = model(raw);
    const a = await runPlan(m, { paths: 300, seed: 5, searchPaths: 60 });
    const b = await runPlan(model(raw), { paths: 300, seed: 5, searchPaths: 60 });
    const c = await runPlan(m, { paths: 300, seed: 6, searchPaths: 60 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(c.npvUsd.mean).not.toBe(a.npvUsd.mean);
    expect(a.powerPrices).toEqual({ synthetic: true, label: SYNTHETIC_LABEL });
    expect(Object.keys(a.npvUsd)).toEqual(['mean', 'se', 'p5', 'p50', 'p95']);
    expect(a.years).toHaveLength(4);
    expect(a.years[0]).toMatchObject({ year: 2026 });
    for (const k of ['year', 'revenueUsd', 'btcRevenueSharePct', 'ebitdaUsd']) expect(a.years[0]).toHaveProperty(k);
    expect(a.npvUsd.p5).toBeLessThanOrEqual(a.npvUsd.p50);
    expect(a.npvUsd.p50).toBeLessThanOrEqual(a.npvUsd.p95);
    // The risk-averse alternative never has a worse CVaR on the search paths.
    expect(a.search.riskAverseCvar5Usd).toBeGreaterThanOrEqual(a.search.bestCvar5Usd);
    expect(a.search.bestMeanUsd).toBeGreaterThanOrEqual(a.search.riskAverseMeanUsd);
  });
});

describe('planner: answers with their Monte Carlo error (issue 11)', () => {
  const raw = { name: 'p', finance, scenarios: { power: { poolYears: 2 } }, sites: [miningSite(true), fixedSite] };

  it('reports the standard error of every mean, and the paired difference to the pick on the same paths', async () => {
    const m = model(raw);
    const paths = 300;
    const r = await runPlan(m, { paths, seed: 5, searchPaths: 60 });
    // The pick's NPV per path, recomputed: its mean and standard error must be what the plan reports.
    const sched = r.comparison.rows.map((x) => x.kind);
    expect(sched.slice(0, 3)).toEqual(['pick', 'risk-averse', 'keep-mining']);
    const ev = new PathEvaluator(m, 5, [r.comparison.rows.length ? searchPick(m, r) : [], m.sites.map(() => NO_CONVERSION)]);
    const out = new Float64Array(ev.layout.slots);
    const v: number[] = [];
    const d: number[] = [];
    for (let p = 0; p < paths; p++) {
      ev.evaluate(p, out);
      v.push(out[slot.npv(ev.layout, 0)] as number);
      d.push((out[slot.npv(ev.layout, 1)] as number) - (out[slot.npv(ev.layout, 0)] as number));
    }
    const meanOf = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const seOf = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + (x - meanOf(a)) ** 2, 0) / (a.length - 1) / a.length);
    expect(r.npvUsd.mean).toBeCloseTo(meanOf(v), 0);
    expect(r.npvUsd.se / seOf(v)).toBeCloseTo(1, 9);
    const keep = r.comparison.rows.find((x) => x.kind === 'keep-mining');
    expect(keep?.vsPickUsd.mean).toBeCloseTo(meanOf(d), 0);
    expect((keep?.vsPickUsd.se ?? 0) / seOf(d)).toBeCloseTo(1, 9);
    // Common random numbers: the paired difference is far more precise than two independent means.
    expect(keep?.vsPickUsd.se ?? Infinity).toBeLessThan(Math.hypot(r.npvUsd.se, r.baseline.npvUsd.se));
    for (const y of r.years) for (const k of ['revenueUsdSe', 'ebitdaUsdSe', 'cashFlowUsdSe'] as const) expect(y[k]).toBeGreaterThanOrEqual(0);
    expect(r.cvar5UsdSe).toBeGreaterThan(0);
    expect(r.sensitivity.baseNpvUsdSe).toBeGreaterThan(0);
    expect(r.sensitivity.basis).toContain(`first ${r.sensitivity.paths} paths`);
  });

  it('an NPV-only schedule that differs at one site costs one site\'s assembly and gives the full assembly\'s NPV', () => {
    const m = model(raw);
    const pick: Schedule = [{ itMW: 30, startMonth: 12, contract: 0, refreshMask: 1 }, NO_CONVERSION];
    const variants: Schedule[] = [
      [{ itMW: 60, startMonth: 24, contract: 1, refreshMask: 0 }, NO_CONVERSION],
      [pick[0] as Schedule[number], { ...NO_CONVERSION }],
      [NO_CONVERSION, NO_CONVERSION],
    ];
    const fast = new PathEvaluator(m, 9, [pick], variants);
    const out = new Float64Array(fast.layout.slots);
    for (let p = 0; p < 3; p++) {
      fast.evaluate(p, out);
      variants.forEach((v, j) => {
        const full = new PathEvaluator(m, 9, [v]);
        const o = new Float64Array(full.layout.slots);
        full.evaluate(p, o);
        const want = o[slot.npv(full.layout, 0)] as number;
        expect(Math.abs((out[slot.npv(fast.layout, 1 + j)] as number) - want)).toBeLessThan(1e-6 * Math.abs(want));
        expect(out[slot.npvDiff(fast.layout, 1 + j)]).toBeCloseTo(want - (out[slot.npv(fast.layout, 0)] as number), 0);
      });
    }
  });

  it('says when two schedules are statistically indistinguishable, and lays out NPV and CVaR by start year and size', async () => {
    const r = await runPlan(model(raw), { paths: 300, seed: 5, searchPaths: 60 });
    for (const row of r.comparison.rows) {
      if (row.verdict === 'pick') continue;
      const inside = Math.abs(row.vsPickUsd.mean) <= 1.96 * row.vsPickUsd.se;
      expect(row.verdict).toBe(inside ? 'indistinguishable' : row.vsPickUsd.mean < 0 ? 'worse' : 'better');
    }
    // One row per start year for the site that can convert, the pick's own year marked as the pick.
    const years = r.comparison.rows.filter((x) => x.kind === 'start-year' && x.site === 'West').map((x) => x.startYear);
    expect(years).toEqual([2026, 2027, 2028, 2029]);
    const sizes = r.comparison.rows.filter((x) => x.kind === 'size' && x.site === 'West').map((x) => x.itMW);
    expect(sizes).toEqual([0, 30, 60]);
    const pickYear = Number(r.schedule.find((s) => s.site === 'West')?.conversionStart.slice(0, 4) ?? NaN);
    if (Number.isFinite(pickYear)) expect(r.comparison.rows.find((x) => x.kind === 'start-year' && x.startYear === pickYear)?.verdict).toBe('pick');
    for (const row of r.comparison.rows) expect(Number.isFinite(row.cvar5Usd.value)).toBe(true);
  });

  it('evaluates the user\'s schedules beside the picks on the same paths', async () => {
    const m = model(raw);
    const users = resolveUserSchedules(m, [{ name: 'now', sites: [{ site: 'west', itMW: 30, start: '2026-01', contract: 'lease', refresh: [] }] }]);
    const r = await runPlan(m, { paths: 200, seed: 5, searchPaths: 40, userSchedules: users });
    expect(r.userSchedules.map((u) => u.name)).toEqual(['now']);
    expect(r.userSchedules[0]?.schedule[0]).toMatchObject({ site: 'West', itMW: 30, conversionStart: '2026-01', contract: 'lease' });
    const row = r.comparison.rows.find((x) => x.kind === 'user');
    expect(row?.label).toBe('yours: now');
    expect(row?.npvUsd.mean).toBeCloseTo(r.userSchedules[0]?.npvUsd.mean ?? NaN, 3);
  });

  it('counts payback from the first capex, inside the horizon, and says when it is not reached', async () => {
    const m = model({ name: 'zv', finance: { ...finance, horizonYears: 10 }, scenarios: ZERO_VOL, sites: [miningSite(true)] });
    const at = (startMonth: number): Schedule => [{ itMW: 30, startMonth, contract: 0, refreshMask: 0 }];
    const mc = await runMonteCarlo(m, 2, [at(24), [NO_CONVERSION]], 20);
    const pb = (mc.acc.sums[slot.paybackYears(mc.layout, 0)] as number) / (mc.acc.counts[slot.paybackYears(mc.layout, 0)] as number);
    // From the deterministic flows: first month the incremental cash is non-zero, first month the
    // cumulative is back to zero after going negative.
    const c = new Float64Array(m.timeline.extendedMonths + 1);
    const cb = new Float64Array(m.timeline.extendedMonths + 1);
    cashSeries(m, deterministicPlan(m, 2, at(24)).flows, c);
    cashSeries(m, deterministicPlan(m, 2, [NO_CONVERSION]).flows, cb);
    let first = -1;
    let cum = 0;
    let negative = false;
    let back = -1;
    for (let j = 0; j <= m.timeline.months && back < 0; j++) {
      const x = (c[j] as number) - (cb[j] as number);
      if (first < 0 && Math.abs(x) > 0.01) first = j;
      cum += x;
      if (cum < 0) negative = true;
      else if (negative) back = j;
    }
    expect(first).toBe(24);
    expect(back).toBeGreaterThan(first + 12);
    expect(pb).toBeCloseTo((back - first) / 12, 9);
    // Six years are too short for a conversion that starts in year 5: no payback within the horizon.
    const short = model({ name: 'zv', finance: { ...finance, horizonYears: 6 }, scenarios: ZERO_VOL, sites: [miningSite(true)] });
    const r = await runPlan(short, { paths: 20, seed: 2, searchPaths: 10, userSchedules: [{ name: 'late', schedule: at(48) }] });
    expect(r.userSchedules[0]?.paybackYears).toMatchObject({ p50: null, recoveredPathsPct: 0, countedFrom: 'first capex', withinYears: 6 });
  });
});

describe('user schedules: resolution and --schedule parsing', () => {
  const m = () => model({ name: 'p', finance, scenarios: { power: { poolYears: 1 } }, sites: [miningSite(true), fixedSite] });

  it('parses SITE:MW@YYYY-MM[:CONTRACT] lists with an optional name', () => {
    expect(parseScheduleFlag('now=West:60@2026-01:cloud;North:none', 0)).toEqual({
      name: 'now',
      sites: [
        { site: 'West', itMW: 60, start: '2026-01', contract: 'cloud', refresh: [] },
        { site: 'North', itMW: 0, refresh: [] },
      ],
    });
    expect(parseScheduleFlag('West:30MW@2027-06', 2).name).toBe('schedule-3');
    expect(() => parseScheduleFlag('West@2026', 0)).toThrow(/SITE:MW@YYYY-MM/);
  });

  it('rejects what the portfolio cannot do, naming the path', () => {
    const bad = (sites: object[]) => () => resolveUserSchedules(m(), [{ name: 'x', sites: sites as never }]);
    expect(bad([{ site: 'Nowhere', itMW: 10, start: '2026-01', refresh: [] }])).toThrow(/schedules\[0\]\.sites\[0\]\.site.*West, North|no site 'Nowhere'/);
    expect(bad([{ site: 'West', itMW: 99, start: '2026-01', refresh: [] }])).toThrow(/above the 60 MW/);
    expect(bad([{ site: 'West', itMW: 30, start: '2031-01', refresh: [] }])).toThrow(/outside the plan/);
    expect(bad([{ site: 'West', itMW: 30, refresh: [] }])).toThrow(/start/);
    expect(bad([{ site: 'West', itMW: 30, start: '2026-01', contract: 'nope', refresh: [] }])).toThrow(/no contract 'nope'.*lease, cloud/);
    expect(bad([{ site: 'North', itMW: 10, start: '2026-01', refresh: [] }])).toThrow(/no convertible MW/);
    const ok = resolveUserSchedules(m(), [{ name: 'r', sites: [{ site: 'West', itMW: 0, refresh: ['Antminer S21 XP'] }] }]);
    expect(ok[0]?.schedule[0]).toEqual({ itMW: 0, startMonth: 0, contract: 0, refreshMask: 1 });
  });
});

/** The expected-NPV pick as a Schedule, re-derived from the search (same seed and search paths as the plan). */
function searchPick(m: PlanModel, r: { search: { paths: number }; seed: number }): Schedule {
  return searchSchedules(m, r.seed, r.search.paths).best;
}
