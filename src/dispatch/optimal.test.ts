import { beforeAll, describe, expect, it } from 'vitest';
import { buildDispatchLp } from './formulation.js';
import { fleetModel } from './fleet-model.js';
import { settle } from './ledger.js';
import { LpBuilder } from './lp/model.js';
import { loadHighsSolver } from '../solver/highs.js';
import type { LpSolver } from './lp/solver.js';
import { optimalPolicy, optimalSpec } from './optimal.js';
import { strikePolicy } from './strike.js';
import { fleet, input, Q, site, T0, SITE_PAYS, rng } from './testing/fixtures.js';
import { Reason } from './types.js';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});

const mw = (r: { plan: { fleetMW: Float64Array[] } }, f = 0) => Array.from(r.plan.fleetMW[f] as Float64Array, (v) => Math.round(v * 1e6) / 1e6);

describe('optimal: hand-computed optima', () => {
  it('runs a fleet only when its value beats the price', () => {
    const inp = input(site({ fleets: [fleet('a', 10, 50)] }), [20, 100, 30]);
    const r = optimalPolicy(inp, { solver });
    expect(mw(r)).toEqual([10, 0, 10]);
    expect(Array.from(r.plan.reason[0] as Uint8Array)).toEqual([Reason.none, Reason.price, Reason.none]);
    // (50 − 20) × 10 MW × 0.25 h + (50 − 30) × 10 × 0.25 = 75 + 50
    expect(settle(inp, r.plan).totals.netUsd).toBeCloseTo(125, 6);
    expect(r.safeFallbacks).toBe(0);
  });

  it('respects a binding ramp limit (3 MW per 15 min)', () => {
    const inp = input(site({ fleets: [fleet('a', 10, 50, { rampMWPerMinute: 0.2 })] }), [100, 20, 20, 100]);
    const r = optimalPolicy(inp, { solver });
    expect(mw(r)).toEqual([0, 3, 3, 0]);
    // 2 × (50 − 20) × 3 MW × 0.25 h
    expect(settle(inp, r.plan).totals.netUsd).toBeCloseTo(45, 6);
  });

  it('fills the interconnect in merit order', () => {
    const s = site({ interconnect: { importLimitMW: 12 }, fleets: [fleet('cheap', 10, 40), fleet('good', 10, 80)] });
    const inp = input(s, [30, 60, 90]);
    const r = optimalPolicy(inp, { solver });
    expect(mw(r, 1)).toEqual([10, 10, 0]);
    expect(mw(r, 0)).toEqual([2, 0, 0]);
    expect(Array.from(r.plan.reason[0] as Uint8Array)).toEqual([Reason.importLimit, Reason.price, Reason.price]);
  });

  it('uses the power-target curve as a continuous actuator', () => {
    // 1000 machines of 2000 W: at half power 10 J/TH (100 TH/s), at full power 20 J/TH (100 TH/s):
    // the second half adds no hashrate, so it never pays at a positive price.
    const f = fleet('a', 2, 50, { efficiencyCurve: [{ powerFraction: 0.5, jPerTh: 10 }, { powerFraction: 1, jPerTh: 20 }] });
    const model = fleetModel(f);
    expect(model.segments.map((s) => s.widthMW)).toEqual([1, 1]);
    const inp = input(site({ fleets: [f] }), [50, 1]);
    const r = optimalPolicy(inp, { solver });
    // Interval 0: first MW worth 100 USD/MWh > 50, second MW worth 0 < 50 → 1 MW. Interval 1: price 1 > 0 → still 1 MW.
    expect(mw(r)).toEqual([1, 1]);
    expect(settle(inp, r.plan).totals.revenueUsd.mining).toBeCloseTo(2 * 100 * 1 * 0.25, 6);
  });
});

describe('optimal: minimum off time and start costs (linear, divisible fleets)', () => {
  it('keeps machines put to sleep asleep for minOffMinutes', () => {
    const f = fleet('a', 10, 50, { minOffMinutes: 30 });
    const inp = input(site({ fleets: [f] }), [10, 900, 10, 900, 10], { hashprice: 240 });
    const r = optimalPolicy(inp, { solver });
    expect(mw(r)).toEqual([10, 0, 0, 0, 10]);
    expect((r.plan.reason[0] as Uint8Array)[2]).toBe(Reason.minOff);
    expect(settle(inp, r.plan).totals.netUsd).toBeCloseTo(2 * 490 * 10 * 0.25, 6);
  });

  it('rides through a short spike when waking the machines costs more than it saves', () => {
    // Sleeping through interval 1 saves (600 − 500) × 10 MW × 0.25 h = 250 USD; waking 5000 machines
    // costs 5000 × startCostUsd.
    const prices = [10, 600, 10];
    const dear = optimalPolicy(input(site({ fleets: [fleet('a', 10, 50, { startCostUsd: 0.1 })] }), prices, { hashprice: 240 }), { solver });
    expect(mw(dear)).toEqual([10, 10, 10]);
    const cheap = optimalPolicy(input(site({ fleets: [fleet('a', 10, 50, { startCostUsd: 0.01 })] }), prices, { hashprice: 240 }), { solver });
    expect(mw(cheap)).toEqual([10, 0, 10]);
  });
});

describe('optimal: PPA and AI', () => {
  it('resells the unused block when power is worth more than hashing', () => {
    const s = site({ ppa: { blockMW: 10, priceUsdPerMWh: 30, resale: true }, fleets: [fleet('a', 8, 50)] });
    const inp = input(s, [20, 80]);
    const r = optimalPolicy(inp, { solver });
    expect(mw(r)).toEqual([8, 0]);
    const t = settle(inp, r.plan).totals;
    expect(t.costUsd.ppa).toBeCloseTo(150, 6);
    expect(t.revenueUsd.mining).toBeCloseTo(100, 6);
    expect(t.revenueUsd.powerResale).toBeCloseTo(2 * 20 * 0.25 + 10 * 80 * 0.25, 6);
    expect(t.netUsd).toBeCloseTo(160, 6);
  });

  it('without resale, mines the paid-for block and buys beyond it only when it pays', () => {
    const s = site({ ppa: { blockMW: 10, priceUsdPerMWh: 30, resale: false }, fleets: [fleet('a', 12, 50)] });
    const inp = input(s, [40, 80]);
    const r = optimalPolicy(inp, { solver });
    expect(mw(r)).toEqual([12, 10]);
    const t = settle(inp, r.plan).totals;
    expect(t.costUsd.energy).toBeCloseTo(2 * 40 * 0.25, 6);
    expect(t.netUsd).toBeCloseTo(50 * 22 * 0.25 - 20 - 150, 6);
  });

  it.each([
    ['the site pays every AI load\'s energy', SITE_PAYS, SITE_PAYS],
    ['tenants pay their energy and 4CP share back', { powerPassThrough: true, fourCpPassThrough: true }, { powerPassThrough: true, fourCpPassThrough: false }],
  ])('objective equals the ledger net on a full hybrid site (%s)', (_, lease, flex) => {
    const hours = 3;
    const load = { startMs: Float64Array.from({ length: hours }, (_, h) => T0 + h * 3_600_000), loadMW: Float64Array.from({ length: hours }, (_, h) => (h === 1 ? 80_000 : 60_000)) };
    const s = site({
      transmission: { coincidentPeak: { months: [8], usdPerKwYear: 60, alerts: { localHours: [14, 19], riskPct: 95 } } },
      interconnect: { importLimitMW: 40 },
      ppa: { blockMW: 15, priceUsdPerMWh: 32, resale: true },
      ai: [
        { kind: 'firm', ...lease, name: 'tenant', itMW: 5, pue: 1.2, usdPerKwMonth: 150 },
        { kind: 'deferrable', ...flex, name: 'batch', itMW: 4, pue: 1.3, dailyEnergyMWh: 48, usdPerMWh: 300, usdPerKwMonth: 0 },
        { kind: 'capped', ...lease, name: 'cloud', itMW: 6, pue: 1.3, usdPerKwMonth: 400, maxReductionPct: 30, maxHoursPerYear: 8760, usdPerMWhReduced: 100 },
      ],
      fleets: [fleet('a', 20, 55, { rampMWPerMinute: 0.5 }), fleet('b', 15, 35, { minOffMinutes: 30, startCostUsd: 1 })],
    });
    const prices = [12, 25, 40, 90, 300, 45, 33, 20, 18, 70, 36, 28];
    // ERCOT's official settlement interval: a tenant that bears its own 4CP is billed exactly there.
    const inp = input(s, prices, { load, official: [{ month: '2023-08', intervalStartMs: T0 + 4 * Q, intervalMinutes: 15 }] });
    expect(inp.fourCpPeaks).toMatchObject([{ basis: 'official' }]);
    const spec = optimalSpec(inp, s.fleets.map(fleetModel));
    const { model } = buildDispatchLp(spec);
    const sol = solver.solve(model, { timeLimitSeconds: 10 });
    expect(sol.status).toBe('optimal');
    const r = optimalPolicy(inp, { solver });
    const ledger = settle(inp, r.plan);
    // Start costs are an optimizer-only cost (not a ledger stream): add them back.
    expect(ledger.totals.importLimitViolations).toBe(0);
    expect(ledger.totals.deferrableShortfallMWh).toBeCloseTo(0, 6);
    const starts = (() => {
      const m = r.plan.fleetMW[1] as Float64Array;
      let up = 0;
      for (let t = 1; t < m.length; t++) up += Math.max(0, (m[t] as number) - (m[t - 1] as number));
      return (up / fleetModel(s.fleets[1]!).unitMW) * 1;
    })();
    expect(sol.objective! + starts).toBeCloseTo(ledger.totals.netUsd, 4);
    if (lease.powerPassThrough) expect(ledger.totals.revenueUsd.aiPassThrough).toBeGreaterThan(0);
    else expect(ledger.totals.revenueUsd.aiPassThrough).toBe(0);
  });

  it('schedules deferrable AI into the cheapest intervals of its day', () => {
    const s = site({ ai: [{ kind: 'deferrable', ...SITE_PAYS, name: 'batch', itMW: 8, pue: 1, dailyEnergyMWh: 96, usdPerMWh: 200, usdPerKwMonth: 0 }] });
    // 8 of 96 intervals present → 96 × 8/96 = 8 MWh owed = 4 intervals at 8 MW.
    const prices = [50, 10, 40, 20, 60, 30, 5, 70];
    const inp = input(s, prices);
    const r = optimalPolicy(inp, { solver });
    expect(Array.from(r.plan.aiItMW[0] as Float64Array, (v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 8, 0, 8, 0, 8, 8, 0]);
  });

  it('spends the capped-AI reduction budget in the dearest intervals', () => {
    // Budget: 4380 h/yr × 5 MW × (2 h / 8760 h) = 5 MWh = 4 intervals at the full 5 MW reduction.
    const s = site({ ai: [{ kind: 'capped', ...SITE_PAYS, name: 'cloud', itMW: 10, pue: 1, usdPerKwMonth: 0, maxReductionPct: 50, maxHoursPerYear: 4380, usdPerMWhReduced: 0 }] });
    const inp = input(s, [10, 90, 20, 80, 30, 70, 40, 60]);
    const r = optimalPolicy(inp, { solver });
    expect(Array.from(r.plan.aiItMW[0] as Float64Array, (v) => Math.round(v * 1e6) / 1e6)).toEqual([10, 5, 10, 5, 10, 5, 10, 5]);
    expect(settle(inp, r.plan).totals.revenueUsd.aiFlex).toBe(0);
  });
});

describe('optimal: 4CP', () => {
  const hours = 48;
  const load = { startMs: Float64Array.from({ length: hours }, (_, h) => T0 + h * 3_600_000), loadMW: Float64Array.from({ length: hours }, (_, h) => (h === 17 ? 80_000 : 60_000)) };
  const s = site({
    transmission: { coincidentPeak: { months: [8], usdPerKwYear: 60, alerts: { localHours: [14, 19], riskPct: 95 } } },
    ai: [{ kind: 'firm', ...SITE_PAYS, name: 'tenant', itMW: 5, pue: 1, usdPerKwMonth: 0 }],
    fleets: [fleet('a', 10, 50)],
  });
  const prices = new Array<number>(96).fill(20);

  it('without an official interval, sleeps the fleet through every candidate (the peak hour and the hour before) and charges firm AI demand', () => {
    const inp = input(s, prices, { load });
    expect(inp.fourCpPeaks).toHaveLength(1);
    expect(inp.fourCpPeaks[0]).toMatchObject({ basis: 'estimated', hourStartMs: T0 + 17 * 3_600_000 });
    const r = optimalPolicy(inp, { solver });
    const m = r.plan.fleetMW[0] as Float64Array;
    for (let t = 0; t < 96; t++) expect(m[t]).toBeCloseTo(t >= 64 && t < 72 ? 0 : 10, 6);
    expect((r.plan.reason[0] as Uint8Array)[64]).toBe(Reason.fourCp);
    const t = settle(inp, r.plan).totals;
    // Tag = ¼ × 5 MW; charge = 60 USD/kW-yr × 1000 × 1.25 MW.
    expect(t.fourCpTagMW).toBeCloseTo(1.25, 9);
    expect(t.costUsd.transmission).toBeCloseTo(75_000, 6);
    const always = strikePolicy({ ...inp, fourCpAlert: new Uint8Array(96) });
    expect(settle(inp, always.plan).totals.costUsd.transmission).toBeCloseTo(60 * 1000 * 0.25 * 15, 6);
  });

  it("with ERCOT's official interval, sleeps through that one interval only", () => {
    const official = [{ month: '2023-08', intervalStartMs: T0 + 16 * 3_600_000 + 45 * 60_000, intervalMinutes: 15 }];
    const inp = input(s, prices, { load, official });
    const r = optimalPolicy(inp, { solver });
    const m = r.plan.fleetMW[0] as Float64Array;
    for (let t = 0; t < 96; t++) expect(m[t]).toBeCloseTo(t === 67 ? 0 : 10, 6);
    expect((r.plan.reason[0] as Uint8Array)[67]).toBe(Reason.fourCp);
    const t = settle(inp, r.plan).totals;
    expect(t.fourCpDemandsMW[0]).toMatchObject({ basis: 'official', intervalStartMs: T0 + 67 * Q, demandMW: 5 });
    expect(t.costUsd.transmission).toBeCloseTo(75_000, 6);
    // Objective = ledger net (z sits at the demand): 95 intervals × 10 MW × (50 − 20) × 0.25 h − firm AI energy − 4CP.
    expect(t.netUsd).toBeCloseTo(95 * 10 * 30 * 0.25 - 96 * 5 * 20 * 0.25 - 75_000, 4);
  });
});

describe('optimal: LP equals brute force', () => {

  it('single fleet with integer ramp limits: LP optimum equals enumeration on the integer grid (TU matrix)', () => {
    const rand = rng(7);
    for (let trial = 0; trial < 8; trial++) {
      const cap = 4;
      const rampPerInterval = 1 + Math.floor(rand() * 2);
      const prices = Array.from({ length: 5 }, () => Math.round(rand() * 100));
      const f = fleet('a', cap, 50, { rampMWPerMinute: rampPerInterval / 15 });
      const inp = input(site({ fleets: [f] }), prices);
      const r = optimalPolicy(inp, { solver });
      const lp = settle(inp, r.plan).totals.netUsd;
      let best = -Infinity;
      const walk = (t: number, prev: number, acc: number) => {
        if (t === prices.length) {
          best = Math.max(best, acc);
          return;
        }
        for (let m = 0; m <= cap; m++) {
          if (t > 0 && Math.abs(m - prev) > rampPerInterval) continue;
          walk(t + 1, m, acc + (50 - (prices[t] as number)) * m * 0.25);
        }
      };
      walk(0, 0, 0);
      expect(lp).toBeCloseTo(best, 6);
    }
  });

  it('several fleets under an import limit: LP optimum equals the merit-order closed form', () => {
    const rand = rng(11);
    for (let trial = 0; trial < 8; trial++) {
      const values = [30 + rand() * 40, 30 + rand() * 40, 30 + rand() * 40];
      const caps = [5 + Math.floor(rand() * 10), 5 + Math.floor(rand() * 10), 5 + Math.floor(rand() * 10)];
      const limit = 8 + Math.floor(rand() * 15);
      const prices = Array.from({ length: 6 }, () => rand() * 90);
      const s = site({ interconnect: { importLimitMW: limit }, fleets: values.map((v, i) => fleet(`f${i}`, caps[i] as number, v)) });
      const inp = input(s, prices);
      const lp = settle(inp, optimalPolicy(inp, { solver }).plan).totals.netUsd;
      let closed = 0;
      for (const p of prices) {
        let left = limit;
        const order = [0, 1, 2].sort((a, b) => (values[b] as number) - (values[a] as number));
        for (const i of order) {
          const take = Math.min(left, s.fleets[i]!.count * 2000 / 1e6);
          if ((values[i] as number) > p) {
            closed += ((values[i] as number) - p) * take * 0.25;
            left -= take;
          }
        }
      }
      expect(lp).toBeCloseTo(closed, 4);
    }
  });

  it('whole machines with a minimum off time (MIP) match machine-level enumeration', () => {
    // 3 machines, 30 min min-off (2 intervals), one machine start costs 1 USD.
    const unit = 2000 / 1e6;
    const f = fleet('a', 3 * unit, 50, { integerMachines: true, minOffMinutes: 30 });
    const prices = [10, 900, 10, 900, 10];
    const inp = input(site({ fleets: [f] }), prices, { hashprice: 240 });
    const value = 500;
    const r = optimalPolicy(inp, { solver });
    const lp = settle(inp, r.plan).totals.netUsd;
    let best = -Infinity;
    const n = prices.length;
    for (let mask = 0; mask < 1 << (3 * n); mask++) {
      let ok = true;
      let usd = 0;
      for (let k = 0; k < 3 && ok; k++) {
        let offRun = Infinity;
        for (let t = 0; t < n; t++) {
          const on = (mask >> (k * n + t)) & 1;
          const prevOn = t > 0 ? (mask >> (k * n + t - 1)) & 1 : 1;
          if (!on) offRun = prevOn ? 1 : offRun + 1;
          else if (!prevOn && offRun < 2) ok = false;
          if (on) usd += (value - (prices[t] as number)) * unit * 0.25;
        }
      }
      if (ok) best = Math.max(best, usd);
    }
    expect(lp).toBeCloseTo(best, 9);
    // The constraint binds: without it each machine would also run in interval 2.
    expect(best).toBeCloseTo(3 * 2 * 490 * unit * 0.25, 9);
    expect(Array.from(r.plan.fleetMW[0] as Float64Array, (v) => Math.round(v / unit))).toEqual([3, 0, 0, 0, 3]);
  });
});

describe('optimal: safe fallback', () => {
  const s = site({ interconnect: { importLimitMW: 15 }, fleets: [fleet('a', 10, 50), fleet('b', 10, 40)] });
  const prices = [20, 100, 30, 45];

  it('falls back to the strike rule when the solver times out, and says so', () => {
    const timeout: LpSolver = { name: 'stub', solve: () => ({ status: 'time-limit', feasible: false, message: 'stub time-out' }) };
    const inp = input(s, prices);
    const r = optimalPolicy(inp, { solver: timeout });
    expect(r.safeFallbacks).toBe(1);
    expect(r.notes.join('\n')).toMatch(/SAFE FALLBACK: time-limit/);
    expect(r.plan.policy).toBe('optimal');
    expect(r.plan.fleetMW.map((a) => Array.from(a))).toEqual(strikePolicy(inp).plan.fleetMW.map((a) => Array.from(a)));
    expect(settle(inp, r.plan).totals.importLimitViolations).toBe(0);
  });

  it('rejects a solver answer that breaks the import limit', () => {
    const liar: LpSolver = { name: 'liar', solve: (m) => ({ status: 'optimal', feasible: true, colValue: new Float64Array(m.numCols).fill(10), message: 'ok' }) };
    const r = optimalPolicy(input(s, prices), { solver: liar });
    expect(r.safeFallbacks).toBe(1);
    expect(r.notes.join('\n')).toMatch(/unsafe/);
  });

  it('HiGHS reports infeasible models and exhausted time limits instead of a plan', () => {
    const b = new LpBuilder();
    const x = b.col(1, 0, 1);
    b.coef(b.row(2, Infinity), x, 1);
    const infeasible = solver.solve(b.build(true), { timeLimitSeconds: 5 });
    expect(infeasible.status).toBe('infeasible');
    expect(infeasible.feasible).toBe(false);
    const big = input(site({ fleets: [fleet('a', 10, 50, { rampMWPerMinute: 0.01 })] }), Array.from({ length: 400 }, (_, i) => (i * 37) % 101));
    const r = optimalPolicy(big, { solver, timeLimitSeconds: 0 });
    expect(r.safeFallbacks).toBe(1);
    expect(r.notes.join('\n')).toMatch(/SAFE FALLBACK: time-limit/);
  });
});

it('startMs fixtures are 15 minutes apart', () => {
  expect(input(site(), [1, 2]).startMs[1]).toBe(T0 + Q);
});
