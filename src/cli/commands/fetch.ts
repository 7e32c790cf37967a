import { badInput, isMulletError, MulletError } from '../../core/errors.js';
import { parseUtcDate, systemClock } from '../../core/time.js';
import { DEFAULT_API_BASE_URL, DEFAULT_TOKEN_URL, type ApiCredentials } from '../../market/fetchers/ercot-api.js';
import { DEFAULT_MIS_BASE_URL, MisClient, cptDate } from '../../market/fetchers/ercot-mis.js';
import { ERCOT_REPORT_IDS, ERCOT_REPORTS, fetchErcotApi, fetchErcotMis, reportParser, type ErcotFetchResult, type ErcotReportId } from '../../market/fetchers/ercot.js';
import { createHttpClient, DEFAULT_RETRY, type HttpClient, type RetryInfo } from '../../net/http-client.js';
import { fetchMempool } from '../../market/fetchers/mempool-fetch.js';
import { DEFAULT_MEMPOOL_BASE_URL, MEMPOOL_INTERVALS, MempoolClient, type MempoolInterval } from '../../market/fetchers/mempool.js';
import type { ParsedBatch } from '../../market/types.js';
import type { ImportReport } from '../../market/store-port.js';
import { openStoreAt, resolveStoreLocation } from '../store-open.js';
import { need, opt, type CliIo, type CommandSpec, type OptionSpec, type ParsedArgs } from '../command.js';
import { fmt, printJson } from '../output.js';
import { createProgress } from '../progress.js';

/**
 * `mullet data fetch …`: download public market data and ingest it into the store. Everything is
 * fetched and parsed before the store is opened, so a failed download writes nothing.
 */

const DB_OPTION: OptionSpec = { type: 'string', value: 'FILE|URL', description: 'market store: a SQLite file, or a postgres:// URL', env: 'MULLET_DB', default: './mullet.db' };

const NET_OPTIONS: Record<string, OptionSpec> = {
  'timeout-s': { type: 'number', gt: 0, max: 3600, value: 'S', unit: 's', description: 'deadline per HTTP attempt (connect, headers and body)', default: 30 },
  retries: { type: 'int', min: 0, max: 10, value: 'N', unit: 'attempts', description: 'extra attempts after a transient failure (timeout, network, 429, 5xx), with exponential backoff and jitter', default: DEFAULT_RETRY.attempts - 1 },
};

function dbPath(io: CliIo, args: ParsedArgs): string {
  return resolveStoreLocation(io.cwd, opt.str(args, 'db') ?? './mullet.db');
}

function httpFor(args: ParsedArgs, io: CliIo): HttpClient {
  const timeoutS = opt.num(args, 'timeout-s') ?? 30;
  const retries = opt.num(args, 'retries') ?? DEFAULT_RETRY.attempts - 1;
  return createHttpClient({
    defaultTimeoutMs: timeoutS * 1000,
    retry: { attempts: retries + 1 },
    onRetry: (r: RetryInfo) => io.stderr(`  retry ${r.attempt}/${retries} in ${fmt(r.delayMs / 1000, 1)} s after: ${r.error.message}\n`),
  });
}

/** Network failures get a hint: in a sandbox or offline this is the expected outcome. */
async function withHint<T>(p: Promise<T>, baseOption: string): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (isMulletError(err) && (err.code === 'NETWORK' || err.code === 'TIMEOUT')) {
      throw new MulletError(err.code, `${err.message}; check the network connection or point ${baseOption} at a reachable server`, {
        cause: err,
        transient: err.transient,
        ...(err.where === undefined ? {} : { where: err.where }),
      });
    }
    throw err;
  }
}

async function ingest(db: string, label: string, batch: ParsedBatch): Promise<ImportReport> {
  const store = await openStoreAt(db);
  try {
    return await store.ingest(label, batch);
  } finally {
    await store.close();
  }
}

function written(r: ImportReport): number {
  return r.inserted.prices + r.inserted.loads + r.inserted.btcDays + r.inserted.epochs;
}

function reportLine(r: ImportReport, db: string): string {
  return `written ${fmt(written(r), 0)} (prices ${fmt(r.inserted.prices, 0)}, BTC day values ${fmt(r.inserted.btcDays, 0)}, epochs ${fmt(r.inserted.epochs, 0)}; ${fmt(r.changed, 0)} changed), unchanged ${fmt(r.unchanged, 0)} — database ${db}`;
}

const mempoolCommand: CommandSpec = {
  path: ['data', 'fetch', 'mempool'],
  summary: 'fetch Bitcoin daily data (price, difficulty, hashrate, fees, heights) and epochs from a mempool.space API',
  description: [
    'Seven GET requests, one after another, to mempool.space or a self-hosted mempool instance; stored as',
    "source 'mempool' (other sources rank first where they overlap). Fees, block counts and end-of-day",
    'heights are estimated from bucket averages (a few blocks per day at most); only finished UTC days are',
    'stored. Intervals shorter than 1m may hold no retarget, hence no difficulty days.',
  ].join('\n'),
  options: {
    'base-url': { type: 'string', value: 'URL', description: 'mempool instance (with or without /api)', env: 'MULLET_MEMPOOL_URL', default: DEFAULT_MEMPOOL_BASE_URL },
    interval: { type: 'string', value: 'PERIOD', description: 'trailing period of the mining endpoints', choices: MEMPOOL_INTERVALS, default: '1y' },
    db: DB_OPTION,
    ...NET_OPTIONS,
  },
  json: true,
  examples: ['mullet data fetch mempool --interval 3m', 'mullet data fetch mempool --base-url http://umbrel.local:3006 --json'],
  async run(args, io) {
    const baseUrl = need(opt.str(args, 'base-url'), 'base-url');
    const interval = need(opt.str(args, 'interval'), 'interval') as MempoolInterval;
    const db = dbPath(io, args);
    const client = new MempoolClient({ http: httpFor(args, io), baseUrl, request: { signal: io.signal } });
    const fetched = await withHint(
      fetchMempool(client, {
        interval,
        nowMs: systemClock.nowMs(),
        onStep: (i, n, what) => io.stderr(`[${i}/${n}] GET ${client.baseUrl}/api/${what}\n`),
      }),
      '--base-url',
    );
    const { batch, snapshot } = fetched;
    const label = `${client.baseUrl}/api (interval ${interval})`;
    const report = await ingest(db, label, batch);
    const first = batch.btcDays[0]?.dateUtc ?? null;
    const last = batch.btcDays.at(-1)?.dateUtc ?? null;
    if (opt.bool(args, 'json')) {
      printJson(io, { source: 'mempool', baseUrl: client.baseUrl, interval, db, snapshot, days: { count: batch.btcDays.length, first, last }, epochs: batch.epochs.length, notes: batch.notes, report });
      return;
    }
    io.stdout(`${client.baseUrl} (${interval}): ${fmt(batch.btcDays.length, 0)} days${first ? ` ${first} → ${last}` : ''}, ${fmt(batch.epochs.length, 0)} difficulty epochs\n`);
    io.stdout(
      `now: tip height ${fmt(snapshot.tipHeight, 0)}, BTC ${fmt(snapshot.priceUsd)} USD, next retarget at height ${fmt(snapshot.nextRetargetHeight, 0)} ` +
        `(about ${new Date(snapshot.estimatedRetargetMs).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${snapshot.difficultyChangePct >= 0 ? '+' : ''}${fmt(snapshot.difficultyChangePct)} %)\n`,
    );
    io.stdout(reportLine(report, db) + '\n');
    for (const n of [...batch.notes, ...report.notes]) io.stdout(`note: ${n}\n`);
  },
};

function dateOption(args: ParsedArgs, name: string): string | undefined {
  const v = opt.str(args, name);
  if (v === undefined) return undefined;
  try {
    parseUtcDate(v);
  } catch (err) {
    throw badInput(err instanceof Error ? err.message : String(err), `--${name}`);
  }
  return v;
}

function apiCredentials(env: CliIo['env']): ApiCredentials {
  const subscriptionKey = env.ERCOT_API_SUBSCRIPTION_KEY;
  if (!subscriptionKey) throw badInput('--source api needs a subscription key (free at apiexplorer.ercot.com)', 'ERCOT_API_SUBSCRIPTION_KEY');
  const creds: ApiCredentials = { subscriptionKey };
  if (env.ERCOT_API_ID_TOKEN) creds.idToken = env.ERCOT_API_ID_TOKEN;
  if (env.ERCOT_API_USERNAME) creds.username = env.ERCOT_API_USERNAME;
  if (env.ERCOT_API_PASSWORD) creds.password = env.ERCOT_API_PASSWORD;
  if (!creds.idToken && !(creds.username && creds.password)) {
    throw badInput('--source api needs ERCOT_API_ID_TOKEN, or ERCOT_API_USERNAME and ERCOT_API_PASSWORD', 'environment');
  }
  return creds;
}

const ercotCommand: CommandSpec = {
  path: ['data', 'fetch', 'ercot'],
  summary: 'fetch ERCOT settlement point prices (RT 15-min or DAM hourly) from the MIS or the Public API',
  description: [
    'Dates are ERCOT operating days (Central Prevailing Time), inclusive; prices are stored as UTC interval',
    'starts, parsed by the same code as `data import`. --source mis (default, no account) downloads one ZIP',
    'per posting but the MIS keeps only the last few days; without dates it fetches the latest day listed.',
    '--source api reaches back further and needs a free ERCOT API account: ERCOT_API_SUBSCRIPTION_KEY plus',
    'ERCOT_API_ID_TOKEN or ERCOT_API_USERNAME / ERCOT_API_PASSWORD in the environment (never on the command',
    'line); without dates it fetches today (CPT). The API allows 30 requests a minute: pages are 2 s apart.',
  ].join('\n'),
  options: {
    report: { type: 'string', value: 'ID', description: 'rt-spp = NP6-905-CD real time; dam-spp = NP4-190-CD day ahead', choices: ERCOT_REPORT_IDS, required: true },
    from: { type: 'string', value: 'YYYY-MM-DD', unit: 'CPT operating day', description: 'first operating day' },
    to: { type: 'string', value: 'YYYY-MM-DD', unit: 'CPT operating day', description: 'last operating day (default: --from; --to alone fetches that one day)' },
    source: { type: 'string', value: 'SRC', description: 'mis (public documents) or api (ERCOT Public API, credentials in env)', choices: ['mis', 'api'], default: 'mis' },
    'base-url': { type: 'string', value: 'URL', description: 'ERCOT MIS host', env: 'MULLET_ERCOT_MIS_URL', default: DEFAULT_MIS_BASE_URL },
    'api-base-url': { type: 'string', value: 'URL', description: 'ERCOT Public API host', default: DEFAULT_API_BASE_URL },
    'token-url': { type: 'string', value: 'URL', description: 'ERCOT B2C token endpoint (ROPC grant)', default: DEFAULT_TOKEN_URL },
    'all-points': { type: 'boolean', description: 'keep every settlement point, not only hubs (HB_*) and load zones (LZ_*)' },
    db: DB_OPTION,
    ...NET_OPTIONS,
  },
  json: true,
  examples: ['mullet data fetch ercot --report rt-spp', 'mullet data fetch ercot --report dam-spp --source api --from 2025-01-01 --to 2025-01-31 --json'],
  async run(args, io) {
    const report = need(opt.str(args, 'report'), 'report') as ErcotReportId;
    const spec = ERCOT_REPORTS[report];
    let fromDate = dateOption(args, 'from');
    let toDate = dateOption(args, 'to');
    if (fromDate !== undefined && toDate !== undefined && fromDate > toDate) throw badInput(`--from ${fromDate} is after --to ${toDate}`, '--from');
    fromDate ??= toDate;
    toDate ??= fromDate;
    const source = opt.str(args, 'source') === 'api' ? 'api' : 'mis';
    const db = dbPath(io, args);
    const http = httpFor(args, io);
    const parse = reportParser(spec, opt.bool(args, 'all-points'));
    const progress = createProgress(io, `${spec.emil} ${source}`);
    const onProgress = (done: number, total: number, what: string) => {
      if (done === 0 && total === 1) io.stderr(`GET ${what}\n`);
      else progress.update(done, total);
    };
    const request = { signal: io.signal };
    let result: ErcotFetchResult;
    if (source === 'api') {
      const credentials = apiCredentials(io.env);
      fromDate ??= cptDate(systemClock.nowMs());
      toDate ??= fromDate;
      result = await withHint(
        fetchErcotApi(http, {
          report,
          fromDate,
          toDate,
          parse,
          signal: io.signal,
          onProgress,
          apiBaseUrl: need(opt.str(args, 'api-base-url'), 'api-base-url'),
          tokenUrl: need(opt.str(args, 'token-url'), 'token-url'),
          credentials,
          request,
        }),
        '--api-base-url',
      );
    } else {
      const client = new MisClient({ http, baseUrl: need(opt.str(args, 'base-url'), 'base-url'), request });
      result = await withHint(
        fetchErcotMis(client, { report, ...(fromDate === undefined ? {} : { fromDate }), ...(toDate === undefined ? {} : { toDate }), parse, signal: io.signal, onProgress }),
        '--base-url',
      );
    }
    progress.finish(`${fmt(result.fetched, 0)} ${source === 'api' ? 'pages' : 'documents'}`);
    const imported = await ingest(db, result.label, result.batch);
    if (opt.bool(args, 'json')) {
      printJson(io, { source, report, emil: spec.emil, fromDate: result.fromDate, toDate: result.toDate, fetched: result.fetched, prices: result.batch.prices.length, db, notes: result.batch.notes, import: imported });
      return;
    }
    const points = new Set(result.batch.prices.map((p) => p.settlementPoint)).size;
    io.stdout(`${spec.emil} ${spec.title}, ${result.fromDate}..${result.toDate} (CPT) from ${source === 'api' ? 'the Public API' : 'the MIS'}: ${fmt(result.fetched, 0)} ${source === 'api' ? 'pages' : 'documents'}, ${fmt(result.batch.prices.length, 0)} prices at ${points} settlement points\n`);
    io.stdout(reportLine(imported, db) + '\n');
    for (const n of [...result.batch.notes, ...imported.notes]) io.stdout(`note: ${n}\n`);
  },
};

export const fetchCommands: readonly CommandSpec[] = [mempoolCommand, ercotCommand];
