/**
 * The center's side of the control plane (`mullet control`, the bench, tests): creates the
 * JetStream resources, lists the sites with their last telemetry and desired state, writes desired
 * states with compare-and-set, and sends curtail/restore commands to one site or many, waiting for
 * their outcomes within a deadline. Every command carries an id: sending it again (a retry after a
 * timeout) is answered by the site from its record, never acted on twice.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { badInput, describeError, MulletError } from '../../core/errors.js';
import { connectControl, type NatsAuth } from '../connect.js';
import { checkSiteId, controlNames, type ControlNames } from '../names.js';
import { ensureCommandConsumer, ensureControlPlane, isNotFound } from '../setup.js';
import { commandSchema, CONTROL_WIRE_VERSION, desiredStateSchema, encode, outcomeSchema, parseMessage, telemetrySchema, type Command, type DesiredState, type Outcome, type Telemetry } from '../wire.js';

export interface CenterOptions {
  servers: readonly string[];
  auth?: NatsAuth | undefined;
  env: Record<string, string | undefined>;
  prefix?: string;
  timeoutMs?: number;
  /** Who acts (recorded in desired states and commands), e.g. `cli:alice`. */
  actor: string;
}

export interface SiteView {
  site: string;
  telemetry: Telemetry | null;
  /** When the server stored that telemetry, UTC ms (the center's view of its age, clock-independent of the site). */
  telemetryStoredAtMs: number | null;
  desired: DesiredState | null;
  desiredRevision: number | null;
}

export type DesiredPatch = Partial<Pick<DesiredState, 'mode' | 'targetMW' | 'capMW' | 'aiLimitsMW' | 'planRef'>> & { clear?: readonly ('targetMW' | 'capMW' | 'aiLimitsMW' | 'planRef')[] };

export type CommandRequest = { action: 'curtail'; mw?: number; pct?: number; all?: true } | { action: 'restore' };

export interface SiteOutcome {
  site: string;
  commandId: string;
  /** The last outcome heard (received, settled or rejected); null when none came before the deadline. */
  outcome: Outcome | null;
  /** From publish to that outcome, ms (center clock). */
  elapsedMs: number | null;
  done: boolean;
}

export class Center {
  private kvCache: KV | null = null;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly names: ControlNames,
    private readonly actor: string,
  ) {}

  static async connect(o: CenterOptions): Promise<Center> {
    const nc = await connectControl({ servers: o.servers, auth: o.auth, env: o.env, name: 'mullet-control', timeoutMs: o.timeoutMs ?? 5_000, reconnectForever: false });
    const js = jetstream(nc, { timeout: o.timeoutMs ?? 5_000 });
    const jsm = await jetstreamManager(nc, { timeout: o.timeoutMs ?? 5_000 });
    return new Center(nc, js, jsm, controlNames(o.prefix), o.actor);
  }

  /** Creates (or updates) the streams and the bucket, and the command consumer of each given site. */
  async init(sites: readonly string[] = []): Promise<void> {
    this.kvCache = await ensureControlPlane(this.nc, this.jsm, this.names);
    for (const s of sites) await ensureCommandConsumer(this.jsm, this.names, checkSiteId(s));
  }

  private async kv(): Promise<KV> {
    this.kvCache ??= await ensureControlPlane(this.nc, this.jsm, this.names);
    return this.kvCache;
  }

  /** Every site the center knows: a desired state, telemetry, or a command consumer. */
  async siteIds(): Promise<string[]> {
    const ids = new Set<string>();
    const kv = await this.kv();
    for await (const k of await kv.keys('site.*')) ids.add(k.slice('site.'.length));
    try {
      const info = await this.jsm.streams.info(this.names.streams.telemetry, { subjects_filter: this.names.all('telemetry') });
      for (const subj of Object.keys(info.state.subjects ?? {})) {
        const id = subj.split('.')[2];
        if (id) ids.add(id);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    for await (const c of this.jsm.consumers.list(this.names.streams.cmd)) if (c.name.startsWith('site_')) ids.add(c.name.slice('site_'.length));
    return [...ids].sort();
  }

  /** Each site's last telemetry and desired state. */
  async sites(only?: readonly string[]): Promise<SiteView[]> {
    const ids = only ?? (await this.siteIds());
    const kv = await this.kv();
    const out: SiteView[] = [];
    for (const site of ids) {
      let telemetry: Telemetry | null = null;
      let storedAt: number | null = null;
      try {
        const m = await this.jsm.direct.getMessage(this.names.streams.telemetry, { last_by_subj: this.names.telemetry(site) });
        if (m) {
          const p = parseMessage(telemetrySchema, m.data);
          if (p.ok && p.value.site === site) telemetry = p.value;
          storedAt = m.time.getTime();
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const e = await kv.get(this.names.desiredKey(site));
      const d = e && e.operation === 'PUT' ? parseMessage(desiredStateSchema, e.value) : null;
      out.push({ site, telemetry, telemetryStoredAtMs: storedAt, desired: d?.ok ? d.value : null, desiredRevision: e ? e.revision : null });
    }
    return out;
  }

  /**
   * Writes a site's desired state from its current one and `patch`, with compare-and-set: the write
   * fails CONFLICT when someone wrote in between (or when `expectRevision` is given and differs).
   */
  async setDesired(site: string, patch: DesiredPatch, expectRevision?: number): Promise<{ revision: number; desired: DesiredState }> {
    checkSiteId(site);
    const kv = await this.kv();
    const key = this.names.desiredKey(site);
    const cur = await kv.get(key);
    const curRev = cur && cur.operation === 'PUT' ? cur.revision : null;
    if (expectRevision !== undefined && (curRev ?? 0) !== expectRevision) throw new MulletError('CONFLICT', `site ${site}: desired state is at revision ${curRev ?? 0}, not ${expectRevision}`, { where: '--expect-revision' });
    const prev = cur && cur.operation === 'PUT' ? parseMessage(desiredStateSchema, cur.value) : null;
    const base: Partial<DesiredState> = prev?.ok ? prev.value : {};
    const merged: Record<string, unknown> = { ...base, ...stripUndefined(patch), v: CONTROL_WIRE_VERSION, site, mode: patch.mode ?? base.mode ?? 'auto', updatedAt: new Date().toISOString(), updatedBy: this.actor };
    delete merged.clear;
    for (const k of patch.clear ?? []) delete merged[k];
    if (merged.mode !== 'target') delete merged.targetMW;
    const p = desiredStateSchema.safeParse(merged);
    if (!p.success) throw badInput(p.error.issues[0]?.message ?? 'invalid desired state', p.error.issues[0]?.path.join('.'));
    try {
      const revision = curRev === null ? (cur ? await kv.update(key, encode(p.data), cur.revision) : await kv.create(key, encode(p.data))) : await kv.update(key, encode(p.data), curRev);
      return { revision, desired: p.data };
    } catch (err) {
      if (/wrong last sequence|key exists/i.test(describeError(err))) throw new MulletError('CONFLICT', `site ${site}: the desired state changed while writing (someone else wrote it); read it again`, { cause: err });
      throw err;
    }
  }

  /**
   * Sends one command to each site and waits until every site has answered `until` (settled: the
   * agent confirmed it / it was rejected; received: the agent took it), or `deadlineMs` passes.
   */
  async send(sites: readonly string[], req: CommandRequest, o: { id?: string; ttlS?: number; until: 'received' | 'settled'; deadlineMs: number; signal?: AbortSignal; onOutcome?: (o: SiteOutcome) => void }): Promise<SiteOutcome[]> {
    const id = o.id ?? `ctl-${randomUUID()}`;
    const sub = this.nc.subscribe(this.names.all('outcome'));
    const results = new Map<string, SiteOutcome>(sites.map((s) => [s, { site: s, commandId: id, outcome: null, elapsedMs: null, done: false }]));
    const t0 = performance.now();
    const done = new Promise<void>((resolve) => {
      const check = (): void => {
        if ([...results.values()].every((r) => r.done)) resolve();
      };
      void (async () => {
        for await (const m of sub) {
          const p = parseMessage(outcomeSchema, m.data);
          if (!p.ok || p.value.commandId !== id) continue;
          const r = results.get(p.value.site);
          if (!r || r.done || m.subject !== this.names.outcome(p.value.site)) continue;
          r.outcome = p.value;
          r.elapsedMs = performance.now() - t0;
          r.done = p.value.phase === 'rejected' || p.value.phase === 'settled' || (o.until === 'received' && p.value.phase === 'received');
          o.onOutcome?.(r);
          check();
        }
      })();
      if (sites.length === 0) resolve();
    });
    try {
      await this.nc.flush();
      const acks = await Promise.all(sites.map(async (s) => ({ site: s, ack: await this.publishCommand(s, id, req, o.ttlS) })));
      // The stream dropped a re-send (same id within its window): the site will not answer again,
      // so its outcome so far comes from the outcome stream.
      for (const { site } of acks.filter((a) => a.ack.duplicate)) {
        const r = results.get(site) as SiteOutcome;
        const last = (await this.outcomes(site)).filter((x) => x.commandId === id).at(-1);
        if (last && !r.done) {
          r.outcome = last;
          r.elapsedMs = performance.now() - t0;
          r.done = last.phase !== 'received' || o.until === 'received';
          o.onOutcome?.(r);
        }
      }
      if ([...results.values()].some((r) => !r.done)) {
        const timer = abortable(o.deadlineMs, o.signal);
        await Promise.race([done, timer.promise]);
        timer.cancel();
      }
    } finally {
      sub.unsubscribe();
    }
    return sites.map((s) => results.get(s) as SiteOutcome);
  }

  /** Publishes one command (stream-acked; `Nats-Msg-Id` = `<site>:<id>` so a re-send within 2 min is dropped by the stream). */
  async publishCommand(site: string, id: string, req: CommandRequest, ttlS?: number, issuedAt = new Date()): Promise<{ seq: number; duplicate: boolean }> {
    checkSiteId(site);
    const c: Command = commandSchema.parse({ v: CONTROL_WIRE_VERSION, site, id, ...req, ...(ttlS !== undefined ? { ttlS } : {}), issuedAt: issuedAt.toISOString(), issuedBy: this.actor });
    const h = headers();
    h.set('Nats-Msg-Id', `${site}:${id}`);
    const ack = await this.js.publish(this.names.cmd(site), encode(c), { headers: h });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  /** Reads the outcome stream (all of it, or one site's) from the start: what every command became. */
  async outcomes(site?: string, max = 10_000): Promise<Outcome[]> {
    const out: Outcome[] = [];
    const c = await this.js.consumers.get(this.names.streams.outcome, { filter_subjects: site ? this.names.outcome(site) : this.names.all('outcome') });
    for (;;) {
      const batch = await c.fetch({ max_messages: 1000, expires: 1_000 });
      let n = 0;
      for await (const m of batch) {
        n++;
        const p = parseMessage(outcomeSchema, m.data);
        if (p.ok) out.push(p.value);
        if ((m.info.pending ?? 0) === 0) break;
      }
      if (n === 0 || out.length >= max) break;
      const info = await c.info(true);
      if (info.num_pending === 0) break;
    }
    await c.delete().catch(() => undefined);
    return out;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Resolves after `ms` or when `signal` aborts; `cancel` clears the timer (a won race must not keep the process alive). */
function abortable(ms: number, signal?: AbortSignal): { promise: Promise<void>; cancel: () => void } {
  let cancel = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    cancel = done;
    signal?.addEventListener('abort', done, { once: true });
  });
  return { promise, cancel };
}

