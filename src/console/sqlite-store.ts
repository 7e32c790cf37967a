/**
 * The console's identity store on SQLite (better-sqlite3, WAL): users, sessions, API keys and the
 * audit log in one file (`--db`, default `mullet-console.db`). Not locked exclusively: the CLI
 * (`mullet users add`, `mullet keys create`) writes the same file while the server runs. The audit
 * table refuses UPDATE and DELETE by trigger, so even a bug (or a hand-written query through this
 * connection) cannot rewrite history. better-sqlite3 is synchronous; the port is async.
 */
import Database from 'better-sqlite3';
import { MulletError } from '../core/errors.js';
import { migrateSqlite, schemaVersion, type Migration } from '../db/migrations.js';
import { MAX_AUDIT_PAGE, type AuditEntry, type AuditFilter, type AuditInput } from './audit.js';
import type { ApiKeyRow, IdentityStore, NewUser, SessionRow, UserPatch, UserRow } from './identity-port.js';
import type { Role } from './roles.js';

type Db = Database.Database;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'users, sessions, api_keys, audit (append-only)',
    sql: `
      CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,           -- scrypt$N$r$p$salt$hash
        role          TEXT NOT NULL,
        site          TEXT,                    -- NULL: all sites
        disabled      INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        token_hash    TEXT PRIMARY KEY,        -- SHA-256 hex of the cookie token
        user_id       INTEGER NOT NULL REFERENCES users(id),
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE TABLE api_keys (
        id              TEXT PRIMARY KEY,      -- public part of the key
        name            TEXT NOT NULL,
        secret_hash     TEXT NOT NULL,         -- SHA-256 hex of the secret part
        role            TEXT NOT NULL,
        site            TEXT,
        owner_user_id   INTEGER REFERENCES users(id),
        created_by      TEXT NOT NULL,
        created_at_ms   INTEGER NOT NULL,
        expires_at_ms   INTEGER,
        last_used_at_ms INTEGER,
        revoked_at_ms   INTEGER
      );
      CREATE TABLE audit (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms          INTEGER NOT NULL,
        actor_type     TEXT NOT NULL,
        actor          TEXT NOT NULL,
        action         TEXT NOT NULL,
        scope          TEXT NOT NULL,
        target         TEXT,
        result         TEXT NOT NULL,
        status         INTEGER,
        correlation_id TEXT,
        detail         TEXT,
        ip             TEXT
      );
      CREATE INDEX audit_at ON audit(at_ms);
      CREATE INDEX audit_correlation ON audit(correlation_id) WHERE correlation_id IS NOT NULL;
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
];
export const CONSOLE_SCHEMA_VERSION = schemaVersion(MIGRATIONS);

interface UserDbRow {
  id: number;
  name: string;
  password_hash: string;
  role: Role;
  site: string | null;
  disabled: number;
  created_at_ms: number;
  updated_at_ms: number;
}
interface KeyDbRow {
  id: string;
  name: string;
  secret_hash: string;
  role: Role;
  site: string | null;
  owner_user_id: number | null;
  created_by: string;
  created_at_ms: number;
  expires_at_ms: number | null;
  last_used_at_ms: number | null;
  revoked_at_ms: number | null;
}
interface AuditDbRow {
  id: number;
  at_ms: number;
  actor_type: AuditEntry['actorType'];
  actor: string;
  action: string;
  scope: string;
  target: string | null;
  result: AuditEntry['result'];
  status: number | null;
  correlation_id: string | null;
  detail: string | null;
  ip: string | null;
}

const user = (r: UserDbRow): UserRow => ({ id: r.id, name: r.name, passwordHash: r.password_hash, role: r.role, site: r.site, disabled: r.disabled !== 0, createdAtMs: r.created_at_ms, updatedAtMs: r.updated_at_ms });
const key = (r: KeyDbRow): ApiKeyRow => ({
  id: r.id,
  name: r.name,
  secretHash: r.secret_hash,
  role: r.role,
  site: r.site,
  ownerUserId: r.owner_user_id,
  createdBy: r.created_by,
  createdAtMs: r.created_at_ms,
  expiresAtMs: r.expires_at_ms,
  lastUsedAtMs: r.last_used_at_ms,
  revokedAtMs: r.revoked_at_ms,
});
const audit = (r: AuditDbRow): AuditEntry => ({ id: r.id, atMs: r.at_ms, actorType: r.actor_type, actor: r.actor, action: r.action, scope: r.scope, target: r.target, result: r.result, status: r.status, correlationId: r.correlation_id, detail: r.detail, ip: r.ip });

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export class SqliteIdentityStore implements IdentityStore {
  private constructor(
    private readonly db: Db,
    readonly file: string,
  ) {}

  /** Opens (creating and migrating) the console database; ':memory:' for a throw-away one. */
  static open(file: string, nowMs: number): SqliteIdentityStore {
    let db: Db;
    try {
      db = new Database(file);
    } catch (err) {
      throw new MulletError('IO', `cannot open the console database: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
    }
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      if (file !== ':memory:') {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      migrate(db, nowMs);
    } catch (err) {
      db.close();
      if (err instanceof MulletError) throw err;
      throw new MulletError('IO', `cannot initialise the console database: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
    }
    return new SqliteIdentityStore(db, file);
  }

  /** Runs raw SQL on the connection (tests: the audit log refuses UPDATE/DELETE even here). */
  execForTest(sql: string): void {
    this.db.exec(sql);
  }

  countUsers(): Promise<number> {
    return Promise.resolve(this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users').get()?.n ?? 0);
  }

  createUser(u: NewUser): Promise<UserRow> {
    try {
      const r = this.db
        .prepare('INSERT INTO users (name, password_hash, role, site, disabled, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(u.name, u.passwordHash, u.role, u.site, u.disabled ? 1 : 0, u.createdAtMs, u.updatedAtMs);
      return Promise.resolve({ ...u, id: Number(r.lastInsertRowid) });
    } catch (err) {
      if (isUniqueViolation(err)) return Promise.reject(new MulletError('CONFLICT', `a user named '${u.name}' exists`, { where: 'name' }));
      throw err;
    }
  }

  userByName(name: string): Promise<UserRow | undefined> {
    const r = this.db.prepare<[string], UserDbRow>('SELECT * FROM users WHERE name = ?').get(name);
    return Promise.resolve(r ? user(r) : undefined);
  }

  userById(id: number): Promise<UserRow | undefined> {
    const r = this.db.prepare<[number], UserDbRow>('SELECT * FROM users WHERE id = ?').get(id);
    return Promise.resolve(r ? user(r) : undefined);
  }

  listUsers(): Promise<UserRow[]> {
    return Promise.resolve(this.db.prepare<[], UserDbRow>('SELECT * FROM users ORDER BY name').all().map(user));
  }

  async updateUser(id: number, p: UserPatch): Promise<UserRow> {
    const sets: string[] = ['updated_at_ms = ?'];
    const vals: (string | number | null)[] = [p.updatedAtMs];
    const set = (col: string, v: string | number | null): void => {
      sets.push(`${col} = ?`);
      vals.push(v);
    };
    if (p.passwordHash !== undefined) set('password_hash', p.passwordHash);
    if (p.role !== undefined) set('role', p.role);
    if (p.site !== undefined) set('site', p.site);
    if (p.disabled !== undefined) set('disabled', p.disabled ? 1 : 0);
    const r = this.db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...vals, id);
    if (r.changes === 0) throw new MulletError('NOT_FOUND', `no user with id ${id}`);
    return (await this.userById(id)) as UserRow;
  }

  createSession(s: SessionRow): Promise<void> {
    this.db.prepare('INSERT INTO sessions (token_hash, user_id, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?)').run(s.tokenHash, s.userId, s.createdAtMs, s.expiresAtMs);
    return Promise.resolve();
  }

  session(tokenHash: string): Promise<SessionRow | undefined> {
    const r = this.db.prepare<[string], { token_hash: string; user_id: number; created_at_ms: number; expires_at_ms: number }>('SELECT * FROM sessions WHERE token_hash = ?').get(tokenHash);
    return Promise.resolve(r ? { tokenHash: r.token_hash, userId: r.user_id, createdAtMs: r.created_at_ms, expiresAtMs: r.expires_at_ms } : undefined);
  }

  deleteSession(tokenHash: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
    return Promise.resolve();
  }

  deleteUserSessions(userId: number): Promise<number> {
    return Promise.resolve(this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes);
  }

  pruneSessions(nowMs: number): Promise<number> {
    return Promise.resolve(this.db.prepare('DELETE FROM sessions WHERE expires_at_ms <= ?').run(nowMs).changes);
  }

  createKey(k: ApiKeyRow): Promise<void> {
    try {
      this.db
        .prepare('INSERT INTO api_keys (id, name, secret_hash, role, site, owner_user_id, created_by, created_at_ms, expires_at_ms, last_used_at_ms, revoked_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(k.id, k.name, k.secretHash, k.role, k.site, k.ownerUserId, k.createdBy, k.createdAtMs, k.expiresAtMs, k.lastUsedAtMs, k.revokedAtMs);
    } catch (err) {
      if (isUniqueViolation(err)) return Promise.reject(new MulletError('CONFLICT', `a key with id '${k.id}' exists`));
      throw err;
    }
    return Promise.resolve();
  }

  key(id: string): Promise<ApiKeyRow | undefined> {
    const r = this.db.prepare<[string], KeyDbRow>('SELECT * FROM api_keys WHERE id = ?').get(id);
    return Promise.resolve(r ? key(r) : undefined);
  }

  listKeys(): Promise<ApiKeyRow[]> {
    return Promise.resolve(this.db.prepare<[], KeyDbRow>('SELECT * FROM api_keys ORDER BY created_at_ms DESC, id').all().map(key));
  }

  touchKey(id: string, nowMs: number): Promise<void> {
    this.db.prepare('UPDATE api_keys SET last_used_at_ms = ? WHERE id = ?').run(nowMs, id);
    return Promise.resolve();
  }

  revokeKey(id: string, nowMs: number): Promise<boolean> {
    return Promise.resolve(this.db.prepare('UPDATE api_keys SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL').run(nowMs, id).changes > 0);
  }

  appendAudit(e: AuditInput): Promise<AuditEntry> {
    const r = this.db
      .prepare('INSERT INTO audit (at_ms, actor_type, actor, action, scope, target, result, status, correlation_id, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.atMs, e.actorType, e.actor, e.action, e.scope, e.target, e.result, e.status, e.correlationId, e.detail, e.ip);
    return Promise.resolve({ ...e, id: Number(r.lastInsertRowid) });
  }

  audit(f: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const vals: (string | number)[] = [];
    const cond = (sql: string, v: string | number | undefined): void => {
      if (v === undefined) return;
      where.push(sql);
      vals.push(v);
    };
    const eq = (col: string, v: string | number | undefined): void => cond(`${col} = ?`, v);
    cond('at_ms >= ?', f.fromMs);
    cond('at_ms < ?', f.toMs);
    cond('id < ?', f.beforeId);
    eq('actor', f.actor);
    eq('actor_type', f.actorType);
    eq('action', f.action);
    eq('result', f.result);
    eq('correlation_id', f.correlationId);
    if (f.scopes !== undefined) {
      if (f.scopes.length === 0) return Promise.resolve([]);
      where.push(`scope IN (${f.scopes.map(() => '?').join(', ')})`);
      vals.push(...f.scopes);
    }
    const limit = Math.max(1, Math.min(f.limit ?? 1_000, MAX_AUDIT_PAGE));
    const sql = `SELECT * FROM audit ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`;
    return Promise.resolve(this.db.prepare<(string | number)[], AuditDbRow>(sql).all(...vals).map(audit));
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

function migrate(db: Db, nowMs: number): void {
  migrateSqlite(db, 'console database', MIGRATIONS, nowMs);
}
