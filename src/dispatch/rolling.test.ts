import { beforeAll, describe, expect, it } from 'vitest';
import { settle } from './ledger.js';
import { loadHighsSolver } from '../solver/highs.js';
import type { LpSolver } from './lp/solver.js';
import { optimalPolicy } from './optimal.js';
import { forecastPrices, rollingPolicy } from './rolling.js';
import { strikePolicy } from './strike.js';
import { fleet, input, rng, site, T0, Q, SITE_PAYS } from './testing/fixtures.js';
import type { Site } from '../site/types.js';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});


const hybrid = (over: Partial<Site> = {}): Site =>
  site({
    interconnect: { importLimitMW: 30 },
    ai: [{ kind: 'deferrable', ...SITE_PAYS, name: 'batch', itMW: 4, pue: 1.2, dailyEnergyMWh: 48, usdPerMWh: 200, usdPerKwMonth: 0 }],
    fleets: [fleet('a', 15, 55, { rampMWPerMinute: 0.5 }), fleet('b', 15, 38, { minOffMinutes: 30 })],
    dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2 }, rolling: { horizonHours: 6, stepMinutes: 60, nearTerm: 'rt-persistence' }, timeLimitSeconds: 10 },
    ...over,
  });

describe('rolling', () => {
  const rand = rng(3);
  const n = 96;
  const rt = Array.from({ length: n }, (_, i) => 30 + 25 * Math.sin(i / 9) + (rand() < 0.08 ? 300 * rand() : 0));
  const da = rt.map((p, i) => 30 + 25 * Math.sin(i / 9) + (i % 7) - 3 + p * 0);

  it('is causal: a price change at interval k leaves the plan before k unchanged', () => {
    const s = hybrid();
    const base = rollingPolicy(input(s, rt, { da }), { solver });
    const bumped = [...rt];
    // Hourly steps: the price of interval 43 is first seen by the step starting at 44.
    bumped[43] = 4000;
    const other = rollingPolicy(input(s, bumped, { da }), { solver });
    for (let f = 0; f < 2; f++) expect(Array.from(other.plan.fleetMW[f] ?? []).slice(0, 44)).toEqual(Array.from(base.plan.fleetMW[f] ?? []).slice(0, 44));
    expect(Array.from(other.plan.fleetMW[0] ?? []).slice(44)).not.toEqual(Array.from(base.plan.fleetMW[0] ?? []).slice(44));
  });

  it('never beats perfect foresight, keeps every limit, and delivers the deferrable energy', () => {
    const s = hybrid();
    const inp = input(s, rt, { da });
    const roll = settle(inp, rollingPolicy(inp, { solver }).plan).totals;
    const opt = settle(inp, optimalPolicy(inp, { solver }).plan).totals;
    expect(roll.netUsd).toBeLessThanOrEqual(opt.netUsd + 1e-6);
    expect(roll.importLimitViolations).toBe(0);
    expect(roll.deferrableShortfallMWh).toBeCloseTo(0, 6);
  });

  it('with exact day-ahead forecasts, 15-minute steps and a horizon covering the window it reaches the optimum', () => {
    const s = hybrid({ dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 1 }, rolling: { horizonHours: 24, stepMinutes: 15, nearTerm: 'da' }, timeLimitSeconds: 10 } });
    const prices = rt.slice(0, 24);
    const inp = input(s, prices, { da: prices });
    const roll = settle(inp, rollingPolicy(inp, { solver }).plan).totals.netUsd;
    const opt = settle(inp, optimalPolicy(inp, { solver }).plan).totals.netUsd;
    expect(roll).toBeCloseTo(opt, 4);
  });

  it('falls back to strike in every step the solver fails, and counts them', () => {
    const failing: LpSolver = { name: 'stub', solve: () => ({ status: 'error', feasible: false, message: 'stub failure' }) };
    const s = hybrid({ ai: [] });
    const inp = input(s, rt.slice(0, 16));
    const r = rollingPolicy(inp, { solver: failing });
    expect(r.safeFallbacks).toBe(4);
    expect(r.notes[1]).toMatch(/SAFE FALLBACK in 4 of 4 steps/);
    expect(r.plan.fleetMW.map((a) => Array.from(a))).toEqual(strikePolicy(inp).plan.fleetMW.map((a) => Array.from(a)));
  });
});

describe('forecastPrices', () => {
  it('nowcasts the step from the last two RT prices, then DA once published plus the decaying RT−DA deviation', () => {
    // T0 = 2023-08-01 00:00 CDT. Decision at 13:00 CDT (interval 52): tomorrow's DA not yet published.
    const n = 2 * 96;
    const da = Array.from({ length: n }, (_, i) => 1000 + i);
    // Real-time equals DA except a +100 excursion in interval 51 (12:45).
    const rt = da.map((p, i) => (i === 51 ? p + 100 : p));
    const inp = input(site(), rt, { da });
    const idx = new Map<number, number>();
    inp.startMs.forEach((ms, i) => idx.set(ms, i));
    const at13 = forecastPrices(inp, 52, 52 + 48, T0 + 52 * Q + 3_600_000, idx);
    expect(Array.from(at13.slice(0, 4))).toEqual([1151, 1151, 1151, 1151]); // max(RT 51, RT 50)
    expect(at13[4]).toBeCloseTo(1056 + 100 * 0.8, 9); // DA + deviation × 0.8
    expect(at13[5]).toBeCloseTo(1057 + 100 * 0.8 ** 2, 9);
    // Tomorrow 00:00 is not published at 13:00: the same hour of today's DA stands in.
    expect(at13[96 - 52]).toBeCloseTo(1000 + 100 * 0.8 ** (96 - 56 + 1), 9);
    const at15 = forecastPrices(inp, 60, 60 + 48, T0 + 60 * Q + 3_600_000, idx);
    expect(at15[96 - 60]).toBe(1096); // published after 14:00; no deviation at 14:45
  });
});
