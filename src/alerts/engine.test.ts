import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../fleet/agent/api.js';
import { alertRulesSchema, DEFAULT_RULES, type AlertRuleInput } from './config.js';
import { AlertEngine, type SiteSnapshot } from './engine.js';
import { GRID_DEPLOYMENT_MISSED } from './grid-event.js';
import { inMaintenance } from './maintenance.js';

const T0 = Date.parse('2026-08-04T12:00:00Z');
const S = 1000;

type Decision = NonNullable<AgentStatus['lastTick']>['decision'];
function status(o: { unknown?: number; failed?: number; ths?: number; safe?: Decision['safeMode']; stale?: string; meterMW?: number | null; estMW?: number; curtailReason?: string | null } = {}): AgentStatus {
  const decision = { allowedMiningMW: 1, limitedBy: 'none', targetMW: null, headroomMW: 0, currentMiningMW: 1, projectedMiningMW: 1, projectedSiteMW: o.estMW ?? 1, meterExcessMW: 0, shortfallMW: 0, restoreDeferred: 0, dwellDeferred: 0, nextRestoreAt: null, limits: [], pending: 0, safeMode: o.safe ?? null, byStateMW: {}, curtailReason: o.curtailReason ?? null } satisfies Decision;
  return {
    site: 'demo',
    nowMs: T0,
    miners: 10,
    limits: { importLimitMW: 2, aiMW: 0, otherLoadMW: 0, safetyMarginMW: 0, safeMode: 'hold' },
    target: {},
    meter: null,
    signal: { capMW: null, capSignalId: null, tracking: null },
    lastSafeMW: null,
    lastTick: { seq: 1, trigger: 'timer', startedAt: '', durationMs: 1, phasesMs: { read: 0, write: 0, verify: 0 }, fullRead: true, reads: 10, readFailures: 0, rounds: 1, commandsSent: 0, commandsFailed: 0, target: o.stale !== undefined ? { source: 'rule', stale: true, reason: o.stale } : { source: 'rule', stale: false, targetMW: null }, decision },
    minersByState: { mining: 10 - (o.unknown ?? 0) - (o.failed ?? 0), unreachable: o.unknown ?? 0, failed: o.failed ?? 0 },
    implausible: [],
    alerts: [],
    ...(o.ths !== undefined ? { fleetHashrateThs: o.ths } : {}),
    ...(o.meterMW !== undefined ? { sitePowerMW: o.meterMW } : {}),
  };
}
const snap = (atMs: number, s: AgentStatus, extra: Partial<SiteSnapshot> = {}) => ({ type: 'snapshot' as const, snapshot: { atMs, status: s, ...extra } });
const rules = (r: AlertRuleInput[]) => alertRulesSchema.parse(r);

describe('alert rules engine (clock injected)', () => {
  it('fires once while a condition holds, resolves when it clears, and waits forS first', () => {
    const e = new AlertEngine(rules([{ id: 'off', kind: 'miner-offline', minMiners: 2, forS: 60 }]));
    expect(e.observe(snap(T0, status({ unknown: 3 })))).toEqual([]); // pending
    expect(e.observe(snap(T0 + 30 * S, status({ unknown: 3 })))).toEqual([]);
    const f = e.observe(snap(T0 + 60 * S, status({ unknown: 4 })));
    expect(f).toMatchObject([{ type: 'fired', ruleId: 'off', key: 'fleet', severity: 'warning', suppressed: false, firedAtMs: T0 + 60 * S }]);
    expect(f[0]?.detail).toBe('4 of 10 miners unreachable');
    expect(e.observe(snap(T0 + 90 * S, status({ unknown: 5 })))).toEqual([]); // de-duplicated
    expect(e.observe(snap(T0 + 120 * S, status({ unknown: 1 })))).toMatchObject([{ type: 'resolved', firedAtMs: T0 + 60 * S, atMs: T0 + 120 * S }]);
    expect(e.active()).toEqual([]);
    // A blip shorter than forS never fires.
    e.observe(snap(T0 + 200 * S, status({ unknown: 3 })));
    expect(e.observe(snap(T0 + 230 * S, status({ unknown: 0 })))).toEqual([]);
  });

  it('safe mode and stale feeds: critical by default, keyed by feed', () => {
    const e = new AlertEngine(rules([{ id: 'safe', kind: 'safe-mode' }, { id: 'stale', kind: 'feed-stale', severity: 'critical' }]));
    const t = e.observe(snap(T0, status({ safe: { mode: 'hold', reason: 'price feed lost' }, stale: 'no price for 30 min' }), { feeds: [{ feed: 'ercot-rt', stale: true }, { feed: 'mempool', stale: false }] }));
    expect(t.map((x) => [x.ruleId, x.key, x.severity])).toEqual([
      ['safe', 'site', 'critical'],
      ['stale', 'target', 'critical'],
      ['stale', 'feed:ercot-rt', 'critical'],
    ]);
    expect(t[0]?.detail).toBe("safe mode 'hold': price feed lost");
    const r = e.observe(snap(T0 + S, status({}), { feeds: [{ feed: 'ercot-rt', stale: false }] }));
    expect(r.map((x) => x.type)).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('hashrate drop against the window high, not while curtailing on purpose', () => {
    const e = new AlertEngine(rules([{ id: 'hr', kind: 'hashrate-drop', dropPct: 20, windowS: 600 }]));
    expect(e.observe(snap(T0, status({ ths: 1000 })))).toEqual([]);
    expect(e.observe(snap(T0 + 60 * S, status({ ths: 500, curtailReason: 'price' })))).toEqual([]); // deliberate
    const f = e.observe(snap(T0 + 120 * S, status({ ths: 790 })));
    expect(f).toMatchObject([{ type: 'fired', ruleId: 'hr' }]);
    expect(f[0]?.detail).toMatch(/^fleet hashrate 790 TH\/s is 21 % below its 1000 TH\/s high/);
    expect(e.observe(snap(T0 + 180 * S, status({ ths: 950 })))).toMatchObject([{ type: 'resolved' }]);
    // The high ages out of the window: a lower level becomes the baseline.
    expect(e.observe(snap(T0 + 800 * S, status({ ths: 780 })))).toEqual([]);
  });

  it('metered vs estimated power diverging by % (with a floor in MW)', () => {
    const e = new AlertEngine(rules([{ id: 'div', kind: 'power-divergence', divergencePct: 10, minMW: 0.05 }]));
    expect(e.observe(snap(T0, status({ meterMW: 1.05, estMW: 1 })))).toEqual([]); // 4.8 %
    expect(e.observe(snap(T0 + S, status({ meterMW: 0.011, estMW: 0.01 })))).toEqual([]); // 9 % but 1 kW
    const f = e.observe(snap(T0 + 2 * S, status({ meterMW: 1.3, estMW: 1 })));
    expect(f[0]?.detail).toBe('the meter reads 1.3 MW, the agent estimates 1 MW: 23.1 % apart');
    expect(e.observe(snap(T0 + 3 * S, status({ meterMW: null, estMW: 1 })))).toMatchObject([{ type: 'resolved' }]); // no reading: no claim
  });

  it('4CP alert day from the ops snapshot', () => {
    const e = new AlertEngine(rules([{ id: '4cp', kind: 'fourcp-alert-day' }]));
    expect(e.observe(snap(T0, status(), { fourCpAlert: true }))).toMatchObject([{ type: 'fired', severity: 'info' }]);
    expect(e.observe(snap(T0 + S, status(), { fourCpAlert: true }))).toEqual([]);
    expect(e.observe(snap(T0 + 2 * S, status(), { fourCpAlert: false }))).toMatchObject([{ type: 'resolved' }]);
  });

  it('failed miners (the agent gave up) from the snapshot, named from its recent alerts', () => {
    const e = new AlertEngine(rules([{ id: 'failed', kind: 'miner-failed' }]));
    const st = { ...status({ failed: 2 }), alerts: [{ kind: 'miner-failed', minerId: 'm-7', detail: 'x', at: '' }] };
    expect(e.observe(snap(T0, st))).toMatchObject([{ type: 'fired', ruleId: 'failed', detail: '2 of 10 miners given up on (commands not in effect after every retry): m-7, …' }]);
    expect(e.observe(snap(T0 + S, status({ failed: 0 })))).toMatchObject([{ type: 'resolved' }]);
  });

  it('a missed grid deployment stays active for clearAfterS, one alert per deployment', () => {
    const e = new AlertEngine(rules([{ id: 'grid', kind: 'grid-deployment-missed', clearAfterS: 600 }]));
    const g = e.observe({ type: 'grid', event: { type: GRID_DEPLOYMENT_MISSED, v: 1, atMs: T0, id: 'rrs-1', product: 'RRS', mwRequested: 12.5, mwDelivered: 9.1, shortfallMW: 2.775, deadlineAt: new Date(T0 - 60 * S).toISOString(), hours: 1, penaltyUsdPerMWh: 5000, penaltyUsd: 13875 } });
    expect(g).toMatchObject([{ type: 'fired', ruleId: 'grid', key: 'rrs-1', severity: 'critical' }]);
    expect(g[0]?.detail).toBe('RRS deployment rrs-1 missed: 12.5 MW requested, 9.1 MW delivered by 2026-08-04T11:59:00.000Z; penalty 13875 USD (2.775 MW short × 1 h × 5000 USD/MWh)');
    expect(e.observe({ type: 'grid', event: { type: GRID_DEPLOYMENT_MISSED, v: 1, atMs: T0 + 60 * S, id: 'rrs-1', product: 'RRS', mwRequested: 12.5, mwDelivered: 9.1, shortfallMW: 2.775, deadlineAt: new Date(T0).toISOString(), hours: 1, penaltyUsdPerMWh: 5000, penaltyUsd: 13875 } })).toEqual([]);
    expect(e.observe({ type: 'clock', atMs: T0 + 600 * S })).toEqual([]); // extended by the repeat
    expect(e.observe({ type: 'clock', atMs: T0 + 660 * S })).toMatchObject([{ type: 'resolved', key: 'rrs-1' }]);
  });

  it('maintenance windows: recorded but suppressed, delivered when the window ends if still active', () => {
    const e = new AlertEngine(rules([{ id: 'safe', kind: 'safe-mode', maintenance: [{ daily: { start: '11:30', end: '12:30' } }] }]));
    const safe = status({ safe: { mode: 'curtail-all', reason: 'plan lost' } });
    expect(e.observe(snap(T0, safe))).toMatchObject([{ type: 'fired', suppressed: true }]);
    expect(e.observe(snap(T0 + 10 * 60 * S, safe))).toEqual([]);
    expect(e.observe(snap(T0 + 31 * 60 * S, safe))).toMatchObject([{ type: 'deliver', suppressed: false, firedAtMs: T0 }]);
    expect(e.observe(snap(T0 + 32 * 60 * S, status()))).toMatchObject([{ type: 'resolved', suppressed: false }]);
  });

  it('maintenance windows: once, daily past midnight, by weekday (UTC)', () => {
    const once = [{ from: '2026-08-04T10:00:00Z', to: '2026-08-04T11:00:00Z' }];
    expect(inMaintenance(once, Date.parse('2026-08-04T10:30:00Z'))).toBe(true);
    expect(inMaintenance(once, Date.parse('2026-08-04T11:00:00Z'))).toBe(false);
    const night = [{ daily: { start: '22:00', end: '02:00' }, days: ['tue' as const] }]; // 2026-08-04 is a Tuesday
    expect(inMaintenance(night, Date.parse('2026-08-04T23:00:00Z'))).toBe(true);
    expect(inMaintenance(night, Date.parse('2026-08-05T01:59:00Z'))).toBe(true); // Tuesday's window, past midnight
    expect(inMaintenance(night, Date.parse('2026-08-05T23:00:00Z'))).toBe(false); // Wednesday
    expect(inMaintenance(night, Date.parse('2026-08-04T01:00:00Z'))).toBe(false); // Monday's night
  });

  it('seeded active alerts (after a restart) do not fire again; changed rules resolve theirs', () => {
    const rs = rules([{ id: 'safe', kind: 'safe-mode' }]);
    const e = new AlertEngine(rs, [{ ruleId: 'safe', key: 'site', detail: 'x', firedAtMs: T0 - 60 * S, suppressed: false }]);
    expect(e.observe(snap(T0, status({ safe: { mode: 'hold', reason: 'x' } })))).toEqual([]);
    expect(e.setRules([], T0 + S)).toMatchObject([{ type: 'resolved', ruleId: 'safe', firedAtMs: T0 - 60 * S }]);
  });

  it('the default rules: one of each kind, parsed with their defaults', () => {
    expect(DEFAULT_RULES.map((r) => r.kind)).toHaveLength(8);
    expect(alertRulesSchema.safeParse([{ id: 'a', kind: 'safe-mode' }, { id: 'a', kind: 'feed-stale' }]).success).toBe(false);
    expect(alertRulesSchema.safeParse([{ id: 'a', kind: 'hashrate-drop', dropPct: 0 }]).success).toBe(false);
  });
});
