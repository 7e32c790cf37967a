import { describe, expect, it } from 'vitest';
import { loadHighsSolver } from '../solver/highs.js';
import { miningOnlyPolicy } from './baseline.js';
import { explainIdentical, regretByCause, samePlan } from './compare.js';
import { settle } from './ledger.js';
import { optimalPolicy } from './optimal.js';
import { rollingPolicy } from './rolling.js';
import { strikePolicy } from './strike.js';
import { fleet, input, site, SITE_PAYS, T0 } from './testing/fixtures.js';
import type { DispatchInput, PolicyResult } from './types.js';

const solver = await loadHighsSolver();
const settled = (inp: DispatchInput, r: PolicyResult) => ({ plan: r.plan, ledger: settle(inp, r.plan) });
const cause = (b: ReturnType<typeof regretByCause>, c: string) => b.causes.find((x) => x.cause === c)?.usd ?? NaN;

describe('regret by cause', () => {
  it('splits the gap exactly: 4CP alert days, and the one-interval price lag', () => {
    // A 4CP alert in intervals 2–3 that is not the peak (no peak in the window), and a price spike the
    // strike rule only sees one interval late.
    const s = site({ fleets: [fleet('a', 10, 50)], transmission: { coincidentPeak: { months: [8], usdPerKwYear: 60, alerts: { localHours: [0, 1], riskPct: 95 } } } });
    const inp = input(s, [20, 20, 20, 20, 20, 200, 20, 20, 20, 20]);
    inp.fourCpAlert.fill(0);
    inp.fourCpAlert[2] = 1;
    inp.fourCpAlert[3] = 1;
    const strike = settled(inp, strikePolicy(inp));
    const opt = settled(inp, optimalPolicy(inp, { solver }));
    const b = regretByCause(inp, strike, opt);
    expect(b.gapUsd).toBeCloseTo(opt.ledger.totals.netUsd - strike.ledger.totals.netUsd, 6);
    expect(b.causes.reduce((s2, c) => s2 + c.usd, 0)).toBeCloseTo(b.gapUsd, 6);
    // Alert intervals: strike sleeps, optimal mines 10 MW × 0.25 h at 50 − 20 USD/MWh each.
    expect(cause(b, 'fourCpAlerts')).toBeCloseTo(2 * 10 * 0.25 * (50 - 20), 6);
    // The spike: strike mines through it (sees it one interval late), then sleeps one interval at 20.
    expect(cause(b, 'priceResponse')).toBeCloseTo(10 * 0.25 * (200 - 50) + 10 * 0.25 * (50 - 20), 6);
    expect(cause(b, 'rampLimits')).toBe(0);
    const streams = b.byStreamUsd;
    // By stream, costs enter with their sign in the gap (a lower energy bill is a positive share).
    expect(streams.mining + streams.energy).toBeCloseTo(b.gapUsd, 6);
  });

  it('names ramp limits, unresold power and AI flexibility', () => {
    // Unresold PPA block: power freed inside it earns nothing, so curtailing on price there is the loss.
    const s = site({ ppa: { blockMW: 10, priceUsdPerMWh: 30, resale: false }, fleets: [fleet('a', 10, 50)] });
    const inp = input(s, [20, 80, 80, 20]);
    const b = regretByCause(inp, settled(inp, strikePolicy(inp)), settled(inp, optimalPolicy(inp, { solver })));
    expect(cause(b, 'resale')).toBeCloseTo(b.gapUsd, 6);
    expect(b.gapUsd).toBeGreaterThan(0);
    // A capped tenant the optimum cuts at the spike, the strike rule never.
    const s2 = site({ ai: [{ kind: 'capped', ...SITE_PAYS, name: 'c', itMW: 10, pue: 1, usdPerKwMonth: 0, maxReductionPct: 50, maxHoursPerYear: 8760, usdPerMWhReduced: 0 }] });
    const inp2 = input(s2, [20, 500, 20, 20]);
    const b2 = regretByCause(inp2, settled(inp2, strikePolicy(inp2)), settled(inp2, optimalPolicy(inp2, { solver })));
    expect(cause(b2, 'aiFlexibility')).toBeCloseTo(5 * 0.25 * 500 + 5 * 0.25 * 20 * 3, 6);
    expect(cause(b2, 'aiFlexibility')).toBeCloseTo(b2.gapUsd, 6);
    // Ramps: the optimum pre-ramps; the gap lands on rampLimits.
    const s3 = site({ fleets: [fleet('a', 10, 50, { rampMWPerMinute: 0.2 })] });
    const inp3 = input(s3, [80, 80, 20, 20, 20, 80]);
    const b3 = regretByCause(inp3, settled(inp3, strikePolicy(inp3)), settled(inp3, optimalPolicy(inp3, { solver })));
    expect(b3.causes.reduce((x, c) => x + c.usd, 0)).toBeCloseTo(b3.gapUsd, 6);
    expect(cause(b3, 'rampLimits')).toBeGreaterThan(0);
  });
});

describe('identical policies', () => {
  it('explains why rolling equals strike when nothing couples the intervals', () => {
    const s = site({ fleets: [fleet('a', 10, 50)], dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2 }, rolling: { horizonHours: 2, stepMinutes: 15, nearTerm: 'rt-persistence' }, timeLimitSeconds: 30 } });
    const inp = input(s, [20, 70, 20, 60, 55, 20, 20, 90, 20, 20], { startMs: T0 });
    const strike = strikePolicy(inp);
    const rolling = rollingPolicy(inp, { solver });
    expect(samePlan(strike.plan, rolling.plan)).toBe(true);
    const why = explainIdentical(inp, strike.plan, rolling.plan);
    expect(why).toMatch(/^rolling and strike dispatched identically in all 10 intervals: no ramp limit bound, the interconnect \(1000 MW\) was never the limit/);
    expect(why).toContain('exactly the strike rule at break-even with sleep after 1 and wake after 2 intervals');
    // A site with no fleets: every rule-based policy serves the same load.
    const ai = site({ ai: [{ kind: 'firm', ...SITE_PAYS, name: 't', itMW: 5, pue: 1, usdPerKwMonth: 100 }] });
    const inp2 = input(ai, [20, 30]);
    expect(explainIdentical(inp2, miningOnlyPolicy(inp2).plan, strikePolicy(inp2).plan)).toMatch(/the site has no fleets, no flexible AI load/);
    expect(samePlan(strikePolicy(inp).plan, miningOnlyPolicy(inp).plan)).toBe(false);
  });
});
