import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { parseSite } from '../../site/parse.js';
import { MemoryAgentStateStore } from '../state/memory-store.js';
import { agentMetrics } from './metrics.js';
import { SignalDesk } from './signal-desk.js';
import { SiteAgent } from './agent.js';
import { DEFAULT_DECIDE_CONFIG } from './types.js';
import { loadPlan, planFileFromPlan, planFileSchema, planTargetAt, type PlanFile } from './plan-file.js';
import { fetchPrice, type PriceSample } from './price-feed.js';
import { capFor, SignalConflictError } from './signals.js';
import { PlanFileTarget, StrikeRuleTarget } from './targets.js';
import { strikePolicy } from '../../dispatch/strike.js';
import { input as dispatchInput } from '../../dispatch/testing/fixtures.js';

const T0 = Date.UTC(2025, 7, 1, 18, 0, 0);
const Q = 15 * 60_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SITE = parseSite(
  [
    'name: demo',
    'market: { iso: ERCOT, settlementPoint: HB_WEST }',
    'interconnect: { importLimitMW: 50 }',
    'ai: [{ kind: firm, name: gpu, itMW: 20, pue: 1.25, usdPerKwMonth: 150 }]',
    'fleets:',
    '  - { name: new, hashrateThs: 200, powerW: 3500, count: 4000, strikeUsdPerMWh: 90 }',
    '  - { name: old, hashrateThs: 110, powerW: 3250, count: 4000, strikeUsdPerMWh: 45 }',
    'dispatch: { strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2 } }',
    '',
  ].join('\n'),
);

function plan(over: Partial<PlanFile> = {}): PlanFile {
  return {
    version: 1,
    site: 'demo',
    policy: 'optimal',
    intervalMinutes: 15,
    fleets: ['new', 'old'],
    intervals: [
      { start: new Date(T0).toISOString(), fleetMW: [14, 13] },
      { start: new Date(T0 + Q).toISOString(), fleetMW: [14, 0] },
      { start: new Date(T0 + 3 * Q).toISOString(), fleetMW: [0, 0] },
    ],
    ...over,
  };
}

describe('plan file', () => {
  it.each([
    { at: T0 - 1, stale: 'plan starts at 2025-08-01T18:00:00.000Z' },
    { at: T0, mw: 27 },
    { at: T0 + Q - 1, mw: 27 },
    { at: T0 + Q, mw: 14 },
    { at: T0 + 2 * Q, stale: 'plan has no interval covering now (gap after 2025-08-01T18:30:00.000Z)' },
    { at: T0 + 3 * Q + 5, mw: 0 },
    { at: T0 + 4 * Q, stale: 'plan ended at 2025-08-01T19:00:00.000Z' },
  ])('at +$at ms: $mw MW / stale $stale', ({ at, mw, stale }) => {
    const t = planTargetAt(loadPlan(plan()), at);
    if (stale) expect(t).toEqual({ source: 'plan', stale: true, reason: stale });
    else expect(t).toMatchObject({ source: 'plan', stale: false, targetMW: mw });
  });

  it('rejects malformed plans with the path', () => {
    const bad = planFileSchema.safeParse({ ...plan(), intervals: [{ start: '2025-08-01T18:00:00Z', fleetMW: [1] }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['intervals', 0, 'fleetMW']);
    expect(planFileSchema.safeParse({ ...plan(), intervals: [...plan().intervals].reverse() }).success).toBe(false);
  });

  it('round-trips a dispatch Plan', () => {
    const p = planFileFromPlan(SITE, { policy: 'strike', fleetMW: [Float64Array.of(1, 2), Float64Array.of(3, 4)], aiItMW: [], reason: [] }, [T0, T0 + Q], 15);
    expect(planFileSchema.parse(p)).toEqual(p);
    expect(planTargetAt(loadPlan(p), T0 + Q)).toMatchObject({ targetMW: 6 });
    expect(planTargetAt(loadPlan(p), T0 + Q)).not.toHaveProperty('priceUsdPerMWh');
    // With the prices it was planned on, the plan's interval price is the price in force.
    const priced = planFileFromPlan(SITE, { policy: 'optimal', fleetMW: [Float64Array.of(1, 2), Float64Array.of(3, 4)], aiItMW: [], reason: [] }, [T0, T0 + Q], 15, [31.5, NaN]);
    expect(priced.intervals.map((i) => i.priceUsdPerMWh)).toEqual([31.5, undefined]);
    expect(planTargetAt(loadPlan(planFileSchema.parse(priced)), T0 + 60_000)).toMatchObject({ targetMW: 4, priceUsdPerMWh: 31.5, priceIntervalStartMs: T0 });
  });

  it('PlanFileTarget re-reads a changed file, and a lost file is stale (never the old numbers)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mullet-plan-'));
    dirs.push(dir);
    const file = join(dir, 'plan.json');
    writeFileSync(file, JSON.stringify(plan()));
    const t = new PlanFileTarget(file, 'demo');
    await t.load();
    expect(await t.current(T0)).toMatchObject({ stale: false, targetMW: 27 });
    writeFileSync(file, JSON.stringify(plan({ intervals: [{ start: new Date(T0).toISOString(), fleetMW: [1, 1] }] })));
    // mtime resolution: force a different mtime.
    const { utimesSync } = await import('node:fs');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await t.current(T0)).toMatchObject({ stale: false, targetMW: 2 });
    unlinkSync(file);
    const lost = await t.current(T0);
    expect(lost.stale).toBe(true);
    await expect(new PlanFileTarget(join(dir, 'nope.json'), 'demo').load()).rejects.toThrow();
    writeFileSync(file, JSON.stringify(plan({ site: 'other' })));
    await expect(new PlanFileTarget(file, 'demo').load()).rejects.toThrow(/plan is for site 'other'/);
  });
});

describe('strike rule on a live price feed (dispatch strikeDecide)', () => {
  const sample = (price: number, startMs: number, extra: Partial<PriceSample> = {}): PriceSample => ({ priceUsdPerMWh: price, intervalStartMs: startMs, hashpriceUsdPerPhDay: undefined, fourCpAlert: false, receivedAtMs: startMs, ...extra });

  it('sleeps the fleet whose strike the price exceeds, least efficient first, within the headroom', async () => {
    let s = sample(60, T0 - Q);
    const rule = new StrikeRuleTarget(SITE, { fetch: () => Promise.resolve(s), staleAfterMs: 20 * 60_000, pollMs: 0, fixedLoadMW: 25 });
    // 60 USD/MWh: above old's strike 45, below new's 90 → new runs (14 MW), old sleeps.
    expect(await rule.current(T0, new AbortController().signal)).toMatchObject({ source: 'rule', stale: false, targetMW: 14 });
    s = sample(100, T0);
    expect(await rule.current(T0 + Q, new AbortController().signal)).toMatchObject({ targetMW: 0 });
    s = sample(30, T0 + Q);
    // Wake needs 2 intervals at or below the strike.
    expect(await rule.current(T0 + 2 * Q, new AbortController().signal)).toMatchObject({ targetMW: 0 });
    s = sample(30, T0 + 2 * Q);
    expect(await rule.current(T0 + 3 * Q, new AbortController().signal)).toMatchObject({ targetMW: 25 }); // 27 MW of fleets, 25 MW of headroom
  });

  it("the rule's state survives an agent restart: mid-interval nothing is decided twice, a waking fleet keeps its count", async () => {
    const store = new MemoryAgentStateStore();
    let s = sample(60, T0 - Q);
    const rule = (): StrikeRuleTarget => new StrikeRuleTarget(SITE, { fetch: () => Promise.resolve(s), staleAfterMs: 20 * 60_000, pollMs: 0, fixedLoadMW: 25 });
    const clock = new FakeClock(T0);
    const start = (targets: StrikeRuleTarget) =>
      SiteAgent.create({ siteName: 'x', miners: [], decide: { ...DEFAULT_DECIDE_CONFIG, importLimitMW: 100, aiMW: 0 }, store, clock, targets });
    const r1 = rule();
    const a = await start(r1);
    s = sample(100, T0);
    clock.set(T0 + Q);
    await a.tick('timer'); // old and new asleep
    s = sample(30, T0 + Q);
    clock.set(T0 + 2 * Q);
    await a.tick('timer'); // one interval at or below the strike: not yet awake (needs 2)
    expect(r1.describe()).toMatchObject({ fleetsAwake: [false, false] });
    // Restart: a fresh rule would start with every fleet awake; the saved one remembers the count.
    const r2 = rule();
    await start(r2);
    expect(r2.describe()).toMatchObject({ fleetsAwake: [false, false] });
    s = sample(30, T0 + 2 * Q);
    expect(await r2.current(T0 + 3 * Q, new AbortController().signal)).toMatchObject({ targetMW: 25 });
    // A saved state that does not fit the site (fleets changed) is ignored.
    expect(r2.loadState('{"awake":[true],"above":[0],"below":[0],"offSinceMs":[null],"mw":[null],"lastStartMs":null}')).toBe(false);
  });

  const siteWith = (strike: string): ReturnType<typeof parseSite> =>
    parseSite(
      [
        'name: demo',
        'market: { iso: ERCOT, settlementPoint: HB_WEST }',
        'interconnect: { importLimitMW: 50 }',
        'ai: [{ kind: firm, name: gpu, itMW: 20, pue: 1.25, usdPerKwMonth: 150 }]',
        'fleets:',
        '  - { name: new, hashrateThs: 200, powerW: 3500, count: 4000, strikeUsdPerMWh: 90 }',
        '  - { name: old, hashrateThs: 110, powerW: 3250, count: 4000, strikeUsdPerMWh: 45 }',
        `dispatch: { strike: ${strike} }`,
        '',
      ].join('\n'),
    );

  it('acts on each new price when it arrives (5-minute SCED prices), not at the next 15-minute boundary', async () => {
    let s = sample(30, T0 - 5 * 60_000);
    const rule = new StrikeRuleTarget(SITE, { fetch: () => Promise.resolve(s), staleAfterMs: 20 * 60_000, pollMs: 0, fixedLoadMW: 25 });
    const now = (ms: number) => rule.current(ms, new AbortController().signal);
    expect(await now(T0)).toMatchObject({ targetMW: 25 });
    // 17:43:52 (here T0 + 3:52): a 60 USD/MWh price for the 5-minute interval at +0:00 → old sleeps now.
    s = sample(60, T0, { receivedAtMs: T0 + 232_000 });
    expect(await now(T0 + 232_000)).toMatchObject({ targetMW: 14 });
    // The same price again on later ticks is not counted again.
    expect(await now(T0 + 242_000)).toMatchObject({ targetMW: 14 });
    // Two 5-minute prices at or below the strike wake it: at +10 min, not at the 15-minute boundary after the next.
    s = sample(30, T0 + 5 * 60_000);
    expect(await now(T0 + 5 * 60_000 + 5_000)).toMatchObject({ targetMW: 14 });
    s = sample(30, T0 + 10 * 60_000);
    expect(await now(T0 + 10 * 60_000 + 5_000)).toMatchObject({ targetMW: 25 });
    expect(rule.describe()).toMatchObject({ lastPriceActedAt: new Date(T0 + 10 * 60_000 + 5_000).toISOString() });
  });

  it('a price at or above the high strike curtails at once, whatever the interval count; a revised price is decided again', async () => {
    const site = siteWith('{ sleepAfterIntervals: 3, wakeAfterIntervals: 1, highStrikeUsdPerMWh: 400 }');
    let s = sample(30, T0 - Q);
    const rule = new StrikeRuleTarget(site, { fetch: () => Promise.resolve(s), staleAfterMs: 20 * 60_000, pollMs: 0, fixedLoadMW: 25 });
    const now = (ms: number) => rule.current(ms, new AbortController().signal);
    expect(await now(T0)).toMatchObject({ targetMW: 25 });
    s = sample(120, T0);
    expect(await now(T0 + 60_000)).toMatchObject({ targetMW: 25 }); // above both strikes once: needs 3
    s = sample(500, T0 + 5 * 60_000);
    const t = await now(T0 + 5 * 60_000 + 10_000);
    expect(t).toMatchObject({ targetMW: 0 });
    if (!t.stale) expect(t.note).toMatch(/at or above the high strike 400 USD\/MWh/);
    // The feed corrects that interval's price to 80: decided again from the counts before it (no trip).
    s = sample(80, T0 + 5 * 60_000);
    // old: two prices above its 45, not three; new: 80 is under its 90 → both run again (25 MW of headroom).
    expect(await now(T0 + 5 * 60_000 + 20_000)).toMatchObject({ targetMW: 25 });
  });

  it('live and back-test agree: the same prices through the agent rule and through strikePolicy give the same MW', async () => {
    const site = siteWith('{ sleepAfterIntervals: 2, wakeAfterIntervals: 2, highStrikeUsdPerMWh: 300 }');
    const prices = [20, 60, 100, 30, 30, 500, 20, 20, 50, 95, 40, 40, 40, 1200, 10, 10, 10];
    const inp = dispatchInput(site, prices, { startMs: T0 });
    const plan = strikePolicy(inp).plan;
    let s: PriceSample | null = null;
    const rule = new StrikeRuleTarget(site, { fetch: () => (s ? Promise.resolve(s) : Promise.reject(new Error('none yet'))), staleAfterMs: 40 * 60_000, pollMs: 0, fixedLoadMW: 25 });
    for (let t = 1; t < prices.length; t++) {
      // The 15-minute price of t − 1 is published about a minute into t; ticks every few minutes after.
      s = sample(prices[t - 1] as number, T0 + (t - 1) * Q);
      const want = plan.fleetMW.reduce((a, f) => a + (f[t] as number), 0);
      for (const offMs of [65_000, 5 * 60_000, 12 * 60_000]) {
        const got = await rule.current(T0 + t * Q + offMs, new AbortController().signal);
        expect(got.stale ? NaN : got.targetMW, `interval ${t} +${offMs / 1000} s`).toBeCloseTo(want, 9);
      }
    }
  });

  it('a silent or failing feed goes stale after its timeout', async () => {
    let fail = false;
    const rule = new StrikeRuleTarget(SITE, {
      fetch: () => (fail ? Promise.reject(new Error('connection refused')) : Promise.resolve(sample(40, T0 - Q))),
      staleAfterMs: 20 * 60_000,
      pollMs: 0,
      fixedLoadMW: 25,
    });
    expect((await rule.current(T0, new AbortController().signal)).stale).toBe(false);
    fail = true;
    expect((await rule.current(T0 + 4 * 60_000, new AbortController().signal)).stale).toBe(false);
    const t = await rule.current(T0 + 6 * 60_000, new AbortController().signal);
    expect(t).toMatchObject({ stale: true });
    if (t.stale) expect(t.reason).toMatch(/older than 1200 s \(connection refused\)/);
  });

  it('needs a strike or a hashprice', async () => {
    const site = parseSite('name: x\nmarket: { iso: ERCOT, settlementPoint: HB_WEST }\ninterconnect: { importLimitMW: 5 }\nfleets: [{ name: a, hashrateThs: 200, powerW: 3500, count: 10 }]\n');
    const rule = new StrikeRuleTarget(site, { fetch: () => Promise.resolve(sample(40, T0)), staleAfterMs: 1e9, pollMs: 0, fixedLoadMW: 0 });
    expect(await rule.current(T0, new AbortController().signal)).toMatchObject({ stale: true, reason: "fleet 'a' has no strikeUsdPerMWh and the feed gives no hashprice" });
    const withHp = new StrikeRuleTarget(site, { fetch: () => Promise.resolve(sample(40, T0, { hashpriceUsdPerPhDay: 50 })), staleAfterMs: 1e9, pollMs: 0, fixedLoadMW: 0 });
    // 17.5 J/TH at 50 USD/PH/day earns ~119 USD/MWh: 40 is below → mine.
    expect(await withHp.current(T0 + Q, new AbortController().signal)).toMatchObject({ stale: false, targetMW: 0.035 });
  });

  it('fetchPrice parses, validates and times out', async () => {
    let body = JSON.stringify({ priceUsdPerMWh: 42.5, intervalStart: '2025-08-01T18:00:00Z', hashpriceUsdPerPhDay: 48.2 });
    let hang = false;
    const server = http.createServer((_req, res) => {
      if (hang) return;
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rt`;
    try {
      expect(await fetchPrice(url, { timeoutMs: 2000, nowMs: T0 })).toEqual({ priceUsdPerMWh: 42.5, intervalStartMs: T0, hashpriceUsdPerPhDay: 48.2, fourCpAlert: false, receivedAtMs: T0 });
      body = JSON.stringify({ priceUsdPerMWh: 'NaN', intervalStart: 'yesterday' });
      await expect(fetchPrice(url, { timeoutMs: 2000, nowMs: T0 })).rejects.toMatchObject({ code: 'PARSE' });
      hang = true;
      await expect(fetchPrice(url, { timeoutMs: 200, nowMs: T0 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('signals: caps and idempotency', () => {
  it.each([
    { spec: { kind: 'curtail' as const, all: true as const }, cap: 0 },
    { spec: { kind: 'curtail' as const, mw: 5 }, cap: 15 },
    { spec: { kind: 'curtail' as const, mw: 50 }, cap: 0 },
    { spec: { kind: 'curtail' as const, pct: 25 }, cap: 15 },
  ])('$spec from a 20 MW baseline → cap $cap MW', ({ spec, cap }) => {
    expect(capFor(spec, 20)).toBe(cap);
  });

  it('a chain of curtails keeps the first baseline; restore clears it; ids are idempotent', async () => {
    const store = new MemoryAgentStateStore();
    const deps = { store, metrics: agentMetrics(), event: () => undefined, log: () => undefined, writable: () => true };
    const desk = await SignalDesk.create(deps);
    const a = await desk.receive({ kind: 'curtail', mw: 5 }, 'a', 'http', T0, 20, 0);
    expect(a.record.capMW).toBe(15);
    const b = await desk.receive({ kind: 'curtail', mw: 10 }, 'b', 'http', T0 + 1, 15, 0);
    expect(b.record).toMatchObject({ capMW: 10, baselineMW: 20 });
    expect(await desk.get('a')).toMatchObject({ state: 'superseded', supersededBy: 'b' });
    expect(await desk.receive({ kind: 'curtail', mw: 5 }, 'a', 'mqtt', T0 + 2, 99, 0)).toMatchObject({ duplicate: true, record: { capMW: 15 } });
    expect(desk.capMW()).toBe(10);
    await expect(desk.receive({ kind: 'curtail', pct: 5 }, 'b', 'http', T0, 1, 0)).rejects.toThrow(SignalConflictError);
    await desk.receive({ kind: 'restore' }, 'c', 'http', T0 + 3, 10, 0);
    expect(desk.capMW()).toBeNull();
    const d = await desk.receive({ kind: 'curtail', pct: 50 }, undefined, 'http', T0 + 4, 8, 0);
    expect(d.record.id).toMatch(/^sig-/);
    expect(d.record.capMW).toBe(4);
    // The cap and the signal in progress survive a restart (kept in the state store).
    const again = await SignalDesk.create(deps);
    expect(again.capMW()).toBe(4);
    expect(again.tracking()?.id).toBe(d.record.id);
  });

  it('two signals arriving together are taken one at a time: exactly one supersedes the other', async () => {
    const desk = await SignalDesk.create({ store: new MemoryAgentStateStore(), metrics: agentMetrics(), event: () => undefined, log: () => undefined, writable: () => true });
    await Promise.all([desk.receive({ kind: 'curtail', mw: 1 }, 'x', 'http', T0, 10, 0), desk.receive({ kind: 'curtail', mw: 2 }, 'y', 'mqtt', T0, 10, 0)]);
    expect(await desk.get('x')).toMatchObject({ state: 'superseded', supersededBy: 'y' });
    expect(await desk.get('y')).toMatchObject({ state: 'active', capMW: 8 });
  });
});
