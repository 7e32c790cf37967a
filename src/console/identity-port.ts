/**
 * The console's storage port, owned by its consumer (the auth service and the audit routes):
 * users, sessions, API keys and the append-only audit log. Async so a store across the network
 * (PostgreSQL at the center) fits; `sqlite-store.ts` and `memory-store.ts` implement it and pass
 * one contract suite (`identity-store.contract.ts`). Times are UTC ms. Secrets never reach the
 * store: only password hashes (scrypt) and SHA-256 hashes of tokens and key secrets.
 */
import type { AuditEntry, AuditFilter, AuditInput } from './audit.js';
import type { Role } from './roles.js';

export interface UserRow {
  id: number;
  /** Unique, case-insensitive. */
  name: string;
  passwordHash: string;
  role: Role;
  /** null: all sites. */
  site: string | null;
  disabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface SessionRow {
  /** SHA-256 hex of the cookie's token. */
  tokenHash: string;
  userId: number;
  createdAtMs: number;
  expiresAtMs: number;
}

export interface ApiKeyRow {
  /** Public id (12 hex), part of the key: finds the row. */
  id: string;
  name: string;
  /** SHA-256 hex of the key's secret part. */
  secretHash: string;
  role: Role;
  site: string | null;
  /** The user who created it (null: created from the CLI by whoever holds the database). */
  ownerUserId: number | null;
  /** Audit name of the creator (`alice`, `cli:root`). */
  createdBy: string;
  createdAtMs: number;
  expiresAtMs: number | null;
  lastUsedAtMs: number | null;
  revokedAtMs: number | null;
}

export type NewUser = Omit<UserRow, 'id'>;
export type UserPatch = Partial<Pick<UserRow, 'passwordHash' | 'role' | 'site' | 'disabled'>> & { updatedAtMs: number };

export interface IdentityStore {
  countUsers(): Promise<number>;
  /** CONFLICT when the name (case-insensitively) exists. */
  createUser(u: NewUser): Promise<UserRow>;
  userByName(name: string): Promise<UserRow | undefined>;
  userById(id: number): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  /** NOT_FOUND for an unknown id. */
  updateUser(id: number, patch: UserPatch): Promise<UserRow>;

  createSession(s: SessionRow): Promise<void>;
  session(tokenHash: string): Promise<SessionRow | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteUserSessions(userId: number): Promise<number>;
  /** Removes sessions expired at `nowMs`; returns how many. */
  pruneSessions(nowMs: number): Promise<number>;

  /** CONFLICT when the id exists. */
  createKey(k: ApiKeyRow): Promise<void>;
  key(id: string): Promise<ApiKeyRow | undefined>;
  /** Newest first. */
  listKeys(): Promise<ApiKeyRow[]>;
  touchKey(id: string, nowMs: number): Promise<void>;
  /** Marks revoked (kept for the record); false when unknown or already revoked. */
  revokeKey(id: string, nowMs: number): Promise<boolean>;

  /** Appends; returns the entry with its id. There is no update or delete. */
  appendAudit(e: AuditInput): Promise<AuditEntry>;
  /** Newest first, at most `limit` (default 1,000, at most MAX_AUDIT_PAGE). */
  audit(f: AuditFilter): Promise<AuditEntry[]>;

  close(): Promise<void>;
}
