/**
 * Who is asking and what they may do: password logins (scrypt, rate-limited per user name and per
 * client address, the same reply for an unknown name and a wrong password), sessions (random
 * token, stored hashed, expiring), API keys (shown once, stored hashed, optional expiry, last-used
 * time, revocable), users and keys managed within the caller's own grant. HTTP-free: the console
 * routes and the CLI both call it; errors carry codes (AUTH 401, FORBIDDEN 403, ...).
 *
 * Rules that hold whatever the caller:
 *  - a key never grants more than its creator holds, checked at creation AND at every use (a
 *    creator demoted or disabled later takes the key's excess down with them);
 *  - users and keys are managed from a session or the CLI (whoever holds the database file), never
 *    with a key: a leaked key cannot mint itself new keys or users.
 */
import { MulletError } from '../core/errors.js';
import type { Clock } from '../core/time.js';
import { MS_PER_HOUR, MS_PER_MINUTE } from '../core/time.js';
import type { AuditEntry, AuditFilter } from './audit.js';
import type { ApiKeyRow, IdentityStore, UserRow } from './identity-port.js';
import { FailureLimiter, type RateLimitOptions } from './rate-limit.js';
import { allows, covers, describeGrant, ROLE_PERMISSIONS, scopeOf, type Grant, type Permission, type Role } from './roles.js';
import { checkPasswordPolicy, DEFAULT_SCRYPT, dummyHash, hashPassword, newApiKey, newToken, parseApiKey, sameHash, secretHash, verifyPassword, type ScryptParams } from './secrets.js';
import { iso, keyNameSchema, userNameSchema, type KeyView, type UserView } from './views.js';

/** An authenticated caller of the API. */
export type Principal =
  | { kind: 'user'; userId: number; name: string; grant: Grant; sessionHash: string; expiresAtMs: number }
  | { kind: 'key'; keyId: string; name: string; grant: Grant; ownerUserId: number | null; expiresAtMs: number | null };

/** Whoever acts: an API principal, or the CLI on the database file (the machine's administrator). */
export type Actor = Principal | { kind: 'cli'; name: string };

/** Too many failed logins: retry after `retryAfterS` (HTTP 429 with Retry-After). */
export class RateLimitedError extends MulletError {
  constructor(
    readonly retryAfterS: number,
    message: string,
    /** The first refusal of this lock-out (later ones are not audited: a flood must not grow the log). */
    readonly first = true,
  ) {
    super('AUTH', message, { transient: true });
    this.name = 'RateLimitedError';
  }
}

export interface AuthServiceOptions {
  store: IdentityStore;
  clock: Clock;
  scrypt?: ScryptParams;
  /** Session lifetime from login, ms (default 12 h). */
  sessionTtlMs?: number;
  /** Failed logins allowed per user name (default 5 per 15 min) and per client address (default 20 per 15 min). */
  perUser?: RateLimitOptions;
  perAddress?: RateLimitOptions;
  /** Password hashes computed at once; more logins get a transient 503 (scrypt takes 32 MiB each). */
  maxConcurrentHashes?: number;
}

export const DEFAULT_SESSION_TTL_MS = 12 * MS_PER_HOUR;
/** A key's last-used time is written at most this often (not on every request). */
const TOUCH_EVERY_MS = MS_PER_MINUTE;

export function actorName(a: Actor): string {
  switch (a.kind) {
    case 'user':
      return a.name;
    case 'key':
      return `key:${a.keyId}`;
    case 'cli':
      return `cli:${a.name}`;
  }
}

export function userView(u: UserRow): UserView {
  return { name: u.name, role: u.role, site: u.site, disabled: u.disabled, createdAt: iso(u.createdAtMs) as string };
}

export function keyView(k: ApiKeyRow, nowMs: number): KeyView {
  const state = k.revokedAtMs !== null ? 'revoked' : k.expiresAtMs !== null && k.expiresAtMs <= nowMs ? 'expired' : 'active';
  return { id: k.id, name: k.name, role: k.role, site: k.site, createdBy: k.createdBy, createdAt: iso(k.createdAtMs) as string, expiresAt: iso(k.expiresAtMs), lastUsedAt: iso(k.lastUsedAtMs), revokedAt: iso(k.revokedAtMs), state };
}

export class AuthService {
  readonly store: IdentityStore;
  private readonly clock: Clock;
  private readonly scrypt: ScryptParams;
  private readonly sessionTtlMs: number;
  private readonly byUser: FailureLimiter;
  private readonly byAddress: FailureLimiter;
  private readonly maxHashes: number;
  private hashing = 0;
  private dummy: Promise<string> | undefined;
  /** Lock-outs already reported, by limiter key: the time each ends (bounded like the limiters). */
  private readonly reported = new Map<string, number>();

  constructor(o: AuthServiceOptions) {
    this.store = o.store;
    this.clock = o.clock;
    this.scrypt = o.scrypt ?? DEFAULT_SCRYPT;
    this.sessionTtlMs = o.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.byUser = new FailureLimiter(o.perUser ?? { maxFailures: 5, windowMs: 15 * MS_PER_MINUTE });
    this.byAddress = new FailureLimiter(o.perAddress ?? { maxFailures: 20, windowMs: 15 * MS_PER_MINUTE });
    this.maxHashes = o.maxConcurrentHashes ?? 4;
  }

  get sessionTtl(): number {
    return this.sessionTtlMs;
  }

  async hasUsers(): Promise<boolean> {
    return (await this.store.countUsers()) > 0;
  }

  /** Runs a password hash within the concurrency cap. */
  private async hashSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.hashing >= this.maxHashes) throw new MulletError('IO', 'too many logins in progress; retry in a moment', { transient: true });
    this.hashing++;
    try {
      return await fn();
    } finally {
      this.hashing--;
    }
  }

  // --- sessions -------------------------------------------------------------------------------

  /**
   * Checks a name and password; on success opens a session and returns its token (for the cookie).
   * Unknown name, wrong password and disabled user get the same AUTH error after the same work.
   */
  async login(name: string, password: string, address: string): Promise<{ token: string; user: UserRow; expiresAtMs: number }> {
    const now = this.clock.nowMs();
    const userKey = `u:${name.toLowerCase()}`;
    const addrKey = `a:${address}`;
    const wait = Math.max(this.byUser.retryAfterMs(userKey, now), this.byAddress.retryAfterMs(addrKey, now));
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      const lockKey = `${userKey}\u0000${addrKey}`;
      const first = (this.reported.get(lockKey) ?? 0) <= now;
      if (first) {
        this.reported.set(lockKey, now + wait);
        for (const [k, until] of this.reported) if (until <= now || this.reported.size > 10_000) this.reported.delete(k);
      }
      throw new RateLimitedError(s, `too many failed logins; try again in ${s} s`, first);
    }
    const user = await this.store.userByName(name);
    const ok = await this.hashSlot(async () => {
      this.dummy ??= dummyHash(this.scrypt);
      const good = await verifyPassword(password, user?.passwordHash ?? (await this.dummy));
      return good && user !== undefined && !user.disabled;
    });
    if (!ok || !user) {
      this.byUser.fail(userKey, now);
      this.byAddress.fail(addrKey, now);
      throw new MulletError('AUTH', 'wrong user name or password');
    }
    this.byUser.succeed(userKey);
    await this.store.pruneSessions(now);
    const token = newToken();
    const expiresAtMs = now + this.sessionTtlMs;
    await this.store.createSession({ tokenHash: secretHash(token), userId: user.id, createdAtMs: now, expiresAtMs });
    return { token, user, expiresAtMs };
  }

  async logout(token: string): Promise<void> {
    await this.store.deleteSession(secretHash(token));
  }

  /** The session's user, or undefined when the token is unknown, expired or its user disabled. */
  async sessionPrincipal(token: string): Promise<Principal | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const hash = secretHash(token);
    const s = await this.store.session(hash);
    if (!s) return undefined;
    if (s.expiresAtMs <= this.clock.nowMs()) {
      await this.store.deleteSession(hash);
      return undefined;
    }
    const u = await this.store.userById(s.userId);
    if (!u || u.disabled) return undefined;
    return { kind: 'user', userId: u.id, name: u.name, grant: { role: u.role, site: u.site }, sessionHash: hash, expiresAtMs: s.expiresAtMs };
  }

  /** The key's principal; AUTH (with the reason) for a malformed, unknown, revoked or expired key. */
  async keyPrincipal(bearer: string): Promise<Principal> {
    const parsed = parseApiKey(bearer.trim());
    if (!parsed) throw new MulletError('AUTH', 'the bearer token is not a Mullet API key (mlt_<id>_<secret>)', { where: 'Authorization' });
    const k = await this.store.key(parsed.id);
    if (!k || !sameHash(k.secretHash, secretHash(parsed.secret))) throw new MulletError('AUTH', 'unknown API key', { where: 'Authorization' });
    const now = this.clock.nowMs();
    if (k.revokedAtMs !== null) throw new MulletError('AUTH', `API key ${k.id} ('${k.name}') was revoked at ${iso(k.revokedAtMs)}`, { where: 'Authorization' });
    if (k.expiresAtMs !== null && k.expiresAtMs <= now) throw new MulletError('AUTH', `API key ${k.id} ('${k.name}') expired at ${iso(k.expiresAtMs)}`, { where: 'Authorization' });
    const grant: Grant = { role: k.role, site: k.site };
    if (k.ownerUserId !== null) {
      const owner = await this.store.userById(k.ownerUserId);
      if (!owner || owner.disabled) throw new MulletError('AUTH', `API key ${k.id}: its creator is disabled, so is the key`, { where: 'Authorization' });
      const ownerGrant = { role: owner.role, site: owner.site };
      if (!covers(ownerGrant, grant)) throw new MulletError('FORBIDDEN', `API key ${k.id} grants ${describeGrant(grant)}, more than its creator '${owner.name}' now holds (${describeGrant(ownerGrant)}); create a new key`, { where: 'Authorization' });
    }
    if (k.lastUsedAtMs === null || now - k.lastUsedAtMs >= TOUCH_EVERY_MS) await this.store.touchKey(k.id, now);
    return { kind: 'key', keyId: k.id, name: k.name, grant, ownerUserId: k.ownerUserId, expiresAtMs: k.expiresAtMs };
  }

  // --- authorization helpers --------------------------------------------------------------------

  /** FORBIDDEN unless `p` holds `permission` (on `site` when given). */
  require(p: Principal, permission: Permission, site?: string): void {
    if (!allows(p.grant, permission, site)) {
      throw new MulletError('FORBIDDEN', `${p.kind === 'key' ? `API key ${p.keyId}` : `user '${p.name}'`} (${describeGrant(p.grant)}) may not ${permission}${site !== undefined ? ` on site ${site}` : ''}`);
    }
  }

  /** Managing users and keys: from a session or the CLI, never with a key. */
  private requireSession(a: Actor, what: string): void {
    if (a.kind === 'key') throw new MulletError('FORBIDDEN', `${what} needs a logged-in user (a session), not an API key`);
  }

  private grantOf(a: Actor): Grant | null {
    return a.kind === 'cli' ? null : a.grant; // null: the CLI holds the database, so everything
  }

  private requireCovers(a: Actor, wanted: Grant, what: string): void {
    const g = this.grantOf(a);
    if (g !== null && !covers(g, wanted)) throw new MulletError('FORBIDDEN', `${what}: ${describeGrant(wanted)} is more than you hold (${describeGrant(g)})`);
  }

  // --- users ----------------------------------------------------------------------------------

  async addUser(a: Actor, u: { name: string; password: string; role: Role; site: string | null }): Promise<UserRow> {
    this.requireSession(a, 'creating a user');
    if (a.kind !== 'cli') this.require(a, 'users:manage');
    const name = userNameSchema.safeParse(u.name);
    if (!name.success) throw new MulletError('BAD_INPUT', `user name ${name.error.issues[0]?.message ?? 'invalid'}`, { where: 'name' });
    this.requireCovers(a, { role: u.role, site: u.site }, 'creating a user');
    checkPasswordPolicy(u.password);
    const passwordHash = await this.hashSlot(() => hashPassword(u.password, this.scrypt));
    const now = this.clock.nowMs();
    return this.store.createUser({ name: u.name, passwordHash, role: u.role, site: u.site, disabled: false, createdAtMs: now, updatedAtMs: now });
  }

  async listUsers(a: Actor): Promise<UserRow[]> {
    this.requireSession(a, 'listing users');
    if (a.kind !== 'cli') this.require(a, 'users:manage');
    const g = this.grantOf(a);
    return (await this.store.listUsers()).filter((u) => g === null || g.site === null || u.site === g.site);
  }

  /** Changes a user's role, scope, password or disabled flag; their sessions end (they log in again). */
  async updateUser(a: Actor, name: string, p: { role?: Role | undefined; site?: string | null | undefined; disabled?: boolean | undefined; password?: string | undefined }): Promise<UserRow> {
    this.requireSession(a, 'changing a user');
    if (a.kind !== 'cli') this.require(a, 'users:manage');
    const u = await this.store.userByName(name);
    if (!u) throw new MulletError('NOT_FOUND', `no user named '${name}'`, { where: 'name' });
    this.requireCovers(a, { role: u.role, site: u.site }, 'changing this user');
    const next: Grant = { role: p.role ?? u.role, site: p.site !== undefined ? p.site : u.site };
    this.requireCovers(a, next, 'changing this user');
    if (a.kind === 'user' && a.userId === u.id && (p.role !== undefined || p.site !== undefined || p.disabled === true)) {
      throw new MulletError('FORBIDDEN', 'you cannot change your own role or scope or disable yourself; ask another admin');
    }
    let passwordHash: string | undefined;
    if (p.password !== undefined) {
      checkPasswordPolicy(p.password);
      passwordHash = await this.hashSlot(() => hashPassword(p.password as string, this.scrypt));
    }
    const row = await this.store.updateUser(u.id, { ...(p.role !== undefined ? { role: p.role } : {}), ...(p.site !== undefined ? { site: p.site } : {}), ...(p.disabled !== undefined ? { disabled: p.disabled } : {}), ...(passwordHash !== undefined ? { passwordHash } : {}), updatedAtMs: this.clock.nowMs() });
    await this.store.deleteUserSessions(u.id);
    return row;
  }

  // --- keys -----------------------------------------------------------------------------------

  /** Creates a key within the creator's grant; returns the key (show it once) and its record. */
  async createKey(a: Actor, k: { name: string; role: Role; site: string | null; expiresInMs: number | null }): Promise<{ key: string; row: ApiKeyRow }> {
    this.requireSession(a, 'creating an API key');
    const name = keyNameSchema.safeParse(k.name);
    if (!name.success) throw new MulletError('BAD_INPUT', `key name ${name.error.issues[0]?.message ?? 'invalid'}`, { where: 'name' });
    const grant: Grant = { role: k.role, site: k.site };
    this.requireCovers(a, grant, 'creating an API key');
    const now = this.clock.nowMs();
    const fresh = newApiKey();
    const row: ApiKeyRow = {
      id: fresh.id,
      name: k.name,
      secretHash: secretHash(fresh.secret),
      role: k.role,
      site: k.site,
      ownerUserId: a.kind === 'user' ? a.userId : null,
      createdBy: actorName(a),
      createdAtMs: now,
      expiresAtMs: k.expiresInMs === null ? null : now + k.expiresInMs,
      lastUsedAtMs: null,
      revokedAtMs: null,
    };
    await this.store.createKey(row);
    return { key: fresh.key, row };
  }

  /** Every key for the CLI and admins with keys:manage; a user's own keys otherwise. */
  async listKeys(a: Actor): Promise<ApiKeyRow[]> {
    this.requireSession(a, 'listing API keys');
    const all = await this.store.listKeys();
    return all.filter((k) => this.mayManageKey(a, k));
  }

  async revokeKey(a: Actor, id: string): Promise<ApiKeyRow> {
    this.requireSession(a, 'revoking an API key');
    const k = await this.store.key(id);
    if (!k || !this.mayManageKey(a, k)) throw new MulletError('NOT_FOUND', `no API key '${id}'${a.kind === 'user' ? ' of yours' : ''}`, { where: 'id' });
    if (k.revokedAtMs !== null) return k;
    const now = this.clock.nowMs();
    await this.store.revokeKey(id, now);
    return { ...k, revokedAtMs: now };
  }

  private mayManageKey(a: Actor, k: ApiKeyRow): boolean {
    if (a.kind === 'cli') return true;
    if (a.kind === 'user' && k.ownerUserId === a.userId) return true;
    return allows(a.grant, 'keys:manage') && (a.grant.site === null || a.grant.site === k.site);
  }

  // --- audit ----------------------------------------------------------------------------------

  /** The audit log as `p` may see it: everything for all-sites readers, their site's entries otherwise. */
  async readAudit(p: Actor, f: AuditFilter): Promise<AuditEntry[]> {
    if (p.kind !== 'cli') this.require(p, 'audit:read');
    const g = this.grantOf(p);
    const scopes = g === null || g.site === null ? f.scopes : (f.scopes ?? [g.site]).filter((s) => s === g.site);
    return this.store.audit({ ...f, ...(scopes !== undefined ? { scopes } : {}) });
  }

  permissionsOf(g: Grant): Permission[] {
    return [...ROLE_PERMISSIONS[g.role]];
  }

  scopeOf(g: Grant): string {
    return scopeOf(g);
  }
}
