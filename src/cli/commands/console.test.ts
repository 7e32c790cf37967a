/**
 * `mullet users|keys|serve` in-process: first setup from the CLI (password on stdin, the key
 * printed once), the CLI's own changes audited, and `mullet serve` end to end against the
 * simulator on loopback: log in, curtail as operator, be refused as viewer, find the audit entry.
 */
import { freeLoopbackBlock } from '../../fleet/sim/site-sim.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readAgentConfig } from '../../app/agent-config.js';
import { SqliteIdentityStore } from '../../console/sqlite-store.js';
import { createdKeySchema, keyViewSchema, userViewSchema } from '../../console/views.js';
import { SimSite } from '../../fleet/agent/testing/sim-site.js';
import { signalReplySchema } from '../../fleet/agent/signals.js';
import { runCli } from '../run.js';
import { captureIo } from '../capture.js';

const PW = 'correct horse battery';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mullet-console-cli-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function run(argv: string[], o: { stdin?: string; cwd?: string; signal?: AbortSignal } = {}) {
  const io = { ...captureIo(o.cwd ?? '/', { USER: 'tester' }), ...(o.stdin !== undefined ? { stdin: Readable.from([o.stdin]) } : {}), ...(o.signal ? { signal: o.signal } : {}) };
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('mullet users / keys', () => {
  it('adds a user from stdin, creates a key printed once, lists without secrets, revokes; every change audited as cli:<user>', async () => {
    const db = join(tempDir(), 'console.db');
    const add = await run(['users', 'add', 'alice', '--role', 'admin', '--password-stdin', '--db', db, '--json'], { stdin: `${PW}\n` });
    expect(add.code, add.err).toBe(0);
    expect(userViewSchema.parse((JSON.parse(add.out) as { user: unknown }).user)).toMatchObject({ name: 'alice', role: 'admin', site: null });
    const add2 = await run(['users', 'add', 'bob', '--role', 'viewer', '--site', 'west-1', '--password-stdin', '--db', db], { stdin: PW });
    expect(add2.out).toBe(`created user bob: viewer on site west-1 (${db})\n`);
    const list = await run(['users', 'list', '--db', db, '--json']);
    expect((JSON.parse(list.out) as { users: { name: string }[] }).users.map((u) => u.name)).toEqual(['alice', 'bob']);

    const made = await run(['keys', 'create', '--name', 'ercot-qse', '--role', 'signals', '--site', 'west-1', '--expires', '30d', '--db', db, '--json']);
    expect(made.code, made.err).toBe(0);
    const { key, info } = createdKeySchema.parse(JSON.parse(made.out));
    expect(key).toMatch(/^mlt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'ercot-qse', role: 'signals', site: 'west-1', createdBy: 'cli:tester', state: 'active' });
    const plain = await run(['keys', 'create', '--name', 'grafana', '--role', 'viewer', '--db', db]);
    expect(plain.out).toMatch(/^mlt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/); // the key alone on stdout
    expect(plain.err).toMatch(/not shown again/);

    const keys = await run(['keys', 'list', '--db', db, '--json']);
    const views = (JSON.parse(keys.out) as { keys: unknown[] }).keys.map((k) => keyViewSchema.parse(k));
    expect(views.map((k) => k.name).sort()).toEqual(['ercot-qse', 'grafana']);
    expect(keys.out).not.toContain(key.slice(17));
    expect((await run(['keys', 'list', '--db', db])).out).toMatch(/ercot-qse\s+signals\s+west-1\s+active\s+cli:tester/);
    const rev = await run(['keys', 'revoke', info.id, '--db', db]);
    expect(rev.out).toBe(`revoked key ${info.id} 'ercot-qse'\n`);
    expect((await run(['keys', 'revoke', 'ffffffffffff', '--db', db])).code).not.toBe(0);

    const set = await run(['users', 'set', 'bob', '--role', 'operator', '--all-sites', '--db', db]);
    expect(set.out).toMatch(/bob: operator on all sites/);

    const store = SqliteIdentityStore.open(db, Date.now());
    const entries = await store.audit({});
    await store.close();
    expect(entries.map((e) => [e.actor, e.action, e.result]).reverse()).toEqual([
      ['cli:tester', 'users.create', 'ok'],
      ['cli:tester', 'users.create', 'ok'],
      ['cli:tester', 'keys.create', 'ok'],
      ['cli:tester', 'keys.create', 'ok'],
      ['cli:tester', 'keys.revoke', 'ok'],
      ['cli:tester', 'keys.revoke', 'failed'],
      ['cli:tester', 'users.update', 'ok'],
    ]);
    expect(JSON.stringify(entries)).not.toContain(PW);
  });

  it('clear refusals: a short password, no terminal for the prompt, a missing database, a bad duration', async () => {
    const dir = tempDir();
    const db = join(dir, 'console.db');
    const short = await run(['users', 'add', 'a', '--role', 'admin', '--password-stdin', '--db', db], { stdin: 'short\n' });
    expect(short.code).toBe(2);
    expect(short.err).toMatch(/at least 10 characters/);
    const noTty = await run(['users', 'add', 'a', '--role', 'admin', '--db', db], { stdin: '' });
    expect(noTty.code).toBe(2);
    expect(noTty.err).toMatch(/--password-stdin/);
    const missing = await run(['keys', 'list', '--db', join(dir, 'nope.db')]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/does not exist; create the first user with `mullet users add NAME --role admin/);
    const dur = await run(['keys', 'create', '--name', 'x', '--role', 'viewer', '--expires', '3 weeks', '--db', db]);
    expect(dur.code).toBe(2);
    expect(dur.err).toMatch(/--expires: expected a duration such as '90m', '12h' or '30d'/);
    const role = await run(['users', 'add', 'a', '--role', 'root', '--password-stdin', '--db', db], { stdin: PW });
    expect(role.code).toBe(2);
  });
});

describe('mullet serve', () => {
  it('refuses a non-loopback listen without TLS before starting anything', async () => {
    const r = await run(['serve', '--site', 'x.yaml', '--inventory', 'y.json', '--listen', '0.0.0.0:8443']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--listen: '0\.0\.0\.0' can be reached from other machines.*--insecure-http/);
  });

  it('takes the console database and TLS from the config (paths relative to it); insecureHttp there is the flag', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'conf'));
    const file = join(d, 'conf', 'agent.yaml');
    writeFileSync(file, ['site: site.yaml', 'inventory: inv.json', 'listen: 0.0.0.0:8443', 'console: { db: state/console.db, tls: { cert: tls/cert.pem, key: tls/key.pem } }', ''].join('\n'));
    expect(readAgentConfig(file).console).toEqual({ db: join(d, 'conf', 'state', 'console.db'), tls: { cert: join(d, 'conf', 'tls', 'cert.pem'), key: join(d, 'conf', 'tls', 'key.pem') } });
    writeFileSync(file, ['site: site.yaml', 'inventory: inv.json', 'listen: 0.0.0.0:8443', ''].join('\n'));
    const refused = await run(['serve', '--config', file], { cwd: d });
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/console\.tls in the config/);
    writeFileSync(file, ['site: site.yaml', 'inventory: inv.json', 'listen: 0.0.0.0:8443', 'console: { insecureHttp: true, db: c.db }', ''].join('\n'));
    const allowed = await run(['serve', '--config', file], { cwd: d });
    expect(allowed.err).toMatch(/WARNING: --insecure-http/);
    expect(allowed.err).toMatch(/no such site file/); // past the listen check, stopped by the missing site
  });

  it('end to end on the simulator: explains the first admin, then log in, curtail as operator, refused as viewer, audit entry found', async () => {
    // A free block: other runs on a shared host may hold a fixed one.
    const s = await SimSite.start({ miners: 12, cidr: await freeLoopbackBlock(12, 4028, 41) });
    cleanup.push(() => s.close());
    const dir = tempDir();
    const db = join(dir, 'console.db');
    const ac = new AbortController();
    const io = { ...captureIo(dir, { USER: 'tester' }), signal: ac.signal };
    const served = runCli(['serve', '--site', s.siteFile, '--inventory', s.inventoryFile, '--listen', '127.0.0.1:0', '--db', db, '--agent-db', join(dir, 'agent.db'), '--tick-s', '0.5'], io);
    cleanup.push(async () => {
      ac.abort();
      await served;
    });
    let url: string | undefined;
    for (let i = 0; i < 400 && url === undefined; i++) {
      url = /its API on (http:\/\/[^\s]+)\/api\/v1/.exec(io.err())?.[1];
      if (url === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    expect(url, io.err()).toBeDefined();
    expect(io.err()).toMatch(/no console user yet[\s\S]*mullet users add admin --role admin --db /);
    const base = `${url as string}/api/v1`;
    const h = { 'content-type': 'application/json' };
    expect((await fetch(`${base}/status`)).status).toBe(401);
    expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ status: 'ok', setup: expect.stringContaining('mullet users add') as unknown });

    expect((await run(['users', 'add', 'op', '--role', 'operator', '--password-stdin', '--db', db], { stdin: PW })).code).toBe(0);
    const viewerKey = (JSON.parse((await run(['keys', 'create', '--name', 'dash', '--role', 'viewer', '--db', db, '--json'])).out) as { key: string }).key;

    const login = await fetch(`${base}/login`, { method: 'POST', headers: h, body: JSON.stringify({ name: 'op', password: PW }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const c = await fetch(`${base}/curtail`, { method: 'POST', headers: { ...h, cookie }, body: JSON.stringify({ all: true, id: 'e2e-1' }) });
    expect(c.status).toBe(202);
    const done = await fetch(`${base}/signals/e2e-1?waitMs=20000`, { headers: { cookie } });
    expect(signalReplySchema.parse(await done.json()).signal).toMatchObject({ id: 'e2e-1', state: 'confirmed' });
    expect((await s.truth()).every((t) => t.state === 'sleeping')).toBe(true);

    const refused = await fetch(`${base}/restore`, { method: 'POST', headers: { ...h, authorization: `Bearer ${viewerKey}` }, body: '{"id":"v-1"}' });
    expect(refused.status).toBe(403);
    const status = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${viewerKey}` } });
    expect(status.status).toBe(200);

    const audit = (await (await fetch(`${base}/audit?action=site.curtail`, { headers: { authorization: `Bearer ${viewerKey}` } })).json()) as { entries: { actor: string; correlationId: string; result: string; ip: string }[] };
    expect(audit.entries).toMatchObject([{ actor: 'op', correlationId: 'e2e-1', result: 'ok' }]);
    expect(audit.entries[0]?.ip).toMatch(/127\.0\.0\.1/);
    const denied = (await (await fetch(`${base}/audit?correlationId=v-1`, { headers: { cookie } })).json()) as { entries: { actorType: string; result: string; status: number }[] };
    expect(denied.entries).toMatchObject([{ actorType: 'key', result: 'denied', status: 403 }]);
  }, 60_000);
});
