import { beforeAll, describe, expect, it } from 'vitest';
import { loadHighsSolver } from '../solver/highs.js';
import type { AsProduct, ErsAward, Fleet, Site } from '../site/types.js';
import { ersMask, hourBlocks } from './ancillary.js';
import { settle } from './ledger.js';
import type { LpSolver } from './lp/solver.js';
import { buildDispatchLp } from './formulation.js';
import { fleetModel } from './fleet-model.js';
import { optimalPolicy, optimalSpec } from './optimal.js';
import { rollingPolicy } from './rolling.js';
import { strikePolicy } from './strike.js';
import { fleet, input, Q, site, SITE_PAYS, T0 } from './testing/fixtures.js';
import type { DispatchInput, GridAward } from './types.js';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});

const offering = (f: Fleet, offer: Fleet['ancillary'] = { offer: ['ECRS', 'NSPIN', 'ERS'], responseSeconds: 10, relay: false }): Fleet => ({ ...f, ancillary: offer });

function gridSite(partial: Partial<Site>, products: AsProduct[] = ['ECRS', 'NSPIN'], ers: ErsAward[] = []): Site {
  return site({ ...partial, ancillary: { products, telemetry: true, ers, penaltyUsdPerMWh: 5000, sb6LargeLoad: false } });
}

/** Input with constant hourly AS prices per product. */
function withAs(inp: DispatchInput, prices: Partial<Record<AsProduct, number | number[]>>): DispatchInput {
  const n = inp.startMs.length;
  const out: Partial<Record<AsProduct, Float64Array>> = {};
  for (const [p, v] of Object.entries(prices) as [AsProduct, number | number[]][]) out[p] = Array.isArray(v) ? Float64Array.from(v) : new Float64Array(n).fill(v);
  return { ...inp, asPriceUsdPerMWh: out };
}

const mw = (a: Float64Array | undefined) => Array.from(a ?? [], (v) => Math.round(v * 1e6) / 1e6);
const award = (awards: GridAward[] | undefined, product: string) => awards?.find((a) => a.product === product);

describe('grid services in optimal: hand-computed optima', () => {
  it('holds reserve only on load that is consuming: worth it only when the capacity price beats the energy loss', () => {
    // A 10 MW fleet worth 50 USD/MWh at 100 USD/MWh all hour: energy alone says off. Holding x MW of
    // ECRS means running x MW all hour: (50 − 100) x + price × x per hour.
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] });
    const cheap = optimalPolicy(withAs(input(s, [100, 100, 100, 100]), { ECRS: 20 }), { solver });
    expect(mw(cheap.plan.fleetMW[0])).toEqual([0, 0, 0, 0]);
    expect(award(cheap.plan.awards, 'ECRS')).toBeUndefined();
    const inp = withAs(input(s, [100, 100, 100, 100]), { ECRS: 60 });
    const dear = optimalPolicy(inp, { solver });
    expect(mw(dear.plan.fleetMW[0])).toEqual([10, 10, 10, 10]);
    expect(mw(award(dear.plan.awards, 'ECRS')?.mw)).toEqual([10, 10, 10, 10]);
    // −50 × 10 MW × 1 h + 60 × 10 MW × 1 h = 100
    const l = settle(inp, dear.plan);
    expect(l.totals.netUsd).toBeCloseTo(100, 6);
    expect(l.totals.revenueUsd.ancillary).toBeCloseTo(600, 6);
    expect(l.totals.ancillary.byProductUsd).toEqual({ ECRS: 600 });
    expect(l.totals.ancillary.shortfallMWh).toBe(0);
  });

  it('shares MW between products without double counting', () => {
    // Running anyway (price 20 < 50); ECRS 5 and NSPIN 3: the same 10 MW can be sold once, to ECRS.
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] });
    const inp = withAs(input(s, [20, 20, 20, 20]), { ECRS: 5, NSPIN: 3 });
    const r = optimalPolicy(inp, { solver });
    expect(mw(award(r.plan.awards, 'ECRS')?.mw)).toEqual([10, 10, 10, 10]);
    expect(award(r.plan.awards, 'NSPIN')).toBeUndefined();
    // (50 − 20) × 10 × 1 h + 5 × 10 × 1 h = 350 (380 if the MW were counted twice)
    expect(settle(inp, r.plan).totals.netUsd).toBeCloseTo(350, 6);
  });

  it('holds an award through a price spike when the capacity pays for it, and drops the award when it does not', () => {
    // Energy alone: run 3 intervals at 20, sleep in the 1,000 spike: 3 × 30 × 10 × 0.25 = 225.
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] });
    const prices = [20, 20, 1000, 20];
    const energyOnly = optimalPolicy(input(site({ fleets: [fleet('a', 10, 50)] }), prices), { solver });
    expect(settle(input(site({ fleets: [fleet('a', 10, 50)] }), prices), energyOnly.plan).totals.netUsd).toBeCloseTo(225, 6);
    // ECRS 300: holding 10 MW all hour earns 3,000 and costs the spike: 225 − 950 × 10 × 0.25 + 3,000 = 850.
    const inp = withAs(input(s, prices), { ECRS: 300 });
    const held = optimalPolicy(inp, { solver });
    expect(mw(held.plan.fleetMW[0])).toEqual([10, 10, 10, 10]);
    expect(settle(inp, held.plan).totals.netUsd).toBeCloseTo(850, 6);
    // ECRS 200: 225 − 2,375 + 2,000 = −150 < 225: no award, sleep in the spike.
    const inp2 = withAs(input(s, prices), { ECRS: 200 });
    const dropped = optimalPolicy(inp2, { solver });
    expect(mw(dropped.plan.fleetMW[0])).toEqual([10, 10, 0, 10]);
    expect(settle(inp2, dropped.plan).totals.netUsd).toBeCloseTo(225, 6);
  });

  it('capped AI: reserve is the reduction still available, and a reduction in one interval empties the hour', () => {
    // 10 MW IT, 30 % reducible (3 MW); the site pays the tenant 100 per MWh reduced, so reducing at 20
    // loses 80. ECRS 10: 30 USD for the hour. Price 1,000 in the third interval: reducing there saves
    // (1,000 − 100) × 3 × 0.25 = 675 > 30, so the reduction wins and the hour has no award.
    const ai = { kind: 'capped' as const, name: 'cloud', itMW: 10, pue: 1, usdPerKwMonth: 0, maxReductionPct: 30, maxHoursPerYear: 8760, usdPerMWhReduced: -100, ...SITE_PAYS, ancillary: { offer: ['ECRS' as const], responseSeconds: 120, relay: false } };
    const s = gridSite({ ai: [ai] });
    const calm = withAs(input(s, [20, 20, 20, 20]), { ECRS: 10 });
    const r1 = optimalPolicy(calm, { solver });
    expect(mw(award(r1.plan.awards, 'ECRS')?.mw)).toEqual([3, 3, 3, 3]);
    expect(mw(r1.plan.aiItMW[0])).toEqual([10, 10, 10, 10]);
    const spike = withAs(input(s, [20, 20, 1000, 20]), { ECRS: 10 });
    const r2 = optimalPolicy(spike, { solver });
    expect(mw(r2.plan.aiItMW[0])).toEqual([10, 10, 7, 10]);
    expect(award(r2.plan.awards, 'ECRS')).toBeUndefined();
  });

  it('ERS: the awarded MW is held in every interval of its time periods, and only there', () => {
    // ERS-30 of 5 MW on fleet a for CPT hour 1 (01:00–02:00) at 8 USD/MW-h. Price 100 all night:
    // energy alone never runs; the award forces 5 MW through hour 1: −50 × 5 × 1 h + 8 × 5 × 1 h = −210.
    const ers: ErsAward = { name: 'ers', product: 'ERS-30', resource: 'a', mw: 5, usdPerMWh: 8, fromMs: T0, toMs: T0 + 86_400_000, timePeriods: [{ days: 'all', localHours: [1, 2] }] };
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] }, [], [ers]);
    const inp = input(s, new Array<number>(12).fill(100));
    expect(Array.from(ersMask(ers, inp.startMs))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
    const r = optimalPolicy(inp, { solver });
    expect(mw(r.plan.fleetMW[0])).toEqual([0, 0, 0, 0, 5, 5, 5, 5, 0, 0, 0, 0]);
    const l = settle(inp, r.plan);
    expect(l.totals.ancillary.byProductUsd).toEqual({ 'ERS-30': 40 });
    expect(l.totals.netUsd).toBeCloseTo(-210, 6);
    // strike holds the same obligation.
    const st = strikePolicy(inp);
    expect(mw(st.plan.fleetMW[0]).slice(4, 8)).toEqual([5, 5, 5, 5]);
  });

  it('weekday time periods skip weekends (2023-08-05 is a Saturday)', () => {
    const sat = Date.parse('2023-08-05T05:00:00Z');
    const ers: ErsAward = { name: 'ers', product: 'ERS-10', resource: 'a', mw: 5, usdPerMWh: 8, fromMs: T0, toMs: T0 + 10 * 86_400_000, timePeriods: [{ days: 'weekdays', localHours: [0, 24] }] };
    expect(Array.from(ersMask(ers, Float64Array.from([sat, sat - Q, sat + 2 * 86_400_000])))).toEqual([0, 1, 1]);
  });

  it('the LP objective equals the ledger net with awards and ERS (the objective prices what settles)', () => {
    const ers: ErsAward = { name: 'ers', product: 'ERS-10', resource: 'b', mw: 2, usdPerMWh: 8, fromMs: T0, toMs: T0 + 86_400_000, timePeriods: [{ days: 'all', localHours: [1, 2] }] };
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50)), offering(fleet('b', 5, 70))], ppa: { blockMW: 6, priceUsdPerMWh: 30, resale: true } }, ['ECRS', 'NSPIN'], [ers]);
    const prices = [20, 60, 1000, 20, 45, 80, 30, 10, 5, 200, 40, 55];
    const inp = withAs(input(s, prices), { ECRS: [3, 3, 3, 3, 90, 90, 90, 90, 1, 1, 1, 1], NSPIN: [10, 10, 10, 10, 2, 2, 2, 2, 30, 30, 30, 30] });
    const spec = optimalSpec(inp, inp.site.fleets.map(fleetModel));
    const { model } = buildDispatchLp(spec);
    const sol = solver.solve(model, { timeLimitSeconds: 30 });
    const r = optimalPolicy(inp, { solver });
    expect(sol.objective).toBeDefined();
    expect(settle(inp, r.plan).totals.netUsd).toBeCloseTo(sol.objective as number, 4);
  });

  it('awards are one level per clock hour', () => {
    const { block, count } = hourBlocks(Float64Array.from([0, 1, 2, 3, 4, 5].map((i) => T0 + 2 * Q + i * Q)));
    expect(Array.from(block)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(count).toBe(2);
  });
});

describe('grid services: day-ahead commitment in strike and rolling', () => {
  it('strike clears its offer when the MCPC covers the opportunity cost, then holds the award through the spike', () => {
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] });
    const prices = [20, 20, 1000, 20, 20, 20, 20, 20];
    // DA 20 (below break-even 50): the offer costs nothing, so ECRS at 1 USD/MW-h clears.
    const inp = withAs(input(s, prices, { da: new Array<number>(8).fill(20) }), { ECRS: 1 });
    const r = strikePolicy(inp);
    expect(mw(award(r.plan.awards, 'ECRS')?.mw)).toEqual(new Array<number>(8).fill(10));
    // Without the award strike sleeps after seeing the spike (interval 3); with it, it runs.
    expect(mw(r.plan.fleetMW[0])).toEqual(new Array<number>(8).fill(10));
    const energyOnly = strikePolicy(input(site({ fleets: [fleet('a', 10, 50)], dispatch: s.dispatch }), prices));
    expect(mw(energyOnly.plan.fleetMW[0])[3]).toBe(0);
    // DA 80: holding costs 30 USD/MWh; ECRS 25 does not cover it, so no award.
    const inp2 = withAs(input(s, prices, { da: new Array<number>(8).fill(80) }), { ECRS: 25 });
    expect(strikePolicy(inp2).plan.awards).toBeUndefined();
  });

  it('strike offers only the MW its ERS award does not already hold', () => {
    const ers: ErsAward = { name: 'ers', product: 'ERS-30', resource: 'a', mw: 4, usdPerMWh: 8, fromMs: T0, toMs: T0 + 86_400_000, timePeriods: [{ days: 'all', localHours: [1, 2] }] };
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] }, ['ECRS'], [ers]);
    const inp = withAs(input(s, new Array<number>(8).fill(20), { da: new Array<number>(8).fill(20) }), { ECRS: 5 });
    const r = strikePolicy(inp);
    expect(mw(award(r.plan.awards, 'ECRS')?.mw)).toEqual([10, 10, 10, 10, 6, 6, 6, 6]);
    expect(settle(inp, r.plan).totals.ancillary.shortfallMWh).toBe(0);
  });

  it('strike does not put machines to sleep that a coming award needs (min-off would make them miss it)', () => {
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50, { minOffMinutes: 30 }))] });
    // Hour 0: DA 80, so ECRS 25 does not clear; hour 1: DA 20, it does. The spike at interval 2 would
    // put the fleet to sleep at interval 3 for 30 minutes, through the award's first interval.
    const prices = [20, 20, 1000, 1000, 20, 20, 20, 20];
    const inp = withAs(input(s, prices, { da: [80, 80, 80, 80, 20, 20, 20, 20] }), { ECRS: 25 });
    const r = strikePolicy(inp);
    expect(mw(award(r.plan.awards, 'ECRS')?.mw)).toEqual([0, 0, 0, 0, 10, 10, 10, 10]);
    expect(mw(r.plan.fleetMW[0])).toEqual([10, 10, 10, 10, 10, 10, 10, 10]);
    expect(settle(inp, r.plan).totals.ancillary.shortfallMWh).toBe(0);
  });

  it('neither strike nor rolling offers a fleet in the hours a 4CP alert may come (not known at DAM time)', () => {
    const cp = { months: [8], usdPerKwYear: 60, alerts: { localHours: [0, 1] as [number, number], riskPct: 95 } };
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))], transmission: { coincidentPeak: cp } });
    const inp = withAs(input(s, new Array<number>(8).fill(20), { da: new Array<number>(8).fill(20) }), { ECRS: 5 });
    expect(mw(award(strikePolicy(inp).plan.awards, 'ECRS')?.mw)).toEqual([0, 0, 0, 0, 10, 10, 10, 10]);
    expect(mw(award(rollingPolicy(inp, { solver }).plan.awards, 'ECRS')?.mw)).toEqual([0, 0, 0, 0, 10, 10, 10, 10]);
  });

  it('rolling commits day-ahead at DA prices and then cannot drop the award in real time', () => {
    const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] });
    // DA says 20 all hour; the realized spike at interval 2 comes after the award.
    const prices = [20, 20, 1000, 20];
    const inp = withAs(input(s, prices, { da: [20, 20, 20, 20] }), { ECRS: 5 });
    const r = rollingPolicy(inp, { solver });
    expect(mw(award(r.plan.awards, 'ECRS')?.mw)).toEqual([10, 10, 10, 10]);
    expect(mw(r.plan.fleetMW[0])).toEqual([10, 10, 10, 10]);
    expect(r.safeFallbacks).toBe(0);
  });
});

describe('grid services in the ledger', () => {
  const s = gridSite({ fleets: [offering(fleet('a', 10, 50))] });
  const ecrs = (mwHeld: number): GridAward[] => [{ resource: 'a', product: 'ECRS', mw: new Float64Array(4).fill(mwHeld) }];

  it('a deployment curtails the awarded share; its energy effect is booked', () => {
    const inp = { ...withAs(input(s, [20, 20, 20, 20]), { ECRS: 10 }), asDeployments: [{ product: 'ECRS' as const, startMs: T0, endMs: T0 + 4 * Q, fraction: 0.5 }] };
    const plan = { policy: 'hand', fleetMW: [new Float64Array(4).fill(10)], aiItMW: [], reason: [new Uint8Array(4)], awards: ecrs(10) };
    const l = settle(inp, plan);
    // 5 MW dropped for an hour: mining lost 50 × 5, energy saved 20 × 5 → −150.
    expect(l.totals.ancillary.deployedMWh).toBeCloseTo(5, 9);
    expect(l.totals.ancillary.deploymentUsd).toBeCloseTo(-150, 6);
    expect(l.totals.revenueUsd.ancillary).toBeCloseTo(100, 6);
    expect(l.totals.costUsd.ancillaryPenalty).toBe(0);
    // net: running 5 MW at 30 USD/MWh margin for an hour + 100 of capacity = 150 + 100
    expect(l.totals.netUsd).toBeCloseTo(250, 6);
  });

  it('award MW that was not consuming loses its payment, and a missed deployment is penalised', () => {
    const inp = { ...withAs(input(s, [20, 20, 20, 20]), { ECRS: 10 }), asDeployments: [{ product: 'ECRS' as const, startMs: T0, endMs: T0 + Q, fraction: 1 }] };
    // The fleet ran only 4 MW of its 10 MW award.
    const plan = { policy: 'hand', fleetMW: [new Float64Array(4).fill(4)], aiItMW: [], reason: [new Uint8Array(4)], awards: ecrs(10) };
    const l = settle(inp, plan);
    expect(l.totals.ancillary.shortfallMWh).toBeCloseTo(6, 9);
    // Clawback: 6 of 10 MW × 10 USD × 1 h = 60; missed: 6 MW × 0.25 h × 5,000 = 7,500.
    expect(l.totals.ancillary.missedMWh).toBeCloseTo(1.5, 9);
    expect(l.totals.costUsd.ancillaryPenalty).toBeCloseTo(60 + 7500, 6);
  });
});
