/**
 * The alert rules engine — pure: it is given what the site said (status snapshots, agent events,
 * grid events) and the time, and answers which alerts fired, resolved or are now due for delivery.
 * No I/O and no clock: the service records and delivers; tests move time by hand.
 *
 * Each rule yields a set of active conditions, by key (the fleet, a miner, a feed, a deployment):
 * snapshot rules recompute theirs at each snapshot (kept between snapshots), event rules (a missed
 * grid deployment) add a key for `clearAfterS`. A condition that holds `forS` fires one
 * alert; it stays active, without firing again, until the condition clears, then resolves. An
 * alert that fires inside a maintenance window is recorded but held back (`suppressed`); if it is
 * still active when the window ends it is delivered then (`deliver`).
 */
import type { AgentStatus } from '../fleet/agent/api.js';
import type { AgentEvent } from '../fleet/agent/events.js';
import { severityOf, type AlertRule, type RuleKind, type Severity } from './config.js';
import type { GridDeploymentMissed } from './grid-event.js';
import { inMaintenance } from './maintenance.js';

/** What the site looks like now: the agent's status, and what `mullet ops` adds. */
export interface SiteSnapshot {
  atMs: number;
  status: AgentStatus;
  /** Live market feeds (`mullet ops`); absent without. */
  feeds?: readonly { feed: string; stale: boolean; lastError?: { message: string } | null }[] | null;
  /** Today is a 4CP alert day at the interval in force (`mullet ops`). */
  fourCpAlert?: boolean;
}

export type AlertObservation = { type: 'snapshot'; snapshot: SiteSnapshot } | { type: 'event'; event: AgentEvent } | { type: 'grid'; event: GridDeploymentMissed } | { type: 'clock'; atMs: number };

export interface AlertTransition {
  /** fired: a new alert; resolved: its condition cleared; deliver: fired in a maintenance window that has ended, still active. */
  type: 'fired' | 'resolved' | 'deliver';
  ruleId: string;
  kind: RuleKind;
  key: string;
  severity: Severity;
  detail: string;
  atMs: number;
  firedAtMs: number;
  /** Delivery held back by a maintenance window (the alert is recorded anyway). */
  suppressed: boolean;
}

/** An alert already active (from the history store after a restart): it does not fire again. */
export interface ActiveAlertSeed {
  ruleId: string;
  key: string;
  detail: string;
  firedAtMs: number;
  suppressed: boolean;
}

interface KeyState {
  pendingSinceMs: number;
  active: { firedAtMs: number; detail: string; suppressed: boolean } | null;
}

interface RuleState {
  /** The last snapshot's conditions (snapshot rules), key → detail. */
  snap: Map<string, string>;
  /** Event conditions, key → detail and until when. */
  events: Map<string, { detail: string; untilMs: number }>;
  keys: Map<string, KeyState>;
  /** hashrate-drop: recent undeliberate readings, TH/s. */
  samples: { atMs: number; ths: number }[];
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();
const r3 = (v: number): string => (Math.round(v * 1000) / 1000).toString();

/** Whether the agent is cutting mining on purpose (a signal, a price, a plan, safe mode): then less hashrate is no fault. */
function deliberate(s: AgentStatus): boolean {
  const d = s.lastTick?.decision;
  return (d?.curtailReason ?? null) !== null || s.signal.capMW !== null || (d?.safeMode ?? null) !== null;
}

export class AlertEngine {
  private rules: AlertRule[] = [];
  private readonly state = new Map<string, RuleState>();

  constructor(rules: readonly AlertRule[], seed: readonly ActiveAlertSeed[] = []) {
    this.setRules(rules, Number.NEGATIVE_INFINITY);
    for (const a of seed) {
      const st = this.state.get(a.ruleId);
      if (!st) continue;
      st.keys.set(a.key, { pendingSinceMs: a.firedAtMs, active: { firedAtMs: a.firedAtMs, detail: a.detail, suppressed: a.suppressed } });
      // Until a snapshot says otherwise the seeded condition holds (event rules: for their clearAfterS).
      const rule = this.rules.find((r) => r.id === a.ruleId);
      if (rule && 'clearAfterS' in rule) st.events.set(a.key, { detail: a.detail, untilMs: a.firedAtMs + rule.clearAfterS * 1000 });
      else st.snap.set(a.key, a.detail);
    }
  }

  /** The rules in force (enabled or not). */
  get ruleSet(): readonly AlertRule[] {
    return this.rules;
  }

  /** Replaces the rules; alerts of a rule removed, disabled or changed in kind resolve now. */
  setRules(rules: readonly AlertRule[], atMs: number): AlertTransition[] {
    const out: AlertTransition[] = [];
    const next = new Map(rules.filter((r) => r.enabled).map((r) => [r.id, r]));
    for (const old of this.rules) {
      const st = this.state.get(old.id);
      const nr = next.get(old.id);
      if (!st || (nr && nr.kind === old.kind)) continue;
      for (const [key, k] of st.keys) if (k.active) out.push(this.transition('resolved', old, key, k.active.detail, atMs, k.active.firedAtMs, k.active.suppressed || inMaintenance(old.maintenance, atMs)));
      this.state.delete(old.id);
    }
    this.rules = [...rules];
    for (const r of next.values()) if (!this.state.has(r.id)) this.state.set(r.id, { snap: new Map(), events: new Map(), keys: new Map(), samples: [] });
    return out;
  }

  /** Feeds one observation; returns what changed, in rule order. */
  observe(o: AlertObservation): AlertTransition[] {
    const atMs = o.type === 'snapshot' ? o.snapshot.atMs : o.type === 'clock' ? o.atMs : o.event.atMs;
    const out: AlertTransition[] = [];
    for (const rule of this.rules) {
      if (!rule.enabled) continue;
      const st = this.state.get(rule.id) as RuleState;
      if (o.type === 'snapshot') {
        const c = this.snapshotConditions(rule, st, o.snapshot);
        if (c) st.snap = c;
      } else if (o.type === 'event' || o.type === 'grid') {
        this.eventConditions(rule, st, o);
      }
      for (const [key, e] of st.events) if (e.untilMs <= atMs) st.events.delete(key);
      this.step(rule, st, atMs, out);
    }
    return out;
  }

  /** Active alerts now, by rule and key. */
  active(): { ruleId: string; key: string; detail: string; firedAtMs: number; suppressed: boolean }[] {
    const out = [];
    for (const [ruleId, st] of this.state) for (const [key, k] of st.keys) if (k.active) out.push({ ruleId, key, ...k.active });
    return out;
  }

  private transition(type: AlertTransition['type'], rule: AlertRule, key: string, detail: string, atMs: number, firedAtMs: number, suppressed: boolean): AlertTransition {
    return { type, ruleId: rule.id, kind: rule.kind, key, severity: severityOf(rule), detail, atMs, firedAtMs, suppressed };
  }

  private step(rule: AlertRule, st: RuleState, atMs: number, out: AlertTransition[]): void {
    const now = new Map<string, string>(st.snap);
    for (const [key, e] of st.events) now.set(key, e.detail);
    const maintenance = inMaintenance(rule.maintenance, atMs);
    for (const [key, detail] of now) {
      let k = st.keys.get(key);
      if (!k) st.keys.set(key, (k = { pendingSinceMs: atMs, active: null }));
      if (!k.active && atMs - k.pendingSinceMs >= rule.forS * 1000) {
        k.active = { firedAtMs: atMs, detail, suppressed: maintenance };
        out.push(this.transition('fired', rule, key, detail, atMs, atMs, maintenance));
      } else if (k.active?.suppressed && !maintenance) {
        k.active.suppressed = false;
        out.push(this.transition('deliver', rule, key, detail, atMs, k.active.firedAtMs, false));
      }
    }
    for (const [key, k] of st.keys) {
      if (now.has(key)) continue;
      st.keys.delete(key);
      if (k.active) out.push(this.transition('resolved', rule, key, k.active.detail, atMs, k.active.firedAtMs, k.active.suppressed || maintenance));
    }
  }

  /** A snapshot rule's conditions now; null for rules that only listen to events. */
  private snapshotConditions(rule: AlertRule, st: RuleState, snap: SiteSnapshot): Map<string, string> | null {
    const s = snap.status;
    const c = new Map<string, string>();
    switch (rule.kind) {
      case 'miner-offline': {
        const n = s.minersByState['unreachable'] ?? 0;
        if (n >= rule.minMiners) c.set('fleet', `${n} of ${s.miners} miners unreachable`);
        return c;
      }
      case 'miner-failed': {
        const n = s.minersByState['failed'] ?? 0;
        // Name a few from the agent's recent alerts (the status keeps them with the miner id).
        const ids = [...new Set(s.alerts.filter((a) => a.kind === 'miner-failed' && a.minerId !== undefined).map((a) => a.minerId as string))].slice(-5);
        if (n >= rule.minMiners) c.set('fleet', `${n} of ${s.miners} miners given up on (commands not in effect after every retry)${ids.length > 0 ? `: ${ids.join(', ')}${n > ids.length ? ', …' : ''}` : ''}`);
        return c;
      }
      case 'hashrate-drop': {
        const ths = s.fleetHashrateThs;
        st.samples = st.samples.filter((x) => x.atMs > snap.atMs - rule.windowS * 1000);
        if (ths === undefined || !Number.isFinite(ths) || deliberate(s)) return c;
        st.samples.push({ atMs: snap.atMs, ths });
        const baseline = st.samples.reduce((m, x) => Math.max(m, x.ths), 0);
        const dropPct = baseline > 0 ? (1 - ths / baseline) * 100 : 0;
        if (dropPct >= rule.dropPct) c.set('fleet', `fleet hashrate ${r1(ths)} TH/s is ${r1(dropPct)} % below its ${r1(baseline)} TH/s high of the last ${r1(rule.windowS / 60)} min, with nothing curtailing on purpose`);
        return c;
      }
      case 'safe-mode': {
        const sm = s.lastTick?.decision.safeMode ?? null;
        if (sm) c.set('site', `safe mode '${sm.mode}': ${sm.reason}`);
        return c;
      }
      case 'feed-stale': {
        const t = s.lastTick?.target;
        if (t?.stale) c.set('target', `the agent's ${t.source} target is stale: ${t.reason}`);
        for (const f of snap.feeds ?? []) if (f.stale) c.set(`feed:${f.feed}`, `market feed ${f.feed} is stale${f.lastError ? ` (last error: ${f.lastError.message})` : ''}`);
        return c;
      }
      case 'power-divergence': {
        const metered = s.sitePowerMW !== undefined ? s.sitePowerMW : (s.meter?.last?.siteMW ?? null);
        const est = s.lastTick?.decision.projectedSiteMW;
        if (metered === null || est === undefined) return c;
        const gap = Math.abs(metered - est);
        const pct = (100 * gap) / Math.max(Math.abs(metered), Math.abs(est), 1e-9);
        if (gap >= rule.minMW && pct >= rule.divergencePct) c.set('site', `the meter reads ${r3(metered)} MW, the agent estimates ${r3(est)} MW: ${r1(pct)} % apart`);
        return c;
      }
      case 'fourcp-alert-day':
        if (snap.fourCpAlert === true) c.set('site', 'ERCOT 4CP alert day: a coincident-peak interval is likely today; transmission charges are set by the load in it');
        return c;
      case 'grid-deployment-missed':
        return null;
    }
  }

  private eventConditions(rule: AlertRule, st: RuleState, o: Extract<AlertObservation, { type: 'event' | 'grid' }>): void {
    if (rule.kind === 'grid-deployment-missed' && o.type === 'grid') {
      const g = o.event;
      const delivered = g.mwDelivered === null ? 'not measured' : `${r3(g.mwDelivered)} MW delivered`;
      st.events.set(g.id, { detail: `${g.product} deployment ${g.id} missed: ${r3(g.mwRequested)} MW requested, ${delivered} by ${g.deadlineAt}; penalty ${r3(g.penaltyUsd)} USD (${r3(g.shortfallMW)} MW short × ${r3(g.hours)} h × ${r3(g.penaltyUsdPerMWh)} USD/MWh)`, untilMs: g.atMs + rule.clearAfterS * 1000 });
    }
  }
}
