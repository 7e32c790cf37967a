/**
 * Signal intake and tracking: turns curtail/restore signals into the mining cap, keeps them by id
 * (idempotent across restarts), tells long-polls when a signal settles or is superseded, and
 * decides when a tracked signal is confirmed or unmet. Intake is serialised (one signal at a time
 * through the store), so two signals arriving together cannot both supersede the same one.
 */
import { randomUUID } from 'node:crypto';
import type { AgentMetrics } from './metrics.js';
import { beyondMiningMW, canonicalRequest, capFor, SignalConflictError, signalTiming, type SignalSpec } from './signals.js';
import type { AgentStateStore, SignalRecord } from './state-port.js';
import type { Decision } from './types.js';
import type { AgentEventInput } from './events.js';

/** The cap in force (kept in kv so a restart keeps enforcing it). */
interface CapInForce {
  signalId: string;
  capMW: number;
  baselineMW: number;
  /** What the signal asks beyond the mining baseline (the AI front's part), MW; absent: 0. */
  aiReductionMW?: number;
  receivedAtMs?: number;
}

const CAP_KEY = 'signalCap';

export interface SignalDeskDeps {
  store: AgentStateStore;
  metrics: Pick<AgentMetrics, 'signals'>;
  event: (e: AgentEventInput) => void;
  log: (line: string) => void;
  /** False once the agent is hard-stopped: nothing more is written. */
  writable: () => boolean;
}

export interface Received {
  record: SignalRecord;
  duplicate: boolean;
}

export class SignalDesk {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly waiters = new Map<string, Set<(r: SignalRecord) => void>>();
  /** Tick sequence number current when each signal arrived: only a later tick may settle it. */
  private readonly arrivedAtSeq = new Map<string, number>();
  /** Miners commanded while the tracked signal was active. */
  private commanded = new Set<string>();
  private commandedFor: string | null = null;
  /** The signal being worked on (newer ones supersede older), kept in memory: every tick asks. */
  private tracked: SignalRecord | undefined;
  /** The signal whose 'still booting' line was logged (once per signal). */
  private bootingLogged: string | null = null;

  private constructor(
    private readonly d: SignalDeskDeps,
    private cap: CapInForce | null,
  ) {}

  /** Loads the cap in force and the signal in progress. */
  static async create(d: SignalDeskDeps): Promise<SignalDesk> {
    const raw = await d.store.getKv(CAP_KEY);
    const desk = new SignalDesk(d, raw ? (JSON.parse(raw) as CapInForce) : null);
    desk.tracked = (await d.store.activeSignals()).at(-1);
    return desk;
  }

  /** Mining cap in force, MW; null when no curtail is in force. */
  capMW(): number | null {
    return this.cap?.capMW ?? null;
  }

  /** The baseline of the curtail chain in force (a new curtail's cap is taken from it); null when none. */
  capBaselineMW(): number | null {
    return this.cap?.baselineMW ?? null;
  }

  capSignalId(): string | null {
    return this.cap?.signalId ?? null;
  }

  /** The curtail in force's reduction beyond mining, for the AI front; null when none. */
  aiRequest(): { reductionMW: number; receivedAtMs: number; id: string } | null {
    const c = this.cap;
    if (!c || !c.aiReductionMW) return null;
    return { reductionMW: c.aiReductionMW, receivedAtMs: c.receivedAtMs ?? 0, id: c.signalId };
  }

  /** The signal still waiting for confirmation (at most one: newer ones supersede older). */
  tracking(): SignalRecord | undefined {
    return this.tracked;
  }

  get(id: string): Promise<SignalRecord | undefined> {
    return this.tracked?.id === id ? Promise.resolve({ ...this.tracked }) : this.d.store.getSignal(id);
  }

  /**
   * Records a signal (or returns the first record for a repeated id; the same id with another
   * request is CONFLICT). `baselineMW` is the mining MW a fresh curtail chain starts from; `seq` the
   * tick sequence number now (only a later tick may confirm the signal).
   */
  receive(spec: SignalSpec, id: string | undefined, source: string, nowMs: number, baselineMW: number, seq: number): Promise<Received> {
    const next = this.chain.then(() => this.receiveNow(spec, id, source, nowMs, baselineMW, seq));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async receiveNow(spec: SignalSpec, id: string | undefined, source: string, nowMs: number, currentMiningMW: number, seq: number): Promise<Received> {
    const sid = id ?? `sig-${randomUUID()}`;
    const request = canonicalRequest(spec);
    const existing = await this.get(sid);
    if (existing) {
      if (existing.kind !== spec.kind || existing.request !== request) throw new SignalConflictError(sid, `${existing.kind} ${existing.request}`, `${spec.kind} ${request}`);
      this.d.metrics.signals.inc({ kind: spec.kind, source, duplicate: 'true' });
      return { record: existing, duplicate: true };
    }
    const superseded = (await this.d.store.activeSignals()).map((a): SignalRecord => ({ ...(a.id === this.tracked?.id ? this.tracked : a), state: 'superseded', supersededBy: sid }));
    let capMW: number | null = null;
    let baselineMW: number | null = null;
    let cap: CapInForce | null = null;
    if (spec.kind === 'curtail') {
      baselineMW = this.cap?.baselineMW ?? currentMiningMW;
      capMW = capFor(spec, baselineMW);
      cap = { signalId: sid, capMW, baselineMW, aiReductionMW: beyondMiningMW(spec, baselineMW), receivedAtMs: nowMs };
    }
    const record: SignalRecord = {
      id: sid,
      kind: spec.kind,
      request,
      source,
      receivedAtMs: nowMs,
      capMW,
      baselineMW,
      state: 'active',
      commandsSent: 0,
      firstCommandAtMs: null,
      acknowledgedAtMs: null,
      confirmedAtMs: null,
      minersConfirmed: 0,
      minersFailed: 0,
      minersUnreachable: 0,
      shortfallMW: null,
      supersededBy: null,
    };
    await this.d.store.saveSignals([...superseded, record], { [CAP_KEY]: cap ? JSON.stringify(cap) : null });
    this.cap = cap;
    this.tracked = record;
    this.arrivedAtSeq.set(sid, seq);
    this.d.metrics.signals.inc({ kind: spec.kind, source, duplicate: 'false' });
    // Long-polls on the signals this one supersedes end now, not at their timeout.
    for (const old of superseded) this.notify(old);
    this.d.event({ type: 'signal', signal: signalTiming(record) });
    this.d.log(`signal ${sid}: ${spec.kind} ${request}${capMW !== null ? ` → mining cap ${capMW.toFixed(3)} MW` : ''} (${source})`);
    return { record, duplicate: false };
  }

  /** Resolves when the signal settles or is superseded, or after `timeoutMs` with its state then. */
  async waitFor(id: string, timeoutMs: number, signal?: AbortSignal): Promise<SignalRecord | undefined> {
    const now = await this.get(id);
    if (!now || now.state !== 'active' || timeoutMs <= 0) return now;
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
      const later = (): void => void this.get(id).then(done, () => done(undefined));
      const onUpdate = (r: SignalRecord): void => done(r);
      const onAbort = (): void => later();
      const timer = setTimeout(later, timeoutMs);
      set.add(onUpdate);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Notes that a command for `minerId` went out while the tracked signal was active. */
  commandedNow(signalId: string, minerId: string): void {
    if (this.commandedFor !== signalId) {
      this.commandedFor = signalId;
      this.commanded = new Set();
    }
    this.commanded.add(minerId);
  }

  /** Counts commands sent for the tracked signal and when the first went out. */
  noteCommands(n: number, nowMs: number): void {
    const t = this.tracked;
    if (!t) return;
    if (t.firstCommandAtMs === null) t.firstCommandAtMs = nowMs;
    t.commandsSent += n;
  }

  /**
   * After a tick: the tracked signal is acknowledged when a tick that started after it ends with
   * nothing to send, nothing in flight and nothing deferred; it settles then — 'confirmed', or
   * 'unmet' with the shortfall when nothing left could meet the cap — unless a miner woken for it is
   * still booting (`waking(id)`): a restore is confirmed when the woken machines hash, at a later
   * tick. `confirmed(id)` says whether a commanded miner's intent holds.
   */
  async settle(seq: number, d: Decision, nowMs: number, confirmed: (minerId: string) => boolean, unreachable: number, waking: (minerId: string) => boolean = () => false): Promise<void> {
    const t = this.tracked;
    if (!t) return;
    const since = this.arrivedAtSeq.get(t.id);
    const eligible = since === undefined || seq > since;
    const settled = d.commands.length === 0 && d.pending === 0 && d.restoreDeferred === 0;
    const ids = this.commandedFor === t.id ? this.commanded : new Set<string>();
    const booting = eligible && settled && d.shortfallMW <= 0 ? [...ids].filter(waking).length : 0;
    if (eligible && settled && t.acknowledgedAtMs == null) t.acknowledgedAtMs = nowMs;
    if (booting > 0 && this.bootingLogged !== t.id) {
      this.bootingLogged = t.id;
      this.d.log(`signal ${t.id} acknowledged after ${nowMs - t.receivedAtMs} ms: ${booting} woken miners still booting; confirmed once they hash`);
      this.d.event({ type: 'signal', signal: signalTiming(t) });
    }
    if (eligible && settled && booting === 0) {
      let ok = 0;
      let failed = 0;
      for (const id of ids) if (confirmed(id)) ok++;
      else failed++;
      t.state = d.shortfallMW > 0 ? 'unmet' : 'confirmed';
      t.confirmedAtMs = d.shortfallMW > 0 ? null : nowMs;
      t.shortfallMW = d.shortfallMW > 0 ? d.shortfallMW : null;
      t.minersConfirmed = ok;
      t.minersFailed = failed;
      t.minersUnreachable = unreachable;
      this.arrivedAtSeq.delete(t.id);
      this.tracked = undefined;
      this.d.log(
        `signal ${t.id} ${t.state === 'confirmed' ? 'confirmed' : `UNMET (${d.shortfallMW.toFixed(3)} MW above the cap that nothing left can shed)`} after ${nowMs - t.receivedAtMs} ms: ` +
          `${t.commandsSent} commands, ${ok} confirmed, ${failed} failed, ${unreachable} unreachable` +
          (t.acknowledgedAtMs != null && t.acknowledgedAtMs < nowMs ? ` (acknowledged after ${t.acknowledgedAtMs - t.receivedAtMs} ms)` : ''),
      );
      this.d.event({ type: 'signal', signal: signalTiming(t) });
    }
    if (this.d.writable()) await this.d.store.saveSignals([t]);
    this.notify(t);
  }

  private notify(r: SignalRecord): void {
    if (r.state !== 'active') for (const w of [...(this.waiters.get(r.id) ?? [])]) w({ ...r });
  }

  /** Ends every long-poll with the signal's state now (shutdown). */
  async releaseAll(): Promise<void> {
    for (const id of [...this.waiters.keys()]) {
      const r = await this.get(id);
      if (r) for (const w of [...(this.waiters.get(id) ?? [])]) w(r);
    }
  }
}
