/**
 * ERCOT pollers: real-time SPP (NP6-905-CD), day-ahead SPP (NP4-190-CD), system load (NP6-345-CD)
 * and its seven-day forecast (NP3-565-CD). Downloading and parsing are the fetchers' and the
 * importers' (MisClient, fetchErcotApi, reportParser / parseDataText); this file only decides which
 * postings a poll needs and what the store then holds.
 */
import { MulletError, badInput } from '../../core/errors.js';
import type { HttpClient, RequestOptions, Sleep } from '../../net/http-client.js';
import type { MarketStore } from '../store-port.js';
import { ERCOT_REPORTS, combineBatches, fetchErcotApi, reportParser, type ErcotReportId } from '../fetchers/ercot.js';
import { damPostingKey, isCsvDocument, rtPostingKey, type MisClient, type MisDocument } from '../fetchers/ercot-mis.js';
import type { ApiCredentials } from '../fetchers/ercot-api.js';
import { parseDataText } from '../importers/registry.js';
import type { LoadPoint, ParsedBatch, PricePoint } from '../types.js';
import type { LiveFeedsConfig } from './config.js';
import { cptDatePlus, cptDayRangeMs, cptWallMs, nextDaPollMs, nextOnGridMs } from './schedule.js';
import type { Freshness, PollContext, PollOutcome, Poller } from './types.js';

const MIN = 60_000;
const DAY = 86_400_000;
/** How far back the store is read for the newest interval held. */
const LOOKBACK_MS = 8 * DAY;
/** Postings remembered as stored, per poller (a few days of RT postings). */
const SEEN_CAP = 2_000;

/** MIS report type ids of the load postings (ERCOT MIS "reportTypeId"). */
export const LOAD_REPORT_TYPES = { actual: 13101, forecast: 14837 } as const;

export interface ErcotPollerDeps {
  store: Pick<MarketStore, 'prices' | 'loads'>;
  /** An MIS client whose every request carries the poll's signal and deadline. */
  mis: (request: RequestOptions) => MisClient;
  http: HttpClient;
  config: LiveFeedsConfig;
  env: Readonly<Record<string, string | undefined>>;
  sleep: Sleep;
}

function request(ctx: PollContext, config: LiveFeedsConfig): RequestOptions {
  return { signal: ctx.signal, timeoutMs: config.timeoutMs };
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new MulletError('ABORTED', 'cancelled', { cause: signal.reason, transient: false });
}

/** Keeps the configured settlement points only (the importers already keep hubs and load zones). */
function keepPoints(batch: ParsedBatch, points: readonly string[]): ParsedBatch {
  const keep = new Set(points);
  return { ...batch, prices: batch.prices.filter((p) => keep.has(p.settlementPoint)) };
}

/** Bounded set of document ids already stored (insertion order; oldest forgotten first). */
class SeenDocs {
  private readonly ids = new Set<string>();
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > SEEN_CAP) {
      const first = this.ids.values().next().value;
      if (first !== undefined) this.ids.delete(first);
    }
  }
}

/** The latest publication per posting key (a `_retry_` re-posting replaces the earlier one). */
function latestPerKey(docs: readonly MisDocument[], keyOf: (d: MisDocument) => { key: string; operatingDay: string } | undefined): { doc: MisDocument; key: string; operatingDay: string }[] {
  const byKey = new Map<string, { doc: MisDocument; key: string; operatingDay: string }>();
  for (const doc of docs) {
    if (!isCsvDocument(doc)) continue;
    const k = keyOf(doc);
    if (!k) continue;
    const prev = byKey.get(k.key);
    if (!prev || doc.publishMs > prev.doc.publishMs) byKey.set(k.key, { doc, ...k });
  }
  return [...byKey.values()].sort((a, b) => a.doc.publishMs - b.doc.publishMs);
}

/** Credentials of the Public API from the environment variables the config names (never from the file). */
export function apiCredentials(config: LiveFeedsConfig, env: Readonly<Record<string, string | undefined>>): ApiCredentials {
  const a = config.ercot.api;
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const subscriptionKey = get(a.subscriptionKeyEnv);
  if (subscriptionKey === undefined) throw badInput(`the ERCOT Public API needs a subscription key in the environment variable ${a.subscriptionKeyEnv}`, 'feeds.ercot.api.subscriptionKeyEnv');
  const idToken = get(a.idTokenEnv);
  const username = get(a.usernameEnv);
  const password = get(a.passwordEnv);
  if (idToken === undefined && (username === undefined || password === undefined)) {
    throw badInput(`the ERCOT Public API needs ${a.idTokenEnv}, or ${a.usernameEnv} and ${a.passwordEnv}, in the environment`, 'feeds.ercot.api');
  }
  return { subscriptionKey, ...(idToken === undefined ? {} : { idToken }), ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) };
}

async function fetchApiDays(d: ErcotPollerDeps, report: ErcotReportId, fromDate: string, toDate: string, ctx: PollContext): Promise<ParsedBatch> {
  const c = d.config;
  const res = await fetchErcotApi(d.http, {
    report,
    fromDate,
    toDate,
    parse: reportParser(ERCOT_REPORTS[report]),
    apiBaseUrl: c.ercot.api.baseUrl,
    tokenUrl: c.ercot.api.tokenUrl,
    credentials: apiCredentials(c, d.env),
    request: request(ctx, c),
    sleep: d.sleep,
    signal: ctx.signal,
  });
  return keepPoints(res.batch, c.settlementPoints);
}

/** The primary point's stored prices of one kind from LOOKBACK_MS before nowMs to 3 days after, sorted. */
function heldPrices(d: ErcotPollerDeps, kind: 'RT' | 'DA', nowMs: number): Promise<PricePoint[]> {
  const point = d.config.settlementPoints[0] as string;
  return d.store.prices({ market: 'ERCOT', settlementPoint: point, kind, fromMs: nowMs - LOOKBACK_MS, toMs: nowMs + 3 * DAY });
}

/**
 * Real-time SPP. MIS: each 15-minute interval is one posting; a poll downloads the postings
 * published within `backfillMs` that are not stored yet (so a gap after an outage fills itself).
 * API: today's (and, in the first hour of a day, yesterday's) rows, every point, re-fetched whole.
 */
export function ercotRtPoller(d: ErcotPollerDeps): Poller {
  const c = d.config.ercotRt;
  const spec = ERCOT_REPORTS['rt-spp'];
  const parse = reportParser(spec);
  const seen = new SeenDocs();
  const maxPerPoll = Math.ceil(c.backfillMs / (15 * MIN)) + 2;

  async function pollMis(ctx: PollContext): Promise<PollOutcome> {
    const mis = d.mis(request(ctx, d.config));
    const listed = latestPerKey(await mis.list(spec.reportTypeId), rtPostingKey);
    const wanted = listed.filter((k) => k.doc.publishMs >= ctx.nowMs - c.backfillMs && !seen.has(k.doc.docId)).slice(-maxPerPoll);
    const batches: ParsedBatch[] = [];
    for (const k of wanted) {
      checkAborted(ctx.signal);
      const { name, text } = await mis.downloadCsv(k.doc);
      batches.push(keepPoints(parse(name, text), d.config.settlementPoints));
    }
    if (wanted.length === 0) return { batches: [], note: `no new ${spec.emil} posting (${listed.length} listed)` };
    const keys = wanted.map((k) => k.key);
    return {
      batches: [{ label: `ercot-mis:${spec.reportTypeId} ${keys[0]}..${keys.at(-1)}`, batch: combineBatches(spec.formatId, batches, '0000-01-01', '9999-12-31') }],
      note: `${wanted.length} ${spec.emil} posting(s) ${keys[0]}..${keys.at(-1)}`,
      onStored: () => wanted.forEach((k) => seen.add(k.doc.docId)),
    };
  }

  async function pollApi(ctx: PollContext): Promise<PollOutcome> {
    const from = cptDatePlus(ctx.nowMs - 60 * MIN, 0);
    const to = cptDatePlus(ctx.nowMs, 0);
    const batch = await fetchApiDays(d, 'rt-spp', from, to, ctx);
    return { batches: [{ label: `ercot-api:${spec.emil} ${from}..${to}`, batch }], note: `${spec.emil} ${from}..${to} via the Public API` };
  }

  /** The newest interval the store held at the last load. */
  let last: { startMs: number; minutes: number } | undefined;

  function freshness(): Freshness {
    if (!last) return {};
    const endMs = last.startMs + last.minutes * MIN;
    return { latestIntervalStartMs: last.startMs, latestIntervalMinutes: last.minutes, dataTimeMs: endMs, staleAtMs: endMs + c.staleAfterMs };
  }

  /** The newest interval that should be posted by now (ended at least publishDelay ago). */
  const expectedEndMs = (nowMs: number) => Math.floor((nowMs - c.publishDelayMs) / (15 * MIN)) * 15 * MIN;

  return {
    id: 'ercot-rt',
    staleAfterMs: c.staleAfterMs,
    poll: (ctx) => (d.config.ercot.channel === 'api' ? pollApi(ctx) : pollMis(ctx)),
    async load(nowMs) {
      const row = (await heldPrices(d, 'RT', nowMs)).at(-1);
      last = row ? { startMs: row.intervalStartMs, minutes: row.intervalMinutes } : undefined;
    },
    freshness,
    waitingFor(nowMs) {
      const held = freshness().dataTimeMs;
      const expected = expectedEndMs(nowMs);
      return held === undefined || held < expected ? `the ${spec.emil} posting of the interval ending ${new Date(expected).toISOString()} is not in yet` : undefined;
    },
    nextPollMs(nowMs, waiting) {
      const regular = nextOnGridMs(nowMs, c.everyMs, c.publishDelayMs);
      // A posting running late is looked for again every minute, not only at the next grid point.
      return waiting ? Math.min(regular, nowMs + MIN) : regular;
    },
  };
}

/**
 * Day-ahead SPP: the DAM posting of tomorrow (CPT), once a day after ~13:30 CPT, retried until it is
 * in; today's too when it is missing (first start). Stale when the current hour has no DA price.
 */
export function ercotDaPoller(d: ErcotPollerDeps): Poller {
  const c = d.config.ercotDa;
  const spec = ERCOT_REPORTS['dam-spp'];
  const parse = reportParser(spec);
  const seen = new SeenDocs();

  /** Today's DAM posting (for tomorrow) is due by now. */
  const pastPublishTime = (nowMs: number): boolean => nowMs >= cptWallMs(cptDatePlus(nowMs, 0), c.publishAtMinuteCpt);

  /** The primary point's DA prices the store held at the last load (LOOKBACK_MS back to 3 days ahead), sorted. */
  let held: PricePoint[] = [];

  /** The primary point holds every hour of the CPT day `date` (as of the last load: today and tomorrow are in its range). */
  const haveDay = (date: string): boolean => {
    const { startMs, endMs } = cptDayRangeMs(date);
    const rows = held.filter((p) => p.intervalStartMs >= startMs && p.intervalStartMs < endMs);
    return rows.length > 0 && rows.length * (rows[0]?.intervalMinutes ?? 60) * MIN >= endMs - startMs;
  };

  async function pollMis(ctx: PollContext, days: readonly string[]): Promise<PollOutcome> {
    const mis = d.mis(request(ctx, d.config));
    const listed = latestPerKey(await mis.list(spec.reportTypeId), damPostingKey);
    const wanted = listed.filter((k) => days.includes(k.operatingDay) && !seen.has(k.doc.docId));
    const batches: ParsedBatch[] = [];
    for (const k of wanted) {
      checkAborted(ctx.signal);
      const { name, text } = await mis.downloadCsv(k.doc);
      batches.push(keepPoints(parse(name, text), d.config.settlementPoints));
    }
    const got = wanted.map((k) => k.operatingDay);
    return {
      batches: got.length === 0 ? [] : [{ label: `ercot-mis:${spec.reportTypeId} ${got.join(',')}`, batch: combineBatches(spec.formatId, batches, days[0] as string, days.at(-1) as string) }],
      note: got.length === 0 ? `no ${spec.emil} posting for ${days.join(', ')} yet` : `${spec.emil} for ${got.join(', ')}`,
      onStored: () => wanted.forEach((k) => seen.add(k.doc.docId)),
    };
  }

  async function pollApi(ctx: PollContext, days: readonly string[]): Promise<PollOutcome> {
    const out: PollOutcome = { batches: [], note: '' };
    const got: string[] = [];
    for (const day of days) {
      try {
        out.batches.push({ label: `ercot-api:${spec.emil} ${day}`, batch: await fetchApiDays(d, 'dam-spp', day, day, ctx) });
        got.push(day);
      } catch (err) {
        // The API answers an unpublished day with no rows: wait for it, it is not a fault.
        if (!(err instanceof MulletError && err.code === 'NO_DATA')) throw err;
      }
    }
    out.note = got.length === 0 ? `no ${spec.emil} rows for ${days.join(', ')} yet` : `${spec.emil} for ${got.join(', ')} via the Public API`;
    return out;
  }

  return {
    id: 'ercot-da',
    staleAfterMs: c.staleAfterMs,
    async poll(ctx) {
      const today = cptDatePlus(ctx.nowMs, 0);
      const tomorrow = cptDatePlus(ctx.nowMs, 1);
      const publishedBy = pastPublishTime(ctx.nowMs);
      const days = [...(haveDay(today) ? [] : [today]), ...(publishedBy && !haveDay(tomorrow) ? [tomorrow] : [])];
      if (days.length === 0) return { batches: [], note: `DA prices held for ${today}${publishedBy ? ` and ${tomorrow}` : ''}` };
      return d.config.ercot.channel === 'api' ? pollApi(ctx, days) : pollMis(ctx, days);
    },
    async load(nowMs) {
      held = await heldPrices(d, 'DA', nowMs);
    },
    freshness(nowMs): Freshness {
      const rows = held;
      const last = rows.at(-1);
      if (!last) return {};
      const newest = { latestIntervalStartMs: last.intervalStartMs, latestIntervalMinutes: last.intervalMinutes };
      // DA prices cover the future: what counts is how far the prices run without a hole from the
      // hour in force. Stale once that coverage has ended (+ staleAfter): the hour in force has none.
      let i = rows.findLastIndex((p) => p.intervalStartMs <= nowMs);
      const inForce = rows[i];
      if (!inForce) return newest;
      let endMs = inForce.intervalStartMs + inForce.intervalMinutes * MIN;
      for (let next = rows[i + 1]; endMs > nowMs && next?.intervalStartMs === endMs; next = rows[++i + 1]) endMs += next.intervalMinutes * MIN;
      return { ...newest, dataTimeMs: endMs, staleAtMs: endMs + c.staleAfterMs };
    },
    waitingFor(nowMs) {
      const publishedBy = pastPublishTime(nowMs);
      const tomorrow = cptDatePlus(nowMs, 1);
      if (publishedBy && !haveDay(tomorrow)) return `${spec.emil} for ${tomorrow} not posted yet`;
      const today = cptDatePlus(nowMs, 0);
      return haveDay(today) ? undefined : `${spec.emil} for ${today} not held`;
    },
    nextPollMs(nowMs) {
      return nextDaPollMs(nowMs, { publishAtMinuteCpt: c.publishAtMinuteCpt, retryEveryMs: c.retryEveryMs, haveTomorrow: haveDay(cptDatePlus(nowMs, 1)) });
    },
  };
}

/**
 * ERCOT system load: the newest NP6-345-CD posting (actual, by weather zone) and the newest
 * NP3-565-CD posting (seven-day forecast; the in-use model's system total as TOTAL_FORECAST), MIS only.
 * Staleness follows the forecast's publish time when the forecast is on (4CP alerts read it).
 */
export function ercotLoadPoller(d: ErcotPollerDeps): Poller {
  const c = d.config.ercotLoad;
  const seen = new SeenDocs();
  let forecastPublishMs: number | undefined;
  let actualPublishMs: number | undefined;
  /** System load the store held at the last load, sorted. */
  let rows: LoadPoint[] = [];

  async function newest(ctx: PollContext, reportTypeId: number, formatId: string): Promise<{ doc: MisDocument; batch: ParsedBatch } | undefined> {
    const mis = d.mis(request(ctx, d.config));
    const docs = (await mis.list(reportTypeId)).filter(isCsvDocument).sort((a, b) => a.publishMs - b.publishMs);
    const doc = docs.at(-1);
    if (!doc || seen.has(doc.docId)) return undefined;
    checkAborted(ctx.signal);
    const { name, text } = await mis.downloadCsv(doc);
    let parsed;
    try {
      parsed = parseDataText(name, text);
    } catch (err) {
      if (err instanceof MulletError && err.code === 'BAD_INPUT') throw new MulletError('PARSE', `report ${reportTypeId} did not parse: ${err.message}`, { where: err.where ?? name, cause: err });
      throw err;
    }
    if (parsed.format.id !== formatId) throw new MulletError('PARSE', `expected an ${formatId} CSV from report ${reportTypeId}, got format '${parsed.format.id}'`, { where: name });
    return { doc, batch: parsed.batch };
  }

  return {
    id: 'ercot-load',
    staleAfterMs: c.staleAfterMs,
    async poll(ctx) {
      const got: { kind: 'actual' | 'forecast'; doc: MisDocument; batch: ParsedBatch }[] = [];
      if (c.actual) {
        const a = await newest(ctx, LOAD_REPORT_TYPES.actual, 'ercot-np6-345');
        if (a) got.push({ kind: 'actual', ...a });
      }
      if (c.forecast) {
        const f = await newest(ctx, LOAD_REPORT_TYPES.forecast, 'ercot-np3-565');
        if (f) got.push({ kind: 'forecast', ...f });
      }
      return {
        batches: got.map((g) => ({ label: `ercot-mis:${g.kind === 'actual' ? LOAD_REPORT_TYPES.actual : LOAD_REPORT_TYPES.forecast} ${g.doc.friendlyName}`, batch: g.batch })),
        note: got.length === 0 ? 'no new load posting' : got.map((g) => `${g.kind} ${g.doc.friendlyName}`).join(', '),
        onStored: () => {
          for (const g of got) {
            seen.add(g.doc.docId);
            if (g.kind === 'forecast') forecastPublishMs = Math.max(forecastPublishMs ?? 0, g.doc.publishMs);
            else actualPublishMs = Math.max(actualPublishMs ?? 0, g.doc.publishMs);
          }
        },
      };
    },
    async load(nowMs) {
      rows = await d.store.loads({ market: 'ERCOT', zone: 'TOTAL', fromMs: nowMs - LOOKBACK_MS, toMs: nowMs + DAY });
    },
    freshness(): Freshness {
      const last = rows.at(-1);
      const held = last ? { latestIntervalStartMs: last.intervalStartMs, latestIntervalMinutes: last.intervalMinutes } : {};
      // What staleness measures: when the forecast in use was posted (else the actual's posting).
      const dataTimeMs = c.forecast ? forecastPublishMs : actualPublishMs;
      if (dataTimeMs === undefined) return held;
      return { ...held, dataTimeMs, staleAtMs: dataTimeMs + c.staleAfterMs };
    },
    nextPollMs(nowMs) {
      return nextOnGridMs(nowMs, c.everyMs, c.offsetMs);
    },
  };
}
