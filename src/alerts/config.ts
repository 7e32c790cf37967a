/**
 * Alert rules and delivery channels as configured (`alerts:` in ops.yaml or the agent config that
 * `mullet serve` reads) and as `PUT /api/v1/alert-rules` takes them: one zod schema for both.
 *
 *   alerts:
 *     rules:                                   # default: DEFAULT_RULES
 *       - { id: miners-offline, kind: miner-offline, severity: warning, minMiners: 3, forS: 120 }
 *       - { id: hashrate, kind: hashrate-drop, dropPct: 15, windowS: 3600, forS: 300 }
 *       - id: safe-mode
 *         kind: safe-mode
 *         severity: critical
 *         maintenance: [{ daily: { start: "02:00", end: "04:00" }, days: [sun] }, { from: 2026-12-24T00:00:00Z, to: 2026-12-26T00:00:00Z }]
 *     webhook: { url: https://hooks.example.com/mullet, secretEnv: MULLET_ALERT_WEBHOOK_SECRET }
 *     email: { host: smtp.example.com, port: 587, from: mullet@example.com, to: [ops@example.com], user: mullet, passwordEnv: MULLET_SMTP_PASSWORD }
 *
 * Secrets are never in the file: the config names the environment variable that holds them.
 * Times are UTC. Thresholds carry their unit in the name (Pct, S, MW).
 */
import { z } from 'zod';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

export const RULE_KINDS = ['miner-offline', 'miner-failed', 'hashrate-drop', 'safe-mode', 'feed-stale', 'power-divergence', 'fourcp-alert-day', 'grid-deployment-missed'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC, 24 h)');
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** A window in which a rule's alerts are recorded but not delivered: once (from..to) or every day (UTC). */
export const maintenanceWindowSchema = z.union([
  z
    .strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
    .refine((w) => Date.parse(w.to) > Date.parse(w.from), { message: 'to must be after from', path: ['to'] }),
  z.strictObject({
    /** Every day from start to end, UTC; an end before the start runs past midnight. */
    daily: z.strictObject({ start: hhmm, end: hhmm }).refine((d) => d.start !== d.end, { message: 'start and end must differ', path: ['end'] }),
    /** Only on these days (the day the window starts), default every day. */
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional(),
  }),
]);
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>;

const ruleId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, . _ - (at most 64)');
const common = {
  id: ruleId,
  severity: z.enum(SEVERITIES).optional(),
  enabled: z.boolean().default(true),
  /** The condition must hold this long before the alert fires, s (0: at once). */
  forS: z.number().min(0).max(86_400).default(0),
  maintenance: z.array(maintenanceWindowSchema).max(32).default([]),
};
/** How long an alert raised by a one-off event (a missed deployment) stays active, s. */
const clearAfterS = z.number().min(60).max(7 * 86_400).default(3600);

export const alertRuleSchema = z.discriminatedUnion('kind', [
  /** At least minMiners miners the agent cannot reach (state unreachable). */
  z.strictObject({ ...common, kind: z.literal('miner-offline'), minMiners: z.number().int().min(1).max(1_000_000).default(1) }),
  /** At least minMiners miners the agent gave up commanding (retries ran out: state failed). */
  z.strictObject({ ...common, kind: z.literal('miner-failed'), minMiners: z.number().int().min(1).max(1_000_000).default(1) }),
  /** Fleet hashrate below its highest in the window by at least dropPct, while nothing curtails on purpose. */
  z.strictObject({ ...common, kind: z.literal('hashrate-drop'), dropPct: z.number().gt(0).max(100).default(20), windowS: z.number().min(60).max(7 * 86_400).default(3600) }),
  /** The agent runs its safe mode (plan or price lost). */
  z.strictObject({ ...common, kind: z.literal('safe-mode') }),
  /** The agent's target source is stale, or a live market feed is (`mullet ops`). */
  z.strictObject({ ...common, kind: z.literal('feed-stale') }),
  /** Site power at the meter vs the agent's estimate: |metered − estimated| ≥ minMW and ≥ divergencePct of the larger. */
  z.strictObject({ ...common, kind: z.literal('power-divergence'), divergencePct: z.number().gt(0).max(1000).default(10), minMW: z.number().min(0).max(10_000).default(0.05) }),
  /** Today is an ERCOT 4CP alert day at the interval in force (`mullet ops`). */
  z.strictObject({ ...common, kind: z.literal('fourcp-alert-day') }),
  /** A grid deployment (RRS, ECRS, Non-Spin, ERS, …) was not met: a `grid.deployment.missed` event. */
  z.strictObject({ ...common, kind: z.literal('grid-deployment-missed'), clearAfterS }),
]);
export type AlertRuleInput = z.input<typeof alertRuleSchema>;
export type AlertRule = z.infer<typeof alertRuleSchema>;

export const DEFAULT_SEVERITY: Readonly<Record<RuleKind, Severity>> = {
  'miner-offline': 'warning',
  'miner-failed': 'warning',
  'hashrate-drop': 'warning',
  'safe-mode': 'critical',
  'feed-stale': 'warning',
  'power-divergence': 'warning',
  'fourcp-alert-day': 'info',
  'grid-deployment-missed': 'critical',
};
export const severityOf = (r: AlertRule): Severity => r.severity ?? DEFAULT_SEVERITY[r.kind];

export const alertRulesSchema = z
  .array(alertRuleSchema)
  .max(200)
  .refine((rs) => new Set(rs.map((r) => r.id)).size === rs.length, { message: 'rule ids must be unique' });

/** One rule of each kind with its defaults: what runs when `alerts:` gives no rules. */
export const DEFAULT_RULES: readonly AlertRule[] = alertRulesSchema.parse(RULE_KINDS.map((kind) => ({ id: kind, kind, ...(kind === 'hashrate-drop' ? { forS: 300 } : kind === 'power-divergence' ? { forS: 120 } : {}) })));

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'an environment variable name (A-Z, 0-9, _)');
const minSeverity = z.enum(SEVERITIES).default('info');

export const webhookConfigSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** Environment variable holding the HMAC-SHA256 key the X-Mullet-Signature header is made with. */
  secretEnv: envName,
  /** Deadline of one attempt, ms. */
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /** Attempts after the first on a network error, a timeout, 429 or 5xx (backoff doubles from backoffMs). */
  retries: z.number().int().min(0).max(10).default(3),
  backoffMs: z.number().int().min(10).max(60_000).default(1_000),
  minSeverity,
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const emailConfigSchema = z.strictObject({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65_535).default(587),
  /** implicit: TLS from the first byte (port 465); starttls: upgrade required; none: plain (loopback relays only). */
  tls: z.enum(['implicit', 'starttls', 'none']).optional(),
  from: z.email(),
  to: z.array(z.email()).min(1).max(50),
  user: z.string().min(1).max(256).optional(),
  /** Environment variable holding the SMTP password (with `user`). */
  passwordEnv: envName.optional(),
  /** Deadline of one message (connect, greeting, send), ms. */
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
  minSeverity,
});
export type EmailConfig = z.infer<typeof emailConfigSchema>;

export const alertsConfigSchema = z.strictObject({
  rules: alertRulesSchema.optional(),
  webhook: webhookConfigSchema.optional(),
  email: emailConfigSchema.refine((e) => (e.user === undefined) === (e.passwordEnv === undefined), { message: 'give user and passwordEnv together', path: ['passwordEnv'] }).optional(),
});
export type AlertsConfig = z.infer<typeof alertsConfigSchema>;
