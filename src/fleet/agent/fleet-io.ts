/**
 * The agent's fleet I/O: one slot per miner (its last reading, its intent, the target it
 * accepted), reads with bounded concurrency and per-call deadlines, commands written to the store
 * before they are sent, read-backs, and the verify loop. It never decides: `decide()` does, on the
 * views this gives it. Readings outside physical bounds are not believed (plausibility.ts).
 */
import { performance } from 'node:perf_hooks';
import { describeError, isMulletError, MulletError } from '../../core/errors.js';
import type { Clock } from '../../core/time.js';
import { canReadHashrate, canReadHealth, canReadPower, canReadStatus, canSleep, canTargetPower, type CallOptions, type MinerHealthDetail, type StatusReadBack } from '../capabilities.js';
import { isMinerError } from '../protocols/errors.js';
import { classifyIntent, currentPowerW, effectiveState, intentInEffect } from './decide.js';
import type { AgentEventInput } from './events.js';
import type { AgentMiner } from './fleet.js';
import type { MinerFacts, MinerHealth } from './fleet-view.js';
import type { AgentMetrics } from './metrics.js';
import { believable } from './plausibility.js';
import { mapBounded } from './pool.js';
import type { AgentStateStore, CommandRecord, IntentRow } from './state-port.js';
import { TelemetryMinutes } from './telemetry-minutes.js';
import type { Command, DecideConfig, MinerIntent, MinerReading, MinerView } from './types.js';

export interface Slot {
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
  /** The state the agent decided on at the last read (for miner transition events). */
  lastState: string | null;
  /** Temperatures, fans and firmware from the last status read (console only; never decided on). */
  health: MinerHealth | null;
}

export interface FleetIoDeps {
  decide: DecideConfig;
  store: AgentStateStore;
  clock: Clock;
  metrics: AgentMetrics;
  event: (e: AgentEventInput) => void;
  concurrency: number;
  callTimeoutMs: number;
  verifyWaitMs: number;
  verifyPollMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  hardStop?: AbortSignal | undefined;
}

export interface SendResult {
  ok: Slot[];
  failed: number;
  readbacks: number;
}

function errorCode(err: unknown): string {
  return isMulletError(err) ? err.code : 'INTERNAL';
}

export class FleetIO {
  readonly slots: Slot[];
  private readonly byId = new Map<string, Slot>();
  /** Command rows whose outcome is known but not yet written. */
  private completed: CommandRecord[] = [];
  private readonly telemetry = new TelemetryMinutes();

  constructor(
    miners: readonly AgentMiner[],
    saved: ReadonlyMap<string, IntentRow>,
    private readonly d: FleetIoDeps,
  ) {
    this.slots = miners.map((m) => {
      const s = saved.get(m.id);
      const slot: Slot = { m, reading: null, readAtMs: -Infinity, readError: 'not read yet', intent: s?.intent ?? null, powerTargetW: s?.powerTargetW ?? null, dirty: false, implausible: null, lastState: null, health: null };
      // A bare target record (no command) is stored as a confirmed 'target' with sentAtMs 0.
      if (slot.intent && slot.intent.sentAtMs === 0 && slot.intent.attempts === 0) slot.intent = null;
      this.byId.set(m.id, slot);
      return slot;
    });
  }

  private get stopped(): boolean {
    return this.d.hardStop?.aborted === true;
  }

  slot(id: string): Slot {
    const s = this.byId.get(id);
    if (!s) throw new MulletError('INTERNAL', `no miner '${id}' in the fleet`);
    return s;
  }

  view(s: Slot): MinerView {
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

  views(): MinerView[] {
    return this.slots.map((s) => this.view(s));
  }

  /** Everything at nameplate, MW at the meter. */
  nameplateMW(): number {
    return this.slots.reduce((a, s) => a + (s.m.ratedPowerW * s.m.pue) / 1e6, 0);
  }

  unreachable(): number {
    return this.slots.filter((s) => s.reading === null).length;
  }

  private callOpts(): CallOptions {
    return { timeoutMs: this.d.callTimeoutMs, ...(this.d.hardStop ? { signal: this.d.hardStop } : {}) };
  }

  // --- reading -------------------------------------------------------------------------------

  private async readOne(s: Slot): Promise<MinerReading> {
    const d = s.m.driver;
    const opts = this.callOpts();
    let reading: MinerReading;
    if (canReadStatus(d)) {
      const t = await d.readTelemetry(opts);
      reading = { state: t.state, hashrateThs: t.hashrateThs, powerW: t.powerW };
      s.health = { tempsC: t.tempsC, fansRpm: t.fansRpm, firmware: t.firmware };
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
   * hashrate) is not believed: the miner counts as unknown at nameplate and an alert is raised once.
   */
  private takeReading(s: Slot, atMs: number, reading: MinerReading | null, error?: unknown): void {
    s.readAtMs = atMs;
    if (reading === null) {
      s.reading = null;
      s.readError = describeError(error);
      this.d.metrics.readFailures.inc({ code: errorCode(error) });
    } else {
      const b = believable(reading, s.m, this.d.decide);
      if (b.problem !== null && s.implausible === null) {
        this.d.metrics.implausible.inc({ source: 'miner' });
        this.d.event({ type: 'alert', kind: 'implausible-reading', minerId: s.m.id, detail: `${b.problem}; counted as unknown at nameplate ${Math.round(s.m.ratedPowerW)} W` });
      }
      s.implausible = b.problem;
      s.reading = b.reading;
      s.readError = null;
    }
    const state = effectiveState(this.view(s), this.d.decide);
    if (s.lastState !== null && s.lastState !== state) this.d.event({ type: 'miner', minerId: s.m.id, from: s.lastState, to: state });
    s.lastState = state;
    if (!this.stopped) this.telemetry.add(s.m.id, atMs, s.reading);
  }

  /** Reads the slots with bounded concurrency; a failed read leaves the miner unreachable (counted at full power). */
  async read(slots: readonly Slot[] = this.slots, verifying = false): Promise<{ reads: number; failures: number }> {
    const readAt = new Array<number>(slots.length);
    const read = async (s: Slot, i: number): Promise<MinerReading> => {
      try {
        return await this.readOne(s);
      } finally {
        readAt[i] = this.d.clock.nowMs();
        if (!verifying) await this.warm(s);
      }
    };
    const results = await mapBounded(slots, this.d.concurrency, read, this.d.hardStop);
    const now = this.d.clock.nowMs();
    let failures = 0;
    results.forEach((r, i) => {
      const s = slots[i] as Slot;
      if (!r.ok) failures++;
      this.takeReading(s, readAt[i] ?? now, r.ok ? r.value : null, r.ok ? undefined : r.error);
    });
    return { reads: slots.length, failures };
  }

  // --- writing and verifying -----------------------------------------------------------------

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
   * been sent); results and latencies are written with the next `persist`.
   */
  async send(commands: readonly Command[], signalId: string | null, why: string | null = null): Promise<SendResult> {
    const plannedAtMs = this.d.clock.nowMs();
    const records: CommandRecord[] = commands.map((c) => {
      const s = this.slot(c.minerId);
      const v = this.view(s);
      // What it was counted at before this command: explains metered load until the meter catches up.
      const fromW = currentPowerW(v, effectiveState(v, this.d.decide), this.d.decide);
      const intent: MinerIntent = { kind: c.kind, sentAtMs: plannedAtMs, attempts: c.attempt, status: 'pending', fromW };
      if (c.targetW !== undefined) intent.targetW = c.targetW;
      const reason = c.reason === 'curtail' ? why : c.reason === 'retry' && c.kind !== 'wake' ? s.intent?.why : undefined;
      if (reason != null) intent.why = reason;
      s.intent = intent;
      s.dirty = true;
      return { minerId: c.minerId, kind: c.kind, targetW: c.targetW ?? null, reason: c.reason, attempt: c.attempt, signalId, sentAtMs: plannedAtMs, latencyMs: 0, ok: false, state: 'sent', errorCode: null, errorFault: null, errorMessage: null };
    });
    if (!this.stopped) await this.persist(records);
    const started = new Array<number>(commands.length);
    const latency = new Array<number>(commands.length);
    // The first read-back (a full read: never one zero alone) rides in the same slot right after
    // the command: no barrier between the write and verify phases.
    const readback = new Array<{ reading: MinerReading | null; atMs: number; error?: unknown } | undefined>(commands.length);
    const results = await mapBounded(
      commands,
      this.d.concurrency,
      async (c, i) => {
        const s = this.slot(c.minerId);
        started[i] = this.d.clock.nowMs();
        const t0 = performance.now();
        let sent: Awaited<ReturnType<FleetIO['sendOne']>>;
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
            readback[i] = { reading, atMs: this.d.clock.nowMs() };
          } catch (error) {
            readback[i] = { reading: null, atMs: this.d.clock.nowMs(), error };
          }
        }
        return sent.appliedW;
      },
      this.d.hardStop,
    );
    const ok: Slot[] = [];
    let failed = 0;
    results.forEach((r, i) => {
      const c = commands[i] as Command;
      const s = this.slot(c.minerId);
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
      this.d.metrics.commandLatency.observe(ms / 1000, { kind: c.kind });
      if (r.ok) {
        if (c.kind === 'target') s.powerTargetW = r.value ?? c.targetW ?? null;
        ok.push(s);
        this.d.metrics.commands.inc({ kind: c.kind, result: 'ok' });
      } else {
        failed++;
        const err = r.error;
        const code = errorCode(err);
        const permanent = isMulletError(err) ? !err.transient && code !== 'ABORTED' : false;
        intent.lastError = code;
        if (permanent) {
          intent.status = 'failed';
          intent.failedAtMs = this.d.clock.nowMs();
        }
        this.d.metrics.commands.inc({ kind: c.kind, result: 'error' });
        this.d.metrics.failures.inc({ code, op: c.kind });
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
      const s = this.slot((commands[i] as Command).minerId);
      this.takeReading(s, rb.atMs, rb.reading, rb.error);
      this.confirmIfInEffect(s);
    });
    return { ok, failed, readbacks: readback.filter((r) => r !== undefined).length };
  }

  /** Marks an intent confirmed when the reading shows it in effect; true when it does. */
  confirmIfInEffect(s: Slot): boolean {
    const it = s.intent;
    if (!it || it.status === 'failed') return false;
    const st = effectiveState(this.view(s), this.d.decide);
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
    const cls = classifyIntent(this.view(s), this.d.clock.nowMs(), this.d.decide);
    return cls === 'drifted' || cls === 'exhausted';
  }

  /** Reads the commanded miners back until each shows its command in effect, is seen undone, or the wait ends. */
  async verify(slots: readonly Slot[]): Promise<{ reads: number; failures: number }> {
    let left = slots.filter((s) => s.intent?.status === 'pending');
    let reads = 0;
    let failures = 0;
    // Past the confirm window a command is drift: stop waiting and let the next round re-send it.
    const deadline = this.d.clock.nowMs() + Math.min(this.d.verifyWaitMs, this.d.decide.confirmTimeoutMs);
    while (left.length > 0 && !this.stopped) {
      const r = await this.read(left, true);
      reads += r.reads;
      failures += r.failures;
      // Confirmed, or read back still drawing after its grace (drift: the next round sheds others).
      left = left.filter((s) => !this.confirmIfInEffect(s) && !this.observedUndone(s));
      if (left.length === 0 || this.d.clock.nowMs() >= deadline) break;
      await this.d.sleep(this.d.verifyPollMs, this.d.hardStop);
    }
    return { reads, failures };
  }

  /** Marks miners whose retries ran out as failed (left alone for a while, still counted). */
  markFailed(ids: readonly string[], nowMs: number): void {
    for (const id of ids) {
      const s = this.slot(id);
      if (!s.intent) continue;
      s.intent = { ...s.intent, status: 'failed', failedAtMs: nowMs };
      s.dirty = true;
      this.d.event({ type: 'alert', kind: 'miner-failed', minerId: id, detail: `${s.intent.kind} not in effect after ${s.intent.attempts} attempts; counted at ${Math.round(s.reading?.powerW ?? s.m.ratedPowerW)} W and shed by others` });
    }
  }

  /** Writes changed intents, command rows about to be sent and the results of sent ones, in one step. */
  async persist(sending: CommandRecord[] = []): Promise<void> {
    if (this.stopped) return;
    const dirty = this.slots.filter((s) => s.dirty);
    const completed = this.completed;
    this.completed = [];
    for (const s of dirty) s.dirty = false;
    await this.d.store.persist(
      dirty.map((s) => ({ minerId: s.m.id, intent: s.intent, powerTargetW: s.powerTargetW })),
      sending,
      completed,
    );
  }

  /** Writes the completed telemetry minutes (all of them with `all`). */
  async flushTelemetry(all = false): Promise<void> {
    if (this.stopped) return;
    const rows = this.telemetry.take(all);
    if (rows.length > 0) await this.d.store.recordTelemetry(rows);
  }

  /** What the agent believes of each miner now: its last reading, its intent and the state it decides on. */
  minerStates(): { id: string; host: string; state: string; reading: MinerReading | null; readAtMs: number; intent: MinerIntent | null; implausible: string | null }[] {
    return this.slots.map((s) => ({ id: s.m.id, host: s.m.host, state: effectiveState(this.view(s), this.d.decide), reading: s.reading, readAtMs: s.readAtMs, intent: s.intent ? { ...s.intent } : null, implausible: s.implausible }));
  }

  /** Reads one miner's hashboards and pools now (the console's one-miner view; NOT_FOUND / UNSUPPORTED). */
  readHealth(id: string, signal?: AbortSignal): Promise<MinerHealthDetail> {
    const s = this.byId.get(id);
    if (!s) return Promise.reject(new MulletError('NOT_FOUND', `no miner '${id}' in the fleet`, { where: 'id' }));
    const d = s.m.driver;
    if (!canReadHealth(d)) return Promise.reject(new MulletError('UNSUPPORTED', `the ${s.m.type} driver reads no hashboards or pools`, { where: s.m.host }));
    const sig = signal && this.d.hardStop ? AbortSignal.any([signal, this.d.hardStop]) : (signal ?? this.d.hardStop);
    return d.readHealth({ timeoutMs: this.d.callTimeoutMs, ...(sig ? { signal: sig } : {}) });
  }

  /** Everything held about each miner, for the console's read-only fleet view and curtail preview. */
  facts(): MinerFacts[] {
    return this.slots.map((s) => ({ view: this.view(s), host: s.m.host, driver: s.m.type, model: s.m.model, health: s.health, readError: s.readError, implausible: s.implausible }));
  }

  /** Closes driver sessions (bounded concurrency, short deadline). */
  async closeDrivers(): Promise<void> {
    await mapBounded(this.slots, this.d.concurrency, (s) => s.m.driver.close({ timeoutMs: 2_000 }));
  }
}
