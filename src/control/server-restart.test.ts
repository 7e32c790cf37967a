/**
 * The NATS server restarted mid-curtail (a private nats-server, JetStream on disk, same port): the
 * site keeps curtailing on its own, its outcome reaches the outcome stream once the server is back,
 * and the durable command consumer (on disk) delivers the next command once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimSite } from '../fleet/agent/testing/sim-site.js';
import { Center } from './center/center.js';
import { linkedSite, testPlane, until } from './testing/harness.js';
import { NATS_SERVER_BIN, NatsServerProcess } from './testing/nats-server.js';
import { freeLoopbackBlock } from '../fleet/sim/site-sim.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
});

describe.skipIf(NATS_SERVER_BIN === null)('control plane across a NATS server restart (skipped: no nats-server binary)', () => {
  it('a curtail in progress completes and is reported; the next command arrives once', { timeout: 90_000 }, async () => {
    const server = await NatsServerProcess.start();
    open.push(server);
    const sim = await SimSite.start({ miners: 12, cidr: await freeLoopbackBlock(12, 4028, 98) });
    open.push(sim);
    const p = await testPlane([server.url], { sites: ['a'] });
    const site = await linkedSite(sim, { siteId: 'a', prefix: p.prefix, servers: [server.url] });
    open.push({ close: () => site.stop() });
    await until('connected', () => (site.link.state().state === 'connected' ? true : undefined));
    const r = await p.center.send(['a'], { action: 'curtail', all: true }, { id: 'mid', until: 'received', deadlineMs: 20_000 });
    expect(r[0]?.outcome?.phase).toBe('received');
    await server.restart();
    // The agent settles on its own; the outcome waits in the outbox until the server is back.
    await until('the curtail confirmed at the site', async () => ((await site.agent.waitForSignal('mid', 0))?.state === 'confirmed' ? true : undefined), 40_000);
    await until('reconnected', () => (site.link.state().state === 'connected' ? true : undefined), 30_000);
    const center = await Center.connect({ servers: [server.url], prefix: p.prefix, env: {}, actor: 'test-center-2' });
    open.push({ close: () => center.close() });
    await until('the settled outcome in the stream', async () => ((await center.outcomes('a')).some((o) => o.commandId === 'mid' && o.phase === 'settled') ? true : undefined), 30_000);
    const next = await center.send(['a'], { action: 'restore' }, { id: 'after', until: 'received', deadlineMs: 20_000 });
    expect(next[0]?.outcome?.phase).toBe('received');
    expect(site.link.stats.received).toBe(2);
    expect((await sim.truth()).filter((t) => t.state === 'sleeping' || t.state === 'waking').length).toBe(12);
    await center.close();
    await p.close();
  });
});
