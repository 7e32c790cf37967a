/**
 * What the agent believes must be what the site draws: devices that lie, ignore commands or report
 * the impossible, judged against the fake fleet's true power (not the agent's projection).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentMiner } from './fleet.js';
import { fake, FakeDriver, fakeFleet } from './testing/fake-driver.js';
import { FakeMeter, setup, TempDirs, trueMW } from './testing/harness.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

/** A driver whose cheap hashrate channel says 0 while the full status read shows it hashing. */
class LyingSummaryDriver extends FakeDriver {
  readHashrateThs(): Promise<number> {
    return Promise.resolve(0);
  }
}

function lyingSummary(id: string, o: { ignoreSleep?: boolean; ratedHashrateThs?: number } = {}): AgentMiner {
  const driver = new LyingSummaryDriver(`10.9.0.${id.length}`, { ratedPowerW: 3500, ratedHashrateThs: o.ratedHashrateThs ?? 100, ...o });
  return { id, host: driver.host, type: 'fake', model: null, driver, ratedPowerW: 3500, ratedHashrateThs: o.ratedHashrateThs ?? 100, pue: 1 };
}

describe('a sleep is proven by evidence, never by one zero', () => {
  it('a zero on the cheap channel while the full read shows hashing is not a sleep: retried, and others shed for it', async () => {
    const liar = lyingSummary('liar', { ignoreSleep: true });
    const honest = fakeFleet(4, {}, 'ok');
    const { agent } = await setup([liar, ...honest]);
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', mw: 0.0034 }, 'dr-lie', 'test');
    const r = await agent.tick('signal');
    expect(fake(liar).state).toBe('mining');
    expect(honest.filter((m) => fake(m).state === 'sleeping')).toHaveLength(1);
    // The truth, not the projection: under the cap.
    expect(trueMW([liar, ...honest])).toBeLessThanOrEqual((r.decision.allowedMiningMW ?? 0) + 1e-9);
    expect(agent.events.alerts().some((e) => e.kind === 'observed-over-commanded' && e.minerId === 'liar')).toBe(true);
  });

  it('a negative hashrate or a power far above nameplate is implausible: counted at nameplate, never a proof, an event raised', async () => {
    const neg = fakeFleet(1, { reportHashrateThs: -5, ignoreSleep: true }, 'neg');
    const honest = fakeFleet(4, {}, 'ok');
    const { agent } = await setup([...neg, ...honest]);
    const start = await agent.tick('start');
    expect(start.decision.byStateMW.unknown).toBeCloseTo(0.0035, 9);
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-neg', 'test');
    await agent.tick('signal');
    const s = await agent.signals.get('dr-neg');
    expect(s?.state).toBe('unmet');
    expect(s?.shortfallMW).toBeGreaterThan(0.003);
    expect(agent.events.alerts().filter((e) => e.kind === 'implausible-reading')).toHaveLength(1);
    expect(agent.metrics.registry.render()).toMatch(/mullet_agent_implausible_readings_total\{source="miner"\} 1/);
  });

  it("one miner reporting 10¹² W moves nobody else: it counts at its nameplate and honest machines are not touched", async () => {
    const loud = fakeFleet(1, { reportPowerW: 1e12 }, 'loud');
    const honest = fakeFleet(9, {}, 'ok');
    // Limit fits all ten at nameplate: nothing should be curtailed.
    const { agent } = await setup([...loud, ...honest], { decide: { importLimitMW: 0.036 } });
    for (let i = 0; i < 3; i++) await agent.tick('timer');
    expect([...loud, ...honest].every((m) => fake(m).writes === 0)).toBe(true);
    expect(agent.status().implausible).toEqual([{ minerId: 'loud000', host: '10.0.0.0', problem: expect.stringMatching(/above 2× nameplate/) as unknown }]);
  });

  it('a meter reading of 10³⁰ W is ignored (event), and the fleet is not curtailed for it', async () => {
    const miners = fakeFleet(10);
    const meter = new FakeMeter(miners, 0);
    meter.override = 1e30;
    const { agent } = await setup(miners, { meter, decide: { importLimitMW: 0.05 } });
    for (let i = 0; i < 3; i++) await agent.tick('timer');
    expect(miners.every((m) => fake(m).writes === 0)).toBe(true);
    expect(agent.events.alerts().filter((e) => e.kind === 'implausible-meter')).toHaveLength(1);
  });
});

describe('what is observed outranks what was commanded', () => {
  it('a sleep proven, then read hashing again (a relapse), counts awake at once: retried without being counted on, others shed in that tick', async () => {
    const miners = fakeFleet(6);
    const { agent } = await setup(miners, { decide: { maxAttempts: 2 } });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', mw: 0.0034 }, 'dr-rel', 'test');
    await agent.tick('signal');
    const slept = miners.filter((m) => fake(m).state === 'sleeping');
    expect(slept).toHaveLength(1);
    // The firmware restarts and goes back to hashing on its own, then ignores sleep.
    const relapser = fake(slept[0] as AgentMiner);
    relapser.state = 'mining';
    relapser.o.ignoreSleep = true;
    const r = await agent.tick('timer');
    expect(r.decision.relapsed.length + r.decision.observedOverCommanded.length).toBeGreaterThan(0);
    expect(miners.filter((m) => fake(m).state === 'sleeping')).toHaveLength(1);
    expect(relapser.state).toBe('mining');
    expect(trueMW(miners)).toBeLessThanOrEqual(r.decision.allowedMiningMW + 1e-9);
    expect(agent.events.alerts().some((e) => e.kind === 'relapse')).toBe(true);
  });

  it('a miner that acknowledges sleep and keeps hashing is counted at its power once its grace is over, not for the whole retry window', async () => {
    const bad = fakeFleet(1, { ignoreSleep: true, ratedHashrateThs: 100 }, 'bad');
    const good = fakeFleet(4, {}, 'ok');
    // A long confirm window (the old behaviour counted the ack as asleep for all of it) and a short grace.
    const { agent, clock } = await setup([...bad, ...good], { decide: { confirmTimeoutMs: 90_000, commandGraceMs: 1_000 }, verifyWaitMs: 10_000, verifyPollMs: 250 });
    await agent.tick('start');
    const t0 = clock.nowMs();
    await agent.receiveSignal({ kind: 'curtail', mw: 0.0034 }, 'dr-grace', 'test');
    const r = await agent.tick('signal');
    expect(good.filter((m) => fake(m).state === 'sleeping')).toHaveLength(1);
    // Decided within the grace plus one verify poll, not the 90 s window.
    expect(clock.nowMs() - t0).toBeLessThan(5_000);
    expect(trueMW([...bad, ...good])).toBeLessThanOrEqual(r.decision.allowedMiningMW + 1e-9);
  });
});

describe('the meter closes the loop within the tick', () => {
  it('a device that lies in every read (asleep while drawing) is found by the meter after the writes: more is curtailed in the same tick', async () => {
    // Least efficient, so slept first; it acknowledges, then reports asleep in every read while drawing.
    const liar = fakeFleet(1, { ignoreSleep: true, liesAfterSleep: true, ratedHashrateThs: 100 }, 'liar');
    const honest = fakeFleet(6, {}, 'ok');
    const all = [...liar, ...honest];
    const meter = new FakeMeter(all, 0);
    // 7 × 3.5 kW = 24.5 kW against a 20 kW limit.
    const { agent } = await setup(all, { meter, decide: { importLimitMW: 0.02, meterLagMs: 0 } });
    const r = await agent.tick('start');
    expect(r.rounds).toBeGreaterThanOrEqual(2);
    expect((await meter.readSitePowerW()) / 1e6).toBeLessThanOrEqual(0.02);
    expect(trueMW(all)).toBeLessThanOrEqual(0.02);
  });

  it('between ticks a meter reading above the limit starts a tick at once', async () => {
    const miners = fakeFleet(6);
    const meter = new FakeMeter(miners, 0);
    // Waits move the fake clock and yield to the event loop, so the loop below runs for real.
    const { agent, clock } = await setup(miners, {
      meter,
      decide: { importLimitMW: 0.03 },
      tickMs: 60_000,
      meterPollMs: 1_000,
      sleep: (ms) => {
        clock.advance(ms);
        return new Promise((r) => setTimeout(r, 1));
      },
    });
    await agent.tick('start');
    const ac = new AbortController();
    const loop = agent.run(ac.signal);
    await new Promise((r) => setTimeout(r, 10));
    // The AI hall next door jumps by 10 kW: the site is over its limit.
    meter.otherW = 10_000;
    const before = clock.nowMs();
    for (let i = 0; i < 200 && trueMW(miners) + 0.01 > 0.03; i++) await new Promise((r) => setTimeout(r, 2));
    ac.abort();
    await loop;
    expect(trueMW(miners) + 0.01).toBeLessThanOrEqual(0.03);
    const over = agent.events.alerts().find((e) => e.kind === 'meter-over-limit');
    // Seen at the next poll, not at the next 60 s tick.
    expect((over?.atMs ?? Infinity) - before).toBeLessThanOrEqual(1_000);
  });
});

describe('signals cannot flip the site faster than the minimum dwell', () => {
  it('ten alternating curtail/restore signals in 30 s send at most one sleep and one wake per miner', async () => {
    const miners = fakeFleet(40);
    const { agent, clock } = await setup(miners, { decide: { minDwellMs: 60_000, restorePacingMs: 0, restoreBatchSize: 1000 } });
    await agent.tick('start');
    for (let i = 0; i < 10; i++) {
      await agent.receiveSignal(i % 2 === 0 ? { kind: 'curtail', all: true } : { kind: 'restore' }, `flap-${i}`, 'test');
      await agent.tick('signal');
      clock.advance(3_000);
    }
    const writes = miners.reduce((a, m) => a + fake(m).writes, 0);
    expect(writes).toBeLessThanOrEqual(40);
    // The last signal was a restore: it waits for the dwell, then wakes everything.
    const last = await agent.signals.get('flap-9');
    expect(last?.state).toBe('active');
    expect(agent.status().lastTick).toMatchObject({ decision: { dwellDeferred: 40 } });
    clock.advance(60_000);
    await agent.tick('pacing');
    expect(miners.every((m) => fake(m).state === 'mining')).toBe(true);
  });
});

describe('long-polls and signal outcomes', () => {
  it('a long-poll on a superseded signal returns at once, not at its timeout', async () => {
    const miners = fakeFleet(4);
    const { agent } = await setup(miners);
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'old', 'test');
    const t0 = Date.now();
    const waiting = agent.waitForSignal('old', 30_000);
    await agent.receiveSignal({ kind: 'restore' }, 'new', 'test');
    const r = await waiting;
    expect(r?.state).toBe('superseded');
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('a curtail nothing left can meet settles unmet with its shortfall, never confirmed', async () => {
    const stuck = fakeFleet(2, { ignoreSleep: true }, 'stuck');
    const { agent } = await setup(stuck, { decide: { maxAttempts: 2 } });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-unmet', 'test');
    for (let i = 0; i < 4; i++) await agent.tick('pending');
    expect(await agent.signals.get('dr-unmet')).toMatchObject({ state: 'unmet', minersFailed: 2 });
    expect((await agent.signals.get('dr-unmet'))?.shortfallMW).toBeCloseTo(0.007, 9);
  });
});
