/**
 * Per-site credentials, enforced by a real server: a private nats-server (Debian's binary, random
 * loopback port) with the authorization block `mullet control creds` generates. A site works with
 * its own nkey, and cannot command, read or steer another site.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterEach, describe, expect, it } from 'vitest';
import { SimSite } from '../fleet/agent/testing/sim-site.js';
import { connectControl, type NatsAuth } from './connect.js';
import { authorizationBlock, newIdentity, sitePermissions } from './creds.js';
import { controlNames } from './names.js';
import { Center } from './center/center.js';
import { linkedSite, until } from './testing/harness.js';
import { NATS_SERVER_BIN, NatsServerProcess } from './testing/nats-server.js';
import { encode } from './wire.js';
import { freeLoopbackBlock } from '../fleet/sim/site-sim.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
});

describe('control creds as data', () => {
  it('restricts a site to its own subjects and never prints a seed', () => {
    const names = controlNames('mullet');
    const center = newIdentity('center');
    const a = newIdentity('a');
    const block = authorizationBlock(names, center, [a]);
    expect(block).toContain(a.publicKey);
    expect(block).not.toContain(a.seed);
    expect(block).not.toContain(center.seed);
    const p = sitePermissions(names, 'a');
    expect(p.publish).toContain('mullet.site.a.telemetry');
    expect(p.publish.some((s) => s.includes('site.b') || s.includes('site_b'))).toBe(false);
    expect(p.publish.some((s) => s.startsWith('$KV.'))).toBe(false); // no desired-state writes
    expect(p.publish.filter((s) => s.endsWith('>') || s.includes('*')).every((s) => /site_a\.>$|^\$JS\.FC\.|KV_mullet_desired\.\*/.test(s))).toBe(true);
    expect(p.subscribe).toEqual(['_INBOX_mullet_a.>']);
  });
});

describe.skipIf(NATS_SERVER_BIN === null)('control creds on a server that enforces them (skipped: no nats-server binary)', () => {
  it('a site works with its own nkey and cannot reach another site', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mullet-creds-'));
    open.push({ close: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) });
    const prefix = 'mullet';
    const names = controlNames(prefix);
    const center = newIdentity('center');
    const ids = { a: newIdentity('a'), b: newIdentity('b') };
    const seedFile = (id: { name: string; seed: string }): NatsAuth => {
      const f = join(dir, `${id.name}.nk`);
      writeFileSync(f, id.seed + '\n', { mode: 0o600 });
      return { nkeySeed: { file: f } };
    };
    const server = await NatsServerProcess.start(authorizationBlock(names, center, [ids.a, ids.b]));
    open.push(server);
    // Without credentials: refused.
    await expect(connectControl({ servers: [server.url], env: {}, name: 'anon', timeoutMs: 2_000, reconnectForever: false })).rejects.toMatchObject({ code: 'AUTH' });
    const c = await Center.connect({ servers: [server.url], auth: seedFile(center), env: {}, prefix, actor: 'test-center' });
    open.push({ close: () => c.close() });
    await c.init(['a', 'b']);

    // Site a, with its own identity, follows its desired state and answers a command.
    const sim = await SimSite.start({ miners: 8, cidr: await freeLoopbackBlock(12, 4028, 97) });
    open.push(sim);
    const site = await linkedSite(sim, { siteId: 'a', prefix, servers: [server.url], auth: seedFile(ids.a) });
    open.push({ close: () => site.stop() });
    const d = await c.setDesired('a', { mode: 'auto', capMW: 0.02 });
    await until('site a applied its desired state', () => (site.link.state().desiredRevision === d.revision ? true : undefined));
    const r = await c.send(['a'], { action: 'curtail', all: true }, { id: 'c-a', until: 'settled', deadlineMs: 30_000 });
    expect(r[0]?.outcome?.signal?.state).toBe('confirmed');
    await until('telemetry from a', async () => (await c.sites(['a']))[0]?.telemetry ?? undefined);
    // Its read-back of its own telemetry (the server clock) is permitted too.
    await until('a clock sample', () => site.link.clockOffsetMs() ?? undefined);

    // Site a's credentials against site b: every attempt refused by the server.
    const nc = await connectControl({ servers: [server.url], auth: seedFile(ids.a), env: {}, name: 'intruder', inboxPrefix: names.inbox('a'), timeoutMs: 2_000, reconnectForever: false });
    open.push({ close: () => nc.close() });
    const js = jetstream(nc, { timeout: 2_000 });
    const cmdB = encode({ v: 1, site: 'b', id: 'evil', action: 'curtail', all: true, issuedAt: new Date().toISOString(), issuedBy: 'a' });
    await expect(js.publish(names.cmd('b'), cmdB)).rejects.toThrow(/permission|no responders|timeout/i);
    const kv = await new Kvm(js).open(names.bucket, { bindOnly: true });
    await expect(kv.get(names.desiredKey('b'))).rejects.toThrow(/permission|no responders|timeout/i);
    await expect(kv.put(names.desiredKey('a'), encode({}))).rejects.toThrow(/permission|no responders|timeout/i);
    // Nothing reached site b's command stream.
    const info = await c.jsm.streams.info(names.streams.cmd, { subjects_filter: names.cmd('b') });
    expect(Object.keys(info.state.subjects ?? {})).toEqual([]);
  });
});
