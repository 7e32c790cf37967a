/**
 * The AI front under the agent's control: curtailed only within its contract, after mining, and
 * restored before any miner wakes; a firm load is never sent a limit, whatever asks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AiLoad } from '../../site/types.js';
import { fakeAiDevices } from './testing/fake-ai.js';
import { fake, fakeFleet } from './testing/fake-driver.js';
import { setup, TempDirs } from './testing/harness.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const capped = (over: Partial<Extract<AiLoad, { kind: 'capped' }>> = {}): AiLoad => ({
  kind: 'capped',
  name: 'cloud',
  itMW: 0.1, // 10 × 10 kW servers
  pue: 1,
  usdPerKwMonth: 150,
  maxReductionPct: 30,
  maxHoursPerYear: 100,
  usdPerMWhReduced: 50,
  powerPassThrough: true,
  fourCpPassThrough: true,
  maxEventMinutes: 240,
  noticeMinutes: 0,
  ...over,
});
const firm: AiLoad = { kind: 'firm', name: 'anchor', itMW: 0.05, pue: 1, usdPerKwMonth: 150, powerPassThrough: true, fourCpPassThrough: true };

describe('the AI front under the agent', () => {
  it('a signal asking more than mining can give limits capped AI by the rest, within its contract, and never touches firm AI', async () => {
    const miners = fakeFleet(4); // 14 kW of mining
    const cloud = fakeAiDevices(10, 10_000, 4_000, 'cloud');
    const anchor = fakeAiDevices(5, 10_000, 4_000, 'anchor');
    const { agent, store } = await setup(miners, { decide: { aiMW: 0.15 }, ai: [{ load: capped(), devices: cloud }, { load: firm, devices: anchor }] });
    await agent.tick('start');
    // 14 kW of mining + 20 kW more.
    await agent.receiveSignal({ kind: 'curtail', mw: 0.034 }, 'dr-ai', 'test');
    for (let i = 0; i < 3; i++) await agent.tick('signal');
    expect(miners.every((m) => fake(m).state === 'sleeping')).toBe(true);
    const cloudW = cloud.reduce((a, d) => a + d.drawW, 0);
    expect(cloudW).toBeCloseTo(100_000 - 20_000, -2);
    expect(anchor.every((d) => d.calls.set === 0 && d.calls.clear === 0)).toBe(true);
    expect(await agent.signals.get('dr-ai')).toMatchObject({ state: 'confirmed' });
    const rows = (await store.commands()).filter((c) => c.kind === 'ai-limit');
    expect(rows).toHaveLength(10);
    expect(rows[0]?.reason).toMatch(/signal dr-ai asks 0\.020 MW beyond mining.*contract: up to 30 % of 0\.100 MW/);
    expect(agent.events.recent('ai')).toHaveLength(1);
  });

  it('never below the contract floor: the rest is unmet, said so', async () => {
    const miners = fakeFleet(2);
    const cloud = fakeAiDevices(10, 10_000, 4_000, 'cloud');
    const { agent } = await setup(miners, { decide: { aiMW: 0.1 }, ai: [{ load: capped(), devices: cloud }] });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', mw: 0.07 }, 'big', 'test'); // 7 kW mining + 63 kW: AI can give 30
    for (let i = 0; i < 3; i++) await agent.tick('signal');
    expect(cloud.reduce((a, d) => a + d.drawW, 0)).toBeCloseTo(70_000, -2);
    expect(await agent.signals.get('big')).toMatchObject({ state: 'unmet' });
    expect((await agent.signals.get('big'))?.shortfallMW).toBeCloseTo(0.033, 3);
  });

  it('a restore lifts the AI limits first; miners wake only after', async () => {
    const miners = fakeFleet(4);
    const cloud = fakeAiDevices(10, 10_000, 4_000, 'cloud');
    const { agent } = await setup(miners, { decide: { aiMW: 0.1, restorePacingMs: 0 }, ai: [{ load: capped(), devices: cloud }] });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', mw: 0.03 }, 'c1', 'test');
    for (let i = 0; i < 3; i++) await agent.tick('signal');
    expect(cloud.some((d) => d.capW !== null)).toBe(true);
    await agent.receiveSignal({ kind: 'restore' }, 'r1', 'test');
    const first = await agent.tick('signal');
    expect(cloud.every((d) => d.capW === null)).toBe(true);
    expect(first.decision.commands.filter((c) => c.kind === 'wake')).toHaveLength(0);
    expect(miners.every((m) => fake(m).state === 'sleeping')).toBe(true);
    for (let i = 0; i < 3; i++) await agent.tick('pacing');
    expect(miners.every((m) => fake(m).state === 'mining')).toBe(true);
  });

  it('no curtailment once the hours budget is used, nor before the notice has run; the budget survives a restart', async () => {
    const miners = fakeFleet(1);
    const cloud = fakeAiDevices(10, 10_000, 4_000, 'cloud');
    const db = tmp.dbFile();
    const a = await setup(miners, { db, decide: { aiMW: 0.1 }, ai: [{ load: capped({ noticeMinutes: 10, maxHoursPerYear: 1 }), devices: cloud }] });
    await a.agent.tick('start');
    await a.agent.receiveSignal({ kind: 'curtail', mw: 0.02 }, 'n1', 'test');
    await a.agent.tick('signal');
    expect(cloud.every((d) => d.capW === null)).toBe(true); // notice not yet given
    expect(a.agent.status().ai?.[0]?.blocked).toMatch(/notice of 10 min/);
    a.clock.advance(10 * 60_000);
    await a.agent.tick('timer');
    expect(cloud.every((d) => d.capW !== null)).toBe(true);
    // An hour later the year's budget (1 h) is used: released, and not curtailed again.
    a.clock.advance(60 * 60_000);
    await a.agent.tick('timer');
    expect(cloud.every((d) => d.capW === null)).toBe(true);
    expect(a.agent.status().ai?.[0]?.blocked).toMatch(/hours budget used/);
    await a.agent.close();
    const b = await setup(miners, { db, clock: a.clock, decide: { aiMW: 0.1 }, ai: [{ load: capped({ noticeMinutes: 10, maxHoursPerYear: 1 }), devices: cloud }] });
    await b.agent.tick('start');
    expect(b.agent.status().ai?.[0]?.usedHours).toBeGreaterThanOrEqual(1);
    expect(cloud.every((d) => d.capW === null)).toBe(true);
    await b.agent.close();
  });

  it('an event is released when it reaches the contract length', async () => {
    const miners = fakeFleet(1);
    const cloud = fakeAiDevices(10, 10_000, 4_000, 'cloud');
    const { agent, clock } = await setup(miners, { decide: { aiMW: 0.1 }, ai: [{ load: capped({ maxEventMinutes: 30 }), devices: cloud }] });
    await agent.tick('start');
    await agent.receiveSignal({ kind: 'curtail', mw: 0.02 }, 'e1', 'test');
    await agent.tick('signal');
    expect(cloud.every((d) => d.capW !== null)).toBe(true);
    clock.advance(31 * 60_000);
    await agent.tick('timer');
    expect(cloud.every((d) => d.capW === null)).toBe(true);
    expect(agent.status().ai?.[0]?.blocked).toMatch(/event limit reached \(30 min\)/);
  });
});
