/**
 * The alert service: feeds the pure engine from the agent (a status snapshot at every tick, its
 * alert and miner events, grid events), records every transition in the history store, and
 * delivers it on the configured channels — in the background, so a slow webhook never holds the
 * agent or the recording of the next alert. Alerts are timed by the run's clock (a replay's
 * alerts carry replayed times); deliveries and signatures by the wall clock.
 */
import { badInput, describeError, MulletError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/time.js';
import type { AgentApi } from '../fleet/agent/api.js';
import type { AgentEvent } from '../fleet/agent/events.js';
import { DEFAULT_RULES, type AlertRule, type AlertsConfig, type EmailConfig, type WebhookConfig, severityRank } from './config.js';
import { sendEmail } from './email.js';
import { AlertEngine, type AlertObservation, type AlertTransition, type SiteSnapshot } from './engine.js';
import { GRID_DEPLOYMENT_MISSED, gridDeploymentMissedSchema } from './grid-event.js';
import type { AlertNotification } from './notification.js';
import { MAX_ALERT_PAGE, type AlertQuery, type AlertStore, type AlertView, type ChannelResult, type Delivery } from './store.js';
import { postWebhook, type WebhookDeps } from './webhook.js';

/** Channels with their secrets resolved (from the environment; never logged). */
export interface AlertChannels {
  webhook?: { cfg: WebhookConfig; secret: string };
  email?: { cfg: EmailConfig; password?: string };
}

/** Resolves the config's secrets from the environment; a named variable that is unset is an error. */
export function alertChannels(cfg: AlertsConfig, env: Readonly<Record<string, string | undefined>>, where: string): AlertChannels {
  const out: AlertChannels = {};
  if (cfg.webhook) {
    const secret = env[cfg.webhook.secretEnv];
    if (secret === undefined || secret.length < 16) throw badInput(`environment variable ${cfg.webhook.secretEnv} (alerts.webhook.secretEnv) must hold the webhook's signing secret, at least 16 characters`, `${where}: alerts.webhook.secretEnv`);
    out.webhook = { cfg: cfg.webhook, secret };
  }
  if (cfg.email) {
    const password = cfg.email.passwordEnv !== undefined ? env[cfg.email.passwordEnv] : undefined;
    if (cfg.email.passwordEnv !== undefined && (password === undefined || password === '')) throw badInput(`environment variable ${cfg.email.passwordEnv} (alerts.email.passwordEnv) is not set`, `${where}: alerts.email.passwordEnv`);
    out.email = { cfg: cfg.email, ...(password !== undefined ? { password } : {}) };
  }
  return out;
}

export interface AlertRulesView {
  rules: AlertRule[];
  /** config: as the config file (or the defaults) says; console: as last set through the API. */
  source: 'config' | 'console';
  updatedAt: string | null;
  updatedBy: string | null;
}

/** What the console's alert routes need. */
export interface AlertsApi {
  list(q: AlertQuery): Promise<AlertView[]>;
  rules(): AlertRulesView;
  setRules(rules: AlertRule[], actor: string): Promise<AlertRulesView>;
}

export interface AlertServiceOptions {
  site: string;
  /** The config's rules (default: DEFAULT_RULES); rules stored from the console win over them. */
  rules?: readonly AlertRule[];
  store: AlertStore;
  channels: AlertChannels;
  /** The run's clock: alert times and maintenance windows. */
  clock: Clock;
  /** Delivery records and webhook signatures (default: the system clock). */
  wall?: Clock;
  log?: (line: string) => void;
  /** `mullet ops`: its feeds and 4CP flag, added to each snapshot. */
  extra?: () => Pick<SiteSnapshot, 'feeds' | 'fourCpAlert'>;
  /** Tests: the webhook's wire, sleep and jitter. */
  webhookDeps?: Omit<WebhookDeps, 'clock'>;
}

export class AlertService implements AlertsApi {
  private queue: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly ids = new Map<string, number>();
  private readonly stop = new AbortController();
  private view: AlertRulesView;
  private readonly log: (line: string) => void;
  private readonly wall: Clock;

  private constructor(
    private readonly o: AlertServiceOptions,
    private readonly engine: AlertEngine,
    view: AlertRulesView,
  ) {
    this.view = view;
    this.log = o.log ?? (() => undefined);
    this.wall = o.wall ?? systemClock;
  }

  /** Loads rules set from the console (if any) and the alerts still active, so nothing fires twice after a restart. */
  static async create(o: AlertServiceOptions): Promise<AlertService> {
    const log = o.log ?? (() => undefined);
    let view: AlertRulesView = { rules: [...(o.rules ?? DEFAULT_RULES)], source: 'config', updatedAt: null, updatedBy: null };
    try {
      const stored = await o.store.loadRules();
      if (stored) {
        view = { rules: stored.rules, source: 'console', updatedAt: new Date(stored.updatedAtMs).toISOString(), updatedBy: stored.updatedBy };
        log(`alerts: ${stored.rules.length} rules as set from the console by ${stored.updatedBy} at ${view.updatedAt} (they replace the config's; PUT /api/v1/alert-rules to change them)`);
      }
    } catch (err) {
      log(`alerts: ${describeError(err)}; running the config's rules`);
    }
    const active = await o.store.list({ state: 'active', limit: MAX_ALERT_PAGE });
    const engine = new AlertEngine(view.rules, active.map((a) => ({ ruleId: a.ruleId, key: a.key, detail: a.detail, firedAtMs: Date.parse(a.firedAt), suppressed: a.suppressed })));
    const s = new AlertService(o, engine, view);
    for (const a of active) s.ids.set(`${a.ruleId}\u0000${a.key}`, a.id);
    const ch = [o.channels.webhook ? `webhook ${new URL(o.channels.webhook.cfg.url).host}` : null, o.channels.email ? `e-mail to ${o.channels.email.cfg.to.length} via ${o.channels.email.cfg.host}` : null].filter(Boolean);
    log(`alerts: ${view.rules.filter((r) => r.enabled).length} rules, delivery by ${ch.length > 0 ? ch.join(' and ') : 'none (recorded only)'}`);
    return s;
  }

  /** Subscribes to the agent: a snapshot at each tick, its alert and miner events, grid events. */
  attach(agent: AgentApi): () => void {
    return agent.subscribe((e) => {
      if (e.type === 'tick') this.observe({ type: 'snapshot', snapshot: { atMs: agent.nowMs(), status: agent.status(), ...this.o.extra?.() } });
      else if (e.type === 'alert' || e.type === 'miner') this.observe({ type: 'event', event: e });
      else if (e.type === 'grid.deployment.missed') this.observe({ type: 'grid', event: e });
    });
  }

  /** A grid event from another component (parsed here: it crossed a boundary). */
  ingest(e: unknown): void {
    const g = gridDeploymentMissedSchema.safeParse(e);
    if (!g.success) throw new MulletError('BAD_INPUT', `not a ${GRID_DEPLOYMENT_MISSED} event: ${g.error.issues[0]?.message ?? 'invalid'}`);
    this.observe({ type: 'grid', event: g.data });
  }

  /** Queues an observation; `idle()` resolves once it is recorded. */
  observe(obs: AlertObservation | { type: 'event'; event: AgentEvent }): void {
    this.queue = this.queue.then(() => this.apply(this.engine.observe(obs))).catch((err: unknown) => this.log(`alerts: cannot record: ${describeError(err)}`));
  }

  /** Resolves when everything observed so far is recorded and delivered (or given up). */
  async idle(): Promise<void> {
    await this.queue;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  list(q: AlertQuery): Promise<AlertView[]> {
    return this.o.store.list(q);
  }

  rules(): AlertRulesView {
    return structuredClone(this.view);
  }

  async setRules(rules: AlertRule[], actor: string): Promise<AlertRulesView> {
    const nowMs = this.o.clock.nowMs();
    await this.o.store.saveRules({ rules, updatedAtMs: nowMs, updatedBy: actor });
    this.view = { rules: structuredClone(rules), source: 'console', updatedAt: new Date(nowMs).toISOString(), updatedBy: actor };
    const t = this.engine.setRules(rules, nowMs);
    const run = this.queue.then(() => this.apply(t));
    this.queue = run.catch((err: unknown) => this.log(`alerts: cannot record: ${describeError(err)}`));
    await run;
    this.log(`alerts: rules replaced by ${actor} (${rules.length} rules)`);
    return this.rules();
  }

  /** Stops deliveries in flight after `graceMs` (they are recorded as failed). */
  async close(graceMs = 5_000): Promise<void> {
    await this.queue;
    const t = setTimeout(() => this.stop.abort(), graceMs);
    try {
      await this.idle();
    } finally {
      clearTimeout(t);
    }
  }

  private async apply(ts: readonly AlertTransition[]): Promise<void> {
    for (const t of ts) {
      const k = `${t.ruleId}\u0000${t.key}`;
      if (t.type === 'fired') {
        const id = await this.o.store.insert({ ruleId: t.ruleId, kind: t.kind, key: t.key, severity: t.severity, detail: t.detail, firedAtMs: t.firedAtMs, suppressed: t.suppressed });
        this.ids.set(k, id);
        this.log(`alert #${id} fired [${t.severity}] ${t.ruleId} (${t.key}): ${t.detail}${t.suppressed ? ' — in a maintenance window: recorded, not delivered' : ''}`);
        if (!t.suppressed) this.deliver(id, t, 'fired', false);
      } else {
        const id = this.ids.get(k);
        if (id === undefined) continue;
        if (t.type === 'resolved') {
          this.ids.delete(k);
          await this.o.store.resolve(id, t.atMs);
          this.log(`alert #${id} resolved: ${t.ruleId} (${t.key})`);
          if (!t.suppressed) this.deliver(id, t, 'resolved', false);
        } else {
          this.log(`alert #${id} delivered now that its maintenance window has ended: ${t.ruleId} (${t.key})`);
          this.deliver(id, t, 'fired', true);
        }
      }
    }
  }

  private deliver(id: number, t: AlertTransition, event: 'fired' | 'resolved', late: boolean): void {
    const ch = this.o.channels;
    const n: AlertNotification = {
      v: 1,
      id: `${id}-${event}`,
      site: this.o.site,
      event,
      sentAt: new Date(this.wall.nowMs()).toISOString(),
      alert: { id, ruleId: t.ruleId, kind: t.kind, key: t.key, severity: t.severity, detail: t.detail, firedAt: new Date(t.firedAtMs).toISOString(), resolvedAt: event === 'resolved' ? new Date(t.atMs).toISOString() : null },
    };
    const wants = (min: 'info' | 'warning' | 'critical') => severityRank(t.severity) >= severityRank(min);
    const jobs: Promise<ChannelResult>[] = [];
    const signal = this.stop.signal;
    const failed = (channel: Delivery['channel']) => (err: unknown): ChannelResult => ({ channel, ok: false, at: new Date(this.wall.nowMs()).toISOString(), attempts: 0, error: describeError(err) });
    if (ch.webhook && wants(ch.webhook.cfg.minSeverity)) jobs.push(postWebhook(ch.webhook.cfg, ch.webhook.secret, n, { ...this.o.webhookDeps, clock: this.wall }, signal).catch(failed('webhook')));
    if (ch.email && wants(ch.email.cfg.minSeverity)) jobs.push(sendEmail(ch.email.cfg, ch.email.password, n, { clock: this.wall }, signal).catch(failed('email')));
    if (jobs.length === 0) return;
    const p = Promise.all(jobs)
      .then(async (rs) => {
        const ds: Delivery[] = rs.map((r) => ({ event, ...r }));
        for (const d of ds) if (!d.ok) this.log(`alert #${id}: ${d.channel} delivery of '${event}' failed after ${d.attempts} attempt(s): ${d.error ?? ''}`);
        await this.o.store.addDeliveries(id, ds, late);
      })
      .catch((err: unknown) => this.log(`alert #${id}: cannot record its deliveries: ${describeError(err)}`))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
