/**
 * A grid deployment end to end on the simulator (real protocols on loopback, the Modbus site meter,
 * the agent API on port 0): an ECRS deployment posted over HTTP is cut within its deadline as the
 * meter sees it and the ground truth confirms, judged met, recalled (the miners woken again), and
 * exported as evidence. Real time, with a deadline of seconds instead of ECRS's ten minutes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentRoutes } from '../../server/agent-routes.js';
import { serveHttp } from '../../server/serve.js';
import type { SiteAgent } from './agent.js';
import type { AgentEvent } from './events.js';
import { deploymentReplySchema, evidenceRowSchema } from './grid.js';
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

/** Resolves with the first event matching `pred`, or rejects after `ms`. */
function eventually(agent: SiteAgent, pred: (e: AgentEvent) => boolean, ms: number, what: string): Promise<AgentEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => (off(), reject(new Error(`timed out waiting for ${what}`))), ms);
    const off = agent.subscribe((e) => {
      if (!pred(e)) return;
      clearTimeout(t);
      off();
      resolve(e);
    });
  });
}

async function until(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const post = async (url: string, body: unknown): Promise<{ status: number; body: unknown }> => {
  const r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, body: await r.json() };
};

describe('grid deployment on the simulator', () => {
  it('ECRS over HTTP: cut within the deadline (meter and ground truth), met, recalled, exported', { timeout: 60_000 }, async () => {
    const s = await SimSite.start({ miners: 24, cidr: '127.30.151.0/24' });
    open.push(s);
    const { agent } = await s.agent({ meter: s.meterReader(), decide: { minDwellMs: 0 }, tickMs: 2_000 });
    running(agent);
    const http = await serveHttp(agentRoutes(agent, { grid: agent }), { host: '127.0.0.1', port: 0 });
    open.push(http);
    await until(() => Promise.resolve(agent.status().lastTick !== null), 10_000, 'the first tick');
    const before = trueMiningMW(await s.truth());
    const mw = 0.015; // about 5 of the 24 machines
    const started = eventually(agent, (e) => e.type === 'grid.deployment' && e.phase === 'reached-95', 20_000, '95 % reduced');
    const met = eventually(agent, (e) => e.type === 'grid.deployment' && e.phase === 'met', 30_000, 'met');
    const r = await post(`${http.url}/v1/grid/deployments`, { id: 'e2e-ecrs-1', product: 'ECRS', mw, deadlineAt: new Date(Date.now() + 8_000).toISOString() });
    expect(r.status).toBe(202);
    expect(deploymentReplySchema.parse(r.body).deployment.state).toBe('scheduled');
    await started;
    // The ground truth: the miners really draw at least `mw` less than before.
    expect(before - trueMiningMW(await s.truth())).toBeGreaterThanOrEqual(mw * 0.95);
    await met;
    const d = await agent.getDeployment('e2e-ecrs-1');
    expect(d).toMatchObject({ state: 'active', result: 'met', measuredBy: 'meter' });
    expect(d?.deliveredMW).toBeGreaterThanOrEqual(mw * 0.95);
    // Recall: mining comes back (woken machines boot for minutes in the simulator: awake is enough).
    const recalled = await post(`${http.url}/v1/grid/deployments/e2e-ecrs-1/recall`, {});
    expect(recalled.status).toBe(202);
    await until(async () => (await s.truth()).every((t) => t.state !== 'sleeping'), 20_000, 'every miner awake again');
    const ev = await fetch(`${http.url}/v1/grid/evidence`, { signal: AbortSignal.timeout(5_000) });
    const rows = ((await ev.json()) as { rows: unknown[] }).rows.map((x) => evidenceRowSchema.parse(x));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'e2e-ecrs-1', product: 'ECRS', mwRequested: mw, result: 'met', penaltyUsd: 0, measuredBy: 'meter', state: 'recalled' });
    expect(rows[0]?.responseStartAt).not.toBeNull();
  });
});
