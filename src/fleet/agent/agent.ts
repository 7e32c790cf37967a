/**
 * The site agent's control loop. Each tick: read (telemetry of every miner, bounded concurrency,
 * per-call deadlines) → decide (pure) → write (commands, bounded concurrency) → verify (read the
 * commanded miners back until the command is seen in effect or the wait ends) → decide again with
 * what was read (drifted machines are re-sent, then marked failed and compensated by others).
 * Nothing carries from one tick to the next but the intents (last command per miner, kept in the
 * state DB so a restarted agent reconciles with the fleet instead of re-sending) and the signal cap.
 * A failing device marks itself failed; the loop goes on.
 */
import { performance } from 'node:perf_hooks';
import { describeError, isMulletError, MulletError } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import { canReadHashrate, canReadPower, canReadStatus, canSleep, canTargetPower, type CallOptions, type StatusReadBack } from '../capabilities.js';
import type { MeterReader } from '../meter/meter-reader.js';
import { isMinerError } from '../protocols/errors.js';
import type { AgentStateStore, CommandRecord, SignalRecord } from '../state/store.js';
import { classifyIntent, currentPowerW, decide, effectiveState, intentInEffect } from './decide.js';
import type { AgentMiner } from './fleet.js';
import { agentMetrics, type AgentMetrics } from './metrics.js';
import { EventHub, type AgentEventInput } from './events.js';
import { believable, implausibleMeter } from './plausibility.js';
import { mapBounded } from './pool.js';
import { SignalBook, type SignalSpec } from './signals.js';
import type { TargetProvider } from './targets.js';
import type { Command, DecideConfig, Decision, MeterInput, MinerIntent, MinerReading, MinerView, TargetInput } from './types.js';

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
}

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

export type TickTrigger = 'start' | 'timer' | 'signal' | 'pacing' | 'pending' | 'meter';

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

interface Slot {
  m: AgentMiner;
  reading: MinerReading | null;
  readAtMs: number;
  readError: string | null;
  intent: MinerIntent | null;
  powerTargetW: number | null;
  /** Intent or target changed since the last save. */
  dirty: boolean;
  /** Why the last reading was not believed (counted at nameplate instead), or null. */
  implausible: string | null;
}

const KV_LAST_SAFE = 'lastSafeMW';
const KV_LAST_RESTORE = 'lastRestoreBatchAtMs';

export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function errorCode(err: unknown): string {
  return isMulletError(err) ? err.code : 'INTERNAL';
}

export class SiteAgent {
  readonly metrics: AgentMetrics = agentMetrics();
  readonly events = new EventHub();
  /** Broken promises already reported, by miner and command send time (one event per command). */
  private readonly reported = new Set<string>();
  readonly signals: SignalBook;
  private readonly slots: Slot[];
  private readonly byId = new Map<string, Slot>();
  private readonly o: Required<Omit<AgentOptions, 'meter' | 'hardStop' | 'log'>> & Pick<AgentOptions, 'meter' | 'hardStop' | 'log'>;
  private tickSeq = 0;
  private lastFullReadMs = -Infinity;
  private lastSafeMW: number | null;
  private lastRestoreBatchAtMs: number | null;
  private lastMeter: MeterInput | null = null;
  /** Unexplained metered load at the last good meter reading (used, while fresh, when a read fails). */
  private lastExcess: { mw: number; atMs: number } | null = null;
  private lastMeterError: string | null = null;
  private last: TickReport | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private wake: (() => void) | null = null;
  private wakeRequested = false;
  /** Tick sequence number current when each signal arrived: only a later tick may confirm it. */
  private readonly signalSeq = new Map<string, number>();
  /** Miners commanded while the tracked signal was active. */
  private commanded = new Set<string>();
  private commandedFor: string | null = null;
  private readonly waiters = new Map<string, Set<(r: SignalRecord) => void>>();
  /** Command rows whose outcome is known but not yet written. */
  private completed: CommandRecord[] = [];
  private lastPruneMs = -Infinity;
  private closed = false;

  constructor(options: AgentOptions) {
    this.o = {
      ...DEFAULTS,
      sleep: realSleep,
      ...options,
    };
    this.signals = new SignalBook(options.store);
    const saved = options.store.loadIntents();
    this.slots = options.miners.map((m) => {
      const s = saved.get(m.id);
      const slot: Slot = { m, reading: null, readAtMs: -Infinity, readError: 'not read yet', intent: s?.intent ?? null, powerTargetW: s?.powerTargetW ?? null, dirty: false, implausible: null };
      // A bare target record (no command) is stored as a confirmed 'target' with sentAtMs 0.
      if (slot.intent && slot.intent.sentAtMs === 0 && slot.intent.attempts === 0) slot.intent = null;
      this.byId.set(m.id, slot);
      return slot;
    });
    const safe = options.store.getKv(KV_LAST_SAFE);
    this.lastSafeMW = safe === undefined ? null : Number(safe);
    const restore = options.store.getKv(KV_LAST_RESTORE);
    this.lastRestoreBatchAtMs = restore === undefined ? null : Number(restore);
    options.store.upsertInventory(
      options.miners.map((m) => ({ id: m.id, host: m.host, driver: m.type, model: m.model, ratedPowerW: m.ratedPowerW, ratedHashrateThs: m.ratedHashrateThs })),
      options.clock.nowMs(),
    );
    this.metrics.importLimitMW.set(options.decide.importLimitMW);
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

  /** Publishes an event (and logs it). */
  event(e: AgentEventInput): void {
    const ev = { ...e, atMs: this.o.clock.nowMs() };
    this.events.publish(ev);
    this.log(`event ${ev.kind}${ev.minerId ? ` ${ev.minerId}` : ''}: ${ev.detail}`);
  }

  /** One event per command a miner acknowledged and did not keep. */
  private noteBrokenPromises(d: Decision): void {
    const note = (ids: readonly string[], kind: 'observed-over-commanded' | 'relapse'): void => {
      for (const id of ids) {
        const s = this.byId.get(id) as Slot;
        const key = `${id}@${s.intent?.sentAtMs ?? 0}@${s.intent?.attempts ?? 0}`;
        if (this.reported.has(key)) continue;
        this.reported.add(key);
        this.metrics.brokenPromises.inc({ kind });
        const w = Math.round(currentPowerW(this.view(s), effectiveState(this.view(s), this.o.decide), this.o.decide));
        const what = kind === 'relapse' ? 'was proven asleep, now read drawing' : `still drawing ${Math.round(this.o.clock.nowMs() - (s.intent?.sentAtMs ?? 0))} ms after its sleep was acknowledged`;
        this.event({ kind, minerId: id, detail: `${s.m.host} ${what}: counted at ${w} W, sleep re-sent (attempt ${(s.intent?.attempts ?? 0) + 1}) and others shed for it` });
      }
    };
    note(d.observedOverCommanded, 'observed-over-commanded');
    note(d.relapsed, 'relapse');
    if (this.reported.size > 100_000) this.reported.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // Signals

  /** Records a curtail/restore signal (idempotent by id) and wakes the loop. */
  receiveSignal(spec: SignalSpec, id: string | undefined, source: string): { record: SignalRecord; duplicate: boolean } {
    const baseline = this.last?.decision.currentMiningMW ?? this.slots.reduce((a, s) => a + (s.m.ratedPowerW * s.m.pue) / 1e6, 0);
    const r = this.signals.receive(spec, id, source, this.o.clock.nowMs(), baseline);
    this.metrics.signals.inc({ kind: spec.kind, source, duplicate: String(r.duplicate) });
    // Long-polls on the signals this one supersedes end now, not at their timeout.
    for (const old of r.superseded) this.publishSignal(old);
    if (!r.duplicate) {
      this.signalSeq.set(r.record.id, this.tickSeq);
      this.log(`signal ${r.record.id}: ${spec.kind} ${r.record.request}${r.record.capMW !== null ? ` → mining cap ${r.record.capMW.toFixed(3)} MW` : ''} (${source})`);
      this.requestTick();
    }
    return r;
  }

  /** Resolves when the signal is confirmed or superseded, or after `timeoutMs` with its state then. */
  waitForSignal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<SignalRecord | undefined> {
    const now = this.signals.get(id);
    if (!now || now.state !== 'active' || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = (r: SignalRecord | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set.delete(onUpdate);
        if (set.size === 0) this.waiters.delete(id);
        resolve(r);
      };
      const onUpdate = (r: SignalRecord): void => done(r);
      const onAbort = (): void => done(this.signals.get(id));
      const timer = setTimeout(() => done(this.signals.get(id)), timeoutMs);
      set.add(onUpdate);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private publishSignal(r: SignalRecord): void {
    if (!this.stopped) this.signals.update(r);
    if (r.state !== 'active') for (const w of [...(this.waiters.get(r.id) ?? [])]) w(r);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  private callOpts(): CallOptions {
    return { timeoutMs: this.o.callTimeoutMs, ...(this.o.hardStop ? { signal: this.o.hardStop } : {}) };
  }

  private async readOne(s: Slot): Promise<MinerReading> {
    const d = s.m.driver;
    const opts = this.callOpts();
    let reading: MinerReading;
    if (canReadStatus(d)) {
      const t = await d.readTelemetry(opts);
      reading = { state: t.state, hashrateThs: t.hashrateThs, powerW: t.powerW };
    } else if (canReadHashrate(d)) {
      const h = await d.readHashrateThs(opts);
      const p = canReadPower(d) ? await d.readPowerW(opts) : null;
      reading = { state: h > 0 ? 'mining' : 'unknown', hashrateThs: h, powerW: p };
    } else {
      throw new MulletError('UNSUPPORTED', 'driver can read neither status nor hashrate', { where: s.m.host });
    }
    if (s.m.powerRangeW === undefined) {
      // Read once: the range a device accepts does not change while it runs.
      if (!canTargetPower(d)) s.m.powerRangeW = null;
      else {
        try {
          s.m.powerRangeW = await d.powerTargetRangeW(opts);
        } catch {
          // Asked again on the next read; until then the miner is only slept, never targeted.
        }
      }
    }
    return reading;
  }

  /**
   * Opens the session / token / auth challenge a write will need while the fleet is calm, so a
   * curtailment signal costs one round trip per miner instead of three (drivers cache and renew it).
   * A failure here is harmless: the write path prepares for itself.
   */
  private async warm(s: Slot): Promise<void> {
    const d = s.m.driver;
    if (!d.prepare) return;
    try {
      await d.prepare(this.callOpts());
    } catch {
      // counted when the write itself fails, not here
    }
  }

  /**
   * Takes one read into the slot. A reading outside physical bounds (a 10¹² W miner, a negative
   * hashrate) is not believed: the miner counts as unknown at nameplate and an event is raised once.
   */
  private takeReading(s: Slot, atMs: number, reading: MinerReading | null, error?: unknown): void {
    s.readAtMs = atMs;
    if (reading === null) {
      s.reading = null;
      s.readError = describeError(error);
      this.metrics.readFailures.inc({ code: errorCode(error) });
    } else {
      const b = believable(reading, s.m, this.o.decide);
      if (b.problem !== null && s.implausible === null) {
        this.metrics.implausible.inc({ source: 'miner' });
        this.event({ kind: 'implausible-reading', minerId: s.m.id, detail: `${b.problem}; counted as unknown at nameplate ${Math.round(s.m.ratedPowerW)} W` });
      }
      s.implausible = b.problem;
      s.reading = b.reading;
      s.readError = null;
    }
    if (!this.stopped) this.o.store.addTelemetry(s.m.id, atMs, s.reading);
  }

  /** Reads the slots with bounded concurrency; a failed read leaves the miner unreachable (counted at full power). */
  private async readSlots(slots: readonly Slot[], verifying = false): Promise<{ reads: number; failures: number }> {
    const readAt = new Array<number>(slots.length);
    const read = async (s: Slot, i: number): Promise<MinerReading> => {
      try {
        return await this.readOne(s);
      } finally {
        readAt[i] = this.o.clock.nowMs();
        if (!verifying) await this.warm(s);
      }
    };
    const results = await mapBounded(slots, this.o.concurrency, read, this.o.hardStop);
    const now = this.o.clock.nowMs();
    let failures = 0;
    results.forEach((r, i) => {
      const s = slots[i] as Slot;
      if (!r.ok) failures++;
      this.takeReading(s, readAt[i] ?? now, r.ok ? r.value : null, r.ok ? undefined : r.error);
    });
    return { reads: slots.length, failures };
  }

  /** Everything at full power: the most the site could draw, MW (bounds a plausible meter reading). */
  private maxSiteMW(): number {
    const c = this.o.decide;
    return c.aiMW + c.otherLoadMW + this.slots.reduce((a, s) => a + (s.m.ratedPowerW * s.m.pue) / 1e6, 0);
  }

  /** Reads the site meter: the fresh, plausible reading, else null (failed, implausible or stale). */
  private async readMeter(): Promise<MeterInput | null> {
    const meter = this.o.meter;
    if (!meter) return null;
    try {
      const w = await meter.readSitePowerW(this.o.hardStop);
      const problem = implausibleMeter(w / 1e6, this.maxSiteMW(), this.o.decide);
      if (problem !== null) {
        if (this.lastMeterError === null || !this.lastMeterError.startsWith('implausible')) {
          this.metrics.implausible.inc({ source: 'meter' });
          this.event({ kind: 'implausible-meter', detail: `${problem}; ignored, the estimate stands` });
        }
        throw new MulletError('PARSE', `implausible: ${problem}`);
      }
      this.lastMeter = { siteMW: w / 1e6, atMs: this.o.clock.nowMs() };
      this.lastMeterError = null;
    } catch (err) {
      this.lastMeterError = err instanceof MulletError && err.message.startsWith('implausible') ? err.message : describeError(err);
      this.metrics.readFailures.inc({ code: `meter:${errorCode(err)}` });
      return null;
    }
    return this.lastMeter;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing and verifying

  private view(s: Slot): MinerView {
    const range = s.m.powerRangeW ?? null;
    return {
      id: s.m.id,
      ratedPowerW: s.m.ratedPowerW,
      ratedHashrateThs: s.m.ratedHashrateThs,
      pue: s.m.pue,
      canSleep: canSleep(s.m.driver),
      powerRangeW: canTargetPower(s.m.driver) ? range : null,
      powerTargetW: s.powerTargetW,
      reading: s.reading,
      readAtMs: s.readAtMs,
      intent: s.intent,
    };
  }

  /** Sends one command; returns the power target applied (targets) and a status read made on the command's connection (sleep). */
  private async sendOne(s: Slot, c: Command): Promise<{ appliedW: number | null; readBack?: StatusReadBack | undefined }> {
    const d = s.m.driver;
    const opts = this.callOpts();
    switch (c.kind) {
      case 'sleep':
        if (!canSleep(d)) throw new MulletError('UNSUPPORTED', 'cannot sleep', { where: s.m.host });
        return { appliedW: null, readBack: await d.sleep(opts) };
      case 'wake':
        if (!canSleep(d)) throw new MulletError('UNSUPPORTED', 'cannot wake', { where: s.m.host });
        await d.wake(opts);
        return { appliedW: null };
      case 'target': {
        if (!canTargetPower(d) || c.targetW === undefined) throw new MulletError('UNSUPPORTED', 'cannot take a power target', { where: s.m.host });
        return { appliedW: (await d.setPowerTargetW(c.targetW, opts)).appliedW };
      }
    }
  }

  /**
   * Sends the commands with bounded concurrency. The intents and the command rows are written
   * before the first byte goes out (a crash mid-burst leaves a complete record of what may have
   * been sent); results and latencies are written after.
   */
  private async send(commands: readonly Command[], tracked: SignalRecord | undefined): Promise<{ ok: Slot[]; failed: number; readbacks: number }> {
    const plannedAtMs = this.o.clock.nowMs();
    const records: CommandRecord[] = commands.map((c) => {
      const s = this.byId.get(c.minerId) as Slot;
      const v = this.view(s);
      // What it was counted at before this command: explains metered load until the meter catches up.
      const fromW = currentPowerW(v, effectiveState(v, this.o.decide), this.o.decide);
      const intent: MinerIntent = { kind: c.kind, sentAtMs: plannedAtMs, attempts: c.attempt, status: 'pending', fromW };
      if (c.targetW !== undefined) intent.targetW = c.targetW;
      s.intent = intent;
      s.dirty = true;
      if (tracked) {
        if (this.commandedFor !== tracked.id) {
          this.commandedFor = tracked.id;
          this.commanded = new Set();
        }
        this.commanded.add(c.minerId);
      }
      return { minerId: c.minerId, kind: c.kind, targetW: c.targetW ?? null, reason: c.reason, attempt: c.attempt, signalId: tracked?.id ?? null, sentAtMs: plannedAtMs, latencyMs: 0, ok: false, state: 'sent', errorCode: null, errorFault: null, errorMessage: null };
    });
    if (!this.stopped) this.persist(records);
    const started = new Array<number>(commands.length);
    const latency = new Array<number>(commands.length);
    // The first read-back (a full read: never one zero alone) rides in the same slot right after
    // the command: no barrier between the write and verify phases.
    const readback = new Array<{ reading: MinerReading | null; atMs: number; error?: unknown } | undefined>(commands.length);
    const results = await mapBounded(
      commands,
      this.o.concurrency,
      async (c, i) => {
        const s = this.byId.get(c.minerId) as Slot;
        started[i] = this.o.clock.nowMs();
        const t0 = performance.now();
        let sent: Awaited<ReturnType<SiteAgent['sendOne']>>;
        try {
          sent = await this.sendOne(s, c);
        } finally {
          latency[i] = performance.now() - t0;
        }
        if (!this.stopped) {
          try {
            // A status the driver read on the command's connection is a read like any other
            // (state, mode and hashrate together, weighed by the same rules); otherwise read now.
            const reading = sent.readBack ?? (await this.readOne(s));
            readback[i] = { reading, atMs: this.o.clock.nowMs() };
          } catch (error) {
            readback[i] = { reading: null, atMs: this.o.clock.nowMs(), error };
          }
        }
        return sent.appliedW;
      },
      this.o.hardStop,
    );
    const ok: Slot[] = [];
    let failed = 0;
    results.forEach((r, i) => {
      const c = commands[i] as Command;
      const s = this.byId.get(c.minerId) as Slot;
      const rec = records[i] as CommandRecord;
      const intent = s.intent as MinerIntent;
      if (started[i] === undefined) {
        // Never started (hard stop): the record says so; the intent stays pending and the next
        // agent reconciles by reading.
        rec.state = 'interrupted';
        return;
      }
      const ms = latency[i] ?? 0;
      intent.sentAtMs = started[i];
      this.metrics.commandLatency.observe(ms / 1000, { kind: c.kind });
      if (r.ok) {
        if (c.kind === 'target') s.powerTargetW = r.value ?? c.targetW ?? null;
        ok.push(s);
        this.metrics.commands.inc({ kind: c.kind, result: 'ok' });
      } else {
        failed++;
        const err = r.error;
        const code = errorCode(err);
        const permanent = isMulletError(err) ? !err.transient && code !== 'ABORTED' : false;
        intent.lastError = code;
        if (permanent) {
          intent.status = 'failed';
          intent.failedAtMs = this.o.clock.nowMs();
        }
        this.metrics.commands.inc({ kind: c.kind, result: 'error' });
        this.metrics.failures.inc({ code, op: c.kind });
      }
      const err = r.ok ? undefined : r.error;
      Object.assign(rec, {
        sentAtMs: started[i],
        latencyMs: ms,
        ok: r.ok,
        state: 'done',
        errorCode: err === undefined ? null : errorCode(err),
        errorFault: err !== undefined && isMinerError(err) ? err.fault : null,
        errorMessage: err === undefined ? null : describeError(err).slice(0, 300),
      });
    });
    this.completed.push(...records.filter((r) => r.state !== 'sent'));
    readback.forEach((rb, i) => {
      if (!rb) return;
      const s = this.byId.get((commands[i] as Command).minerId) as Slot;
      this.takeReading(s, rb.atMs, rb.reading, rb.error);
      this.confirmIfInEffect(s);
    });
    return { ok, failed, readbacks: readback.filter((r) => r !== undefined).length };
  }

  /** Marks an intent confirmed when the reading shows it in effect; true when it does. */
  private confirmIfInEffect(s: Slot): boolean {
    const it = s.intent;
    if (!it || it.status === 'failed') return false;
    const st = effectiveState(this.view(s), this.o.decide);
    if (st === 'unreachable' || !intentInEffect(it, st)) return false;
    if (it.status !== 'confirmed') {
      s.intent = { ...it, status: 'confirmed', confirmedAtMs: s.readAtMs };
      delete s.intent.lastError;
      s.dirty = true;
    }
    return true;
  }

  /** A read after the grace shows the command undone: waiting longer only keeps the site over. */
  private observedUndone(s: Slot): boolean {
    const cls = classifyIntent(this.view(s), this.o.clock.nowMs(), this.o.decide);
    return cls === 'drifted' || cls === 'exhausted';
  }

  /** Reads the commanded miners back until each shows its command in effect or the wait ends. */
  private async verify(slots: readonly Slot[]): Promise<{ reads: number; failures: number }> {
    let left = slots.filter((s) => s.intent?.status === 'pending');
    let reads = 0;
    let failures = 0;
    // Past the confirm window a command is drift: stop waiting and let the next round re-send it.
    const deadline = this.o.clock.nowMs() + Math.min(this.o.verifyWaitMs, this.o.decide.confirmTimeoutMs);
    while (left.length > 0 && !this.stopped) {
      const r = await this.readSlots(left, true);
      reads += r.reads;
      failures += r.failures;
      // Confirmed, or read back still drawing after its grace (drift: the next round sheds others).
      left = left.filter((s) => !this.confirmIfInEffect(s) && !this.observedUndone(s));
      if (left.length === 0 || this.o.clock.nowMs() >= deadline) break;
      await this.o.sleep(this.o.verifyPollMs, this.o.hardStop);
    }
    return { reads, failures };
  }

  /** Writes changed intents, commands about to be sent and the results of sent ones, in one transaction. */
  private persist(sending: CommandRecord[] = []): void {
    if (this.stopped) return;
    const dirty = this.slots.filter((s) => s.dirty);
    this.o.store.persist(
      dirty.map((s) => ({ minerId: s.m.id, intent: s.intent, powerTargetW: s.powerTargetW })),
      sending,
      this.completed,
    );
    for (const s of dirty) s.dirty = false;
    this.completed = [];
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
    if (fullRead) {
      const r = await this.readSlots(this.slots);
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
    let miningBeforeMW = 0;
    let decision: Decision;
    let rounds = 0;
    let commandsSent = 0;
    let commandsFailed = 0;
    for (;;) {
      // The meter is read every round, after the last round's writes: metered power above the
      // limit sheds more within this tick. When a round cannot read it, the last excess stands.
      const meter = await this.readMeter();
      const nowMs = this.o.clock.nowMs();
      const carried = this.lastExcess && nowMs - this.lastExcess.atMs <= this.o.meterStaleMs ? this.lastExcess.mw : 0;
      decision = decide(
        this.slots.map((s) => this.view(s)),
        { nowMs, target, signalCapMW: cap, meter, carriedMeterExcessMW: carried, lastSafeMW: this.lastSafeMW, lastRestoreBatchAtMs: this.lastRestoreBatchAtMs },
        cfg,
      );
      if (meter) this.lastExcess = { mw: decision.meterExcessMW, atMs: meter.atMs };
      if (rounds === 0) miningBeforeMW = decision.currentMiningMW;
      this.noteBrokenPromises(decision);
      for (const id of decision.newlyConfirmed) {
        const s = this.byId.get(id) as Slot;
        this.confirmIfInEffect(s);
      }
      for (const id of decision.newlyFailed) {
        const s = this.byId.get(id) as Slot;
        if (s.intent) {
          s.intent = { ...s.intent, status: 'failed', failedAtMs: nowMs };
          s.dirty = true;
          this.event({ kind: 'miner-failed', minerId: id, detail: `${s.intent.kind} not in effect after ${s.intent.attempts} attempts; counted at ${Math.round(s.reading?.powerW ?? s.m.ratedPowerW)} W and shed by others` });
        }
      }
      if (decision.commands.length === 0 || rounds >= this.o.maxRoundsPerTick || this.stopped) break;
      rounds++;
      if (tracked && tracked.firstCommandAtMs === null) tracked.firstCommandAtMs = nowMs;
      const tw = performance.now();
      const sent = await this.send(decision.commands, tracked);
      phasesMs.write += performance.now() - tw;
      commandsSent += decision.commands.length;
      commandsFailed += sent.failed;
      reads += sent.readbacks;
      if (tracked) tracked.commandsSent += decision.commands.length;
      if (decision.commands.some((c) => c.reason === 'restore' || (c.reason === 'retry' && c.kind !== 'sleep'))) {
        this.lastRestoreBatchAtMs = nowMs;
        if (!this.stopped) this.o.store.setKv(KV_LAST_RESTORE, String(nowMs));
      }
      this.persist();
      const tv = performance.now();
      const v = await this.verify(sent.ok);
      phasesMs.verify += performance.now() - tv;
      reads += v.reads;
      readFailures += v.failures;
      if (sent.ok.length === 0 && !this.stopped) await this.o.sleep(Math.min(1000, this.o.verifyPollMs * rounds), this.o.hardStop);
    }
    this.persist();
    const d = decision;
    if (!target.stale && d.commands.length === 0 && d.pending === 0) {
      // 'hold' keeps the last level a fresh plan allowed and the fleet was verified under.
      if (this.lastSafeMW !== d.allowedMiningMW && !this.stopped) this.o.store.setKv(KV_LAST_SAFE, String(d.allowedMiningMW));
      this.lastSafeMW = d.allowedMiningMW;
    }
    if (tracked) this.settleSignal(tracked, seq, d);
    const nowMs = this.o.clock.nowMs();
    if (!this.stopped) {
      this.o.store.flushTelemetry();
      if (nowMs - this.lastPruneMs > 3_600_000) {
        this.o.store.prune(nowMs);
        this.lastPruneMs = nowMs;
      }
    }
    const report: TickReport = { seq, trigger, startedAtMs, durationMs: performance.now() - t0, reads, readFailures, fullRead, rounds, commandsSent, commandsFailed, miningBeforeMW, phasesMs, decision: d, target };
    this.last = report;
    this.publishMetrics(report);
    return report;
  }

  private settleSignal(tracked: SignalRecord, seq: number, d: Decision): void {
    const since = this.signalSeq.get(tracked.id);
    const eligible = since === undefined || seq > since;
    // Settled: nothing left to send, nothing in flight, nothing waiting for pacing or dwell. With a
    // shortfall (failed miners nobody else can cover) it is 'unmet', never 'confirmed'.
    const settled = d.commands.length === 0 && d.pending === 0 && d.restoreDeferred === 0;
    if (eligible && settled) {
      const ids = this.commandedFor === tracked.id ? this.commanded : new Set<string>();
      let confirmed = 0;
      let failed = 0;
      for (const id of ids) {
        const s = this.byId.get(id) as Slot;
        if (s.intent?.status === 'confirmed') confirmed++;
        else failed++;
      }
      const nowMs = this.o.clock.nowMs();
      tracked.state = d.shortfallMW > 0 ? 'unmet' : 'confirmed';
      tracked.confirmedAtMs = d.shortfallMW > 0 ? null : nowMs;
      tracked.shortfallMW = d.shortfallMW > 0 ? d.shortfallMW : null;
      tracked.minersConfirmed = confirmed;
      tracked.minersFailed = failed;
      tracked.minersUnreachable = this.slots.filter((s) => s.reading === null).length;
      this.signalSeq.delete(tracked.id);
      this.log(
        `signal ${tracked.id} ${tracked.state === 'confirmed' ? 'confirmed' : `UNMET (${d.shortfallMW.toFixed(3)} MW above the cap that nothing left can shed)`} after ${nowMs - tracked.receivedAtMs} ms: ` +
          `${tracked.commandsSent} commands, ${confirmed} confirmed, ${failed} failed, ${tracked.minersUnreachable} unreachable`,
      );
    }
    // The record may have been superseded while this tick ran: keep the newer state.
    const current = this.signals.get(tracked.id);
    if (current && current.state === 'superseded') {
      this.publishSignal({ ...current, commandsSent: tracked.commandsSent, firstCommandAtMs: tracked.firstCommandAtMs });
      return;
    }
    this.publishSignal(tracked);
  }

  private publishMetrics(r: TickReport): void {
    const m = this.metrics;
    const d = r.decision;
    for (const [state, mw] of Object.entries(d.byStateMW)) m.fleetMW.set(mw, { state });
    const counts: Record<string, number> = { mining: 0, sleeping: 0, waking: 0, tuning: 0, unknown: 0, failed: 0, unreachable: 0 };
    for (const s of this.slots) {
      const cls = classifyIntent(this.view(s), r.startedAtMs, this.o.decide);
      const key = cls === 'failed' || cls === 'exhausted' ? 'failed' : effectiveState(this.view(s), this.o.decide);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    for (const [state, n] of Object.entries(counts)) m.fleetMiners.set(n, { state });
    m.allowedMW.set(d.allowedMiningMW);
    m.projectedSiteMW.set(d.projectedSiteMW);
    m.safeMode.set(d.safeMode ? 1 : 0);
    m.tickDuration.observe(r.durationMs / 1000);
    m.lastTickSeconds.set(r.durationMs / 1000);
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
        if (report.commandsSent > 0 || d.safeMode || trigger === 'start') this.log(this.summary(report));
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
    const poll = this.o.meter && this.o.meterPollMs > 0 ? this.o.meterPollMs : Infinity;
    while (!ac.signal.aborted) {
      const left = end - this.o.clock.nowMs();
      if (left <= 0) break;
      await this.o.sleep(Math.min(left, poll), ac.signal);
      if (ac.signal.aborted || poll === Infinity || this.o.clock.nowMs() >= end) break;
      const m = await this.readMeter();
      if (m && m.siteMW > this.o.decide.importLimitMW) {
        this.metrics.meterOverLimit.inc();
        this.event({ kind: 'meter-over-limit', detail: `meter reads ${m.siteMW.toFixed(3)} MW, above the ${this.o.decide.importLimitMW} MW import limit: ticking now` });
        why = 'meter';
        break;
      }
    }
    this.wake = null;
    signal.removeEventListener('abort', onAbort);
    return this.wakeRequested ? 'signal' : why;
  }

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
  status(): Record<string, unknown> {
    const r = this.last;
    const fin = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);
    const counts: Record<string, number> = {};
    const states = ['mining', 'sleeping', 'waking', 'tuning', 'unknown', 'failed', 'unreachable'];
    for (const s of states) counts[s] = this.metrics.fleetMiners.get({ state: s }) ?? 0;
    return {
      site: this.o.siteName,
      nowMs: this.o.clock.nowMs(),
      miners: this.slots.length,
      limits: { importLimitMW: this.o.decide.importLimitMW, aiMW: this.o.decide.aiMW, otherLoadMW: this.o.decide.otherLoadMW, safetyMarginMW: this.o.decide.safetyMarginMW, safeMode: this.o.decide.safeMode },
      target: this.o.targets.describe(),
      meter: this.o.meter ? { last: this.lastMeter, error: this.lastMeterError } : null,
      signal: { capMW: this.signals.capMW(), capSignalId: this.signals.capSignalId(), tracking: this.signals.tracking()?.id ?? null },
      lastSafeMW: this.lastSafeMW,
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
            },
          }
        : null,
      minersByState: counts,
      implausible: this.slots.filter((s) => s.implausible !== null).map((s) => ({ minerId: s.m.id, host: s.m.host, problem: s.implausible })).slice(0, 100),
      events: this.events.recent(50).map((e) => ({ ...e, at: new Date(e.atMs).toISOString() })),
    };
  }

  /** What the agent believes of each miner now: its last reading, its intent and the state it decides on. */
  minerStates(): { id: string; host: string; state: string; reading: MinerReading | null; readAtMs: number; intent: MinerIntent | null; implausible: string | null }[] {
    return this.slots.map((s) => ({ id: s.m.id, host: s.m.host, state: effectiveState(this.view(s), this.o.decide), reading: s.reading, readAtMs: s.readAtMs, intent: s.intent ? { ...s.intent } : null, implausible: s.implausible }));
  }

  /** Closes driver sessions (bounded concurrency, short deadline), flushes and closes the DB; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await mapBounded(this.slots, this.o.concurrency, (s) => s.m.driver.close({ timeoutMs: 2_000 }));
    await this.o.meter?.close();
    for (const [id, set] of this.waiters) {
      const r = this.signals.get(id);
      if (r) for (const w of [...set]) w(r);
    }
    if (!this.stopped) {
      this.persist();
      this.o.store.close();
    }
  }
}
