import { describe, expect, it } from 'vitest';
import { FakeClock, MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from '../core/time.js';
import { AuthService, RateLimitedError, type Actor, type Principal } from './auth-service.js';
import { MemoryIdentityStore } from './memory-store.js';
import { covers, allows } from './roles.js';
import { hashPassword, parseApiKey, TEST_SCRYPT, verifyPassword } from './secrets.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const CLI: Actor = { kind: 'cli', name: 'root' };
const PW = 'correct horse battery';

async function service(): Promise<{ auth: AuthService; clock: FakeClock; store: MemoryIdentityStore }> {
  const clock = new FakeClock(T0);
  const store = new MemoryIdentityStore();
  const auth = new AuthService({ store, clock, scrypt: TEST_SCRYPT });
  await auth.addUser(CLI, { name: 'root-admin', password: PW, role: 'admin', site: null });
  return { auth, clock, store };
}

async function sessionOf(auth: AuthService, name: string): Promise<Principal> {
  const { token } = await auth.login(name, PW, '127.0.0.1');
  return (await auth.sessionPrincipal(token)) as Principal;
}

describe('roles', () => {
  it('signals may only post and read signals; a site scope covers only its site', () => {
    expect(allows({ role: 'signals', site: null }, 'site:signal', 'a')).toBe(true);
    expect(allows({ role: 'signals', site: null }, 'site:read', 'a')).toBe(false);
    expect(allows({ role: 'operator', site: 'a' }, 'site:signal', 'b')).toBe(false);
    expect(covers({ role: 'operator', site: null }, { role: 'signals', site: 'a' })).toBe(true);
    expect(covers({ role: 'operator', site: 'a' }, { role: 'operator', site: null })).toBe(false);
    expect(covers({ role: 'signals', site: null }, { role: 'viewer', site: null })).toBe(false);
    expect(covers({ role: 'viewer', site: null }, { role: 'signals', site: null })).toBe(false);
  });
});

describe('passwords', () => {
  it('scrypt hashes carry their parameters and salt; a wrong password or a malformed hash fails', async () => {
    const h = await hashPassword(PW, TEST_SCRYPT);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(h).not.toBe(await hashPassword(PW, TEST_SCRYPT));
    expect(await verifyPassword(PW, h)).toBe(true);
    expect(await verifyPassword(`${PW}x`, h)).toBe(false);
    expect(await verifyPassword(PW, 'plain')).toBe(false);
  });
});

describe('auth service', () => {
  it('logs in with a session that expires; wrong password and unknown user get the same error', async () => {
    const { auth, clock } = await service();
    const { token, expiresAtMs } = await auth.login('ROOT-ADMIN', PW, '10.0.0.1');
    expect(expiresAtMs).toBe(T0 + 12 * MS_PER_HOUR);
    expect(await auth.sessionPrincipal(token)).toMatchObject({ kind: 'user', name: 'root-admin', grant: { role: 'admin', site: null } });
    await expect(auth.login('root-admin', 'wrong password!', '10.0.0.1')).rejects.toThrow('wrong user name or password');
    await expect(auth.login('nobody', PW, '10.0.0.1')).rejects.toThrow('wrong user name or password');
    clock.advance(12 * MS_PER_HOUR);
    expect(await auth.sessionPrincipal(token)).toBeUndefined();
    expect(await auth.sessionPrincipal('not-a-token')).toBeUndefined();
  });

  it('rate-limits failed logins per user name (5 / 15 min) and per address (20 / 15 min)', async () => {
    const { auth, clock } = await service();
    for (let i = 0; i < 5; i++) await expect(auth.login('root-admin', 'wrong password!', `10.0.0.${i}`)).rejects.toThrow('wrong user name');
    const err = await auth.login('root-admin', PW, '10.0.0.99').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterS).toBe(15 * 60);
    clock.advance(15 * MS_PER_MINUTE);
    await expect(auth.login('root-admin', PW, '10.0.0.99')).resolves.toMatchObject({ user: { name: 'root-admin' } });
    for (let i = 0; i < 20; i++) await expect(auth.login(`u${i}`, 'wrong password!', '10.9.9.9')).rejects.toThrow('wrong user name');
    await expect(auth.login('root-admin', PW, '10.9.9.9')).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('a disabled user cannot log in and loses their sessions; a password change ends sessions', async () => {
    const { auth } = await service();
    const admin = await sessionOf(auth, 'root-admin');
    await auth.addUser(admin, { name: 'op', password: PW, role: 'operator', site: 'west-1' });
    const { token } = await auth.login('op', PW, '1.1.1.1');
    await auth.updateUser(admin, 'op', { disabled: true });
    expect(await auth.sessionPrincipal(token)).toBeUndefined();
    await expect(auth.login('op', PW, '1.1.1.1')).rejects.toThrow('wrong user name or password');
  });

  it('user management needs users:manage, a session, and stays within the manager’s grant', async () => {
    const { auth } = await service();
    const admin = await sessionOf(auth, 'root-admin');
    await auth.addUser(admin, { name: 'site-admin', password: PW, role: 'admin', site: 'west-1' });
    await auth.addUser(admin, { name: 'op', password: PW, role: 'operator', site: null });
    const siteAdmin = await sessionOf(auth, 'site-admin');
    await expect(auth.addUser(siteAdmin, { name: 'x', password: PW, role: 'viewer', site: null })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await auth.addUser(siteAdmin, { name: 'west-viewer', password: PW, role: 'viewer', site: 'west-1' });
    expect((await auth.listUsers(siteAdmin)).map((u) => u.name)).toEqual(['site-admin', 'west-viewer']);
    const op = await sessionOf(auth, 'op');
    await expect(auth.addUser(op, { name: 'y', password: PW, role: 'viewer', site: null })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(auth.addUser(admin, { name: 'short', password: 'short', role: 'viewer', site: null })).rejects.toMatchObject({ code: 'BAD_INPUT', where: 'password' });
    await expect(auth.addUser(admin, { name: 'bad name!', password: PW, role: 'viewer', site: null })).rejects.toMatchObject({ code: 'BAD_INPUT', where: 'name' });
    await expect(auth.updateUser(admin, 'root-admin', { role: 'viewer' })).rejects.toThrow(/your own role/);
    const { key } = await auth.createKey(admin, { name: 'admin-key', role: 'admin', site: null, expiresInMs: null });
    const keyP = await auth.keyPrincipal(key);
    await expect(auth.addUser(keyP, { name: 'z', password: PW, role: 'viewer', site: null })).rejects.toThrow(/needs a logged-in user/);
    await expect(auth.createKey(keyP, { name: 'k2', role: 'viewer', site: null, expiresInMs: null })).rejects.toThrow(/needs a logged-in user/);
  });

  it('keys: shown once, stored hashed, never more than the creator holds (at creation and at use), expiring, revocable', async () => {
    const { auth, clock, store } = await service();
    const admin = await sessionOf(auth, 'root-admin');
    await auth.addUser(admin, { name: 'op', password: PW, role: 'operator', site: 'west-1' });
    const op = await sessionOf(auth, 'op');
    await expect(auth.createKey(op, { name: 'too-much', role: 'admin', site: 'west-1', expiresInMs: null })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(auth.createKey(op, { name: 'other-site', role: 'signals', site: 'east-2', expiresInMs: null })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { key, row } = await auth.createKey(op, { name: 'qse', role: 'signals', site: 'west-1', expiresInMs: 30 * MS_PER_DAY });
    const stored = await store.key(row.id);
    expect(stored?.secretHash).not.toContain(parseApiKey(key)?.secret ?? 'x');
    expect(JSON.stringify(stored)).not.toContain(parseApiKey(key)?.secret ?? 'x');
    const p = await auth.keyPrincipal(`  ${key} `);
    expect(p).toMatchObject({ kind: 'key', keyId: row.id, grant: { role: 'signals', site: 'west-1' } });
    expect((await store.key(row.id))?.lastUsedAtMs).toBe(T0);
    await expect(auth.keyPrincipal(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).rejects.toThrow('unknown API key');
    await expect(auth.keyPrincipal('hello')).rejects.toThrow(/not a Mullet API key/);
    // The creator demoted to viewer: the signals key is now more than they hold.
    await auth.updateUser(admin, 'op', { role: 'viewer' });
    await expect(auth.keyPrincipal(key)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await auth.updateUser(admin, 'op', { role: 'operator' });
    await expect(auth.keyPrincipal(key)).resolves.toMatchObject({ kind: 'key' });
    // Only the owner (or a keys:manage admin of the scope, or the CLI) sees and revokes it.
    await auth.addUser(admin, { name: 'op2', password: PW, role: 'operator', site: 'west-1' });
    const op2 = await sessionOf(auth, 'op2');
    expect(await auth.listKeys(op2)).toEqual([]);
    await expect(auth.revokeKey(op2, row.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await auth.listKeys(admin)).map((k) => k.id)).toEqual([row.id]);
    clock.advance(30 * MS_PER_DAY);
    await expect(auth.keyPrincipal(key)).rejects.toThrow(/expired at 2026-02-04T12:00:00.000Z/);
    const { key: k2, row: r2 } = await auth.createKey(CLI, { name: 'cli-key', role: 'admin', site: null, expiresInMs: null });
    expect(r2).toMatchObject({ ownerUserId: null, createdBy: 'cli:root' });
    await auth.revokeKey(op, row.id);
    await auth.revokeKey(CLI, r2.id);
    await expect(auth.keyPrincipal(k2)).rejects.toThrow(/was revoked at/);
  });

  it('a site-scoped reader sees only its site in the audit log', async () => {
    const { auth, store } = await service();
    const admin = await sessionOf(auth, 'root-admin');
    await auth.addUser(admin, { name: 'v', password: PW, role: 'viewer', site: 'west-1' });
    const base = { atMs: T0, actorType: 'user' as const, actor: 'a', action: 'site.curtail', target: null, result: 'ok' as const, status: 202, correlationId: null, detail: null, ip: null };
    await store.appendAudit({ ...base, scope: 'west-1' });
    await store.appendAudit({ ...base, scope: 'east-2' });
    await store.appendAudit({ ...base, scope: '*' });
    const v = await sessionOf(auth, 'v');
    expect((await auth.readAudit(v, {})).map((e) => e.scope)).toEqual(['west-1']);
    expect(await auth.readAudit(v, { scopes: ['east-2'] })).toEqual([]);
    expect((await auth.readAudit(admin, {})).length).toBe(3);
  });
});
