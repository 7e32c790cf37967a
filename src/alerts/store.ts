/**
 * Alert history and the rules set from the console, behind one small interface: SQLite beside the
 * console's tables (`sqlite-store.ts`) or memory (tests, and a run without a console database).
 * History rows are appended when an alert fires and updated only to mark it resolved or to add
 * how it was delivered.
 */
import { z } from 'zod';
import { alertRulesSchema, RULE_KINDS, SEVERITIES, type AlertRule, type RuleKind, type Severity } from './config.js';

/** One notification on one channel: which event (fired / resolved), whether it got through, after how many attempts. */
export const deliverySchema = z.object({ event: z.enum(['fired', 'resolved']), channel: z.enum(['webhook', 'email']), ok: z.boolean(), at: z.string(), attempts: z.number().int(), error: z.string().nullable() });
export type Delivery = z.infer<typeof deliverySchema>;
/** What a channel reports (the service adds the event). */
export type ChannelResult = Omit<Delivery, 'event'>;

/** One alert as the API shows it. */
export const alertViewSchema = z.object({
  id: z.number().int(),
  ruleId: z.string(),
  kind: z.enum(RULE_KINDS),
  key: z.string(),
  severity: z.enum(SEVERITIES),
  state: z.enum(['active', 'resolved']),
  detail: z.string(),
  firedAt: z.string(),
  resolvedAt: z.string().nullable(),
  /** Fired inside a maintenance window: recorded, not delivered (until the window ended, if still active). */
  suppressed: z.boolean(),
  deliveries: z.array(deliverySchema),
});
export type AlertView = z.infer<typeof alertViewSchema>;

export interface NewAlert {
  ruleId: string;
  kind: RuleKind;
  key: string;
  severity: Severity;
  detail: string;
  firedAtMs: number;
  suppressed: boolean;
}

export interface AlertQuery {
  state?: 'active' | 'resolved';
  severity?: Severity;
  ruleId?: string;
  kind?: RuleKind;
  fromMs?: number;
  toMs?: number;
  beforeId?: number;
  limit: number;
}

export interface StoredRules {
  rules: AlertRule[];
  updatedAtMs: number;
  updatedBy: string;
}

export interface AlertStore {
  insert(a: NewAlert): Promise<number>;
  resolve(id: number, atMs: number): Promise<void>;
  /** Appends deliveries; `delivered` clears the suppressed flag (sent after the maintenance window). */
  addDeliveries(id: number, deliveries: readonly Delivery[], delivered?: boolean): Promise<void>;
  /** Newest first. */
  list(q: AlertQuery): Promise<AlertView[]>;
  saveRules(r: StoredRules): Promise<void>;
  loadRules(): Promise<StoredRules | null>;
  close(): Promise<void>;
}

export const MAX_ALERT_PAGE = 1000;

export function matches(a: AlertView, q: AlertQuery): boolean {
  const fired = Date.parse(a.firedAt);
  return (
    (q.state === undefined || a.state === q.state) &&
    (q.severity === undefined || a.severity === q.severity) &&
    (q.ruleId === undefined || a.ruleId === q.ruleId) &&
    (q.kind === undefined || a.kind === q.kind) &&
    (q.fromMs === undefined || fired >= q.fromMs) &&
    (q.toMs === undefined || fired < q.toMs) &&
    (q.beforeId === undefined || a.id < q.beforeId)
  );
}

export class MemoryAlertStore implements AlertStore {
  private readonly rows: AlertView[] = [];
  private rules: StoredRules | null = null;

  insert(a: NewAlert): Promise<number> {
    const id = this.rows.length + 1;
    this.rows.push({ id, ruleId: a.ruleId, kind: a.kind, key: a.key, severity: a.severity, state: 'active', detail: a.detail, firedAt: new Date(a.firedAtMs).toISOString(), resolvedAt: null, suppressed: a.suppressed, deliveries: [] });
    return Promise.resolve(id);
  }

  resolve(id: number, atMs: number): Promise<void> {
    const r = this.rows[id - 1];
    if (r && r.state === 'active') Object.assign(r, { state: 'resolved', resolvedAt: new Date(atMs).toISOString() });
    return Promise.resolve();
  }

  addDeliveries(id: number, deliveries: readonly Delivery[], delivered = false): Promise<void> {
    const r = this.rows[id - 1];
    if (r) {
      r.deliveries = [...r.deliveries, ...deliveries];
      if (delivered) r.suppressed = false;
    }
    return Promise.resolve();
  }

  list(q: AlertQuery): Promise<AlertView[]> {
    const out: AlertView[] = [];
    for (let i = this.rows.length - 1; i >= 0 && out.length < q.limit; i--) {
      const r = this.rows[i] as AlertView;
      if (matches(r, q)) out.push(structuredClone(r));
    }
    return Promise.resolve(out);
  }

  saveRules(r: StoredRules): Promise<void> {
    this.rules = structuredClone(r);
    return Promise.resolve();
  }

  loadRules(): Promise<StoredRules | null> {
    return Promise.resolve(this.rules ? { ...structuredClone(this.rules), rules: alertRulesSchema.parse(this.rules.rules) } : null);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
