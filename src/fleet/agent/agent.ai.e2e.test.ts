/**
 * The AI front end to end: the agent's Redfish and feed-target clients against the simulated GPU
 * hall on loopback, judged by the hall's ground truth (what the servers really draw).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SiteAgent } from './agent.js';
import { SimSite, trueMiningMW } from './testing/sim-site.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

function running(agent: SiteAgent): void {
  const ac = new AbortController();
  const loop = agent.run(ac.signal);
  open.push({
    close: async () => {
      ac.abort();
      await loop;
      await agent.close();
    },
  });
}

describe('agent + simulated GPU hall', () => {
  it.each([
    ['Redfish BMCs', false],
    ['feed-level targets', true],
  ])('a curtail beyond the mining load caps the capped GPU hall through %s; the truth meets it', async (_what, manager) => {
    const s = await SimSite.start({ miners: 10, cidr: manager ? '127.132.1.0/24' : '127.132.0.0/24', gpus: { servers: 8, cidr: manager ? '127.132.3.0/24' : '127.132.2.0/24', kind: 'capped', maxReductionPct: 40, manager } });
    open.push(s);
    const { agent } = await s.agent({ decide: { minDwellMs: 0 } });
    running(agent);
    await agent.tick('start');
    const miningMW = trueMiningMW(await s.truth());
    const hallMW = (s.hall?.powerW() ?? 0) / 1e6;
    const { record } = await agent.receiveSignal({ kind: 'curtail', mw: miningMW + 0.015 }, 'ai-e2e', 'test');
    const done = await agent.waitForSignal(record.id, 30_000);
    expect(done?.state).toBe('confirmed');
    expect((await s.truth()).every((t) => t.state === 'sleeping')).toBe(true);
    // The hall gives the 15 kW beyond mining (servers settle within seconds of sim time).
    for (let i = 0; i < 50 && (s.hall?.powerW() ?? 0) / 1e6 > hallMW - 0.015 + 0.002; i++) await new Promise((r) => setTimeout(r, 100));
    expect((s.hall?.powerW() ?? 0) / 1e6).toBeLessThanOrEqual(hallMW - 0.015 + 0.002);
    expect(s.hall?.truth().every((t) => t.capW !== null)).toBe(true);
    expect(s.hall?.truth().every((t) => t.throughputPct > 0)).toBe(true);
  });

  it('a firm GPU hall is never sent a limit, however large the curtail', async () => {
    const s = await SimSite.start({ miners: 10, cidr: '127.132.4.0/24', gpus: { servers: 6, cidr: '127.132.5.0/24', kind: 'firm' } });
    open.push(s);
    const { agent } = await s.agent();
    running(agent);
    await agent.tick('start');
    const { record } = await agent.receiveSignal({ kind: 'curtail', mw: 5 }, 'firm-e2e', 'test');
    const done = await agent.waitForSignal(record.id, 30_000);
    // Mining is all the site can shed: the rest is unmet, said so; the firm hall is never asked.
    expect(done?.state).toBe('unmet');
    expect(s.hall?.truth().every((t) => t.writes === 0 && t.capW === null)).toBe(true);
  });
});
