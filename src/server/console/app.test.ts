/**
 * The console API through `app.request()` (no sockets): every route refuses strangers, sessions and
 * keys carry exactly their role and scope, every write lands in the audit log (refused ones too),
 * and the OpenAPI document is the route table.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { auditEntrySchema } from '../../console/audit.js';
import { AuthService, type Actor } from '../../console/auth-service.js';
import { MemoryIdentityStore } from '../../console/memory-store.js';
import { TEST_SCRYPT } from '../../console/secrets.js';
import { createdKeySchema, keyViewSchema, principalViewSchema } from '../../console/views.js';
import { agentStatusSchema } from '../../fleet/agent/api.js';
import { signalReplySchema } from '../../fleet/agent/signals.js';
import { fakeFleet } from '../../fleet/agent/testing/fake-driver.js';
import { setup } from '../../fleet/agent/testing/harness.js';
import { consoleApi, mountConsole } from './app.js';

const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';
const H = { host: '127.0.0.1:8420' };
const JSON_H = { ...H, 'content-type': 'application/json' };

async function world(o: { secureCookies?: boolean } = {}) {
  const { agent, clock } = await setup(fakeFleet(4));
  await agent.tick('start');
  const store = new MemoryIdentityStore();
  const auth = new AuthService({ store, clock, scrypt: TEST_SCRYPT });
  await auth.addUser(CLI, { name: 'admin', password: PW, role: 'admin', site: null });
  await auth.addUser(CLI, { name: 'op', password: PW, role: 'operator', site: 'test' });
  await auth.addUser(CLI, { name: 'view', password: PW, role: 'viewer', site: null });
  await auth.addUser(CLI, { name: 'far-op', password: PW, role: 'operator', site: 'elsewhere' });
  const app = consoleApi({ agent, auth, clock, secureCookies: o.secureCookies ?? false });
  const api = (path: string, init: RequestInit = {}) => app.request(`/api/v1${path}`.replace('/api/v1', ''), { ...init, headers: { ...JSON_H, ...(init.headers as Record<string, string>) } });
  const login = async (name: string): Promise<string> => {
    const r = await api('/login', { method: 'POST', body: JSON.stringify({ name, password: PW }) });
    expect(r.status).toBe(200);
    return (r.headers.get('set-cookie') ?? '').split(';')[0] as string;
  };
  return { agent, clock, store, auth, app, api, login };
}

describe('console API: authentication', () => {
  it('401 on every route but login and health (unknown paths too), with WWW-Authenticate and a JSON error', async () => {
    const { api, login } = await world();
    const doc = (await (await api('/openapi.json', { headers: { cookie: await login('view') } })).json()) as { paths: Record<string, Record<string, unknown>> };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const rel = path.replace('/api/v1', '').replace('{id}', 'abc').replace('{name}', 'x');
        const r = await api(rel, { method: method.toUpperCase(), ...(method === 'get' ? {} : { body: '{}' }) });
        if (rel === '/login' || rel === '/health') {
          expect(r.status, `${method} ${rel}`).not.toBe(401);
          continue;
        }
        expect(r.status, `${method} ${rel}`).toBe(401);
        expect(r.headers.get('www-authenticate')).toBe('Bearer realm="mullet"');
        expect(await r.json()).toMatchObject({ error: { code: 'AUTH' } });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(14);
    expect((await api('/nope')).status).toBe(401);
    expect((await api('/status', { headers: { authorization: 'Basic YTpi' } })).status).toBe(401);
    expect((await api('/status', { headers: { cookie: 'mullet_session=forged-but-well-formed-token-0123456789abcd' } })).status).toBe(401);
  });

  it('writes with a forged key are refused and recorded, at most 20 per address per 15 min', async () => {
    const { api, store } = await world();
    const forged = { authorization: `Bearer mlt_000000000000_${'A'.repeat(43)}` };
    for (let i = 0; i < 30; i++) expect((await api('/curtail', { method: 'POST', headers: forged, body: '{"all":true}' })).status).toBe(401);
    const entries = await store.audit({ action: 'site.curtail' });
    expect(entries).toHaveLength(20);
    expect(entries[0]).toMatchObject({ actorType: 'anonymous', result: 'denied', status: 401 });
    expect(JSON.parse(entries[0]?.detail ?? '{}')).toMatchObject({ error: 'Authorization: unknown API key' });
  });

  it('health says how to create the first admin when no user exists', async () => {
    const { agent, clock } = await setup(fakeFleet(1));
    const app = consoleApi({ agent, clock, auth: new AuthService({ store: new MemoryIdentityStore(), clock, scrypt: TEST_SCRYPT }), secureCookies: false });
    const r = await app.request('/health', { headers: H });
    expect(await r.json()).toMatchObject({ status: 'ok', setup: expect.stringContaining('mullet users add NAME --role admin') as unknown });
    expect((await app.request('/status', { headers: H })).status).toBe(401);
  });

  it('login: a session cookie HttpOnly, SameSite=Strict, expiring; Secure with __Host- over TLS; bad logins 401 and audited; then 429', async () => {
    const { api, store } = await world();
    const ok = await api('/login', { method: 'POST', body: JSON.stringify({ name: 'op', password: PW }) });
    expect(principalViewSchema.parse(((await ok.json()) as { me: unknown }).me)).toMatchObject({ kind: 'user', name: 'op', role: 'operator', site: 'test' });
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^mullet_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Max-Age=43200/);
    expect(cookie).not.toMatch(/Secure/);
    for (let i = 0; i < 5; i++) {
      const bad = await api('/login', { method: 'POST', body: JSON.stringify({ name: 'op', password: 'not the password' }) });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('set-cookie')).toBeNull();
      expect(await bad.json()).toEqual({ error: { code: 'AUTH', message: 'wrong user name or password' } });
    }
    const limited = await api('/login', { method: 'POST', body: JSON.stringify({ name: 'op', password: PW }) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect((await api('/login', { method: 'POST', body: JSON.stringify({ name: 'op', password: PW }) })).status).toBe(429); // refused, recorded once
    const entries = await store.audit({ action: 'auth.login' });
    expect(entries.map((e) => [e.actorType, e.actor, e.result, e.status])).toEqual([['anonymous', 'op', 'denied', 429], ...Array.from({ length: 5 }, () => ['anonymous', 'op', 'denied', 401]), ['user', 'op', 'ok', 200]]);
    expect(entries.every((e) => !(e.detail ?? '').includes(PW))).toBe(true);

    const tls = await world({ secureCookies: true });
    const r = await tls.api('/login', { method: 'POST', body: JSON.stringify({ name: 'op', password: PW }) });
    expect(r.headers.get('set-cookie')).toMatch(/^__Host-mullet_session=.*; Path=\/; .*Secure/);
    expect(r.headers.get('strict-transport-security')).toMatch(/max-age=/);
  });

  it('a session ends at logout and after 12 h', async () => {
    const { api, login, clock } = await world();
    const c1 = await login('view');
    expect((await api('/me', { headers: { cookie: c1 } })).status).toBe(200);
    expect((await api('/logout', { method: 'POST', headers: { cookie: c1 } })).status).toBe(200);
    expect((await api('/me', { headers: { cookie: c1 } })).status).toBe(401);
    const c2 = await login('view');
    clock.advance(12 * 3_600_000);
    const r = await api('/me', { headers: { cookie: c2 } });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: { message: expect.stringContaining('log in again') as unknown } });
  });
});

describe('console API: roles, scopes and the audit log', () => {
  it('operator curtails (202, the shared reply schema) and finds the audit entry by the signal id, in JSON and CSV', async () => {
    const { api, login } = await world();
    const op = await login('op');
    const r = await api('/curtail', { method: 'POST', headers: { cookie: op }, body: JSON.stringify({ mw: 0.001, id: 'dr-7' }) });
    expect(r.status).toBe(202);
    expect(signalReplySchema.parse(await r.json()).signal).toMatchObject({ id: 'dr-7', kind: 'curtail' });
    const a = await api('/audit?correlationId=dr-7', { headers: { cookie: op } });
    const entries = ((await a.json()) as { entries: unknown[] }).entries.map((e) => auditEntrySchema.parse(e));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actorType: 'user', actor: 'op', action: 'site.curtail', scope: 'test', result: 'ok', status: 202, correlationId: 'dr-7' });
    expect(JSON.parse(entries[0]?.detail ?? '{}')).toEqual({ request: { mw: 0.001, id: 'dr-7' } });
    const csv = await api('/audit?format=csv&action=site.curtail', { headers: { cookie: op } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('id,at,actor_type,actor,action,scope,target,result,status,correlation_id,detail,ip');
    expect(lines[1]).toMatch(/,user,op,site\.curtail,test,,ok,202,dr-7,/);
    // A restore without an id: the agent names the signal; the audit entry carries that name.
    const rr = await api('/restore', { method: 'POST', headers: { cookie: op }, body: '{}' });
    const id = signalReplySchema.parse(await rr.json()).signal.id;
    expect(await (await api(`/audit?correlationId=${encodeURIComponent(id)}`, { headers: { cookie: op } })).json()).toMatchObject({ entries: [{ action: 'site.restore', result: 'ok' }] });
  });

  it('a viewer is refused (403, nothing sent to the agent) and the refusal is audited; reading is allowed', async () => {
    const { api, login, agent, store } = await world();
    const v = await login('view');
    expect(agentStatusSchema.parse(await (await api('/status', { headers: { cookie: v } })).json()).site).toBe('test');
    const r = await api('/curtail', { method: 'POST', headers: { cookie: v }, body: JSON.stringify({ all: true, id: 'v-1' }) });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringContaining("user 'view' (viewer on all sites) may not site:signal") as unknown } });
    expect(await agent.waitForSignal('v-1', 0)).toBeUndefined();
    expect(await store.audit({ correlationId: 'v-1' })).toMatchObject([{ actor: 'view', action: 'site.curtail', result: 'denied', status: 403 }]);
    // An operator of another site is refused on this one.
    const far = await login('far-op');
    expect((await api('/curtail', { method: 'POST', headers: { cookie: far }, body: '{"all":true}' })).status).toBe(403);
    expect((await api('/status', { headers: { cookie: far } })).status).toBe(403);
  });

  it('a signals key posts and reads signals only; a key never creates keys or users', async () => {
    const { api, login, store } = await world();
    const op = await login('op');
    const made = await api('/keys', { method: 'POST', headers: { cookie: op }, body: JSON.stringify({ name: 'qse', role: 'signals', site: 'test', expires: '30d' }) });
    expect(made.status).toBe(201);
    const { key, info } = createdKeySchema.parse(await made.json());
    expect(info).toMatchObject({ role: 'signals', site: 'test', createdBy: 'op', state: 'active', lastUsedAt: null });
    const bearer = { authorization: `Bearer ${key}` };
    const c = await api('/curtail', { method: 'POST', headers: bearer, body: JSON.stringify({ pct: 10, id: 'qse-1' }) });
    expect(c.status).toBe(202);
    expect((await api('/signals/qse-1', { headers: bearer })).status).toBe(200);
    expect((await api('/status', { headers: bearer })).status).toBe(403);
    expect((await api('/audit', { headers: bearer })).status).toBe(403);
    const k2 = await api('/keys', { method: 'POST', headers: bearer, body: JSON.stringify({ name: 'more', role: 'signals', site: 'test' }) });
    expect(k2.status).toBe(403);
    expect(await k2.json()).toMatchObject({ error: { message: expect.stringContaining('needs a logged-in user') as unknown } });
    expect(await store.audit({ correlationId: 'qse-1' })).toMatchObject([{ actorType: 'key', actor: `key:${info.id}`, result: 'ok' }]);
    // Listing never shows a secret; the list shows last use.
    const list = ((await (await api('/keys', { headers: { cookie: op } })).json()) as { keys: unknown[] }).keys.map((k) => keyViewSchema.parse(k));
    expect(list[0]?.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(list)).not.toContain(key.slice(-20));
    // More than the creator holds is refused.
    const over = await api('/keys', { method: 'POST', headers: { cookie: op }, body: JSON.stringify({ name: 'x', role: 'admin', site: 'test' }) });
    expect(over.status).toBe(403);
    // Revoked: refused with the reason.
    expect((await api(`/keys/${info.id}`, { method: 'DELETE', headers: { cookie: op } })).status).toBe(200);
    const after = await api('/curtail', { method: 'POST', headers: bearer, body: '{"all":true}' });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ error: { message: expect.stringContaining('was revoked') as unknown } });
  });

  it('admin manages users from a session; a changed role takes effect on the next request', async () => {
    const { api, login } = await world();
    const adm = await login('admin');
    const made = await api('/users', { method: 'POST', headers: { cookie: adm }, body: JSON.stringify({ name: 'newbie', password: PW, role: 'viewer' }) });
    expect(made.status).toBe(201);
    expect(await made.json()).toEqual({ user: { name: 'newbie', role: 'viewer', site: null, disabled: false, createdAt: expect.any(String) as unknown } });
    expect((await api('/users', { method: 'POST', headers: { cookie: adm }, body: JSON.stringify({ name: 'newbie', password: PW, role: 'viewer' }) })).status).toBe(409);
    const nb = await login('newbie');
    expect((await api('/curtail', { method: 'POST', headers: { cookie: nb }, body: '{"all":true}' })).status).toBe(403);
    expect((await api('/users/newbie', { method: 'PATCH', headers: { cookie: adm }, body: JSON.stringify({ role: 'operator' }) })).status).toBe(200);
    expect((await api('/me', { headers: { cookie: nb } })).status).toBe(401); // sessions end on a change
    const nb2 = await login('newbie');
    expect((await api('/curtail', { method: 'POST', headers: { cookie: nb2 }, body: '{"mw":0.001}' })).status).toBe(202);
    expect((await api('/users', { headers: { cookie: nb2 } })).status).toBe(403);
    const audit = (await (await api('/audit?action=users.update', { headers: { cookie: adm } })).json()) as { entries: { target: string; actor: string }[] };
    expect(audit.entries).toMatchObject([{ target: 'newbie', actor: 'admin' }]);
  });

  it('a site-scoped reader sees only its site in the audit log', async () => {
    const { api, login, auth } = await world();
    await auth.addUser(CLI, { name: 'west-viewer', password: PW, role: 'viewer', site: 'west' });
    const op = await login('op');
    await api('/curtail', { method: 'POST', headers: { cookie: op }, body: '{"all":true}' });
    const wv = await login('west-viewer');
    const seen = ((await (await api('/audit', { headers: { cookie: wv } })).json()) as { entries: { scope: string; action: string }[] }).entries;
    expect(seen.map((e) => [e.scope, e.action])).toEqual([['west', 'auth.login']]); // its own login, nothing of site 'test'
    expect(((await (await api('/audit?action=site.curtail', { headers: { cookie: await login('view') } })).json()) as { entries: unknown[] }).entries).toHaveLength(1);
  });
});

describe('console API: the edge', () => {
  it('bad input is 400 with where; wrong method 405 after authentication; cross-site writes refused', async () => {
    const { api, login } = await world();
    const op = await login('op');
    const both = await api('/curtail', { method: 'POST', headers: { cookie: op }, body: '{"mw":1,"pct":5}' });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: { code: 'BAD_INPUT', where: 'mw' } });
    expect((await api('/curtail', { method: 'POST', headers: { cookie: op }, body: 'nope' })).status).toBe(400);
    expect((await api('/audit?limit=0', { headers: { cookie: op } })).status).toBe(400);
    const m = await api('/curtail', { headers: { cookie: op } });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('POST');
    const cross = await api('/curtail', { method: 'POST', headers: { cookie: op, origin: 'https://evil.example' }, body: '{"all":true}' });
    expect(cross.status).toBe(403);
    const form = await api('/curtail', { method: 'POST', headers: { cookie: op, 'content-type': 'application/x-www-form-urlencoded' }, body: 'all=true' });
    expect(form.status).toBe(415);
    const big = await api('/curtail', { method: 'POST', headers: { cookie: op }, body: JSON.stringify({ id: 'x'.repeat(70_000) }) });
    expect(big.status).toBe(413);
    const r = await api('/me', { headers: { cookie: op } });
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the OpenAPI document lists every route with its security, permission and schemas', async () => {
    const { api, login } = await world();
    const doc = (await (await api('/openapi.json', { headers: { cookie: await login('view') } })).json()) as { openapi: string; paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown>; requestBody?: unknown; 'x-permission'?: string; 'x-audited'?: boolean }>> };
    expect(doc.openapi).toBe('3.1.0');
    // The core routes (the fleet, industry and strategy modules add theirs: their own tests check them).
    expect(Object.keys(doc.paths).sort()).toEqual(expect.arrayContaining(['/api/v1/audit', '/api/v1/curtail', '/api/v1/events', '/api/v1/health', '/api/v1/keys', '/api/v1/keys/{id}', '/api/v1/login', '/api/v1/logout', '/api/v1/me', '/api/v1/metrics', '/api/v1/openapi.json', '/api/v1/restore', '/api/v1/signals/{id}', '/api/v1/status', '/api/v1/users', '/api/v1/users/{name}']));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/fleet/curtail-preview', '/api/v1/industry/deals', '/api/v1/strategy/jobs/{id}/report']));
    const curtail = doc.paths['/api/v1/curtail']?.post;
    expect(curtail?.['x-permission']).toBe('site:signal');
    expect(curtail?.['x-audited']).toBe(true);
    expect(curtail?.security).toEqual([{ sessionCookie: [] }, { apiKey: [] }]);
    expect(Object.keys(curtail?.responses ?? {})).toEqual(expect.arrayContaining(['200', '202', '400', '401', '403', '409', '413', '415']));
    expect(JSON.stringify(curtail?.requestBody)).toContain('"exclusiveMinimum":0');
    expect(doc.paths['/api/v1/users']?.post?.security).toEqual([{ sessionCookie: [] }]);
    expect(doc.paths['/api/v1/health']?.get?.security).toEqual([]);
    // Every {param} of a path is declared as a path parameter; every $ref resolves.
    for (const [path, ops] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops) as unknown as { parameters: { name: string; in: string; required: boolean }[] }[]) {
        expect(op.parameters.filter((x) => x.in === 'path').map((x) => x.name)).toEqual(names);
        expect(op.parameters.filter((x) => x.in === 'path').every((x) => x.required)).toBe(true);
      }
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    const schemas = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    for (const r of new Set(refs)) expect(schemas[r], r).toBeDefined();
  });

  it('mounts on an existing Hono app (how mullet ops serves it)', async () => {
    const { agent, clock } = await setup(fakeFleet(1));
    const parent = new Hono();
    parent.get('/other', (c) => c.text('mine'));
    mountConsole(parent, { agent, clock, auth: new AuthService({ store: new MemoryIdentityStore(), clock, scrypt: TEST_SCRYPT }), secureCookies: false });
    expect((await parent.request('/api/v1/health', { headers: H })).status).toBe(200);
    expect((await parent.request('/api/v1/status', { headers: H })).status).toBe(401);
    expect((await parent.request('/api/v1/whatever', { headers: H })).status).toBe(401);
    expect(await (await parent.request('/other', { headers: H })).text()).toBe('mine');
  });
});
