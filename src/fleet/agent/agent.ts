/**
 * The site agent's control loop, the orchestrator of its parts: fleet I/O (`fleet-io.ts`: read,
 * send, verify), the meter (`meter-watch.ts`), signal intake and tracking (`signal-desk.ts`) and
 * reporting (`reporter.ts`); none of them imports this file. Each tick: read (every miner, bounded
 * concurrency, per-call deadlines) → decide (pure) → write (commands, on record before they go out)
 * → verify (read the commanded miners back) → decide again with what was read and a fresh meter
 * reading (drifted machines are re-sent, then failed and compensated by others). Between ticks the
 * meter is watched. Nothing carries from one tick to the next but the intents (kept in the state
 * store, so a restarted agent reconciles with the fleet instead of re-sending) and the signal cap.
 * A failing device marks itself failed; the loop goes on. `SiteAgent.create` does all the I/O a
 * start needs (no I/O in the constructor); the agent is offered to adapters as `AgentApi`.
 */
import { performance } from 'node:perf_hooks';
import { describeError } from '../../core/errors.js';
import { waitMs, type Clock } from '../../core/time.js';
import type { MinerHealthDetail } from '../capabilities.js';
import type { MeterReader } from '../meter/meter-reader.js';
import type { AgentApi, AgentStatus } from './api.js';
import { fleetRows, previewCurtail, type CurtailPreview, type FleetView } from './fleet-view.js';
import { aiLimitInEffect, countedAiMW, decideAi, type AiDecision, type AiLoadView } from './ai-decide.js';
import { AiIO, type AiGroupSpec } from './ai-io.js';
import { currentPowerW, decide, effectiveState, WAKE_WINDOW_MS } from './decide.js';
import { EVENT_VERSION, EventHub, type AgentEvent, type AgentEventInput } from './events.js';
import { FleetIO } from './fleet-io.js';
import type { AwardRequest, DeploymentRecord, DeploymentRequest, EvidenceRow, GridApi, AwardRecord } from './grid.js';
import { GridDesk } from './grid-desk.js';
import type { AgentMiner } from './fleet.js';
import { MeterWatch } from './meter-watch.js';
import { agentMetrics, type AgentMetrics } from './metrics.js';
import { Reporter, type TickReport, type TickTrigger } from './reporter.js';
import { SignalDesk } from './signal-desk.js';
import type { SignalSpec } from './signals.js';
import type { AgentStateStore, SignalRecord } from './state-port.js';
import type { TargetProvider } from './targets.js';
import type { DecideConfig, DecideInputs, Decision, MinerIntent, MinerReading } from './types.js';

export type { TickReport, TickTrigger } from './reporter.js';

export interface AgentOptions {
  siteName: string;
  miners: readonly AgentMiner[];
  decide: DecideConfig;
  store: AgentStateStore;
  clock: Clock;
  targets: TargetProvider;
  /** The site revenue meter (Modbus TCP); its reading overrides the estimate when it shows more. */
  meter?: MeterReader | null;
  /** A meter reading older than this is ignored, ms. */
  meterStaleMs?: number;
  /** Device calls in flight at most. */
  concurrency?: number;
  /** Overall deadline per device call, ms. */
  callTimeoutMs?: number;
  /** Period of the regular tick, ms. */
  tickMs?: number;
  /** Period while commands are in flight, ms. */
  pendingTickMs?: number;
  /** Longest the verify phase waits for commands to show in effect, ms. */
  verifyWaitMs?: number;
  /** Pause between verify reads, ms. */
  verifyPollMs?: number;
  /** A tick triggered early (signal, restore pacing) reuses a full read younger than this, ms. */
  snapshotMaxAgeMs?: number;
  /** Decide/write/verify rounds per tick at most. */
  maxRoundsPerTick?: number;
  /** Waits used between verify reads and between ticks (tests pass one that moves a FakeClock). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborting this stops the agent at once: calls in flight are aborted and nothing more is persisted. */
  hardStop?: AbortSignal;
  /** Progress and problems, one line each (stderr in the CLI). */
  log?: (line: string) => void;
  /** Between ticks the meter is read this often; a reading above the import limit starts a tick at once, ms (0: never). */
  meterPollMs?: number;
  /** The AI front's actuators, per AI load of the site (loads without one count at full, untouchable). */
  ai?: readonly AiGroupSpec[];
  /** Grid services: awards from the config file, and the penalty per MWh a missed deployment costs (site `ancillary.penaltyUsdPerMWh`). */
  grid?: { awards?: readonly AwardRequest[]; penaltyUsdPerMWh?: number };
}

/** The penalty per MWh of a missed deployment when the site file sets none (the site schema's default). */
export const DEFAULT_PENALTY_USD_PER_MWH = 5000;

const DEFAULTS = {
  meterStaleMs: 30_000,
  concurrency: 512,
  callTimeoutMs: 5_000,
  tickMs: 10_000,
  pendingTickMs: 1_000,
  verifyWaitMs: 5_000,
  verifyPollMs: 250,
  snapshotMaxAgeMs: 5_000,
  maxRoundsPerTick: 4,
  meterPollMs: 1_000,
};

const KV_LAST_SAFE = 'lastSafeMW';
const KV_LAST_RESTORE = 'lastRestoreBatchAtMs';
/** The target's own state (the strike rule's counters), per target source. */
const kvTarget = (t: TargetProvider): string => `targetState:${t.source}`;


type Resolved = Required<Omit<AgentOptions, 'meter' | 'hardStop' | 'log' | 'ai' | 'grid'>> & Pick<AgentOptions, 'meter' | 'hardStop' | 'log' | 'ai' | 'grid'>;

export class SiteAgent implements AgentApi, GridApi {
  readonly metrics: AgentMetrics;
  readonly events = new EventHub();
  readonly siteName: string;
  private readonly o: Resolved;
  private readonly fleet: FleetIO;
  private readonly meter: MeterWatch;
  /** Signal intake and tracking. */
  readonly signals: SignalDesk;
  /** Grid deployments and awards. */
  readonly grid: GridDesk;
  private readonly reporter: Reporter;
  /** Broken promises already reported, by miner and command send time (one alert per command). */
  private readonly reported = new Set<string>();
  private tickSeq = 0;
  private lastFullReadMs = -Infinity;
  private last: TickReport | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private wake: (() => void) | null = null;
  private wakeRequested = false;
  private lastPruneMs = -Infinity;
  private lastSafeModeKey = '';
  private lastTargetState: string | undefined;
  private lastAi: AiDecision | null = null;
  /** The last decision's inputs (the curtail preview re-runs decide() on them). */
  private lastInputs: DecideInputs | null = null;
  private closed = false;
  /** Added to the award floor: the largest machine, the fleet's standby and the restore deadband, MW at the meter (see `gridLimits`). */
  private readonly floorPadMW: number;

  /** Loads the agent's restart memory from the store and records the inventory it runs. */
  static async create(options: AgentOptions): Promise<SiteAgent> {
    const store = options.store;
    const [saved, safe, restore, targetState] = await Promise.all([store.loadIntents(), store.getKv(KV_LAST_SAFE), store.getKv(KV_LAST_RESTORE), store.getKv(kvTarget(options.targets))]);
    if (targetState !== undefined && options.targets.loadState && !options.targets.loadState(targetState)) {
      options.log?.(`the saved ${options.targets.source} state no longer fits this site (fleets changed?): starting the rule afresh`);
    }
    await store.upsertInventory(
      options.miners.map((m) => ({ id: m.id, host: m.host, driver: m.type, model: m.model, ratedPowerW: m.ratedPowerW, ratedHashrateThs: m.ratedHashrateThs })),
      options.clock.nowMs(),
    );
    const metrics = agentMetrics();
    const events = new EventHub();
    const event = (e: AgentEventInput): void => publish(events, options, e, metrics);
    const signals = await SignalDesk.create({ store, metrics, event, log: (l) => options.log?.(l), writable: () => options.hardStop?.aborted !== true });
    const ai = await AiIO.create(options.ai ?? [], { clock: options.clock, store, event, log: (l) => options.log?.(l), concurrency: Math.min(64, options.concurrency ?? DEFAULTS.concurrency), callTimeoutMs: options.callTimeoutMs ?? DEFAULTS.callTimeoutMs, hardStop: options.hardStop });
    const grid = await GridDesk.create(
      { store, event, metrics, log: (l) => options.log?.(l), writable: () => options.hardStop?.aborted !== true, penaltyUsdPerMWh: options.grid?.penaltyUsdPerMWh ?? DEFAULT_PENALTY_USD_PER_MWH },
      options.grid?.awards ?? [],
      options.clock.nowMs(),
    );
    return new SiteAgent(options, metrics, events, signals, grid, ai, saved, safe === undefined ? null : Number(safe), restore === undefined ? null : Number(restore));
  }

  private constructor(
    options: AgentOptions,
    metrics: AgentMetrics,
    events: EventHub,
    signals: SignalDesk,
    grid: GridDesk,
    private readonly ai: AiIO,
    saved: Awaited<ReturnType<AgentStateStore['loadIntents']>>,
    private lastSafeMW: number | null,
    private lastRestoreBatchAtMs: number | null,
  ) {
    this.o = { ...DEFAULTS, sleep: waitMs, ...options };
    this.siteName = options.siteName;
    this.metrics = metrics;
    this.events = events;
    this.signals = signals;
    this.grid = grid;
    // Restores also leave the deadband unused: without it in the pad a floor below one machine + deadband woke nothing.
    this.floorPadMW = options.miners.reduce((m, x) => Math.max(m, (x.ratedPowerW * x.pue) / 1e6), 0) + (options.miners.reduce((a, x) => a + x.ratedPowerW * x.pue, 0) / 1e6) * options.decide.sleepPowerFraction + options.decide.restoreDeadbandMW;
    const event = (e: AgentEventInput): void => this.event(e);
    this.fleet = new FleetIO(options.miners, saved, {
      decide: this.o.decide,
      store: this.o.store,
      clock: this.o.clock,
      metrics,
      event,
      concurrency: this.o.concurrency,
      callTimeoutMs: this.o.callTimeoutMs,
      verifyWaitMs: this.o.verifyWaitMs,
      verifyPollMs: this.o.verifyPollMs,
      sleep: this.o.sleep,
      hardStop: this.o.hardStop,
    });
    this.meter = new MeterWatch({
      meter: this.o.meter,
      decide: this.o.decide,
      clock: this.o.clock,
      metrics,
      event,
      staleMs: this.o.meterStaleMs,
      maxSiteMW: () => this.o.decide.aiMW + this.o.decide.otherLoadMW + this.fleet.nameplateMW(),
      hardStop: this.o.hardStop,
    });
    this.reporter = new Reporter({ siteName: this.siteName, decide: this.o.decide, metrics, events, fleet: this.fleet, meter: this.meter, signals, targets: this.o.targets });
    metrics.importLimitMW.set(this.o.decide.importLimitMW);
  }

  /** The agent's clock, UTC ms. */
  nowMs(): number {
    return this.o.clock.nowMs();
  }

  private get stopped(): boolean {
    return this.o.hardStop?.aborted === true;
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  /** Publishes an event (alerts are also logged and counted). */
  event(e: AgentEventInput): void {
    publish(this.events, this.o, e, this.metrics);
  }

  publish(e: AgentEventInput): void {
    this.event(e);
  }

  subscribe(fn: (e: AgentEvent) => void): () => void {
    return this.events.subscribe(fn);
  }

  metricsText(): string {
    return this.metrics.registry.render();
  }

  /** One alert per command a miner acknowledged and did not keep. */
  private noteBrokenPromises(d: Decision): void {
    const note = (ids: readonly string[], kind: 'observed-over-commanded' | 'relapse'): void => {
      for (const id of ids) {
        const s = this.fleet.slot(id);
        const key = `${id}@${s.intent?.sentAtMs ?? 0}@${s.intent?.attempts ?? 0}`;
        if (this.reported.has(key)) continue;
        this.reported.add(key);
        this.metrics.brokenPromises.inc({ kind });
        const v = this.fleet.view(s);
        const w = Math.round(currentPowerW(v, effectiveState(v, this.o.decide), this.o.decide));
        const what = kind === 'relapse' ? 'was proven asleep, now read drawing' : `still drawing ${Math.round(this.o.clock.nowMs() - (s.intent?.sentAtMs ?? 0))} ms after its sleep was acknowledged`;
        this.event({ type: 'alert', kind, minerId: id, detail: `${s.m.host} ${what}: counted at ${w} W, sleep re-sent (attempt ${(s.intent?.attempts ?? 0) + 1}) and others shed for it` });
      }
    };
    note(d.observedOverCommanded, 'observed-over-commanded');
    note(d.relapsed, 'relapse');
    if (this.reported.size > 100_000) this.reported.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // Signals

  /** Records a curtail/restore signal (idempotent by id) and wakes the loop. */
  async receiveSignal(spec: SignalSpec, id: string | undefined, source: string): Promise<{ record: SignalRecord; duplicate: boolean }> {
    const baseline = this.last?.decision.currentMiningMW ?? this.fleet.nameplateMW();
    const r = await this.signals.receive(spec, id, source, this.o.clock.nowMs(), baseline, this.tickSeq);
    if (!r.duplicate) this.requestTick();
    return r;
  }

  waitForSignal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<SignalRecord | undefined> {
    return this.signals.waitFor(id, timeoutMs, signal);
  }

  // ---------------------------------------------------------------------------------------------
  // Grid services (GridApi)

  async receiveDeployment(req: DeploymentRequest, source: string): Promise<{ record: DeploymentRecord; duplicate: boolean }> {
    const r = await this.grid.receive(req, source, this.o.clock.nowMs());
    if (!r.duplicate) this.requestTick();
    return r;
  }

  async recallDeployment(id: string, source: string): Promise<{ record: DeploymentRecord; duplicate: boolean }> {
    const r = await this.grid.recall(id, source, this.o.clock.nowMs());
    if (!r.duplicate) this.requestTick();
    return r;
  }

  async setAward(req: AwardRequest, source: string): Promise<{ record: AwardRecord; duplicate: boolean }> {
    const r = await this.grid.setAward(req, source);
    if (!r.duplicate) this.requestTick();
    return r;
  }

  getDeployment(id: string): Promise<DeploymentRecord | undefined> {
    return this.grid.get(id);
  }

  gridState(limit = 100): Promise<{ floorMW: number; awards: AwardRecord[]; deployments: DeploymentRecord[] }> {
    return this.grid.state(this.o.clock.nowMs(), limit);
  }

  gridEvidence(opts: { fromMs?: number; toMs?: number } = {}): Promise<EvidenceRow[]> {
    return this.grid.evidence(opts);
  }

  // ---------------------------------------------------------------------------------------------
  // The tick

  /** Runs one tick (ticks never overlap: a second call waits for the first). */
  tick(trigger: TickTrigger = 'timer'): Promise<TickReport> {
    const next = this.chain.then(() => this.runTick(trigger));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async runTick(trigger: TickTrigger): Promise<TickReport> {
    const seq = ++this.tickSeq;
    const t0 = performance.now();
    const startedAtMs = this.o.clock.nowMs();
    const early = trigger !== 'start' && trigger !== 'timer';
    const fullRead = !early || startedAtMs - this.lastFullReadMs > this.o.snapshotMaxAgeMs;
    let reads = 0;
    let readFailures = 0;
    const phasesMs = { read: 0, write: 0, verify: 0 };
    // The AI front is a few devices (or feeds): read every tick, so a limit is seen in effect at once.
    if (!this.ai.empty) await this.ai.read();
    if (fullRead) {
      const r = await this.fleet.read();
      reads += r.reads;
      readFailures += r.failures;
      // Age counts from the end of the read: at 50,000 miners the read itself takes tens of seconds.
      this.lastFullReadMs = this.o.clock.nowMs();
      phasesMs.read = performance.now() - t0;
    }
    const ac = new AbortController();
    const target = await this.o.targets.current(this.o.clock.nowMs(), this.o.hardStop ? AbortSignal.any([ac.signal, this.o.hardStop]) : ac.signal);
    const cap = this.signals.capMW();
    const tracked = this.signals.tracking();
    const cfg = this.o.decide;
    // Grid services: deployments that start now take their baseline (mining MW of the last tick, the
    // meter's last reading), and the tick gets the award floor and the deployment cap as named limits.
    const gridNowMs = this.o.clock.nowMs();
    // A meter reading older than the staleness limit is no baseline: the deployment is then measured from reads.
    const freshMeter = this.meter.last !== null && gridNowMs - this.meter.last.atMs <= this.o.meterStaleMs ? this.meter.last.siteMW : null;
    const gridLimits = this.grid.limits(gridNowMs, { miningMW: this.last?.decision.currentMiningMW ?? this.fleet.nameplateMW(), siteMW: freshMeter, safeMode: target.stale, floorPadMW: this.floorPadMW });
    let miningBeforeMW = 0;
    let decision: Decision;
    let rounds = 0;
    let commandsSent = 0;
    let commandsFailed = 0;
    let aiDecision: AiDecision | null = null;
    /** Why the tick curtailed (its first curtailing round: later rounds find the deficit already met). */
    let curtailedFor: string | null = null;
    for (;;) {
      // The meter is read every round, after the last round's writes: metered power above the
      // limit sheds more within this tick. When a round cannot read it, the last excess stands.
      const meter = await this.meter.read();
      const nowMs = this.o.clock.nowMs();
      const aiViews = this.ai.views(nowMs);
      const inputs: DecideInputs = { nowMs, target, signalCapMW: cap, meter, carriedMeterExcessMW: this.meter.carriedExcessMW(nowMs), lastSafeMW: this.lastSafeMW, lastRestoreBatchAtMs: this.lastRestoreBatchAtMs, aiMW: this.countedAiMW(aiViews), limits: gridLimits };
      this.lastInputs = inputs;
      decision = decide(this.fleet.views(), inputs, cfg);
      if (meter) this.meter.noteExcess(decision.meterExcessMW, meter);
      // The response of active deployments, measured every round (after the last round's read-backs).
      this.grid.observe(nowMs, decision.currentMiningMW, meter?.siteMW ?? null);
      if (aiViews.length > 0) {
        // The AI front: after mining, within contracts; lifted before any miner wakes.
        const needAtFull = cfg.otherLoadMW + cfg.aiMW + decision.meterExcessMW + this.fleet.nameplateMW() * cfg.sleepPowerFraction - (cfg.importLimitMW - cfg.safetyMarginMW);
        aiDecision = decideAi(aiViews, { nowMs, signal: this.signals.aiRequest(), limitNeedMW: Math.max(0, needAtFull), ...(target.stale ? {} : target.aiMW ? { planMW: target.aiMW } : {}) });
        if (aiDecision.commands.length > 0 && !this.stopped) {
          const applied = await this.ai.apply(aiDecision.commands, tracked?.id ?? null);
          commandsSent += applied.records.length;
          commandsFailed += applied.failed;
          if (!this.stopped) await this.o.store.persist([], applied.records, []);
          await this.ai.read(); // the read-back: a cap counts once the power is under it
        }
        if (aiDecision.restoringAi) decision = holdRestores(decision);
        // A limit not yet read back in effect is in flight: the signal is not confirmed before it is.
        const unsettled = this.ai.views(this.o.clock.nowMs()).filter((v) => v.limitMW !== null && !aiLimitInEffect(v)).length;
        decision = { ...decision, shortfallMW: decision.shortfallMW + aiDecision.unmetMW, pending: decision.pending + unsettled };
      }
      if (rounds === 0) miningBeforeMW = decision.currentMiningMW;
      this.noteBrokenPromises(decision);
      for (const id of decision.newlyConfirmed) this.fleet.confirmIfInEffect(this.fleet.slot(id));
      this.fleet.markFailed(decision.newlyFailed, nowMs);
      if (decision.commands.length === 0 || rounds >= this.o.maxRoundsPerTick || this.stopped) break;
      rounds++;
      if (tracked) {
        this.signals.noteCommands(decision.commands.length, nowMs);
        for (const c of decision.commands) this.signals.commandedNow(tracked.id, c.minerId);
      }
      const tw = performance.now();
      if (decision.commands.some((c) => c.kind !== 'wake' && c.reason !== 'restore')) this.grid.noteCommands(nowMs);
      curtailedFor ??= decision.curtailReason;
      const sent = await this.fleet.send(decision.commands, tracked?.id ?? null, decision.curtailReason);
      for (const c of decision.commands) if (c.reason === 'curtail') this.metrics.curtailCommands.inc({ reason: decision.curtailReason ?? 'unknown' });
      phasesMs.write += performance.now() - tw;
      commandsSent += decision.commands.length;
      commandsFailed += sent.failed;
      reads += sent.readbacks;
      if (decision.commands.some((c) => c.reason === 'restore' || (c.reason === 'retry' && c.kind !== 'sleep'))) {
        this.lastRestoreBatchAtMs = nowMs;
        if (!this.stopped) await this.o.store.setKv(KV_LAST_RESTORE, String(nowMs));
      }
      await this.fleet.persist();
      const tv = performance.now();
      const v = await this.fleet.verify(sent.ok);
      phasesMs.verify += performance.now() - tv;
      reads += v.reads;
      readFailures += v.failures;
      if (sent.ok.length === 0 && !this.stopped) await this.o.sleep(Math.min(1000, this.o.verifyPollMs * rounds), this.o.hardStop);
    }
    await this.fleet.persist();
    if (aiDecision) this.lastAi = aiDecision;
    const d = decision.curtailReason === null && curtailedFor !== null ? { ...decision, curtailReason: curtailedFor } : decision;
    if (!target.stale && d.commands.length === 0 && d.pending === 0) {
      // 'hold' keeps the last level a fresh plan allowed and the fleet was verified under.
      if (this.lastSafeMW !== d.allowedMiningMW && !this.stopped) await this.o.store.setKv(KV_LAST_SAFE, String(d.allowedMiningMW));
      this.lastSafeMW = d.allowedMiningMW;
    }
    const targetState = this.o.targets.saveState?.();
    if (targetState !== undefined && targetState !== this.lastTargetState && !this.stopped) {
      await this.o.store.setKv(kvTarget(this.o.targets), targetState);
      this.lastTargetState = targetState;
    }
    const nowMs = this.o.clock.nowMs();
    await this.signals.settle(seq, d, nowMs, (id) => this.fleet.slot(id).intent?.status === 'confirmed', this.fleet.unreachable(), (id) => this.booting(id, nowMs));
    await this.grid.settle(nowMs, d, target.stale);
    if (!this.stopped) {
      await this.fleet.flushTelemetry();
      if (nowMs - this.lastPruneMs > 3_600_000) {
        await this.o.store.prune(nowMs);
        this.lastPruneMs = nowMs;
      }
    }
    const report: TickReport = { seq, trigger, startedAtMs, durationMs: performance.now() - t0, reads, readFailures, fullRead, rounds, commandsSent, commandsFailed, miningBeforeMW, phasesMs, decision: d, target };
    this.last = report;
    this.reporter.publish(report);
    this.publishTick(report);
    return report;
  }

  private publishTick(r: TickReport): void {
    const d = r.decision;
    this.event({
      type: 'tick',
      seq: r.seq,
      trigger: r.trigger,
      durationMs: r.durationMs,
      phasesMs: r.phasesMs,
      allowedMiningMW: d.allowedMiningMW,
      limitedBy: d.limitedBy,
      miningBeforeMW: r.miningBeforeMW,
      projectedMiningMW: d.projectedMiningMW,
      projectedSiteMW: d.projectedSiteMW,
      commandsSent: r.commandsSent,
      commandsFailed: r.commandsFailed,
      ...(d.curtailReason !== null ? { curtailReason: d.curtailReason } : {}),
    });
    const key = d.safeMode ? `${d.safeMode.mode}:${d.safeMode.reason}` : '';
    if (key !== this.lastSafeModeKey) {
      this.lastSafeModeKey = key;
      this.event({ type: 'safe-mode', mode: d.safeMode?.mode ?? null, reason: d.safeMode?.reason ?? null });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loop

  /** Wakes the loop for an early tick (a signal arrived). */
  requestTick(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  /** Runs ticks until `signal` aborts; the tick in progress finishes first. */
  async run(signal: AbortSignal): Promise<void> {
    let trigger: TickTrigger = 'start';
    if (this.last) {
      // A tick just ran (start-up read done by the caller): wait for the period or a signal first.
      trigger = (await this.pause(this.o.tickMs, signal)) ?? 'timer';
    }
    while (!signal.aborted && !this.stopped) {
      this.wakeRequested = false;
      let report: TickReport | null = null;
      try {
        report = await this.tick(trigger);
        const d = report.decision;
        if (report.commandsSent > 0 || d.safeMode || trigger === 'start') this.log(this.reporter.summary(report));
        if (report.fullRead && report.phasesMs.read > this.o.tickMs) this.log(`a full read took ${Math.round(report.phasesMs.read)} ms, longer than the tick period: consider a longer --tick-s`);
      } catch (err) {
        this.log(`tick failed: ${describeError(err)}`);
      }
      if (signal.aborted || this.stopped) break;
      if (this.wakeRequested) {
        trigger = 'signal';
        continue;
      }
      const d = report?.decision;
      let delay = this.o.tickMs;
      trigger = 'timer';
      if (d && (d.pending > 0 || d.commands.length > 0)) {
        // Commands in flight, or the round limit cut the tick short: come back soon.
        delay = this.o.pendingTickMs;
        trigger = 'pending';
      } else if (d && d.nextRestoreAtMs !== null && d.nextRestoreAtMs - this.o.clock.nowMs() < this.o.tickMs) {
        // Restores wait for their pacing or dwell: come back when the next may go.
        delay = Math.max(0, d.nextRestoreAtMs - this.o.clock.nowMs());
        trigger = 'pacing';
      }
      // A new interval or a price due, a deployment's start, deadline or end: act on it when it comes, not at the next period.
      const change = minDefined(report?.target.nextChangeAtMs, this.grid.nextChangeAtMs());
      if (change !== undefined && change - this.o.clock.nowMs() <= delay) {
        delay = Math.max(0, change - this.o.clock.nowMs());
        trigger = 'target';
      }
      trigger = (await this.pause(delay, signal)) ?? trigger;
    }
  }

  /**
   * Waits `ms`, or less when a signal arrives, `signal` aborts, or the meter reads above the import
   * limit (polled every `meterPollMs`); says which woke it, null when the time ran out.
   */
  private async pause(ms: number, signal: AbortSignal): Promise<'signal' | 'meter' | null> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.wake = () => ac.abort();
    if (this.wakeRequested) ac.abort();
    let why: 'signal' | 'meter' | null = null;
    const end = this.o.clock.nowMs() + ms;
    const poll = this.meter.configured && this.o.meterPollMs > 0 ? this.o.meterPollMs : Infinity;
    while (!ac.signal.aborted) {
      const left = end - this.o.clock.nowMs();
      if (left <= 0) break;
      await this.o.sleep(Math.min(left, poll), ac.signal);
      if (ac.signal.aborted || poll === Infinity || this.o.clock.nowMs() >= end) break;
      const m = await this.meter.read();
      if (m && m.siteMW > this.o.decide.importLimitMW) {
        this.metrics.meterOverLimit.inc();
        this.event({ type: 'alert', kind: 'meter-over-limit', detail: `meter reads ${m.siteMW.toFixed(3)} MW, above the ${this.o.decide.importLimitMW} MW import limit: ticking now` });
        why = 'meter';
        break;
      }
    }
    this.wake = null;
    signal.removeEventListener('abort', onAbort);
    return this.wakeRequested ? 'signal' : why;
  }

  /** A miner woken by the agent that does not hash yet (within the wake window: a dead machine cannot hold a signal open forever). */
  private booting(id: string, nowMs: number): boolean {
    const s = this.fleet.slot(id);
    const it = s.intent;
    if (it?.kind !== 'wake' || nowMs - it.sentAtMs >= (this.o.decide.wakeWindowMs ?? WAKE_WINDOW_MS)) return false;
    return effectiveState(this.fleet.view(s), this.o.decide) === 'waking';
  }

  /** AI counted for the import limit: each controlled load at its cap once read back under it, the rest at full. */
  private countedAiMW(views: readonly AiLoadView[]): number {
    return this.o.decide.aiMW - views.reduce((a, v) => a + v.fullMW, 0) + views.reduce((a, v) => a + countedAiMW(v), 0);
  }

  /** One log line for a tick. */
  summary(r: TickReport): string {
    return this.reporter.summary(r);
  }

  /** Everything /v1/status shows (agentStatusSchema). */
  status(): AgentStatus {
    const now = this.o.clock.nowMs();
    const s = { ...this.reporter.status(now, this.last, this.lastSafeMW), grid: this.grid.summary(now) };
    if (this.ai.empty) return s;
    return { ...s, ai: this.ai.status(now).map((a) => ({ ...a, blocked: this.lastAi?.blocked[a.load] ?? null })) };
  }

  /** What the agent believes of each miner now: its last reading, its intent and the state it decides on. */
  minerStates(): { id: string; host: string; state: string; reading: MinerReading | null; readAtMs: number; intent: MinerIntent | null; implausible: string | null }[] {
    return this.fleet.minerStates();
  }

  /** Every miner as last read: model, firmware, rack, state, temperatures, fans, last command. */
  fleetView(): FleetView {
    return { site: this.siteName, nowMs: this.o.clock.nowMs(), miners: fleetRows(this.fleet.facts(), this.o.decide) };
  }

  /** One miner's hashboards and pools, read now (bounded by the call deadline). */
  minerHealth(id: string, signal?: AbortSignal): Promise<MinerHealthDetail> {
    return this.fleet.readHealth(id, signal);
  }

  /**
   * Which machines a curtail would take, by the same decide() on the last tick's inputs (before the
   * first tick: a fresh target-less snapshot); nothing is sent or recorded.
   */
  previewCurtail(spec: SignalSpec): CurtailPreview {
    const nowMs = this.o.clock.nowMs();
    const baselineMW = this.signals.capBaselineMW() ?? this.last?.decision.currentMiningMW ?? this.fleet.nameplateMW();
    const inputs: DecideInputs = this.lastInputs ? { ...this.lastInputs, nowMs } : { nowMs, target: { stale: false, targetMW: Infinity, source: 'nameplate' }, signalCapMW: null, meter: null, lastSafeMW: this.lastSafeMW, lastRestoreBatchAtMs: this.lastRestoreBatchAtMs };
    return previewCurtail(this.fleet.facts(), spec, { inputs, cfg: this.o.decide, baselineMW });
  }

  /** Closes driver sessions (bounded concurrency, short deadline), flushes and closes the store; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.fleet.closeDrivers();
    await this.ai.close();
    await this.o.meter?.close();
    await this.signals.releaseAll();
    if (!this.stopped) {
      await this.fleet.persist();
      await this.fleet.flushTelemetry(true);
      await this.o.store.close();
    }
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/** AI limits are being lifted: the miners' restores wait for the next round (AI comes back first). */
function holdRestores(d: Decision): Decision {
  const kept = d.commands.filter((c) => c.kind === 'sleep' || c.reason === 'curtail');
  const held = d.commands.length - kept.length;
  return held === 0 ? d : { ...d, commands: kept, restoreDeferred: d.restoreDeferred + held };
}

/** Stamps an event with the version and the agent's time, publishes it; alerts are also logged. */
function publish(hub: EventHub, o: Pick<AgentOptions, 'clock' | 'log'>, e: AgentEventInput, metrics: AgentMetrics): void {
  const ev = { ...e, v: EVENT_VERSION, atMs: o.clock.nowMs() } as AgentEvent;
  hub.publish(ev);
  if (ev.type === 'alert') {
    metrics.alerts.inc({ kind: ev.kind });
    o.log?.(`alert ${ev.kind}${ev.minerId ? ` ${ev.minerId}` : ''}: ${ev.detail}`);
  }
}
