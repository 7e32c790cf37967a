/**
 * The control plane end to end on the local NATS server (127.0.0.1:4222, JetStream; every test
 * under its own random prefix, deleted afterwards) with sites on the simulator: desired state by
 * KV with compare-and-set, commands acknowledged with their outcome, duplicates and reordered
 * commands, a partition (a TCP proxy cut between site and server), a restarted site agent, a site
 * with a stale clock. After each: no command reaches a miner twice, the cap holds.
 */
import { headers } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../core/time.js';
import { SimSite } from '../fleet/agent/testing/sim-site.js';
import { runCapture } from '../testing/cli.js';
import type { AgentStateStore } from '../fleet/agent/state-port.js';
import type { SiteOutcome } from './center/center.js';
import { LOCAL_NATS, linkedSite, testPlane, until, type LinkedSite, type TestPlane } from './testing/harness.js';
import { TcpProxy } from './testing/tcp-proxy.js';
import { CONTROL_WIRE_VERSION, encode } from './wire.js';
import { freeLoopbackBlock } from '../fleet/sim/site-sim.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
});

async function plane(sites: readonly string[] = []): Promise<TestPlane> {
  const p = await testPlane([LOCAL_NATS], { sites });
  open.push(p);
  return p;
}
let blocks = 0;
/** A simulated site on a loopback block nothing else holds (a bench or another run may be using one). */
async function sim(miners = 12): Promise<SimSite> {
  const s = await SimSite.start({ miners, cidr: await freeLoopbackBlock(miners, 4028, 41 + blocks++) });
  open.push(s);
  return s;
}
function keep(s: LinkedSite): LinkedSite {
  open.push({ close: () => s.stop() });
  return s;
}

/** Sleep/wake commands per miner for one signal id: at most one each when nothing went wrong. */
async function commandsPerMiner(store: AgentStateStore, signalId: string): Promise<number[]> {
  const n = new Map<string, number>();
  for (const c of await store.commands({ limit: 100_000 })) if (c.signalId === signalId && c.reason !== 'retry') n.set(c.minerId, (n.get(c.minerId) ?? 0) + 1);
  return [...n.values()];
}

const settled = (r: SiteOutcome[]): string[] => r.map((x) => `${x.site}:${x.outcome?.phase ?? 'none'}:${x.outcome?.signal?.state ?? x.outcome?.reason ?? ''}`);

describe('control plane: desired state', () => {
  it('a site follows its desired state (snapshot, then updates); writes are compare-and-set', { timeout: 60_000 }, async () => {
    const p = await plane(['a']);
    const s = await sim();
    // A desired state written before the site starts arrives as the watch's snapshot.
    const first = await p.center.setDesired('a', { mode: 'auto', capMW: 0.05, planRef: 'plan-7' });
    const site = keep(await linkedSite(s, { siteId: 'a', prefix: p.prefix, servers: [LOCAL_NATS] }));
    await until('the snapshot applied', () => (site.link.state().desiredRevision === first.revision ? true : undefined));
    const tick = await until('a tick capped by the desired state', async () => {
      const r = await site.agent.tick('timer');
      return r.decision.allowedMiningMW <= 0.05 + 1e-9 && r.decision.pending === 0 && r.decision.commands.length === 0 ? r : undefined;
    });
    expect(tick.decision.limitedBy).toBe('target');
    // An update: curtail-all through desired state.
    const second = await p.center.setDesired('a', { mode: 'curtail-all' });
    expect(second.revision).toBeGreaterThan(first.revision);
    await until('curtail-all applied', async () => ((await site.agent.tick('timer')).decision.allowedMiningMW === 0 ? true : undefined));
    // CAS: a writer holding the old revision loses.
    await expect(p.center.setDesired('a', { mode: 'auto' }, first.revision)).rejects.toMatchObject({ code: 'CONFLICT' });
    // The center sees the site's telemetry with the revision it applied.
    const views = await until('telemetry with revision 2', async () => {
      const v = (await p.center.sites(['a']))[0];
      return v?.telemetry?.link.desiredRevision === second.revision ? v : undefined;
    });
    expect(views.telemetry?.link).toMatchObject({ state: 'connected', applied: 'desired', desiredMode: 'curtail-all', planRef: 'plan-7' });
    expect(views.desired?.mode).toBe('curtail-all');
  });
});

describe('control plane: commands', () => {
  it('curtail and restore are acknowledged with their outcome; duplicates and a stale command never reach a miner', { timeout: 90_000 }, async () => {
    const p = await plane(['a']);
    const s = await sim();
    const site = keep(await linkedSite(s, { siteId: 'a', prefix: p.prefix, servers: [LOCAL_NATS] }));
    const c1 = await p.center.send(['a'], { action: 'curtail', all: true }, { id: 'c1', until: 'settled', deadlineMs: 30_000 });
    expect(settled(c1)).toEqual(['a:settled:confirmed']);
    expect((await s.truth()).filter((t) => t.state === 'sleeping')).toHaveLength(12);
    // The same command again: within the stream's window the stream drops it; the center still hears the site's record.
    const again = await p.center.publishCommand('a', 'c1', { action: 'curtail', all: true });
    expect(again.duplicate).toBe(true);
    // Past the stream's window (another Nats-Msg-Id, same command id): the site's own record answers.
    const h = headers();
    h.set('Nats-Msg-Id', 'a:c1:after-window');
    const replay = encode({ v: CONTROL_WIRE_VERSION, site: 'a', id: 'c1', action: 'curtail', all: true, issuedAt: new Date().toISOString(), issuedBy: 'test' });
    await p.center.js.publish(p.names.cmd('a'), replay, { headers: h });
    await until('the replay answered as a duplicate', () => (site.link.stats.duplicates >= 1 ? true : undefined));
    // Reordered: a restore issued later arrives first, then a curtail issued before it.
    const t0 = Date.now();
    const r2 = await p.center.send(['a'], { action: 'restore' }, { id: 'r2', until: 'received', deadlineMs: 30_000 });
    expect(r2[0]?.outcome?.phase).toBe('received');
    await p.center.publishCommand('a', 'c0-late', { action: 'curtail', all: true }, undefined, new Date(t0 - 60_000));
    await until('the late curtail rejected as stale', () => (site.link.stats.rejected >= 1 ? true : undefined));
    const outcomes = await p.center.outcomes('a');
    expect(outcomes.find((o) => o.commandId === 'c0-late')).toMatchObject({ phase: 'rejected' });
    expect(outcomes.find((o) => o.commandId === 'c0-late')?.reason).toMatch(/^stale/);
    expect(outcomes.filter((o) => o.commandId === 'c1' && o.duplicate).length).toBeGreaterThanOrEqual(1);
    // Each miner got one sleep for c1, and nothing for the stale c0-late.
    expect(Math.max(...(await commandsPerMiner(site.store, 'c1')))).toBe(1);
    expect(await commandsPerMiner(site.store, 'c0-late')).toEqual([]);
    expect(site.link.stats).toMatchObject({ received: 2, duplicates: 1, rejected: 1 });
  });
});

describe('control plane: partition, restart, clock', () => {
  it('a partitioned site holds its desired state, then falls back; commands sent meanwhile arrive once after the heal', { timeout: 120_000 }, async () => {
    const p = await plane(['a']);
    const s = await sim();
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(LOCAL_NATS).port));
    open.push(proxy);
    const site = keep(await linkedSite(s, { siteId: 'a', prefix: p.prefix, servers: [proxy.url], holdMs: 1_500, fallback: 'price-only' }));
    const d = await p.center.setDesired('a', { mode: 'auto', capMW: 0.04 });
    await until('connected with the desired state', () => (site.link.state().desiredRevision === d.revision && site.link.state().state === 'connected' ? true : undefined));
    proxy.cut();
    await until('holding', () => (site.link.state().state === 'holding' ? true : undefined));
    expect(site.link.state().applied).toBe('desired');
    await until('fallback after holdS', () => (site.link.state().state === 'fallback' ? true : undefined));
    expect(site.link.state().applied).toBe('price-only');
    // While cut: the center curtails (stored by the stream; nobody answers yet).
    const during = await p.center.send(['a'], { action: 'curtail', all: true }, { id: 'during-cut', until: 'settled', deadlineMs: 1_000 });
    expect(during[0]?.outcome).toBeNull();
    const report = await site.agent.tick('timer');
    expect(report.decision.projectedSiteMW).toBeLessThanOrEqual(s.site.interconnect.importLimitMW);
    proxy.heal();
    await until('reconnected', () => (site.link.state().state === 'connected' ? true : undefined), 30_000);
    await until('the curtail delivered and confirmed', async () => ((await site.agent.waitForSignal('during-cut', 0))?.state === 'confirmed' ? true : undefined), 40_000);
    // Sent again by an impatient center after the heal: the stream drops it (same id within its
    // window) and the center reads the outcome it missed from the outcome stream.
    const retry = await p.center.send(['a'], { action: 'curtail', all: true }, { id: 'during-cut', until: 'settled', deadlineMs: 20_000 });
    expect(settled(retry)).toEqual(['a:settled:confirmed']);
    expect(Math.max(...(await commandsPerMiner(site.store, 'during-cut')))).toBe(1);
    expect(site.link.stats.received).toBe(1);
    // The outbox kept telemetry and events across the cut and published them.
    await until('backlog drained', () => (site.link.outboxStats().backlog === 0 ? true : undefined), 20_000);
  });

  it('a restarted site agent keeps its processed-id record: a redelivered command is not acted on twice', { timeout: 90_000 }, async () => {
    const p = await plane(['a']);
    const s = await sim();
    const first = await linkedSite(s, { siteId: 'a', prefix: p.prefix, servers: [LOCAL_NATS] });
    const c = await p.center.send(['a'], { action: 'curtail', pct: 50 }, { id: 'half', until: 'settled', deadlineMs: 30_000 });
    expect(settled(c)).toEqual(['a:settled:confirmed']);
    const db = first.db;
    await first.stop();
    // Replayed after the restart (another message id: past the stream's window).
    const h = headers();
    h.set('Nats-Msg-Id', 'a:half:replayed');
    await p.center.js.publish(p.names.cmd('a'), encode({ v: CONTROL_WIRE_VERSION, site: 'a', id: 'half', action: 'curtail', pct: 50, issuedAt: new Date().toISOString(), issuedBy: 'test' }), { headers: h });
    const second = keep(await linkedSite(s, { siteId: 'a', prefix: p.prefix, servers: [LOCAL_NATS], db }));
    await until('the replay answered from the record', () => (second.link.stats.duplicates === 1 ? true : undefined));
    expect(second.link.stats.received).toBe(0);
    expect(Math.max(...(await commandsPerMiner(second.store, 'half')))).toBe(1);
  });

  it('a site whose clock is an hour ahead judges command expiry on the server clock', { timeout: 90_000 }, async () => {
    const p = await plane(['a']);
    const s = await sim();
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(LOCAL_NATS).port));
    open.push(proxy);
    const aheadMs = 3_600_000;
    const clock: Clock = { nowMs: () => Date.now() + aheadMs };
    const site = keep(await linkedSite(s, { siteId: 'a', prefix: p.prefix, servers: [proxy.url], clock, telemetryMs: 300 }));
    const off = await until('a clock offset sample', () => site.link.clockOffsetMs() ?? undefined);
    expect(Math.abs(off + aheadMs)).toBeLessThan(2_000);
    // Fresh, 30 s to live: acted on (judged on the site's own clock it would be an hour expired).
    const fresh = await p.center.send(['a'], { action: 'curtail', mw: 0.01 }, { id: 'fresh', ttlS: 30, until: 'received', deadlineMs: 20_000 });
    expect(fresh[0]?.outcome?.phase).toBe('received');
    // One second to live, delivered after a 2.5 s partition: expired, not acted on.
    proxy.cut();
    await p.center.publishCommand('a', 'short', { action: 'restore' }, 1);
    await new Promise((r) => setTimeout(r, 2_500));
    proxy.heal();
    await until('the short-lived command rejected', () => (site.link.stats.rejected >= 1 ? true : undefined), 30_000);
    const outcomes = await until('its outcome published', async () => (await p.center.outcomes('a')).find((o) => o.commandId === 'short'));
    expect(outcomes).toMatchObject({ phase: 'rejected' });
    expect(outcomes.reason).toMatch(/^expired/);
    expect(await site.agent.waitForSignal('short', 0)).toBeUndefined();
    // The center sees the skew in the site's telemetry.
    const tele = await until('telemetry with the offset', async () => (await p.center.sites(['a']))[0]?.telemetry?.link.clockOffsetMs ?? undefined);
    expect(Math.abs(tele + aheadMs)).toBeLessThan(2_000);
  });
});

describe('mullet control (the CLI)', () => {
  it('lists, steers and curtails two sites, with JSON output', { timeout: 90_000 }, async () => {
    const p = await plane(['a', 'b']);
    const [sa, sb] = [await sim(8), await sim(8)];
    keep(await linkedSite(sa, { siteId: 'a', prefix: p.prefix, servers: [LOCAL_NATS] }));
    keep(await linkedSite(sb, { siteId: 'b', prefix: p.prefix, servers: [LOCAL_NATS] }));
    const conn = ['--servers', LOCAL_NATS, '--prefix', p.prefix, '--timeout-s', '40'];
    const set = await runCapture(['control', 'set', '--site', 'a', '--mode', 'auto', '--cap-mw', '0.5', '--plan-ref', 'p1', '--json', ...conn]);
    expect(set.err).toBe('');
    const rev = (JSON.parse(set.out) as { revision: number }).revision;
    // CAS from the CLI: an expected revision that is not the current one.
    const stale = await runCapture(['control', 'set', '--site', 'a', '--mode', 'curtail-all', '--expect-revision', String(rev - 1), ...conn]);
    expect(stale.code).not.toBe(0);
    expect(stale.err).toMatch(/revision/);
    const cur = await runCapture(['control', 'curtail', '--all', '--all-miners', '--id', 'cli-all', '--json', ...conn]);
    expect(cur.err).toBe('');
    const out = JSON.parse(cur.out) as { commandId: string; sites: SiteOutcome[] };
    expect(out.sites.map((s) => `${s.site}:${s.outcome?.signal?.state ?? ''}`)).toEqual(['a:confirmed', 'b:confirmed']);
    const res = await runCapture(['control', 'restore', '--site', 'b', '--until', 'received', ...conn]);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/received/);
    await until('telemetry from both, connected', async () => ((await p.center.sites()).every((v) => v.telemetry?.link.state === 'connected') ? true : undefined));
    const list = await runCapture(['control', 'sites', '--json', ...conn]);
    const views = (JSON.parse(list.out) as { sites: { site: string; desiredRevision: number | null; telemetry: { link: { state: string } } | null }[] }).sites;
    expect(views.map((v) => [v.site, v.desiredRevision, v.telemetry?.link.state])).toEqual([
      ['a', rev, 'connected'],
      ['b', null, 'connected'],
    ]);
    const table = await runCapture(['control', 'sites', ...conn]);
    expect(table.out).toMatch(/^site\s+telemetry age s/m);
  });
});
