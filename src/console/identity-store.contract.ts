/**
 * One contract for every implementation of the console's storage port (`identity-port.ts`):
 * SQLite (file and :memory:) and memory today, PostgreSQL later. Each implementation's test file
 * calls `identityStoreContract(name, target)`.
 */
import { describe, expect, it } from 'vitest';
import { MS_PER_HOUR } from '../core/time.js';
import type { AuditInput } from './audit.js';
import type { ApiKeyRow, IdentityStore } from './identity-port.js';

export const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

export interface IdentityContractTarget {
  open(): Promise<IdentityStore>;
  /** The same data reopened (after close), for implementations that persist. */
  reopen?: (previous: IdentityStore) => Promise<IdentityStore>;
}

export function entry(over: Partial<AuditInput> = {}): AuditInput {
  return { atMs: T0, actorType: 'user', actor: 'alice', action: 'site.curtail', scope: 'west-1', target: null, result: 'ok', status: 202, correlationId: 'dr-1', detail: '{"mw":5}', ip: '127.0.0.1', ...over };
}

function key(id: string, over: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return { id, name: `k-${id}`, secretHash: 'ab'.repeat(32), role: 'signals', site: 'west-1', ownerUserId: null, createdBy: 'cli:root', createdAtMs: T0, expiresAtMs: null, lastUsedAtMs: null, revokedAtMs: null, ...over };
}

export function identityStoreContract(name: string, t: IdentityContractTarget): void {
  describe(`identity store contract: ${name}`, () => {
    it('creates users with unique case-insensitive names, finds and updates them', async () => {
      let s = await t.open();
      expect(await s.countUsers()).toBe(0);
      const a = await s.createUser({ name: 'Alice', passwordHash: 'scrypt$x', role: 'admin', site: null, disabled: false, createdAtMs: T0, updatedAtMs: T0 });
      await s.createUser({ name: 'bob', passwordHash: 'scrypt$y', role: 'viewer', site: 'west-1', disabled: false, createdAtMs: T0, updatedAtMs: T0 });
      await expect(s.createUser({ name: 'alice', passwordHash: 'z', role: 'viewer', site: null, disabled: false, createdAtMs: T0, updatedAtMs: T0 })).rejects.toMatchObject({ code: 'CONFLICT' });
      if (t.reopen) s = await t.reopen(s);
      expect(await s.countUsers()).toBe(2);
      expect((await s.userByName('ALICE'))?.id).toBe(a.id);
      expect(await s.userById(a.id)).toEqual(a);
      expect((await s.listUsers()).map((u) => u.name)).toEqual(['Alice', 'bob']);
      const b = await s.updateUser(a.id, { role: 'operator', site: 'west-1', disabled: true, updatedAtMs: T0 + 1 });
      expect(b).toMatchObject({ name: 'Alice', role: 'operator', site: 'west-1', disabled: true, passwordHash: 'scrypt$x', updatedAtMs: T0 + 1 });
      expect((await s.updateUser(a.id, { site: null, updatedAtMs: T0 + 2 })).site).toBeNull();
      await expect(s.updateUser(999, { updatedAtMs: T0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await s.close();
    });

    it('keeps sessions until they expire, deletes them per user', async () => {
      const s = await t.open();
      const u = await s.createUser({ name: 'a', passwordHash: 'h', role: 'viewer', site: null, disabled: false, createdAtMs: T0, updatedAtMs: T0 });
      await s.createSession({ tokenHash: 'aa', userId: u.id, createdAtMs: T0, expiresAtMs: T0 + MS_PER_HOUR });
      await s.createSession({ tokenHash: 'bb', userId: u.id, createdAtMs: T0, expiresAtMs: T0 + 2 * MS_PER_HOUR });
      expect(await s.session('aa')).toEqual({ tokenHash: 'aa', userId: u.id, createdAtMs: T0, expiresAtMs: T0 + MS_PER_HOUR });
      expect(await s.pruneSessions(T0 + MS_PER_HOUR)).toBe(1);
      expect(await s.session('aa')).toBeUndefined();
      await s.createSession({ tokenHash: 'cc', userId: u.id, createdAtMs: T0, expiresAtMs: T0 + MS_PER_HOUR });
      await s.deleteSession('cc');
      expect(await s.session('cc')).toBeUndefined();
      expect(await s.deleteUserSessions(u.id)).toBe(1);
      expect(await s.session('bb')).toBeUndefined();
      await s.close();
    });

    it('keeps keys, touches and revokes them (once), lists newest first', async () => {
      let s = await t.open();
      await s.createKey(key('000000000001'));
      await s.createKey(key('000000000002', { createdAtMs: T0 + 1, expiresAtMs: T0 + 5 }));
      await expect(s.createKey(key('000000000001'))).rejects.toMatchObject({ code: 'CONFLICT' });
      if (t.reopen) s = await t.reopen(s);
      expect((await s.listKeys()).map((k) => k.id)).toEqual(['000000000002', '000000000001']);
      await s.touchKey('000000000001', T0 + 10);
      expect(await s.revokeKey('000000000001', T0 + 20)).toBe(true);
      expect(await s.revokeKey('000000000001', T0 + 30)).toBe(false);
      expect(await s.revokeKey('ffffffffffff', T0 + 30)).toBe(false);
      expect(await s.key('000000000001')).toEqual(key('000000000001', { lastUsedAtMs: T0 + 10, revokedAtMs: T0 + 20 }));
      await s.close();
    });

    it('appends audit entries with increasing ids and filters them, newest first', async () => {
      let s = await t.open();
      const first = await s.appendAudit(entry());
      await s.appendAudit(entry({ atMs: T0 + 1, actor: 'bob', action: 'site.restore', correlationId: 'dr-2', scope: 'east-2' }));
      await s.appendAudit(entry({ atMs: T0 + 2, actorType: 'key', actor: 'key:000000000001', result: 'denied', status: 403, correlationId: null }));
      if (t.reopen) s = await t.reopen(s);
      const all = await s.audit({});
      expect(all.map((e) => e.id)).toEqual([first.id + 2, first.id + 1, first.id]);
      expect(all[2]).toEqual({ ...entry(), id: first.id });
      expect((await s.audit({ actor: 'bob' })).map((e) => e.action)).toEqual(['site.restore']);
      expect((await s.audit({ result: 'denied' }))[0]?.status).toBe(403);
      expect((await s.audit({ actorType: 'key' })).length).toBe(1);
      expect((await s.audit({ correlationId: 'dr-2' })).length).toBe(1);
      expect((await s.audit({ action: 'site.curtail', fromMs: T0 + 1 })).length).toBe(1);
      expect((await s.audit({ toMs: T0 + 1 })).length).toBe(1);
      expect((await s.audit({ scopes: ['east-2'] })).length).toBe(1);
      expect(await s.audit({ scopes: [] })).toEqual([]);
      expect((await s.audit({ limit: 1 })).map((e) => e.id)).toEqual([first.id + 2]);
      expect((await s.audit({ beforeId: first.id + 2, limit: 1 })).map((e) => e.id)).toEqual([first.id + 1]);
      await s.close();
    });
  });
}
