/**
 * Grid services in the agent loop, on fake miners and a fake clock (every wait moves the clock, so
 * deadlines of 10 minutes pass in microseconds): the award floor held under a curtail-all, a
 * deployment from receipt to met, hold, end and restore; a missed deadline with its penalty event;
 * recall; the state surviving a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from './events.js';
import { fake, fakeFleet } from './testing/fake-driver.js';
import { FakeMeter, setup, T0, TempDirs } from './testing/harness.js';
import type { AgentMiner } from './fleet.js';
import type { SiteAgent } from './agent.js';
import { agentStatusSchema } from './api.js';
import { gridDeploymentMissedSchema } from '../../alerts/grid-event.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const iso = (ms: number): string => new Date(ms).toISOString();
const awake = (miners: readonly AgentMiner[]): number => miners.filter((m) => fake(m).state === 'mining').length;
const award = (mw: number) => ({ id: 'aw-ecrs', product: 'ECRS' as const, mw, from: iso(T0 - 3_600_000), to: iso(T0 + 24 * 3_600_000) });

function events(agent: SiteAgent): AgentEvent[] {
  const seen: AgentEvent[] = [];
  agent.subscribe((e) => seen.push(e));
  return seen;
}

describe('grid services in the agent loop (virtual time)', () => {
  it('an award keeps its MW of miners mining under a curtail-all; the floor is named as the binding limit', async () => {
    const miners = fakeFleet(10); // 3.5 kW each
    const { agent } = await setup(miners, { grid: { awards: [award(0.01)] } });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-all', 'test');
    const r = await agent.tick('signal');
    expect(r.decision.limitedBy).toBe('award-floor');
    // 10 kW of award: 3 machines (10.5 kW) at least stay awake; the pad (a machine, standby, the restore deadband) may keep more.
    expect(awake(miners)).toBeGreaterThanOrEqual(3);
    expect(awake(miners)).toBeLessThanOrEqual(5);
    expect((await agent.gridState()).floorMW).toBeCloseTo(0.01, 9);
  });

  it('an award wakes sleeping miners until the awake ones carry it (restore deadband included)', async () => {
    const miners = fakeFleet(10, { state: 'sleeping' });
    const { agent } = await setup(miners, { grid: { awards: [award(0.007)] } });
    await agent.receiveSignal({ kind: 'curtail', all: true }, 'dr-all', 'test'); // nothing else would wake them
    await agent.tick('start');
    await agent.tick('timer');
    expect(awake(miners) * 0.0035).toBeGreaterThanOrEqual(0.007);
    expect(awake(miners)).toBeLessThanOrEqual(5);
  });

  it('the import limit wins over the floor, and an alert says the floor is not held', async () => {
    const miners = fakeFleet(10);
    const { agent } = await setup(miners, { grid: { awards: [award(0.02)] }, decide: { importLimitMW: 0.01 } });
    const seen = events(agent);
    await agent.tick('start');
    const r = await agent.tick('timer');
    expect(r.decision.limitedBy).toBe('import-limit');
    expect(r.decision.projectedSiteMW).toBeLessThanOrEqual(0.01 + 1e-9);
    const alerts = seen.filter((e) => e.type === 'alert' && e.kind === 'award-floor-unheld');
    expect(alerts).toHaveLength(1); // once per episode
  });

  it('a deployment is cut within its deadline, measured from the meter, held, ended, and mining restored', async () => {
    const miners = fakeFleet(20);
    const meter = new FakeMeter(miners, 1_000_000);
    const { agent, clock, store } = await setup(miners, { meter, grid: { awards: [award(0.02)] }, decide: { minDwellMs: 0 } });
    const seen = events(agent);
    await agent.tick('start');
    expect(awake(miners)).toBe(20);
    const { record } = await agent.receiveDeployment({ id: 'ecrs-1', product: 'ECRS', mw: 0.014, holdMinutes: 20 }, 'test');
    expect(record.deadlineMs - record.startMs).toBe(600_000);
    expect(record.awardId).toBe('aw-ecrs');
    const r = await agent.tick('signal');
    expect(r.decision.limitedBy).toBe('grid-deployment');
    const d1 = await agent.getDeployment('ecrs-1');
    expect(d1).toMatchObject({ state: 'active', measuredBy: 'meter', result: 'pending' });
    expect(d1?.t100AtMs).not.toBeNull();
    expect(d1?.firstCommandAtMs).not.toBeNull();
    expect(d1?.lastReductionMW).toBeGreaterThanOrEqual(0.014 * 0.999);
    expect(awake(miners)).toBe(15); // 5 × 3.47 kW shed ≥ 14 kW
    const status = agentStatusSchema.parse(agent.status());
    expect(status.grid?.open.map((o) => [o.id, o.state])).toEqual([['ecrs-1', 'active']]);
    expect(status.lastTick?.decision.limits.map((l) => l.name)).toEqual(['import-limit', 'target', 'grid-deployment', 'award-floor']);
    // The deadline passes: met.
    clock.advance(600_000);
    await agent.tick('target');
    expect((await agent.getDeployment('ecrs-1'))?.result).toBe('met');
    // Held until the end, then mining comes back.
    clock.advance(300_000);
    await agent.tick('target');
    expect(awake(miners)).toBe(15);
    clock.advance(400_000);
    await agent.tick('target');
    expect((await agent.getDeployment('ecrs-1'))?.state).toBe('completed');
    expect(awake(miners)).toBe(20);
    const phases = seen.flatMap((e) => (e.type === 'grid.deployment' ? [e.phase] : []));
    expect(phases).toEqual(['received', 'started', 'reached-95', 'reached-100', 'met', 'completed']);
    const ev = await agent.gridEvidence();
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ id: 'ecrs-1', product: 'ECRS', mwRequested: 0.014, result: 'met', penaltyUsd: 0, measuredBy: 'meter', state: 'completed' });
    expect(ev[0]?.secondsToFull).toBeLessThan(600);
    expect((await store.getDeployment('ecrs-1'))?.state).toBe('completed');
  });

  it('a deadline missed raises grid.deployment.missed with the penalty; the recall settles it on the hours held', async () => {
    const miners = fakeFleet(4); // 14 kW of mining cannot shed 50 kW
    const { agent, clock } = await setup(miners, { grid: { penaltyUsdPerMWh: 5000 } });
    const seen = events(agent);
    await agent.tick('start');
    await agent.receiveDeployment({ id: 'ers-big', product: 'ERS-10', mw: 0.05 }, 'test');
    await agent.tick('signal');
    expect(awake(miners)).toBe(0);
    clock.advance(600_000);
    await agent.tick('target');
    const missed = seen.filter((e) => e.type === 'grid.deployment.missed');
    expect(missed).toHaveLength(1);
    const m = missed[0] as Extract<AgentEvent, { type: 'grid.deployment.missed' }>;
    // Delivered: the 4 machines' 3.47 kW each (reads): short ≈ 36.1 kW, quoted for one hour at 5000 USD/MWh.
    expect(m.mwDelivered).toBeCloseTo(4 * 0.00347, 4);
    // The alert rule `grid-deployment-missed` parses this very event.
    expect(gridDeploymentMissedSchema.parse(m)).toMatchObject({ id: 'ers-big', product: 'ERS-10', mwRequested: 0.05 });
    expect(m.shortfallMW).toBeCloseTo(0.05 - 4 * 0.00347, 4);
    expect(m.hours).toBe(1);
    expect(m.penaltyUsd).toBeCloseTo(m.shortfallMW * 5000, 6);
    clock.advance(3 * 3_600_000 - 600_000);
    const r = await agent.recallDeployment('ers-big', 'test');
    expect(r.record).toMatchObject({ state: 'recalled', result: 'missed' });
    expect(r.record.penaltyUsd).toBeCloseTo(m.shortfallMW * 3 * 5000, 6);
    expect((await agent.recallDeployment('ers-big', 'test')).duplicate).toBe(true);
    const metrics = agent.metricsText();
    expect(metrics).toMatch(/mullet_grid_deployments_total\{product="ERS-10",result="missed"\} 1\n/);
    const penalty = Number(/mullet_grid_penalty_usd_total\{product="ERS-10"\} ([0-9.e+]+)/.exec(metrics)?.[1]);
    expect(penalty).toBeCloseTo(r.record.penaltyUsd, 6); // quoted for an hour at the deadline, the rest added at the recall
    await agent.tick('signal');
    expect(awake(miners)).toBe(4);
  });

  it('ids are idempotent; the same id with another request is a conflict; unknown recall is NOT_FOUND', async () => {
    const { agent } = await setup(fakeFleet(4));
    await agent.receiveDeployment({ id: 'n-1', product: 'NSPIN', mw: 0.001 }, 'test');
    expect((await agent.receiveDeployment({ id: 'n-1', product: 'NSPIN', mw: 0.001 }, 'mqtt')).duplicate).toBe(true);
    await expect(agent.receiveDeployment({ id: 'n-1', product: 'NSPIN', mw: 0.002 }, 'test')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(agent.recallDeployment('nope', 'test')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await agent.setAward(award(0.001), 'test')).duplicate).toBe(false);
    expect((await agent.setAward(award(0.001), 'test')).duplicate).toBe(true);
    await expect(agent.setAward({ ...award(0.002) }, 'test')).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a restarted agent keeps enforcing an active deployment (SQLite state) and judges it at its deadline', async () => {
    const db = tmp.dbFile();
    const miners = fakeFleet(10);
    const a = await setup(miners, { db });
    await a.agent.tick('start');
    await a.agent.receiveDeployment({ id: 'e-r', product: 'ECRS', mw: 0.007 }, 'test');
    await a.agent.tick('signal');
    expect(awake(miners)).toBe(7);
    await a.agent.close();
    const b = await setup(miners, { db, clock: a.clock });
    await b.agent.tick('start');
    expect(awake(miners)).toBe(7); // the cap is still in force: nothing woken
    a.clock.advance(600_000);
    await b.agent.tick('target');
    expect((await b.agent.getDeployment('e-r'))?.result).toBe('met');
    await b.agent.close();
  });
});
