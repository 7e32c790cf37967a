/**
 * The site's link to the control plane, run inside `mullet agent` when agent.yaml has `control:`.
 * It depends on the agent only through `LinkedAgent` (a slice of AgentApi) and on the store through
 * `ProcessedStore`:
 *  - desired state: watches KV `<p>_desired` key `site.<id>` (snapshot, then updates), keeps the
 *    last one in the agent's store (a site restarted while partitioned still holds it) and applies
 *    it through `ControlledTarget`; a value that does not parse, or names another site, is refused.
 *  - commands: a durable consumer on `<p>.site.<id>.cmd`, one at a time in stream order; each is
 *    checked (schema, site, expiry on the server's clock, order), recorded in `ProcessedCommands`,
 *    given to the agent as a signal with the command id, acked, and answered on `.outcome`
 *    (received, then settled).
 *  - events (batched) and telemetry (one digest per `telemetryMs`) through the `Outbox`, kept while
 *    the center is away and published when it is back.
 * The NATS client reconnects on its own; the link never stops the agent, and a failing part retries.
 */
import { waitMs } from '../../core/time.js';
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { describeError, isMulletError } from '../../core/errors.js';
import type { AgentApi } from '../../fleet/agent/api.js';
import type { AgentEvent } from '../../fleet/agent/events.js';
import { signalTiming, type SignalSpec } from '../../fleet/agent/signals.js';
import { connectControl, type Fallback, type NatsAuth } from '../connect.js';
import type { ControlNames } from '../names.js';
import { ensureCommandConsumer } from '../setup.js';
import { commandSchema, desiredStateSchema, encode, parseMessage, type Command, type DesiredState, type LinkState, type Outcome, type Telemetry } from '../wire.js';
import type { ControlledTarget } from './desired-target.js';
import { Outbox, type Publisher } from './outbox.js';
import { ProcessedCommands, type ProcessedStore } from './processed.js';

/** What the link needs of the agent. */
export type LinkedAgent = Pick<AgentApi, 'siteName' | 'nowMs' | 'status' | 'receiveSignal' | 'waitForSignal' | 'subscribe' | 'publish'> & {
  /** Ticks now (a desired state changed). */
  requestTick(): void;
};

export interface SiteLinkOptions {
  siteId: string;
  names: ControlNames;
  servers: readonly string[];
  auth?: NatsAuth | undefined;
  env: Record<string, string | undefined>;
  holdMs: number;
  fallback: Fallback;
  telemetryMs: number;
  connectTimeoutMs?: number;
  /** Longest the settled outcome waits for a signal, ms. */
  settleWaitMs?: number;
  /** Events per batch at most, and the longest an event waits for its batch, ms. */
  eventBatch?: number;
  eventFlushMs?: number;
  /** Telemetry digests kept while partitioned (the oldest dropped first). */
  maxTelemetry?: number;
  log?: (line: string) => void;
}

const KEY_DESIRED = 'control:desired';
/** A clock further than this from the server's is reported (once per direction). */
const SKEW_ALERT_MS = 5_000;

export class SiteLink {
  private readonly stop = new AbortController();
  private readonly boot = randomUUID().slice(0, 8);
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private readonly outbox: Outbox;
  private events: AgentEvent[] = [];
  private eventSeq = 0;
  private telemetrySeq = 0;
  private outcomeSeq = 0;
  private offsets: { offsetMs: number; rttMs: number }[] = [];
  private skewAlerted = false;
  private readonly tasks: Promise<unknown>[] = [];
  private readonly unsubscribe: () => void;
  private lastState: LinkState['state'] | null = null;
  private everConnected = false;
  /** Commands handled since start, by result (tests and the bench read them). */
  readonly stats = { received: 0, duplicates: 0, rejected: 0, desiredApplied: 0 };

  private constructor(
    private readonly agent: LinkedAgent,
    private readonly target: ControlledTarget,
    private readonly processed: ProcessedCommands,
    private readonly store: ProcessedStore,
    private readonly o: SiteLinkOptions,
  ) {
    const pub: Publisher = {
      publish: async (subject, data, msgId, timeoutMs) => {
        if (!this.js) throw new Error('not connected');
        const h = headers();
        h.set('Nats-Msg-Id', msgId);
        const ack = await this.js.publish(subject, data, { headers: h, timeout: timeoutMs });
        return { seq: ack.seq, duplicate: ack.duplicate };
      },
    };
    this.outbox = new Outbox(pub, { now: () => this.agent.nowMs(), sleep: waitMs, maxTelemetry: o.maxTelemetry ?? 720, ...(o.log ? { log: o.log } : {}) });
    this.unsubscribe = agent.subscribe((e) => this.onEvent(e));
  }

  /** Loads the site's control memory and starts linking in the background (never waits for NATS). */
  static async start(agent: LinkedAgent, target: ControlledTarget, store: ProcessedStore, o: SiteLinkOptions): Promise<SiteLink> {
    const processed = await ProcessedCommands.open(store);
    const saved = await store.getKv(KEY_DESIRED);
    if (saved !== undefined) {
      const p = savedDesired(saved);
      if (p && p.desired.site === o.siteId) target.setDesired(p.desired, p.revision);
    }
    const link = new SiteLink(agent, target, processed, store, o);
    link.spawn('outbox', () => link.outbox.run(link.stop.signal));
    link.spawn('link', () => link.connectLoop());
    link.spawn('telemetry', () => link.telemetryLoop());
    link.spawn('events', () => link.eventLoop());
    for (const id of processed.pending()) link.follow(id);
    return link;
  }

  private log(line: string): void {
    this.o.log?.(`control: ${line}`);
  }

  private alert(detail: string): void {
    this.agent.publish({ type: 'alert', kind: 'control-link', detail });
  }

  private spawn(what: string, fn: () => Promise<void>): void {
    this.tasks.push(
      fn().catch((err: unknown) => {
        if (!this.stop.signal.aborted) this.log(`${what} stopped: ${describeError(err)}`);
      }),
    );
  }

  /** Where the site stands with the center now. */
  state(): LinkState {
    const a = this.target.applied(this.agent.nowMs());
    return {
      state: a.state,
      desiredRevision: a.revision,
      desiredMode: a.desired?.mode ?? null,
      planRef: a.desired?.planRef ?? null,
      applied: a.applied,
      lostForS: a.lostForMs === null ? null : a.lostForMs / 1000,
      clockOffsetMs: this.clockOffsetMs(),
      backlog: this.outbox.size + this.events.length,
    };
  }

  /** Server clock minus the agent's, ms: the sample with the shortest round trip of the last ten. */
  clockOffsetMs(): number | null {
    const best = [...this.offsets].sort((a, b) => a.rttMs - b.rttMs)[0];
    return best ? Math.round(best.offsetMs) : null;
  }

  /** Outbox counters (stored, retried duplicates, failures) and what it still holds. */
  outboxStats(): { stored: number; duplicates: number; failures: number; backlog: number; telemetryDropped: number } {
    return { ...this.outbox.counts, backlog: this.outbox.size + this.events.length, telemetryDropped: this.outbox.droppedTelemetry };
  }

  // -------------------------------------------------------------------------------------------
  // Connection

  private async connectLoop(): Promise<void> {
    const signal = this.stop.signal;
    let wait = 500;
    while (!signal.aborted) {
      let nc: NatsConnection;
      try {
        nc = await connectControl({ servers: this.o.servers, auth: this.o.auth, env: this.o.env, name: `mullet-site-${this.o.siteId}`, inboxPrefix: this.o.names.inbox(this.o.siteId), timeoutMs: this.o.connectTimeoutMs ?? 5_000, reconnectForever: true });
      } catch (err) {
        this.log(`${describeError(err)}; trying again in ${wait} ms`);
        await waitMs(wait, signal);
        wait = Math.min(10_000, wait * 2);
        continue;
      }
      if (signal.aborted) {
        await nc.close();
        return;
      }
      this.nc = nc;
      this.js = jetstream(nc, { timeout: 5_000 });
      this.jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 5_000 });
      this.connected(true);
      this.spawn('status', () => this.statusLoop(nc));
      this.spawn('desired', () => this.retrying('desired state watch', () => this.watchDesired()));
      this.spawn('commands', () => this.retrying('command consumer', () => this.consumeCommands()));
      const closed = await nc.closed();
      if (signal.aborted) return; // stopping: not a lost center
      if (closed) this.log(`connection closed: ${describeError(closed)}`);
      this.connected(false);
      this.nc = null;
      this.js = null;
      this.jsm = null;
    }
  }

  private connected(up: boolean): void {
    const now = this.agent.nowMs();
    this.target.setConnected(up, now);
    const s = this.target.applied(now).state;
    if (s !== this.lastState) {
      const first = up && !this.everConnected;
      if (up) this.everConnected = true;
      this.alert(up ? (first ? 'connected to the center: following the desired state' : 'center reachable again: following the desired state') : `center lost: the last desired state holds for ${Math.round(this.o.holdMs / 1000)} s, then ${this.o.fallback}`);
      this.lastState = s;
    }
    this.agent.requestTick();
  }

  private async statusLoop(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.stop.signal.aborted) return;
      if (s.type === 'disconnect' && !this.stop.signal.aborted) this.connected(false);
      else if (s.type === 'reconnect') {
        this.connected(true);
        // The watch resumes on its own; a read now closes any gap it may leave.
        void this.reconcileDesired();
      }
    }
  }

  /** Runs `fn` again (after a pause) whenever it ends or fails, while the connection is open. */
  private async retrying(what: string, fn: () => Promise<void>): Promise<void> {
    let wait = 500;
    while (!this.stop.signal.aborted && this.nc && !this.nc.isClosed()) {
      try {
        await fn();
        wait = 500;
      } catch (err) {
        if (this.stop.signal.aborted) return;
        this.log(`${what}: ${describeError(err)}; again in ${wait} ms`);
        wait = Math.min(10_000, wait * 2);
      }
      await waitMs(wait, this.stop.signal);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Desired state

  private async bucket(): Promise<KV> {
    if (!this.js) throw new Error('not connected');
    return new Kvm(this.js).open(this.o.names.bucket, { bindOnly: true });
  }

  private async watchDesired(): Promise<void> {
    const kv = await this.bucket();
    const it = await kv.watch({ key: this.o.names.desiredKey(this.o.siteId) });
    const onAbort = (): void => it.stop();
    this.stop.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const e of it) await this.applyEntry(e);
    } finally {
      this.stop.signal.removeEventListener('abort', onAbort);
    }
  }

  private async reconcileDesired(): Promise<void> {
    try {
      const kv = await this.bucket();
      const e = await kv.get(this.o.names.desiredKey(this.o.siteId));
      if (e) await this.applyEntry(e);
    } catch (err) {
      this.log(`desired state read after reconnect: ${describeError(err)}`);
    }
  }

  private async applyEntry(e: KvEntry): Promise<void> {
    const cur = this.target.applied(this.agent.nowMs()).revision;
    if (cur !== null && e.revision <= cur) return; // already applied (the watch and a read can both bring it)
    let d: DesiredState | null = null;
    if (e.operation === 'PUT') {
      const p = parseMessage(desiredStateSchema, e.value);
      if (!p.ok) return this.alert(`desired state revision ${e.revision} refused (${p.reason}): the last one stays`);
      if (p.value.site !== this.o.siteId) return this.alert(`desired state revision ${e.revision} names site '${p.value.site}', not '${this.o.siteId}': refused`);
      d = p.value;
    }
    this.target.setDesired(d, e.revision);
    await this.store.saveSignals([], { [KEY_DESIRED]: d ? JSON.stringify({ revision: e.revision, desired: d }) : null });
    this.stats.desiredApplied++;
    this.log(d ? `desired state revision ${e.revision}: mode ${d.mode}${d.capMW !== undefined ? `, cap ${d.capMW} MW` : ''}${d.targetMW !== undefined ? `, target ${d.targetMW} MW` : ''}${d.planRef ? `, plan ${d.planRef}` : ''}` : `desired state deleted (revision ${e.revision}): the site's own target`);
    this.agent.requestTick();
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private async consumeCommands(): Promise<void> {
    if (!this.js || !this.jsm) throw new Error('not connected');
    try {
      await ensureCommandConsumer(this.jsm, this.o.names, this.o.siteId);
    } catch (err) {
      // Per-site credentials may only bind: the center creates the consumer (`mullet control init`).
      this.log(`command consumer not created here (${describeError(err)}); binding to the center's`);
    }
    const consumer = await this.js.consumers.get(this.o.names.streams.cmd, this.o.names.cmdConsumer(this.o.siteId));
    const msgs = await consumer.consume({ max_messages: 1, expires: 5_000 });
    const onAbort = (): void => void msgs.close();
    this.stop.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const m of msgs) {
        if (this.stop.signal.aborted) break;
        await this.handle(m);
      }
    } finally {
      this.stop.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Server time now as this site estimates it, UTC ms. */
  private serverNowMs(): number {
    return this.agent.nowMs() + (this.clockOffsetMs() ?? 0);
  }

  private async handle(m: JsMsg): Promise<void> {
    const msgId = m.headers?.get('Nats-Msg-Id') ?? '';
    const p = parseMessage(commandSchema, m.data);
    if (!p.ok) {
      this.stats.rejected++;
      this.outcome(msgId || `seq-${m.seq}`, 'rejected', false, `invalid command: ${p.reason}`);
      this.alert(`command ${msgId || `seq ${m.seq}`} refused: ${p.reason}`);
      m.term();
      return;
    }
    const c = p.value;
    if (c.site !== this.o.siteId) {
      this.stats.rejected++;
      this.outcome(c.id, 'rejected', false, `wrong-site: the command names '${c.site}'`);
      m.term();
      return;
    }
    const prev = await this.processed.get(c.id);
    if (prev) {
      // A retry, a redelivery or a replay: answered from the record, never given to the agent again.
      this.stats.duplicates++;
      const sig = prev.state === 'rejected' ? undefined : await this.agent.waitForSignal(c.id, 0);
      this.outcome(c.id, prev.state === 'rejected' ? 'rejected' : sig && sig.state !== 'active' ? 'settled' : 'received', true, prev.reason, sig ? signalTiming(sig) : undefined);
      m.ack();
      return;
    }
    const nowMs = this.agent.nowMs();
    const issuedAtMs = Date.parse(c.issuedAt);
    const storedAtMs = Number(m.info.timestampNanos) / 1e6;
    const reject = async (reason: string): Promise<void> => {
      this.stats.rejected++;
      await this.processed.put({ id: c.id, state: 'rejected', reason, atMs: nowMs, issuedAtMs });
      this.outcome(c.id, 'rejected', false, reason);
      m.ack();
    };
    if (c.ttlS !== undefined && this.serverNowMs() > storedAtMs + c.ttlS * 1000) return reject(`expired: stored ${new Date(storedAtMs).toISOString()}, ttl ${c.ttlS} s`);
    if (issuedAtMs < this.processed.newestIssuedAtMs()) return reject(`stale: issued ${c.issuedAt}, before a command already applied (${new Date(this.processed.newestIssuedAtMs()).toISOString()})`);
    let r;
    try {
      r = await this.agent.receiveSignal(specOf(c), c.id, `nats:${c.issuedBy}`);
    } catch (err) {
      if (isMulletError(err) && (err.code === 'CONFLICT' || err.code === 'BAD_INPUT')) return reject(`${err.code.toLowerCase()}: ${err.message}`);
      // The store failed: not recorded, not acked; JetStream redelivers it.
      this.log(`command ${c.id}: ${describeError(err)}; redelivered in 2 s`);
      m.nak(2_000);
      return;
    }
    await this.processed.put({ id: c.id, state: 'received', atMs: nowMs, issuedAtMs });
    m.ack();
    this.stats.received++;
    this.outcome(c.id, 'received', r.duplicate, undefined, signalTiming(r.record));
    this.follow(c.id);
  }

  /** Publishes the settled outcome when the agent settles signal `id` (in the background). */
  private follow(id: string): void {
    this.spawn(`outcome of ${id}`, async () => {
      const r = await this.agent.waitForSignal(id, this.o.settleWaitMs ?? 600_000, this.stop.signal);
      if (this.stop.signal.aborted || !r || r.state === 'active') return;
      const prev = await this.processed.get(id);
      await this.processed.put({ id, state: 'settled', atMs: this.agent.nowMs(), issuedAtMs: prev?.issuedAtMs ?? 0 });
      this.outcome(id, 'settled', false, undefined, signalTiming(r));
    });
  }

  private outcome(commandId: string, phase: Outcome['phase'], duplicate: boolean, reason?: string, signal?: Outcome['signal']): void {
    const o: Outcome = { v: 1, site: this.o.siteId, commandId, phase, duplicate, ...(reason !== undefined ? { reason } : {}), ...(signal ? { signal } : {}), at: new Date(this.agent.nowMs()).toISOString() };
    this.outcomeSeq++;
    this.outbox.push({ kind: 'outcome', subject: this.o.names.outcome(this.o.siteId), msgId: `${this.o.siteId}.out.${this.boot}.${this.outcomeSeq}`, data: encode(o) });
  }

  // -------------------------------------------------------------------------------------------
  // Events and telemetry

  private onEvent(e: AgentEvent): void {
    this.events.push(e);
    if (this.events.length >= (this.o.eventBatch ?? 500)) this.flushEvents();
  }

  private flushEvents(): void {
    if (this.events.length === 0) return;
    const batch = this.events;
    this.events = [];
    this.eventSeq++;
    this.outbox.push({ kind: 'events', subject: this.o.names.events(this.o.siteId), msgId: `${this.o.siteId}.ev.${this.boot}.${this.eventSeq}`, data: encode({ v: 1, site: this.o.siteId, boot: this.boot, seq: this.eventSeq, events: batch }) });
  }

  private async eventLoop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      await waitMs(this.o.eventFlushMs ?? 250, this.stop.signal);
      this.flushEvents();
    }
  }

  private async telemetryLoop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      this.pushTelemetry();
      await waitMs(this.o.telemetryMs, this.stop.signal);
    }
  }

  /** One digest of the agent's status into the outbox; once stored, read back for the server's clock. */
  pushTelemetry(): void {
    const s = this.agent.status();
    const t = s.lastTick?.decision;
    const state = this.state();
    if (state.state !== this.lastState) {
      if (state.state === 'fallback') this.alert(`center lost for ${Math.round(state.lostForS ?? 0)} s (longer than holdS): fallback ${this.o.fallback}`);
      this.lastState = state.state;
    }
    this.telemetrySeq++;
    const msg: Telemetry = {
      v: 1,
      site: this.o.siteId,
      boot: this.boot,
      seq: this.telemetrySeq,
      at: new Date(s.nowMs).toISOString(),
      miners: s.miners,
      minersByState: s.minersByState,
      importLimitMW: s.limits.importLimitMW,
      sitePowerMW: s.sitePowerMW ?? null,
      allowedMiningMW: t?.allowedMiningMW ?? null,
      projectedMiningMW: t?.projectedMiningMW ?? null,
      limitedBy: t?.limitedBy ?? null,
      safeMode: t?.safeMode ? `${t.safeMode.mode}: ${t.safeMode.reason}` : null,
      signalCapMW: s.signal.capMW,
      capSignalId: s.signal.capSignalId,
      link: state,
    };
    const subject = this.o.names.telemetry(this.o.siteId);
    this.outbox.push({ kind: 'telemetry', subject, msgId: `${this.o.siteId}.tm.${this.boot}.${this.telemetrySeq}`, data: encode(msg), onStored: (seq, sentAtMs) => void this.sampleClock(subject, seq, sentAtMs) });
  }

  /** The stored digest's server timestamp against the agent's clock at send and now: one offset sample. */
  private async sampleClock(subject: string, seq: number, sentAtMs: number): Promise<void> {
    const jsm = this.jsm;
    if (!jsm) return;
    const ackAtMs = this.agent.nowMs();
    try {
      const m = await jsm.direct.getMessage(this.o.names.streams.telemetry, { last_by_subj: subject });
      if (!m || m.seq !== seq) return; // another digest landed in between: no clean sample
      const offsetMs = m.time.getTime() - (sentAtMs + ackAtMs) / 2;
      this.offsets.push({ offsetMs, rttMs: ackAtMs - sentAtMs });
      if (this.offsets.length > 10) this.offsets.shift();
      const off = this.clockOffsetMs() ?? 0;
      if (Math.abs(off) > SKEW_ALERT_MS && !this.skewAlerted) {
        this.skewAlerted = true;
        this.alert(`the site clock is ${Math.round(-off / 1000)} s off the NATS server's: commands are judged on the server's clock; fix NTP`);
      }
    } catch (err) {
      this.log(`clock sample: ${describeError(err)}`);
    }
  }

  /** Stops the link: the last events are flushed (best effort, 2 s), the connection drained. */
  async close(): Promise<void> {
    if (this.stop.signal.aborted) return;
    this.unsubscribe();
    this.flushEvents();
    for (let i = 0; i < 40 && this.nc && this.outbox.size > 0; i++) await waitMs(50, undefined);
    this.stop.abort();
    const nc = this.nc;
    if (nc && !nc.isClosed()) await nc.close();
    await Promise.allSettled(this.tasks);
  }

  /** Test hook: drops the connection now, as a network partition would (the client reconnects). */
  async dropConnection(): Promise<void> {
    const nc = this.nc;
    if (nc) await nc.reconnect();
  }
}

function specOf(c: Command): SignalSpec {
  if (c.action === 'restore') return { kind: 'restore' };
  return { kind: 'curtail', ...(c.mw !== undefined ? { mw: c.mw } : {}), ...(c.pct !== undefined ? { pct: c.pct } : {}), ...(c.all ? { all: true as const } : {}) };
}

function savedDesired(text: string): { revision: number; desired: DesiredState } | null {
  try {
    const raw = JSON.parse(text) as { revision?: unknown; desired?: unknown };
    const d = desiredStateSchema.safeParse(raw.desired);
    return d.success && typeof raw.revision === 'number' ? { revision: raw.revision, desired: d.data } : null;
  } catch {
    return null;
  }
}

