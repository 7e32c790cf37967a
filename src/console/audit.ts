/**
 * The audit log's vocabulary: one entry per write (and per refused write), its query filter, and
 * the CSV export. Entries are appended, never changed or removed (the SQLite store enforces it
 * with triggers, the port has no method that could).
 */
import { z } from 'zod';

export const ACTOR_TYPES = ['user', 'key', 'cli', 'anonymous', 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];
export const AUDIT_RESULTS = ['ok', 'denied', 'failed'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export const auditEntrySchema = z.object({
  id: z.number().int(),
  /** When, UTC ms. */
  atMs: z.number().int(),
  actorType: z.enum(ACTOR_TYPES),
  /** User name, key id (`key:3fa2…`), `cli:<os user>`, or the name an anonymous login tried. */
  actor: z.string(),
  /** What: `site.curtail`, `auth.login`, `keys.create`, … */
  action: z.string(),
  /** The site acted on, or '*' (all sites / not site-bound). */
  scope: z.string(),
  /** The object acted on: a user name, a key id (null when none). */
  target: z.string().nullable(),
  result: z.enum(AUDIT_RESULTS),
  /** HTTP status of the reply (null outside HTTP). */
  status: z.number().int().nullable(),
  /** A signal id or grid event id tying the entry to what it caused. */
  correlationId: z.string().nullable(),
  /** The request (secrets never included) or the refusal's reason. */
  detail: z.string().nullable(),
  /** Client address. */
  ip: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type AuditInput = Omit<AuditEntry, 'id'>;

export interface AuditFilter {
  fromMs?: number;
  toMs?: number;
  actor?: string;
  actorType?: ActorType;
  action?: string;
  result?: AuditResult;
  /** Only these scopes (a site-scoped reader sees its site and nothing else). */
  scopes?: readonly string[];
  correlationId?: string;
  /** Entries with id < beforeId (paging, newest first). */
  beforeId?: number;
  limit?: number;
}

export const MAX_AUDIT_PAGE = 10_000;

const CSV_COLUMNS = ['id', 'at', 'actor_type', 'actor', 'action', 'scope', 'target', 'result', 'status', 'correlation_id', 'detail', 'ip'] as const;

/** A CSV cell: quoted when needed; a leading = + - @ gets a ' so a spreadsheet never runs it as a formula. */
function cell(v: string | number | null): string {
  if (v === null) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row; times ISO 8601 UTC. */
export function auditCsv(entries: readonly AuditEntry[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of entries) {
    lines.push([e.id, new Date(e.atMs).toISOString(), e.actorType, e.actor, e.action, e.scope, e.target, e.result, e.status, e.correlationId, e.detail, e.ip].map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
