import { beforeAll, describe, expect, it } from 'vitest';
import { settle } from '../dispatch/ledger.js';
import type { LpSolver } from '../dispatch/lp/solver.js';
import { rollingPolicy } from '../dispatch/rolling.js';
import { strikePolicy } from '../dispatch/strike.js';
import { fleet, input, rng, site, T0, Q, SITE_PAYS } from '../dispatch/testing/fixtures.js';
import type { Site } from '../site/types.js';
import { loadHighsSolver } from '../solver/highs.js';
import { LiveDispatcher } from './dispatcher.js';
import { LiveLedger } from './ledger.js';
import { daPublishedMs, ReplayMarket } from './market.js';
import { cptDayIndex } from '../dispatch/calendar.js';

let solver: LpSolver;
beforeAll(async () => {
  solver = await loadHighsSolver();
});


const hybrid = (): Site =>
  site({
    interconnect: { importLimitMW: 30 },
    ai: [
      { kind: 'capped', ...SITE_PAYS, name: 'cloud', itMW: 4, pue: 1.2, maxReductionPct: 50, maxHoursPerYear: 400, usdPerMWhReduced: 20, usdPerKwMonth: 100 },
      { kind: 'firm', ...SITE_PAYS, name: 'lease', itMW: 2, pue: 1.3, usdPerKwMonth: 120 },
    ],
    fleets: [fleet('a', 15, 55, { rampMWPerMinute: 0.5 }), fleet('b', 12, 38, { minOffMinutes: 30 })],
    dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2 }, rolling: { horizonHours: 6, stepMinutes: 60, nearTerm: 'rt-persistence' }, timeLimitSeconds: 10 },
  });

const n = 2 * 96;
const rand = rng(11);
const rt = Array.from({ length: n }, (_, i) => 30 + 25 * Math.sin(i / 9) + (rand() < 0.08 ? 400 * rand() : 0));
const da = rt.map((_, i) => 30 + 25 * Math.sin(i / 9) + (i % 7) - 3);

/** Drives the dispatcher as the agent would: a call at every interval start (after the lag). */
async function replay(policy: 'rolling' | 'strike', lagMs = 0, o: { maxPriceWaitMs?: number; skipPrice?: number } = {}) {
  const truth = input(hybrid(), rt, { da });
  const market = new ReplayMarket(truth, { rtPublicationLagMs: lagMs });
  const calls: number[] = [];
  const d = new LiveDispatcher({ market, policy, solver, maxPriceWaitMs: o.maxPriceWaitMs ?? 5 * 60_000, staleAfterMs: 3 * Q, perfNowMs: () => 0 });
  const targets = [];
  for (let t = 0; t < n; t++) {
    let now = T0 + t * Q;
    let target = await d.current(now);
    // The agent comes back when the target says it changes.
    while (!target.stale && target.nextChangeAtMs !== undefined && target.nextChangeAtMs < T0 + (t + 1) * Q) {
      now = target.nextChangeAtMs;
      calls.push(now);
      target = await d.current(now);
    }
    targets.push(target);
  }
  return { d, truth, targets, calls, market };
}

describe('live dispatcher on a replayed market', () => {
  it('rolling live decides exactly what the back-test rolling decides', async () => {
    const { d, truth } = await replay('rolling');
    const live = d.result().plan;
    const bt = rollingPolicy(truth, { solver }).plan;
    for (let f = 0; f < 2; f++) expect(Array.from(live.fleetMW[f] as Float64Array)).toEqual(Array.from(bt.fleetMW[f] as Float64Array));
    for (let a = 0; a < 2; a++) expect(Array.from(live.aiItMW[a] as Float64Array)).toEqual(Array.from(bt.aiItMW[a] as Float64Array));
    expect(settle(truth, live).totals.netUsd).toBe(settle(truth, bt).totals.netUsd);
  });

  it('strike live decides exactly what the back-test strike decides', async () => {
    const { d, truth } = await replay('strike');
    const bt = strikePolicy(truth).plan;
    for (let f = 0; f < 2; f++) expect(Array.from(d.result().plan.fleetMW[f] as Float64Array)).toEqual(Array.from(bt.fleetMW[f] as Float64Array));
  });

  it('never sees a price before it is published', async () => {
    const truth = input(hybrid(), rt, { da });
    const market = new ReplayMarket(truth, { rtPublicationLagMs: 120_000 });
    for (let t = 0; t < n; t += 7) {
      const now = T0 + t * Q + 60_000;
      await market.advance(now);
      for (let k = 0; k < n; k++) {
        const rtKnown = !Number.isNaN(market.known.rtPriceUsdPerMWh[k]);
        expect(rtKnown).toBe(T0 + (k + 1) * Q + 120_000 <= now);
        const daKnown = !Number.isNaN(market.known.daPriceUsdPerMWh[k]);
        expect(daKnown).toBe(daPublishedMs(cptDayIndex(T0 + k * Q)) <= now);
      }
    }
  });

  it('holds the previous target until the price is published, then decides with it', async () => {
    const lag = 90_000;
    const { d, truth, calls } = await replay('rolling', lag);
    // Each interval after the first was decided when its previous price arrived, lag after the start.
    expect(calls.filter((c) => (c - T0) % Q === lag).length).toBe(n - 1);
    expect(d.describe()['decidedWithoutLatestPrice']).toBe(0);
    const bt = rollingPolicy(truth, { solver }).plan;
    expect(Array.from(d.result().plan.fleetMW[0] as Float64Array)).toEqual(Array.from(bt.fleetMW[0] as Float64Array));
  });

  it('decides without the late price after maxPriceWaitMs, and goes stale when prices stop', async () => {
    const truth = input(hybrid(), rt, { da });
    const market = new ReplayMarket(truth, { rtPublicationLagMs: 10 * 60_000 });
    const d = new LiveDispatcher({ market, policy: 'strike', maxPriceWaitMs: 2 * 60_000, staleAfterMs: 20 * 60_000, perfNowMs: () => 0 });
    const a = await d.current(T0 + 4 * Q + 60_000);
    expect(a.stale).toBe(false);
    expect(a.nextChangeAtMs).toBe(T0 + 4 * Q + 2 * 60_000);
    await d.current(T0 + 4 * Q + 2 * 60_000);
    expect(d.decidedCount).toBe(5);
    expect(d.describe()['decidedWithoutLatestPrice']).toBeGreaterThan(0);
    // A market that stops publishing (the replay source frozen at one instant) turns stale.
    const frozen = new ReplayMarket(truth, { rtPublicationLagMs: 0 });
    await frozen.advance(T0 + 8 * Q);
    const stuck = new LiveDispatcher({ market: { ...frozen, known: frozen.known, advance: () => Promise.resolve(0), nextPublicationMs: () => Infinity, describe: () => ({}) }, policy: 'strike', maxPriceWaitMs: 60_000, staleAfterMs: 30 * 60_000, perfNowMs: () => 0 });
    expect((await stuck.current(T0 + 9 * Q)).stale).toBe(false);
    const late = await stuck.current(T0 + 12 * Q);
    expect(late.stale).toBe(true);
    if (late.stale) expect(late.reason).toMatch(/no RT price since/);
  });

  it('the live ledger of samples equal to the plan settles to the back-test ledger', async () => {
    const { d, truth } = await replay('rolling');
    const plan = d.result().plan;
    const ledger = new LiveLedger(truth);
    for (let t = 0; t < n; t++) ledger.record({ atMs: T0 + t * Q, fleetMW: plan.fleetMW.map((a) => a[t] as number), aiItMW: plan.aiItMW.map((a) => a[t] as number) });
    ledger.flush(T0 + n * Q);
    const live = ledger.settle(0, n).totals;
    const bt = settle(truth, plan).totals;
    expect(live.netUsd).toBeCloseTo(bt.netUsd, 6);
    expect(live.revenueUsd.aiFlex).toBeCloseTo(bt.revenueUsd.aiFlex, 6);
    const sum = ledger.summary(T0 + n * Q);
    expect(sum.settledIntervals).toBe(n);
    expect(sum.periods.find((p) => p.period === 'run')?.totals?.netUsd).toBeCloseTo(bt.netUsd, 6);
    const today = sum.periods.find((p) => p.period === 'today');
    expect(today?.intervals).toBeLessThan(n);
  });

  it('integrates a level change inside an interval by time', () => {
    const truth = input(hybrid(), rt.slice(0, 4), { da: da.slice(0, 4) });
    const ledger = new LiveLedger(truth);
    ledger.record({ atMs: T0, fleetMW: [10, 0], aiItMW: [4, 2] });
    ledger.record({ atMs: T0 + Q / 3, fleetMW: [4, 0], aiItMW: [4, 2] });
    ledger.flush(T0 + 2 * Q);
    const p = ledger.realizedPlan(2);
    expect(p.fleetMW[0]?.[0]).toBeCloseTo(10 / 3 + (4 * 2) / 3, 9);
    expect(p.fleetMW[0]?.[1]).toBeCloseTo(4, 9);
  });

  it('a solver that times out runs the safe fallback (the strike rule), counted and visible', async () => {
    const truth = input(hybrid(), rt, { da });
    const market = new ReplayMarket(truth, { rtPublicationLagMs: 0 });
    const timedOut = { name: 'timed-out', solve: () => ({ status: 'time-limit' as const, feasible: false, message: 'time limit reached' }) };
    const d = new LiveDispatcher({ market, policy: 'rolling', solver: timedOut, maxPriceWaitMs: 60_000, staleAfterMs: 3 * Q, perfNowMs: () => 0 });
    for (let t = 0; t < 16; t++) {
      const target = await d.current(T0 + t * Q);
      expect(target.stale).toBe(false);
      if (!target.stale) expect(target.note).toMatch(/SAFE FALLBACK/);
    }
    expect(d.safeFallbacks).toBe(4);
    expect(d.result().notes.join(' ')).toMatch(/SAFE FALLBACK in 4 of 4 steps/);
    // What the fallback decided is the strike rule's decision, interval by interval.
    const strike = strikePolicy(truth).plan;
    for (let t = 0; t < 16; t++) expect(d.result().plan.fleetMW[0]?.[t]).toBe(strike.fleetMW[0]?.[t]);
  });
});
