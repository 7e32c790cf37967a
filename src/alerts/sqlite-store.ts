/**
 * Alert history in SQLite: its own two tables in the console's database file (its own connection;
 * WAL lets it share the file with the identity store). Rows read back are parsed again — the file
 * is data from outside the process.
 */
import Database from 'better-sqlite3';
import { z } from 'zod';
import { MulletError } from '../core/errors.js';
import { alertRulesSchema, RULE_KINDS, SEVERITIES } from './config.js';
import { deliverySchema, type AlertQuery, type AlertStore, type AlertView, type Delivery, type NewAlert, type StoredRules } from './store.js';

const rowSchema = z.object({
  id: z.number().int(),
  rule_id: z.string(),
  kind: z.enum(RULE_KINDS),
  key: z.string(),
  severity: z.enum(SEVERITIES),
  detail: z.string(),
  fired_at_ms: z.number(),
  resolved_at_ms: z.number().nullable(),
  suppressed: z.number().int(),
  deliveries: z.string(),
});

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  severity TEXT NOT NULL,
  detail TEXT NOT NULL,
  fired_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER,
  suppressed INTEGER NOT NULL,
  deliveries TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS alert_history_fired ON alert_history (fired_at_ms);
CREATE INDEX IF NOT EXISTS alert_history_active ON alert_history (resolved_at_ms) WHERE resolved_at_ms IS NULL;
CREATE TABLE IF NOT EXISTS alert_rules (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rules TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);`;

function view(raw: unknown): AlertView {
  const r = rowSchema.parse(raw);
  return {
    id: r.id,
    ruleId: r.rule_id,
    kind: r.kind,
    key: r.key,
    severity: r.severity,
    state: r.resolved_at_ms === null ? 'active' : 'resolved',
    detail: r.detail,
    firedAt: new Date(r.fired_at_ms).toISOString(),
    resolvedAt: r.resolved_at_ms === null ? null : new Date(r.resolved_at_ms).toISOString(),
    suppressed: r.suppressed !== 0,
    deliveries: z.array(deliverySchema).parse(JSON.parse(r.deliveries)),
  };
}

export class SqliteAlertStore implements AlertStore {
  private constructor(private readonly db: Database.Database) {}

  static open(file: string): SqliteAlertStore {
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw new MulletError('IO', `cannot open the alert history: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
    }
    try {
      db.pragma('busy_timeout = 5000');
      if (file !== ':memory:') db.pragma('journal_mode = WAL');
      db.exec(SCHEMA);
    } catch (err) {
      db.close();
      throw new MulletError('IO', `cannot initialise the alert history: ${err instanceof Error ? err.message : String(err)}`, { where: file, cause: err });
    }
    return new SqliteAlertStore(db);
  }

  insert(a: NewAlert): Promise<number> {
    const r = this.db.prepare('INSERT INTO alert_history (rule_id, kind, key, severity, detail, fired_at_ms, suppressed) VALUES (?, ?, ?, ?, ?, ?, ?)').run(a.ruleId, a.kind, a.key, a.severity, a.detail, a.firedAtMs, a.suppressed ? 1 : 0);
    return Promise.resolve(Number(r.lastInsertRowid));
  }

  resolve(id: number, atMs: number): Promise<void> {
    this.db.prepare('UPDATE alert_history SET resolved_at_ms = ? WHERE id = ? AND resolved_at_ms IS NULL').run(atMs, id);
    return Promise.resolve();
  }

  addDeliveries(id: number, deliveries: readonly Delivery[], delivered = false): Promise<void> {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT deliveries FROM alert_history WHERE id = ?').get(id) as { deliveries: string } | undefined;
      if (!row) return;
      const all = [...z.array(deliverySchema).parse(JSON.parse(row.deliveries)), ...deliveries];
      this.db.prepare(`UPDATE alert_history SET deliveries = ?${delivered ? ', suppressed = 0' : ''} WHERE id = ?`).run(JSON.stringify(all), id);
    })();
    return Promise.resolve();
  }

  list(q: AlertQuery): Promise<AlertView[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.state === 'active') where.push('resolved_at_ms IS NULL');
    if (q.state === 'resolved') where.push('resolved_at_ms IS NOT NULL');
    const add = (clause: string, v: string | number | undefined): void => {
      if (v === undefined) return;
      where.push(clause);
      args.push(v);
    };
    add('severity = ?', q.severity);
    add('rule_id = ?', q.ruleId);
    add('kind = ?', q.kind);
    add('fired_at_ms >= ?', q.fromMs);
    add('fired_at_ms < ?', q.toMs);
    add('id < ?', q.beforeId);
    const sql = `SELECT * FROM alert_history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return Promise.resolve(this.db.prepare(sql).all(...args, q.limit).map(view));
  }

  saveRules(r: StoredRules): Promise<void> {
    this.db.prepare('INSERT INTO alert_rules (id, rules, updated_at_ms, updated_by) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by').run(JSON.stringify(r.rules), r.updatedAtMs, r.updatedBy);
    return Promise.resolve();
  }

  loadRules(): Promise<StoredRules | null> {
    const row = this.db.prepare('SELECT rules, updated_at_ms, updated_by FROM alert_rules WHERE id = 1').get() as { rules: string; updated_at_ms: number; updated_by: string } | undefined;
    if (!row) return Promise.resolve(null);
    const rules = alertRulesSchema.safeParse(JSON.parse(row.rules));
    // Rules stored by an older version that no longer parse: fall back to the config's, loudly (the service logs it).
    if (!rules.success) return Promise.reject(new MulletError('PARSE', `the stored alert rules do not parse: ${rules.error.issues[0]?.message ?? 'invalid'}`, { where: 'alert_rules' }));
    return Promise.resolve({ rules: rules.data, updatedAtMs: row.updated_at_ms, updatedBy: row.updated_by });
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
