import { MulletError, isMulletError } from '../../core/errors.js';
import { parseDataText } from '../importers/registry.js';
import { emptyBatch, type ParsedBatch } from '../types.js';
import { apiHeaders, fetchApiReportCsv, type ApiColumn, type ApiCredentials } from './ercot-api.js';
import { cptDate, damPostingKey, isCsvDocument, rtPostingKey, type MisClient, type MisDocument } from './ercot-mis.js';
import type { HttpClient, RequestOptions, Sleep } from '../../net/http-client.js';

/**
 * ERCOT settlement point prices from either public channel, parsed by the importers' parsers for
 * the same report layouts (NP6-905-CD, NP4-190-CD), so fetched and imported files are identical
 * once in the store. Dates are ERCOT operating days (CPT), inclusive.
 */

export type ErcotReportId = 'rt-spp' | 'dam-spp';
export const ERCOT_REPORT_IDS: readonly ErcotReportId[] = ['rt-spp', 'dam-spp'];

export interface ErcotReportSpec {
  id: ErcotReportId;
  emil: string;
  title: string;
  /** MIS report type id. */
  reportTypeId: number;
  /** Importer format id the CSV must be recognised as. */
  formatId: string;
  apiPath: string;
  apiColumns: readonly ApiColumn[];
  postingKey(d: MisDocument): { operatingDay: string; key: string } | undefined;
}

export const ERCOT_REPORTS: Readonly<Record<ErcotReportId, ErcotReportSpec>> = {
  'rt-spp': {
    id: 'rt-spp',
    emil: 'NP6-905-CD',
    title: 'real-time settlement point prices, 15 min',
    reportTypeId: 12301,
    formatId: 'ercot-np6-905',
    apiPath: '/api/public-reports/np6-905-cd/spp_node_zone_hub',
    apiColumns: [
      { csv: 'DeliveryDate', fields: ['deliveryDate'], kind: 'date' },
      { csv: 'DeliveryHour', fields: ['deliveryHour'], kind: 'text' },
      { csv: 'DeliveryInterval', fields: ['deliveryInterval'], kind: 'text' },
      { csv: 'SettlementPointName', fields: ['settlementPoint', 'settlementPointName'], kind: 'text' },
      { csv: 'SettlementPointType', fields: ['settlementPointType'], kind: 'text' },
      { csv: 'SettlementPointPrice', fields: ['settlementPointPrice'], kind: 'text' },
      { csv: 'DSTFlag', fields: ['DSTFlag'], kind: 'flag' },
    ],
    postingKey: rtPostingKey,
  },
  'dam-spp': {
    id: 'dam-spp',
    emil: 'NP4-190-CD',
    title: 'day-ahead settlement point prices, hourly',
    reportTypeId: 12331,
    formatId: 'ercot-np4-190',
    apiPath: '/api/public-reports/np4-190-cd/dam_stlmnt_pnt_prices',
    apiColumns: [
      { csv: 'DeliveryDate', fields: ['deliveryDate'], kind: 'date' },
      { csv: 'HourEnding', fields: ['hourEnding'], kind: 'text' },
      { csv: 'SettlementPoint', fields: ['settlementPoint', 'settlementPointName'], kind: 'text' },
      { csv: 'SettlementPointPrice', fields: ['settlementPointPrice'], kind: 'text' },
      { csv: 'DSTFlag', fields: ['DSTFlag'], kind: 'flag' },
    ],
    postingKey: damPostingKey,
  },
};

/** The parsing boundary: CSV text of one report file → records. */
export type CsvParser = (name: string, text: string) => ParsedBatch;

/**
 * The importer's parser for a report, checked to recognise the expected layout. A malformed
 * downloaded file is PARSE (the server's data), not BAD_INPUT (which would blame the user).
 */
export function reportParser(spec: ErcotReportSpec, allPoints = false): CsvParser {
  return (name, text) => {
    let parsed;
    try {
      parsed = parseDataText(name, text, { allPoints });
    } catch (err) {
      if (isMulletError(err) && err.code === 'BAD_INPUT') {
        throw new MulletError('PARSE', `${spec.emil} data did not parse: ${err.message}`, { where: err.where ?? name, cause: err });
      }
      throw err;
    }
    if (parsed.format.id !== spec.formatId) {
      throw new MulletError('PARSE', `expected an ${spec.emil} CSV, got format '${parsed.format.id}'`, { where: name });
    }
    return parsed.batch;
  };
}

export interface ErcotFetchOptions {
  report: ErcotReportId;
  /** First and last operating day (CPT, YYYY-MM-DD). MIS default: the latest day listed. */
  fromDate?: string;
  toDate?: string;
  parse: CsvParser;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, what: string) => void;
}

export interface ErcotFetchResult {
  batch: ParsedBatch;
  /** Names what was fetched, for the store's import log. */
  label: string;
  fromDate: string;
  toDate: string;
  /** Documents (MIS) or pages (API) fetched. */
  fetched: number;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MulletError('ABORTED', 'cancelled', { cause: signal.reason, transient: false });
}

/** Merges per-file batches and keeps only prices whose interval starts on an operating day in range. */
export function combineBatches(source: string, batches: readonly ParsedBatch[], fromDate: string, toDate: string): ParsedBatch {
  const out = emptyBatch(source);
  out.provider = 'ercot';
  const notes = new Set<string>();
  let outside = 0;
  for (const b of batches) {
    for (const p of b.prices) {
      const day = cptDate(p.intervalStartMs);
      if (day >= fromDate && day <= toDate) out.prices.push(p);
      else outside++;
    }
    out.loads.push(...b.loads);
    for (const n of b.notes) notes.add(n);
  }
  if (outside > 0) out.notes.push(`${outside} price rows outside ${fromDate}..${toDate} were left out`);
  // Every RT posting repeats the same parser note; a few examples are enough.
  const shown = [...notes].slice(0, 3);
  out.notes.push(...shown);
  if (notes.size > shown.length) out.notes.push(`(${notes.size - shown.length} more per-file notes)`);
  return out;
}

/** Lists, selects, downloads, unzips and parses MIS documents for a range of operating days. */
export async function fetchErcotMis(client: MisClient, o: ErcotFetchOptions): Promise<ErcotFetchResult> {
  const spec = ERCOT_REPORTS[o.report];
  o.onProgress?.(0, 1, `document list for report ${spec.reportTypeId} (${spec.emil})`);
  const keyed = (await client.list(spec.reportTypeId))
    .filter(isCsvDocument)
    .flatMap((d) => {
      const k = spec.postingKey(d);
      return k ? [{ doc: d, ...k }] : [];
    });
  const days = [...new Set(keyed.map((k) => k.operatingDay))].sort();
  const latest = days.at(-1);
  if (latest === undefined) throw new MulletError('NO_DATA', `the MIS lists no CSV documents for report ${spec.reportTypeId} (${spec.emil})`, { where: client.listUrl(spec.reportTypeId) });
  const fromDate = o.fromDate ?? o.toDate ?? latest;
  const toDate = o.toDate ?? o.fromDate ?? latest;
  // A corrected posting (`_retry_`) replaces the earlier one for the same interval.
  const byKey = new Map<string, MisDocument>();
  for (const k of keyed) {
    if (k.operatingDay < fromDate || k.operatingDay > toDate) continue;
    const prev = byKey.get(k.key);
    if (!prev || k.doc.publishMs > prev.publishMs) byKey.set(k.key, k.doc);
  }
  const selected = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, d]) => d);
  if (selected.length === 0) {
    throw new MulletError(
      'NO_DATA',
      `the MIS has no ${spec.emil} postings for ${fromDate}..${toDate}; it lists ${days[0]}..${latest} only (older days: --source api, or the yearly history files with 'mullet data import')`,
      { where: client.listUrl(spec.reportTypeId) },
    );
  }
  const batches: ParsedBatch[] = [];
  for (const [i, doc] of selected.entries()) {
    checkAborted(o.signal);
    o.onProgress?.(i, selected.length, doc.friendlyName);
    const { name, text } = await client.downloadCsv(doc);
    batches.push(o.parse(name, text));
  }
  o.onProgress?.(selected.length, selected.length, 'done');
  return {
    batch: combineBatches(spec.formatId, batches, fromDate, toDate),
    label: `ercot-mis:${spec.reportTypeId} ${fromDate}..${toDate}`,
    fromDate,
    toDate,
    fetched: selected.length,
  };
}

export interface ErcotApiFetchOptions extends ErcotFetchOptions {
  fromDate: string;
  toDate: string;
  apiBaseUrl: string;
  tokenUrl: string;
  credentials: ApiCredentials;
  request?: RequestOptions;
  pageSize?: number;
  minIntervalMs?: number;
  sleep?: Sleep;
}

/** Fetches a report for a delivery-date range through the Public API (credentials required). */
export async function fetchErcotApi(http: HttpClient, o: ErcotApiFetchOptions): Promise<ErcotFetchResult> {
  const spec = ERCOT_REPORTS[o.report];
  const headers = await apiHeaders(http, o.tokenUrl, o.credentials, o.request);
  const { csv, rows, pages } = await fetchApiReportCsv(http, {
    apiBaseUrl: o.apiBaseUrl,
    path: spec.apiPath,
    columns: spec.apiColumns,
    fromDate: o.fromDate,
    toDate: o.toDate,
    headers,
    ...(o.request ? { request: o.request } : {}),
    ...(o.pageSize === undefined ? {} : { pageSize: o.pageSize }),
    ...(o.minIntervalMs === undefined ? {} : { minIntervalMs: o.minIntervalMs }),
    ...(o.sleep ? { sleep: o.sleep } : {}),
    onPage: (page, total) => o.onProgress?.(page, Math.max(total, page), `${spec.emil} page ${page}`),
  });
  if (rows === 0) throw new MulletError('NO_DATA', `the Public API returned no ${spec.emil} rows for ${o.fromDate}..${o.toDate}`, { where: `${o.apiBaseUrl}${spec.apiPath}` });
  const name = `${spec.apiPath} ${o.fromDate}..${o.toDate}`;
  return {
    batch: combineBatches(spec.formatId, [o.parse(name, csv)], o.fromDate, o.toDate),
    label: `ercot-api:${spec.emil} ${o.fromDate}..${o.toDate}`,
    fromDate: o.fromDate,
    toDate: o.toDate,
    fetched: pages,
  };
}
