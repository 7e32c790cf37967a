import { describe, expect, it } from 'vitest';
import { fleetModel } from './fleet-model.js';
import { settle } from './ledger.js';
import { miningOnlyPolicy } from './baseline.js';
import { initialStrikeState, strikeDecide, strikePolicy } from './strike.js';
import { fleet, input, site, T0, Q } from './testing/fixtures.js';
import { Reason } from './types.js';

const mw = (a: Float64Array | undefined) => Array.from(a ?? [], (v) => Math.round(v * 1e6) / 1e6);

describe('strike', () => {
  it('sleeps after N intervals above the break-even and wakes after M at or below (prices seen with one interval lag)', () => {
    const s = site({ fleets: [fleet('a', 10, 50)], dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2 }, rolling: { horizonHours: 2, stepMinutes: 15, nearTerm: 'rt-persistence' }, timeLimitSeconds: 5 } });
    const r = strikePolicy(input(s, [20, 60, 60, 20, 20, 20]));
    expect(mw(r.plan.fleetMW[0])).toEqual([10, 10, 0, 0, 0, 10]);
    expect(Array.from(r.plan.reason[0] ?? [])).toEqual([0, 0, Reason.price, Reason.price, Reason.price, 0]);
  });

  it('uses a configured strike instead of the break-even', () => {
    const s = site({ fleets: [fleet('a', 10, 50, { strikeUsdPerMWh: 70 })] });
    expect(mw(strikePolicy(input(s, [60, 60, 80, 20])).plan.fleetMW[0])).toEqual([10, 10, 10, 0]);
  });

  it('curtails in 4CP alert windows and holds machines asleep for minOffMinutes', () => {
    const s = site({ fleets: [fleet('a', 10, 50, { minOffMinutes: 45 })] });
    const inp = input(s, [20, 20, 20, 20, 20, 20, 20]);
    inp.fourCpAlert[1] = 1;
    const r = strikePolicy(inp);
    // Off at t1 (alert); t2, t3 still within 45 min of t1; back at t4.
    expect(mw(r.plan.fleetMW[0])).toEqual([10, 0, 0, 0, 10, 10, 10]);
    expect(Array.from(r.plan.reason[0] ?? []).slice(0, 4)).toEqual([0, Reason.fourCp, Reason.minOff, Reason.minOff]);
  });

  it('ramps and gives the interconnect to the most efficient fleet first', () => {
    const s = site({ interconnect: { importLimitMW: 12 }, fleets: [fleet('old', 10, 40), fleet('new', 10, 80, { rampMWPerMinute: 0.2 })] });
    const r = strikePolicy(input(s, [10, 10, 10, 10]));
    expect(mw(r.plan.fleetMW[1])).toEqual([10, 10, 10, 10]);
    expect(mw(r.plan.fleetMW[0])).toEqual([2, 2, 2, 2]);
    expect(Array.from(r.plan.reason[0] ?? [])).toEqual([Reason.importLimit, Reason.importLimit, Reason.importLimit, Reason.importLimit]);
    const ramped = strikePolicy(input(s, [10, 90, 10, 10, 10, 10, 10]));
    // new: off at t2 (price 90 seen), then back up at 3 MW per interval.
    expect(mw(ramped.plan.fleetMW[1])).toEqual([10, 10, 7, 10, 10, 10, 10]);
  });

  it('a high strike sleeps every fleet on one price, past the interval count and the ramp; they wake by the usual count', () => {
    const strike = { sleepAfterIntervals: 3, wakeAfterIntervals: 2 };
    const fleets = [fleet('a', 10, 50), fleet('b', 10, 80, { rampMWPerMinute: 0.1 })];
    const prices = [20, 500, 20, 20, 20, 20];
    // Without it one 500 USD/MWh interval never reaches three in a row: nobody sleeps.
    const plain = strikePolicy(input(site({ fleets, dispatch: { ...site().dispatch, strike } }), prices));
    expect(mw(plain.plan.fleetMW[0])).toEqual([10, 10, 10, 10, 10, 10]);
    const s = site({ fleets, dispatch: { ...site().dispatch, strike: { ...strike, highStrikeUsdPerMWh: 400 } } });
    const r = strikePolicy(input(s, prices));
    // Seen at t2 (one interval of lag): both off at once (b ignores its 1.5 MW per interval ramp-down), back after two below.
    expect(mw(r.plan.fleetMW[0])).toEqual([10, 10, 0, 0, 10, 10]);
    expect(mw(r.plan.fleetMW[1])).toEqual([10, 10, 0, 0, 1.5, 3]);
    expect(Array.from(r.plan.reason[0] ?? []).slice(2, 4)).toEqual([Reason.price, Reason.price]);
    // A price just under it is an ordinary price.
    expect(mw(strikePolicy(input(s, [20, 399.99, 20, 20])).plan.fleetMW[0])).toEqual([10, 10, 10, 10]);
  });

  it('decide is pure: the previous state is not modified', () => {
    const models = [fleetModel(fleet('a', 10, 50))];
    const s0 = initialStrikeState(1);
    const snapshot = JSON.stringify(s0);
    const d = strikeDecide(models, { sleepAfterIntervals: 1, wakeAfterIntervals: 1 }, s0, { startMs: T0, lastPriceUsdPerMWh: 99, hashpriceUsdPerPhDay: 24, fourCpAlert: false, headroomMW: 100 });
    expect(JSON.stringify(s0)).toBe(snapshot);
    expect(d.fleetMW).toEqual([0]);
    const d2 = strikeDecide(models, { sleepAfterIntervals: 1, wakeAfterIntervals: 1 }, d.state, { startMs: T0 + Q, lastPriceUsdPerMWh: 10, hashpriceUsdPerPhDay: 24, fourCpAlert: false, headroomMW: 100 });
    expect(d2.fleetMW).toEqual([10]);
  });
});

describe('mining-only', () => {
  it('runs every fleet at nameplate and settles energy at the real-time price', () => {
    const s = site({ fleets: [fleet('a', 10, 50)] });
    const inp = input(s, [20, 100]);
    const r = miningOnlyPolicy(inp);
    expect(mw(r.plan.fleetMW[0])).toEqual([10, 10]);
    const t = settle(inp, r.plan).totals;
    expect(t.revenueUsd.mining).toBeCloseTo(50 * 10 * 0.5, 9);
    expect(t.costUsd.energy).toBeCloseTo(120 * 10 * 0.25, 9);
    expect(t.miningUptimePct).toBeCloseTo(100, 9);
    expect(t.curtailedMWh).toBeCloseTo(0, 9);
  });
});
