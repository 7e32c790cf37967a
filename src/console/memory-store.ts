/**
 * The console's identity store in memory: the same behaviour as SQLite (one contract suite runs
 * both), nothing survives the process. For tests and `mullet serve --db :memory:`-style demos
 * that need no native module.
 */
import { MulletError } from '../core/errors.js';
import { MAX_AUDIT_PAGE, type AuditEntry, type AuditFilter, type AuditInput } from './audit.js';
import type { ApiKeyRow, IdentityStore, NewUser, SessionRow, UserPatch, UserRow } from './identity-port.js';

const clone = <T>(x: T): T => structuredClone(x);

export class MemoryIdentityStore implements IdentityStore {
  private readonly users = new Map<number, UserRow>();
  private readonly sessions = new Map<string, SessionRow>();
  private readonly keys = new Map<string, ApiKeyRow>();
  private readonly log: AuditEntry[] = [];
  private nextUser = 1;

  countUsers(): Promise<number> {
    return Promise.resolve(this.users.size);
  }

  createUser(u: NewUser): Promise<UserRow> {
    if ([...this.users.values()].some((x) => x.name.toLowerCase() === u.name.toLowerCase())) return Promise.reject(new MulletError('CONFLICT', `a user named '${u.name}' exists`, { where: 'name' }));
    const row = { ...clone(u), id: this.nextUser++ };
    this.users.set(row.id, row);
    return Promise.resolve(clone(row));
  }

  userByName(name: string): Promise<UserRow | undefined> {
    const u = [...this.users.values()].find((x) => x.name.toLowerCase() === name.toLowerCase());
    return Promise.resolve(u ? clone(u) : undefined);
  }

  userById(id: number): Promise<UserRow | undefined> {
    const u = this.users.get(id);
    return Promise.resolve(u ? clone(u) : undefined);
  }

  listUsers(): Promise<UserRow[]> {
    return Promise.resolve([...this.users.values()].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1)).map(clone));
  }

  updateUser(id: number, p: UserPatch): Promise<UserRow> {
    const u = this.users.get(id);
    if (!u) return Promise.reject(new MulletError('NOT_FOUND', `no user with id ${id}`));
    for (const [k, v] of Object.entries(p)) if (v !== undefined) (u as unknown as Record<string, unknown>)[k] = v;
    return Promise.resolve(clone(u));
  }

  createSession(s: SessionRow): Promise<void> {
    this.sessions.set(s.tokenHash, clone(s));
    return Promise.resolve();
  }

  session(tokenHash: string): Promise<SessionRow | undefined> {
    const s = this.sessions.get(tokenHash);
    return Promise.resolve(s ? clone(s) : undefined);
  }

  deleteSession(tokenHash: string): Promise<void> {
    this.sessions.delete(tokenHash);
    return Promise.resolve();
  }

  deleteUserSessions(userId: number): Promise<number> {
    let n = 0;
    for (const [k, s] of this.sessions) if (s.userId === userId && this.sessions.delete(k)) n++;
    return Promise.resolve(n);
  }

  pruneSessions(nowMs: number): Promise<number> {
    let n = 0;
    for (const [k, s] of this.sessions) if (s.expiresAtMs <= nowMs && this.sessions.delete(k)) n++;
    return Promise.resolve(n);
  }

  createKey(k: ApiKeyRow): Promise<void> {
    if (this.keys.has(k.id)) return Promise.reject(new MulletError('CONFLICT', `a key with id '${k.id}' exists`));
    this.keys.set(k.id, clone(k));
    return Promise.resolve();
  }

  key(id: string): Promise<ApiKeyRow | undefined> {
    const k = this.keys.get(id);
    return Promise.resolve(k ? clone(k) : undefined);
  }

  listKeys(): Promise<ApiKeyRow[]> {
    return Promise.resolve([...this.keys.values()].sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? -1 : 1)).map(clone));
  }

  touchKey(id: string, nowMs: number): Promise<void> {
    const k = this.keys.get(id);
    if (k) k.lastUsedAtMs = nowMs;
    return Promise.resolve();
  }

  revokeKey(id: string, nowMs: number): Promise<boolean> {
    const k = this.keys.get(id);
    if (!k || k.revokedAtMs !== null) return Promise.resolve(false);
    k.revokedAtMs = nowMs;
    return Promise.resolve(true);
  }

  appendAudit(e: AuditInput): Promise<AuditEntry> {
    const entry = Object.freeze({ ...clone(e), id: this.log.length + 1 });
    this.log.push(entry);
    return Promise.resolve(clone(entry));
  }

  audit(f: AuditFilter): Promise<AuditEntry[]> {
    const limit = Math.max(1, Math.min(f.limit ?? 1_000, MAX_AUDIT_PAGE));
    const out: AuditEntry[] = [];
    for (let i = this.log.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.log[i] as AuditEntry;
      if (f.fromMs !== undefined && e.atMs < f.fromMs) continue;
      if (f.toMs !== undefined && e.atMs >= f.toMs) continue;
      if (f.beforeId !== undefined && e.id >= f.beforeId) continue;
      if (f.actor !== undefined && e.actor !== f.actor) continue;
      if (f.actorType !== undefined && e.actorType !== f.actorType) continue;
      if (f.action !== undefined && e.action !== f.action) continue;
      if (f.result !== undefined && e.result !== f.result) continue;
      if (f.correlationId !== undefined && e.correlationId !== f.correlationId) continue;
      if (f.scopes !== undefined && !f.scopes.includes(e.scope)) continue;
      out.push(clone(e));
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
