/**
 * Reporting: what a tick did, as Prometheus metrics, the /v1/status document (agentStatusSchema)
 * and one log line. Reads the parts it is given; never acts.
 */
import type { AgentStatus } from './api.js';
import { classifyIntent, currentPowerW, effectiveState } from './decide.js';
import type { EventHub } from './events.js';
import type { FleetIO } from './fleet-io.js';
import type { AgentMetrics } from './metrics.js';
import type { MeterWatch } from './meter-watch.js';
import type { SignalDesk } from './signal-desk.js';
import type { TargetProvider } from './targets.js';
import type { DecideConfig, Decision, TargetInput } from './types.js';

/** target: the target provider said its target changes now (a new interval, a price arrived). */
export type TickTrigger = 'start' | 'timer' | 'signal' | 'pacing' | 'pending' | 'meter' | 'target';

export interface TickReport {
  seq: number;
  trigger: TickTrigger;
  startedAtMs: number;
  durationMs: number;
  /** Telemetry reads this tick (full read + verify reads) and how many failed. */
  reads: number;
  readFailures: number;
  fullRead: boolean;
  rounds: number;
  commandsSent: number;
  commandsFailed: number;
  /** Mining MW at the start of the tick (first decision's estimate). */
  miningBeforeMW: number;
  /** Wall time of the phases, ms: read (full read), write (all rounds), verify (all rounds). */
  phasesMs: { read: number; write: number; verify: number };
  decision: Decision;
  target: TargetInput;
}

const STATES = ['mining', 'sleeping', 'waking', 'tuning', 'unknown', 'failed', 'unreachable'] as const;

export interface ReporterParts {
  siteName: string;
  decide: DecideConfig;
  metrics: AgentMetrics;
  events: EventHub;
  fleet: FleetIO;
  meter: MeterWatch;
  signals: SignalDesk;
  targets: TargetProvider;
}

/** What operators chart, as of the last tick (status and metrics). */
export interface Operations {
  fleetHashrateThs: number;
  /** Site power at the meter, MW; null without a good reading. */
  sitePowerMW: number | null;
  price: { usdPerMWh: number; intervalStart: string | null; source: string } | null;
  fleetStrikesUsdPerMWh: Record<string, number> | null;
  /** Miners held curtailed and the MW they shed, by reason. */
  curtailed: Record<string, { miners: number; mw: number }>;
}

export class Reporter {
  private ops: Operations | null = null;
  private strikes: Record<string, number> | null = null;
  /** Reasons ever reported (a reason that ends is set to 0, not left at its last value). */
  private readonly reasons = new Set<string>();

  constructor(private readonly p: ReporterParts) {}

  /** Fleet hashrate, curtailments by reason, the meter, the price and the strikes (pure reads of the parts). */
  private operations(r: TickReport): Operations {
    const cfg = this.p.decide;
    let ths = 0;
    const curtailed: Operations['curtailed'] = {};
    for (const s of this.p.fleet.slots) {
      const v = this.p.fleet.view(s);
      const reading = v.reading;
      if (reading && reading.implausible === undefined) ths += reading.hashrateThs;
      const state = effectiveState(v, cfg);
      const it = v.intent;
      let shedW = 0;
      if (state === 'sleeping') shedW = v.ratedPowerW - currentPowerW(v, state, cfg);
      else if ((state === 'mining' || state === 'tuning') && v.powerTargetW !== null && v.powerTargetW < v.ratedPowerW) shedW = v.ratedPowerW - v.powerTargetW;
      if (shedW <= 0) continue;
      // Asleep with no command of ours: an operator or the firmware did it.
      const why = it && (it.kind === 'sleep' || it.kind === 'target') ? (it.why ?? 'unknown') : 'external';
      const c = (curtailed[why] ??= { miners: 0, mw: 0 });
      c.miners++;
      c.mw += (shedW * v.pue) / 1e6;
    }
    const t = r.target;
    if (t.fleetStrikeUsdPerMWh) this.strikes = { ...t.fleetStrikeUsdPerMWh };
    const m = this.p.meter;
    return {
      fleetHashrateThs: ths,
      sitePowerMW: m.configured && m.error === null && m.last ? m.last.siteMW : null,
      price: !t.stale && t.priceUsdPerMWh !== undefined ? { usdPerMWh: t.priceUsdPerMWh, intervalStart: t.priceIntervalStartMs === undefined ? null : new Date(t.priceIntervalStartMs).toISOString(), source: t.source } : null,
      fleetStrikesUsdPerMWh: this.strikes,
      curtailed,
    };
  }

  /** Updates the gauges and histograms for a finished tick. */
  publish(r: TickReport): void {
    const m = this.p.metrics;
    const d = r.decision;
    for (const [state, mw] of Object.entries(d.byStateMW)) m.fleetMW.set(mw, { state });
    const counts: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const s of this.p.fleet.slots) {
      const v = this.p.fleet.view(s);
      const cls = classifyIntent(v, r.startedAtMs, this.p.decide);
      const key = cls === 'failed' || cls === 'exhausted' ? 'failed' : effectiveState(v, this.p.decide);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    for (const [state, n] of Object.entries(counts)) m.fleetMiners.set(n, { state });
    const ops = this.operations(r);
    this.ops = ops;
    m.fleetHashrateThs.set(ops.fleetHashrateThs);
    m.sitePowerMW.set(ops.sitePowerMW ?? NaN);
    m.priceUsdPerMWh.set(ops.price?.usdPerMWh ?? NaN);
    for (const [fleet, usd] of Object.entries(ops.fleetStrikesUsdPerMWh ?? {})) m.fleetStrike.set(usd, { fleet });
    for (const why of Object.keys(ops.curtailed)) this.reasons.add(why);
    for (const why of this.reasons) {
      m.curtailedMiners.set(ops.curtailed[why]?.miners ?? 0, { reason: why });
      m.curtailedMW.set(ops.curtailed[why]?.mw ?? 0, { reason: why });
    }
    m.allowedMW.set(d.allowedMiningMW);
    m.projectedSiteMW.set(d.projectedSiteMW);
    m.safeMode.set(d.safeMode ? 1 : 0);
    m.tickDuration.observe(r.durationMs / 1000);
    m.lastTickSeconds.set(r.durationMs / 1000);
  }

  /** One log line for a tick. */
  summary(r: TickReport): string {
    const d = r.decision;
    const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : String(x));
    return (
      `tick ${r.seq} (${r.trigger}) ${Math.round(r.durationMs)} ms (read ${Math.round(r.phasesMs.read)}, write ${Math.round(r.phasesMs.write)}, verify ${Math.round(r.phasesMs.verify)}): allowed ${f(d.allowedMiningMW)} MW (${d.limitedBy}), mining ${f(r.miningBeforeMW)} → ${f(d.projectedMiningMW)} MW, ` +
      `site ${f(d.projectedSiteMW)} MW; ${r.commandsSent} commands (${r.commandsFailed} failed), ${r.readFailures}/${r.reads} reads failed` +
      (d.safeMode ? `; SAFE MODE ${d.safeMode.mode}: ${d.safeMode.reason}` : '') +
      (d.shortfallMW > 0 ? `; shortfall ${f(d.shortfallMW)} MW` : '') +
      (d.restoreDeferred > 0 ? `; ${d.restoreDeferred} restores deferred` : '')
    );
  }

  /** Everything /v1/status shows (JSON-safe: infinities as null). */
  status(nowMs: number, last: TickReport | null, lastSafeMW: number | null): AgentStatus {
    const p = this.p;
    const r = last;
    const fin = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);
    const counts: Record<string, number> = {};
    for (const s of STATES) counts[s] = p.metrics.fleetMiners.get({ state: s }) ?? 0;
    return {
      site: p.siteName,
      nowMs,
      miners: p.fleet.slots.length,
      limits: { importLimitMW: p.decide.importLimitMW, aiMW: p.decide.aiMW, otherLoadMW: p.decide.otherLoadMW, safetyMarginMW: p.decide.safetyMarginMW, safeMode: p.decide.safeMode },
      target: p.targets.describe(),
      meter: p.meter.configured ? { last: p.meter.last, error: p.meter.error } : null,
      signal: { capMW: p.signals.capMW(), capSignalId: p.signals.capSignalId(), tracking: p.signals.tracking()?.id ?? null },
      lastSafeMW,
      lastTick: r
        ? {
            seq: r.seq,
            trigger: r.trigger,
            startedAt: new Date(r.startedAtMs).toISOString(),
            durationMs: Math.round(r.durationMs * 1000) / 1000,
            phasesMs: { read: Math.round(r.phasesMs.read), write: Math.round(r.phasesMs.write), verify: Math.round(r.phasesMs.verify) },
            fullRead: r.fullRead,
            reads: r.reads,
            readFailures: r.readFailures,
            rounds: r.rounds,
            commandsSent: r.commandsSent,
            commandsFailed: r.commandsFailed,
            target: r.target.stale ? { source: r.target.source, stale: true, reason: r.target.reason } : { source: r.target.source, stale: false, targetMW: fin(r.target.targetMW) },
            decision: {
              allowedMiningMW: fin(r.decision.allowedMiningMW),
              limitedBy: r.decision.limitedBy,
              targetMW: fin(r.decision.targetMW),
              headroomMW: fin(r.decision.headroomMW),
              currentMiningMW: r.decision.currentMiningMW,
              projectedMiningMW: r.decision.projectedMiningMW,
              projectedSiteMW: r.decision.projectedSiteMW,
              meterExcessMW: r.decision.meterExcessMW,
              shortfallMW: r.decision.shortfallMW,
              restoreDeferred: r.decision.restoreDeferred,
              dwellDeferred: r.decision.dwellDeferred,
              nextRestoreAt: r.decision.nextRestoreAtMs === null ? null : new Date(r.decision.nextRestoreAtMs).toISOString(),
              limits: r.decision.limits.map((l) => ({ ...l, mw: fin(l.mw) })),
              pending: r.decision.pending,
              safeMode: r.decision.safeMode,
              byStateMW: r.decision.byStateMW,
              curtailReason: r.decision.curtailReason,
            },
          }
        : null,
      ...(this.ops ?? {}),
      minersByState: counts,
      implausible: p.fleet.slots
        .filter((s) => s.implausible !== null)
        .slice(0, 100)
        .map((s) => ({ minerId: s.m.id, host: s.m.host, problem: s.implausible })),
      alerts: p.events.alerts(50).map((e) => ({ kind: e.kind, ...(e.minerId !== undefined ? { minerId: e.minerId } : {}), detail: e.detail, at: new Date(e.atMs).toISOString() })),
    };
  }
}
