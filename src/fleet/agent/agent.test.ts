import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/time.js';
import { SqliteAgentStateStore } from '../state/store.js';
import type { AgentMiner } from './fleet.js';
import { SignalConflictError, signalTiming } from './signals.js';
import type { SignalRecord } from './state-port.js';
import type { TargetProvider } from './targets.js';
import { fake, fakeFleet } from './testing/fake-driver.js';
import { FakeMeter, setup, T0, TempDirs } from './testing/harness.js';
import { agentStatusSchema } from './api.js';
import type { TargetInput } from './types.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());
const dbFile = (): string => tmp.dbFile();

describe('SiteAgent tick', () => {
  it('curtails on a signal, verifies by reading back and confirms the signal', async () => {
    const miners = fakeFleet(10);
    const { agent } = await setup(miners);
    await agent.tick('start');
    const { record } = await agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-1', 'test');
    expect(record.capMW).toBe(0);
    const r = await agent.tick('signal');
    expect(r.commandsSent).toBe(10);
    expect(miners.every((m) => fake(m).state === 'sleeping')).toBe(true);
    const done = await agent.signals.get('dr-1');
    expect(done).toMatchObject({ state: 'confirmed', commandsSent: 10, minersConfirmed: 10, minersFailed: 0, minersUnreachable: 0 });
    // A second tick sends nothing: the fleet is where the signal wants it.
    expect((await agent.tick('timer')).commandsSent).toBe(0);
    expect(agent.metrics.registry.render()).toMatch(/mullet_fleet_miners\{state="sleeping"\} 10/);
  });

  it('the same signal id twice acts once; a different request under that id is a conflict', async () => {
    const miners = fakeFleet(10);
    const { agent } = await setup(miners);
    await agent.tick('start');
    const a = await agent.receiveSignal({ kind: 'curtail', mw: 0.0105 }, 'dr-7', 'http');
    await agent.tick('signal');
    const sleeps = miners.reduce((s, m) => s + fake(m).calls.sleep, 0);
    expect(sleeps).toBe(4); // 10.5 kW at 3.47 kW shed each
    const b = await agent.receiveSignal({ kind: 'curtail', mw: 0.0105 }, 'dr-7', 'mqtt');
    expect(b.duplicate).toBe(true);
    expect(b.record.capMW).toBe(a.record.capMW);
    await agent.tick('signal');
    expect(miners.reduce((s, m) => s + fake(m).calls.sleep, 0)).toBe(4);
    await expect(agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-7', 'http')).rejects.toThrow(SignalConflictError);
  });

  it('a miner that ignores sleep is retried, then marked failed; another sleeps instead and its power is still counted', async () => {
    // m000 is the least efficient and ignores sleep.
    const bad = fakeFleet(1, { ratedHashrateThs: 100, ignoreSleep: true }, 'bad');
    const good = fakeFleet(4, {}, 'ok');
    const { agent } = await setup([...bad, ...good], { decide: { maxAttempts: 3 } });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', mw: 0.0034 }, 'dr-2', 'test');
    const r = await agent.tick('signal');
    // Read back still hashing: re-sent once (not counted on) and another machine slept in the same tick.
    expect(fake(bad[0] as AgentMiner).calls.sleep).toBe(2);
    expect(good.filter((m) => fake(m).state === 'sleeping')).toHaveLength(1);
    expect(r.decision.byStateMW.mining).toBeCloseTo(0.0035 * 4, 9);
    expect(r.decision.projectedMiningMW).toBeLessThanOrEqual(r.decision.allowedMiningMW + 1e-12);
    expect(await agent.signals.get('dr-2')).toMatchObject({ state: 'confirmed', minersConfirmed: 1, minersFailed: 1 });
    // Later curtailments keep re-sending it until its attempts run out: then it is failed and left alone.
    await agent.receiveSignal({ kind: 'curtail', mw: 0.007 }, 'dr-2b', 'test');
    const r2 = await agent.tick('signal');
    expect(fake(bad[0] as AgentMiner).calls.sleep).toBe(3);
    expect(r2.decision.byStateMW.failed + r.decision.byStateMW.failed).toBeGreaterThan(0);
    expect(agent.metrics.registry.render()).toMatch(/mullet_fleet_miners\{state="failed"\} 1/);
  });

  it("a status read on the command's own connection is the read-back; one still hashing is counted and others shed", async () => {
    const quiet = fakeFleet(3, { readBackOnSleep: true }, 'q');
    const stubborn = fakeFleet(1, { readBackOnSleep: true, ignoreSleep: true, ratedHashrateThs: 100 }, 's');
    const { agent } = await setup([...quiet, ...stubborn], { decide: { maxAttempts: 2 } });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-rb', 'test');
    await agent.tick('signal');
    // The start-up read only: the read-back rode on the command.
    for (const m of quiet) expect(fake(m).calls.read).toBe(1);
    const s = fake(stubborn[0] as AgentMiner);
    expect(s.calls.sleep).toBe(2);
    expect(await agent.signals.get('dr-rb')).toMatchObject({ state: 'unmet', minersConfirmed: 3, minersFailed: 1 });
  });

  it('an unreachable miner counts at full power and others shed for it', async () => {
    const gone = fakeFleet(1, { unreachable: true, ratedPowerW: 5000 }, 'gone');
    const up = fakeFleet(4, { ratedPowerW: 2000 }, 'up');
    const { agent } = await setup([...gone, ...up]);
    const start = await agent.tick('start');
    expect(start.decision.byStateMW.unreachable).toBeCloseTo(0.005, 12);
    expect(start.decision.currentMiningMW).toBeCloseTo(0.013, 12);
    // 5 kW off a 13 kW baseline: the unreachable 5 kW stays counted, so three 2 kW miners sleep.
    await agent.receiveSignal({ kind: 'curtail', mw: 0.005 }, 'dr-5', 'test');
    const r = await agent.tick('signal');
    expect(up.filter((m) => fake(m).state === 'sleeping')).toHaveLength(3);
    expect(fake(gone[0] as AgentMiner).calls.sleep).toBe(0);
    expect(r.decision.projectedMiningMW).toBeLessThanOrEqual(0.008);
    expect(await agent.signals.get('dr-5')).toMatchObject({ state: 'confirmed', minersUnreachable: 1 });
  });

  it('restores in paced batches, most efficient first', async () => {
    const miners = [...fakeFleet(6, { state: 'sleeping', ratedHashrateThs: 200 }, 'a'), ...fakeFleet(6, { state: 'sleeping', ratedHashrateThs: 100 }, 'b')];
    const { agent, clock } = await setup(miners, { decide: { restoreBatchSize: 4, restorePacingMs: 10_000 } });
    await agent.receiveSignal({ kind: 'restore' }, 'r-1', 'test');
    const first = await agent.tick('start');
    expect(first.commandsSent).toBe(4);
    expect(first.decision.restoreDeferred).toBe(8);
    expect(miners.slice(0, 4).every((m) => fake(m).state === 'mining')).toBe(true);
    expect((await agent.signals.get('r-1'))?.state).toBe('active');
    expect((await agent.tick('pacing')).commandsSent).toBe(0); // too soon
    clock.advance(10_000);
    expect((await agent.tick('pacing')).commandsSent).toBe(4);
    clock.advance(10_000);
    expect((await agent.tick('pacing')).commandsSent).toBe(4);
    expect(miners.slice(8).every((m) => fake(m).state === 'mining')).toBe(true);
    clock.advance(10_000);
    await agent.tick('pacing');
    expect(await agent.signals.get('r-1')).toMatchObject({ state: 'confirmed', commandsSent: 12, minersConfirmed: 12 });
  });

  it('a woken miner is waking until its hashrate shows; the restore is acknowledged first, confirmed once they hash (both times kept)', async () => {
    const db = dbFile();
    const miners = fakeFleet(6, { bootReads: 2 });
    const { agent, clock, store } = await setup(miners, { db });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'c-1', 'test');
    await agent.tick('signal');
    clock.advance(5_000);
    const { record } = await agent.receiveSignal({ kind: 'restore' }, 'r-boot', 'test');
    const woke = await agent.tick('signal');
    expect(woke.commandsSent).toBe(6);
    // Read back 'mining' at a fifth of the hashrate: booting, so 'waking' in status and metrics,
    // still counted at nameplate for the import limit.
    expect(agent.status().minersByState).toMatchObject({ waking: 6, mining: 0 });
    expect(agent.metricsText()).toMatch(/mullet_fleet_miners\{state="waking"\} 6/);
    expect(woke.decision.byStateMW.waking).toBeCloseTo(6 * 0.0035, 9);
    expect(woke.decision.byStateMW.mining).toBe(0);
    const acked = await agent.signals.get('r-boot');
    expect(acked).toMatchObject({ state: 'active', confirmedAtMs: null });
    expect(acked?.acknowledgedAtMs).toBeGreaterThanOrEqual(record.receivedAtMs);
    clock.advance(10_000);
    await agent.tick('timer');
    expect((await agent.signals.get('r-boot'))?.state).toBe('active');
    clock.advance(10_000);
    await agent.tick('timer');
    expect(agent.status().minersByState).toMatchObject({ waking: 0, mining: 6 });
    const done = await agent.signals.get('r-boot');
    expect(done).toMatchObject({ state: 'confirmed', minersConfirmed: 6 });
    expect(done?.confirmedAtMs).toBeGreaterThan(acked?.acknowledgedAtMs ?? Infinity);
    // Both times survive in the store and reach the wire.
    const stored = await store.getSignal('r-boot');
    expect(stored?.acknowledgedAtMs).toBe(acked?.acknowledgedAtMs);
    const t = signalTiming(stored as SignalRecord);
    expect(t.acknowledgedMs).toBe((acked?.acknowledgedAtMs ?? 0) - record.receivedAtMs);
    expect(t.elapsedMs).toBe((done?.confirmedAtMs ?? 0) - record.receivedAtMs);
    expect(t.elapsedMs).toBeGreaterThan(t.acknowledgedMs ?? Infinity);
    // A curtail is in effect when acknowledged: one time for both.
    const c = signalTiming((await store.getSignal('c-1')) as SignalRecord);
    expect(c.acknowledgedMs).toBe(c.elapsedMs);
    await agent.close();
  });

  it('status and metrics show what operators chart: hashrate, metered MW, the price in force, strikes, and why each machine is curtailed', async () => {
    const miners = fakeFleet(10);
    let target: TargetInput = { source: 'rule', stale: false, targetMW: 0.025, priceUsdPerMWh: 61.5, priceIntervalStartMs: T0, fleetStrikeUsdPerMWh: { s21: 90, s19: 45 } };
    const targets: TargetProvider = { source: 'rule', current: () => Promise.resolve(target), describe: () => ({ source: 'rule' }) };
    const meter = new FakeMeter(miners, 1_000_000);
    const { agent } = await setup(miners, { targets, meter });
    const first = await agent.tick('start');
    // 35 kW of miners, 25 kW allowed by the price rule: three sleep for 'price'.
    expect(first.decision.curtailReason).toBe('price');
    await agent.receiveSignal({ kind: 'curtail', mw: 0.0065 }, 'dr-why', 'test');
    await agent.tick('signal');
    target = { source: 'rule', stale: true, reason: 'feed silent' };
    const status = agentStatusSchema.parse(agent.status());
    expect(status.fleetHashrateThs).toBeCloseTo(200 * 5, 6);
    expect(status.sitePowerMW).toBeCloseTo(1 + (5 * 3500 + 5 * 30) / 1e6, 9);
    expect(status.price).toEqual({ usdPerMWh: 61.5, intervalStart: new Date(T0).toISOString(), source: 'rule' });
    expect(status.fleetStrikesUsdPerMWh).toEqual({ s21: 90, s19: 45 });
    expect(status.curtailed?.price?.miners).toBe(3);
    expect(status.curtailed?.signal?.miners).toBe(2);
    expect(status.curtailed?.signal?.mw).toBeCloseTo((2 * (3500 - 30)) / 1e6, 9);
    expect(status.lastTick?.decision.curtailReason).toBe('signal');
    const text = agent.metricsText();
    expect(text).toMatch(/^mullet_fleet_hashrate_ths 1000$/m);
    expect(text).toMatch(/^mullet_site_power_mw 1\.01765$/m);
    expect(text).toMatch(/^mullet_price_usd_per_mwh 61\.5$/m);
    expect(text).toMatch(/^mullet_fleet_strike_usd_per_mwh\{fleet="s21"\} 90$/m);
    expect(text).toMatch(/^mullet_fleet_curtailed_miners\{reason="price"\} 3$/m);
    expect(text).toMatch(/^mullet_agent_curtail_commands_total\{reason="signal"\} 2$/m);
    // A stale feed: no price in force, the strikes last known stay.
    await agent.tick('timer');
    expect(agent.metricsText()).toMatch(/^mullet_price_usd_per_mwh NaN$/m);
    expect(agent.status().price).toBeNull();
  });

  it('a restarted agent reconciles: it reads first and does not re-send to miners already asleep', async () => {
    const db = dbFile();
    const miners = fakeFleet(8, { ambiguousSleep: true });
    const clock = new FakeClock(T0);
    const a = await setup(miners, { db, clock });
    await a.agent.tick('start');
    await a.agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-3', 'test');
    await a.agent.tick('signal');
    expect(miners.every((m) => fake(m).state === 'sleeping')).toBe(true);
    // Crash: no close, no flush of anything beyond what each tick persisted.
    a.store.abandon();
    const writesBefore = miners.map((m) => fake(m).writes);
    clock.advance(60_000);
    const b = await setup(miners, { db, clock });
    const r = await b.agent.tick('start');
    expect(r.commandsSent).toBe(0);
    expect(miners.map((m) => fake(m).writes)).toEqual(writesBefore);
    // The cap survived the restart.
    expect(b.agent.signals.capMW()).toBe(0);
    await b.agent.close();
  });

  it('a stale plan falls back to the safe mode', async () => {
    const miners = fakeFleet(4);
    let target: TargetInput = { source: 'plan', stale: false, targetMW: 0.01 };
    const targets: TargetProvider = { source: 'plan', current: () => Promise.resolve(target), describe: () => ({}) };
    const { agent } = await setup(miners, { targets, decide: { safeMode: 'curtail-all' } });
    const r1 = await agent.tick('start');
    expect(r1.commandsSent).toBe(2); // 14 kW → 10 kW: two sleeps of 3.43 kW each
    target = { source: 'plan', stale: true, reason: 'plan ended' };
    const r2 = await agent.tick('timer');
    expect(r2.decision.safeMode).toEqual({ mode: 'curtail-all', reason: 'plan ended' });
    expect(miners.every((m) => fake(m).state === 'sleeping')).toBe(true);
    expect(agent.metrics.registry.render()).toMatch(/mullet_agent_safe_mode 1/);
  });

  it('a hard stop aborts at once; every command was on record before it was sent, and the successor marks the unknown ones interrupted', async () => {
    const miners = fakeFleet(20);
    const stop = new AbortController();
    const db = dbFile();
    const { agent, store } = await setup(miners, { db, hardStop: stop.signal, concurrency: 1 });
    await agent.tick('start');
    let n = 0;
    for (const m of miners) {
      const d = fake(m);
      const orig = d.sleep.bind(d);
      d.sleep = () => {
        if (++n === 5) stop.abort(new Error('kill'));
        return orig();
      };
    }
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-4', 'test');
    await agent.tick('signal');
    expect(miners.filter((m) => fake(m).state === 'sleeping')).toHaveLength(5);
    // The whole batch was written before the first byte went out: an audit after a crash is complete.
    expect((await store.commands())).toHaveLength(20);
    expect((await store.commands()).every((c) => c.state === 'sent' && c.kind === 'sleep' && c.signalId === 'dr-4')).toBe(true);
    store.abandon(); // kill -9
    const next = SqliteAgentStateStore.open(db, T0);
    expect((await next.commands()).every((c) => c.state === 'interrupted')).toBe(true);
    await next.close();
  });
});
