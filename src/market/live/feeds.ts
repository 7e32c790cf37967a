/**
 * The live market feeds: one scheduler for the ERCOT and mempool pollers. Each feed polls on its own
 * schedule (schedule.ts), stores what it fetched through the store's idempotent ingest (one
 * transaction per poll; the same posting twice writes nothing), keeps a status, and publishes an
 * event when it fails, stops, goes stale or recovers. A feed's failure never reaches the caller:
 * transient faults are retried with backoff + jitter, permanent ones stop that feed only.
 *
 * Time is injected twice: `clock` says what time it is, `timers` wakes the scheduler up. Tests pass a
 * FakeClock and ManualTimers (testing/manual-timers.ts) and move both together.
 */
import { MulletError, badInput, isMulletError, type ErrorCode } from '../../core/errors.js';
import { formatDataPath, zodProblems } from '../../core/yaml-doc.js';
import type { Clock } from '../../core/time.js';
import { HttpStatusError, createHttpClient, realSleep, type HttpClient, type Sleep, type Transport } from '../../net/http-client.js';
import type { MarketStore } from '../store-port.js';
import { MisClient } from '../fetchers/ercot-mis.js';
import type { MempoolSnapshot } from '../fetchers/mempool-fetch.js';
import { emptyBatch, type ParsedBatch } from '../types.js';
import { FEED_IDS, liveFeedsConfigSchema, resolveLiveFeedsConfig, type FeedId, type LiveFeedsConfig, type LiveFeedsConfigFile } from './config.js';
import { ercotDaPoller, ercotLoadPoller, ercotRtPoller, type ErcotPollerDeps } from './ercot-pollers.js';
import { mempoolPoller, type MempoolPoller } from './mempool-poller.js';
import { retryDelayMs } from './schedule.js';
import type { FeedError, FeedEvent, FeedStatus, Poller } from './types.js';

export interface TimerHandle {
  cancel(): void;
}

/** Wakes the scheduler; injected so tests never wait on wall time. */
export interface Timers {
  /** Calls `fn` once after `delayMs` (>= 0) of this timer source's time. */
  after(delayMs: number, fn: () => void): TimerHandle;
}

export const realTimers: Timers = {
  after(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    // A feed's timer must not keep a process alive on its own (the ops command owns the lifetime).
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export interface LiveFeedsDeps {
  store: Pick<MarketStore, 'ingest' | 'prices' | 'loads' | 'btcDays'>;
  clock: Clock;
  timers?: Timers;
  /** The wire (tests: RecordedTransport or a loopback server); default the real fetch. */
  transport?: Transport;
  /** A ready HTTP client instead of `transport` (its own retry policy then applies inside a poll). */
  http?: HttpClient;
  /** Uniform [0, 1) for backoff jitter; seed it in tests. */
  random?: () => number;
  /** Where the ERCOT API credentials are read (the variable NAMES come from the config). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Pause between Public API pages (rate limit); tests pass one that resolves at once. */
  sleep?: Sleep;
  log?: (line: string) => void;
  /** How often staleness is re-checked while running, ms (default 5 s). */
  staleCheckMs?: number;
}

export type FeedListener = (event: FeedEvent) => void;

export interface LiveFeeds {
  /** Starts every enabled feed: each polls at once, then on its schedule. Idempotent. */
  start(): void;
  /** Cancels timers and in-flight polls and waits for them; statuses stay readable. */
  stop(): Promise<void>;
  /** One status per enabled feed, staleness evaluated at the clock's now. */
  status(): FeedStatus[];
  /** Subscribes to every status change; returns the unsubscribe function. */
  onStatusChange(listener: FeedListener): () => void;
  /** Polls one feed now (waits for a poll in flight instead of starting a second); never throws for a feed failure. */
  pollOnce(feed: FeedId): Promise<FeedStatus>;
  /** Re-evaluates staleness now and publishes stale / recovered events (the running scheduler does it every staleCheckMs). */
  checkStaleness(): Promise<void>;
  /** Resolves when no poll is in flight (tests, and a clean hand-over in the ops command). */
  idle(): Promise<void>;
  /** The newest mempool snapshot (price now, tip height, next retarget), when the mempool feed runs. */
  mempoolSnapshot(): (MempoolSnapshot & { fetchedAtMs: number }) | undefined;
  /** The resolved configuration in use. */
  readonly config: LiveFeedsConfig;
}

/** Codes a human must act on: retrying cannot help (credentials, configuration, a bug). */
const PERMANENT: ReadonlySet<ErrorCode> = new Set(['AUTH', 'BAD_INPUT', 'FORBIDDEN', 'UNSUPPORTED', 'INTERNAL']);

interface Runtime {
  poller: Poller;
  status: FeedStatus;
  timer?: TimerHandle;
  inflight?: Promise<void>;
  /** Whether the last published event said stale (to publish transitions only). */
  reportedStale: boolean;
  /** The last read of what the store holds failed. */
  loadFailed?: boolean;
}

/**
 * Builds the feeds from a validated `feeds:` section (liveFeedsConfigSchema) or an already
 * resolved config. Nothing runs until start() or pollOnce().
 */
export function createLiveFeeds(config: LiveFeedsConfigFile | LiveFeedsConfig, deps: LiveFeedsDeps): LiveFeeds {
  const cfg = isResolved(config) ? config : resolveLiveFeedsConfig(validate(config));
  const timers = deps.timers ?? realTimers;
  const random = deps.random ?? Math.random;
  const log = deps.log ?? (() => undefined);
  // One attempt per request: the scheduler owns retries (backoff across polls), so a poll's
  // deadline bounds it and a failing feed shows at once in its status.
  const http = deps.http ?? createHttpClient({ ...(deps.transport ? { transport: deps.transport } : {}), retry: { attempts: 1 }, defaultTimeoutMs: cfg.timeoutMs });
  const ercotDeps: ErcotPollerDeps = {
    store: deps.store,
    http,
    mis: (request) => new MisClient({ http, baseUrl: cfg.ercot.misBaseUrl, request }),
    config: cfg,
    env: deps.env ?? process.env,
    sleep: deps.sleep ?? realSleep,
  };
  const mempool: MempoolPoller | undefined = cfg.mempool.enabled ? mempoolPoller({ store: deps.store, http, config: cfg }) : undefined;
  const pollers: Poller[] = [
    ...(cfg.ercotRt.enabled ? [ercotRtPoller(ercotDeps)] : []),
    ...(cfg.ercotDa.enabled ? [ercotDaPoller(ercotDeps)] : []),
    ...(cfg.ercotLoad.enabled ? [ercotLoadPoller(ercotDeps)] : []),
    ...(mempool ? [mempool] : []),
  ];
  const feeds = new Map<FeedId, Runtime>(
    pollers.map((p) => [p.id, { poller: p, status: { feed: p.id, state: 'idle', polling: false, stale: false, staleAfterMs: p.staleAfterMs, consecutiveFailures: 0 }, reportedStale: false }]),
  );
  // Values of the credential variables: never shown, even when a server echoes one in an error body.
  const a = cfg.ercot.api;
  const secrets = [a.subscriptionKeyEnv, a.idTokenEnv, a.usernameEnv, a.passwordEnv].flatMap((n) => {
    const v = ercotDeps.env[n];
    return v !== undefined && v.length >= 4 ? [v] : [];
  });
  const listeners = new Set<FeedListener>();
  let running = false;
  let startedAtMs: number | undefined;
  let stopController = new AbortController();
  let staleTimer: TimerHandle | undefined;

  const now = () => deps.clock.nowMs();

  function emit(type: FeedEvent['type'], rt: Runtime): void {
    const event: FeedEvent = { type, feed: rt.status.feed, atMs: now(), status: { ...rt.status } };
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        // A listener's bug must not stop the feeds.
        log(`feeds: a status listener threw on ${type} ${rt.status.feed}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** Fills staleness from the poller's freshness; before any data, the feed is stale once staleAfter has passed since start. */
  function refresh(rt: Runtime, nowMs: number): void {
    // A store read that failed (logged by load) shows no data held: the feed goes stale, and goes on.
    const f = rt.loadFailed ? {} : rt.poller.freshness(nowMs);
    const s = rt.status;
    delete s.latestIntervalStartMs;
    delete s.latestIntervalMinutes;
    delete s.dataTimeMs;
    delete s.staleAtMs;
    Object.assign(s, f);
    const since = startedAtMs ?? s.lastAttemptAtMs;
    s.stale = s.staleAtMs !== undefined ? nowMs >= s.staleAtMs : since !== undefined && nowMs - since >= rt.poller.staleAfterMs;
  }

  function publishStaleness(rt: Runtime): void {
    if (rt.status.stale !== rt.reportedStale) {
      rt.reportedStale = rt.status.stale;
      emit(rt.status.stale ? 'stale' : 'recovered', rt);
    }
  }

  /** Reads what the store holds now (each feed's newest rows); a failed read is logged and the feed shows no data held. */
  async function load(rt: Runtime, nowMs: number): Promise<void> {
    try {
      await rt.poller.load(nowMs);
      rt.loadFailed = false;
    } catch (err) {
      rt.loadFailed = true;
      log(`feeds: ${rt.status.feed}: reading what the store holds failed: ${describe(err)}`);
    }
  }

  async function checkStaleness(): Promise<void> {
    const t = now();
    for (const rt of feeds.values()) {
      await load(rt, t);
      refresh(rt, now());
      publishStaleness(rt);
    }
  }

  function schedule(rt: Runtime, atMs: number): void {
    rt.timer?.cancel();
    delete rt.timer;
    if (!running) return;
    rt.status.nextPollAtMs = atMs;
    rt.timer = timers.after(atMs - now(), () => {
      delete rt.timer;
      void runPoll(rt).catch((err: unknown) => log(`feeds: ${rt.status.feed}: scheduler bug: ${describe(err)}`));
    });
  }

  async function pollBody(rt: Runtime): Promise<void> {
    const s = rt.status;
    const startMs = now();
    s.polling = true;
    s.lastAttemptAtMs = startMs;
    const deadline = AbortSignal.timeout(cfg.timeoutMs);
    const signal = AbortSignal.any([stopController.signal, deadline]);
    try {
      await load(rt, startMs);
      const outcome = await rt.poller.poll({ nowMs: startMs, signal });
      let rows = 0;
      let unchanged = 0;
      const one = mergeForIngest(outcome.batches);
      if (one) {
        // One transaction per poll: all of what it fetched is stored, or none of it.
        const r = await deps.store.ingest(one.label, one.batch);
        rows = r.inserted.prices + r.inserted.loads + r.inserted.btcDays + r.inserted.epochs + r.inserted.fourCpIntervals;
        unchanged = r.unchanged;
      }
      outcome.onStored?.();
      const t = now();
      s.polling = false;
      s.lastSuccessAtMs = t;
      s.consecutiveFailures = 0;
      s.lastWrite = { rows, unchanged };
      s.note = outcome.note;
      await load(rt, t);
      refresh(rt, t);
      const waiting = rt.poller.waitingFor?.(t);
      s.state = waiting === undefined ? 'ok' : 'waiting';
      if (waiting !== undefined) s.note = `${outcome.note}; waiting: ${waiting}`;
      if (running) schedule(rt, rt.poller.nextPollMs(t, waiting !== undefined));
      else delete s.nextPollAtMs;
      emit('polled', rt);
    } catch (err) {
      const t = now();
      s.polling = false;
      const e = redact(classify(err, stopController.signal, deadline, cfg.timeoutMs), secrets);
      if (e.code === 'ABORTED' && stopController.signal.aborted) {
        // stop() cancelled the poll: not the feed's failure.
        s.note = 'poll cancelled by stop()';
        return;
      }
      s.consecutiveFailures++;
      s.lastError = { code: e.code, message: e.message, ...(e.where === undefined ? {} : { where: e.where }), transient: e.transient, atMs: t };
      refresh(rt, t);
      if (e.transient) {
        s.state = 'retrying';
        // A server's Retry-After (429/503, capped at 60 s by the HTTP client) is a floor.
        const delay = Math.max(retryDelayMs(s.consecutiveFailures, cfg.backoff, random), retryAfterOf(err));
        log(`feeds: ${s.feed}: ${e.code} ${e.message} (failure ${s.consecutiveFailures}, retry in ${Math.round(delay / 1000)} s)`);
        if (running) schedule(rt, t + delay);
        emit('failed', rt);
      } else {
        s.state = 'stopped';
        delete s.nextPollAtMs;
        log(`feeds: ${s.feed}: stopped: ${e.code} ${e.message} (needs a fix before a restart)`);
        emit('failed', rt);
        emit('stopped', rt);
      }
    } finally {
      publishStaleness(rt);
    }
  }

  function runPoll(rt: Runtime): Promise<void> {
    if (rt.inflight) return rt.inflight;
    if (rt.status.state === 'stopped' && running) return Promise.resolve();
    const p = pollBody(rt).finally(() => {
      delete rt.inflight;
    });
    rt.inflight = p;
    return p;
  }

  function staleLoop(): void {
    if (!running) return;
    void checkStaleness()
      .catch((err: unknown) => log(`feeds: staleness check failed: ${describe(err)}`))
      .finally(() => {
        if (running) staleTimer = timers.after(deps.staleCheckMs ?? 5_000, staleLoop);
      });
  }

  return {
    config: cfg,
    start() {
      if (running) return;
      running = true;
      stopController = new AbortController();
      startedAtMs = now();
      for (const rt of feeds.values()) {
        rt.status.state = 'starting';
        delete rt.status.lastError;
        rt.status.consecutiveFailures = 0;
        schedule(rt, startedAtMs);
      }
      staleTimer = timers.after(deps.staleCheckMs ?? 5_000, staleLoop);
    },
    async stop() {
      running = false;
      staleTimer?.cancel();
      stopController.abort(new MulletError('ABORTED', 'live feeds stopped'));
      const pending: Promise<void>[] = [];
      for (const rt of feeds.values()) {
        rt.timer?.cancel();
        delete rt.timer;
        delete rt.status.nextPollAtMs;
        if (rt.inflight) pending.push(rt.inflight);
      }
      await Promise.allSettled(pending);
      for (const rt of feeds.values()) if (rt.status.state !== 'stopped') rt.status.state = 'idle';
    },
    status() {
      const t = now();
      return [...feeds.values()].map((rt) => {
        refresh(rt, t);
        return { ...rt.status };
      });
    },
    onStatusChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async pollOnce(feed) {
      const rt = feeds.get(feed);
      if (!rt) throw new MulletError('NOT_FOUND', `feed '${feed}' is not enabled (enabled: ${[...feeds.keys()].join(', ') || 'none'}; known: ${FEED_IDS.join(', ')})`);
      if (!running && stopController.signal.aborted) stopController = new AbortController();
      // A manual poll retries a stopped feed (after the operator fixed the cause).
      if (rt.status.state === 'stopped') rt.status.state = 'starting';
      await runPoll(rt);
      refresh(rt, now());
      return { ...rt.status };
    },
    checkStaleness,
    async idle() {
      for (;;) {
        const pending = [...feeds.values()].flatMap((rt) => (rt.inflight ? [rt.inflight] : []));
        if (pending.length === 0) return;
        await Promise.allSettled(pending);
      }
    },
    mempoolSnapshot: () => mempool?.snapshot(),
  };
}

/** The batches of one poll as one (each record keeps its batch's publisher), or undefined when there is nothing. */
export function mergeForIngest(batches: readonly { label: string; batch: ParsedBatch }[]): { label: string; batch: ParsedBatch } | undefined {
  if (batches.length <= 1) return batches[0];
  const out = emptyBatch('live-feed');
  for (const { batch: b } of batches) {
    const source = b.provider ?? b.source;
    out.prices.push(...b.prices.map((p) => ({ source, ...p })));
    out.loads.push(...b.loads.map((l) => ({ source, ...l })));
    out.btcDays.push(...b.btcDays.map((d) => ({ source, ...d })));
    out.epochs.push(...b.epochs.map((e) => ({ source, ...e })));
    if (b.fourCpIntervals) (out.fourCpIntervals ??= []).push(...b.fourCpIntervals.map((c) => ({ source, ...c })));
    out.notes.push(...b.notes);
  }
  return { label: batches.map((b) => b.label).join(' + '), batch: out };
}

function redact(e: MulletError, secrets: readonly string[]): MulletError {
  const hide = (t: string) => secrets.reduce((acc, v) => acc.split(v).join('***'), t);
  const message = hide(e.message);
  const where = e.where === undefined ? undefined : hide(e.where);
  if (message === e.message && where === e.where) return e;
  return new MulletError(e.code, message, { cause: e.cause, transient: e.transient, ...(where === undefined ? {} : { where }) });
}

function retryAfterOf(err: unknown): number {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 4; e = e.cause, i++) {
    if (e instanceof HttpStatusError && e.retryAfterMs !== undefined) return e.retryAfterMs;
  }
  return 0;
}

/** A section not read through parseConfig (built in code) is still checked, with the same paths. */
function validate(config: unknown): LiveFeedsConfigFile {
  const r = liveFeedsConfigSchema.safeParse(config);
  if (r.success) return r.data;
  const lines = zodProblems(r.error.issues).map((p) => `${formatDataPath(['feeds', ...p.path])}: ${p.message}`);
  throw badInput(`invalid live feeds config: ${lines.join('; ')}`, 'feeds');
}

function isResolved(c: LiveFeedsConfigFile | LiveFeedsConfig): c is LiveFeedsConfig {
  return typeof (c as { timeoutMs?: unknown }).timeoutMs === 'number';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Every failure as a MulletError with the feed's retry decision: the poll's own deadline is TIMEOUT
 * (transient), not the ABORTED the HTTP client reports for a caller's signal; anything not in
 * PERMANENT is retried (a garbage body or a 4xx from a proxy can clear by itself; a format that
 * really changed keeps failing and the feed goes stale, which is what alerts a human).
 */
function classify(err: unknown, stop: AbortSignal, deadline: AbortSignal, timeoutMs: number): MulletError {
  if (isMulletError(err)) {
    if (err.code === 'ABORTED' && !stop.aborted && deadline.aborted) {
      return new MulletError('TIMEOUT', `poll did not finish within ${timeoutMs} ms`, { cause: err, transient: true, ...(err.where === undefined ? {} : { where: err.where }) });
    }
    const transient = !PERMANENT.has(err.code) && err.code !== 'ABORTED';
    return new MulletError(err.code, err.message, { cause: err, transient, ...(err.where === undefined ? {} : { where: err.where }) });
  }
  // Not a MulletError: a bug (a parser or driver threw something untyped). It would repeat every
  // poll, so it stops the feed, visibly, instead of spinning.
  return new MulletError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err, transient: false });
}

export type { FeedError };
