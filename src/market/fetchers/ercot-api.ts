import { z } from 'zod';
import { MulletError, badInput } from '../../core/errors.js';
import { decode } from './decode.js';
import { joinUrl, realSleep, type HttpClient, type RequestOptions, type Sleep } from '../../net/http-client.js';

/**
 * ERCOT Public API (api.ercot.com, free registration). Every call carries two credentials: an
 * API Management subscription key (header Ocp-Apim-Subscription-Key) and an Azure AD B2C ID token
 * (Authorization: Bearer), obtained with the ROPC grant and valid one hour. Report queries are
 * paged and column-oriented (documented Report envelope):
 *
 *   GET /api/public-reports/np6-905-cd/spp_node_zone_hub?deliveryDateFrom=2024-03-29&deliveryDateTo=2024-03-29&page=1&size=50000
 *   → { "_meta": { "totalRecords": 87168, "pageSize": 50000, "totalPages": 2, "currentPage": 1 },
 *       "report": { "reportEMIL": "NP6-905-CD", ... },
 *       "fields": [ { "name": "deliveryDate", "label": "Delivery Date", "dataType": "DATE" }, ... ],
 *       "data": [ ["2024-03-29", 1, 4, "HB_WEST", "HU", -1.08, false], ... ] }   (USD/MWh, CPT labels)
 *
 * Rows are rewritten into the MIS CSV layout of the same report and parsed by the same importer,
 * so both sources share one CPT→UTC conversion. Throttle: 30 requests per minute, so pages are
 * spaced by `minIntervalMs` (default 2 s).
 */

export const DEFAULT_API_BASE_URL = 'https://api.ercot.com';
export const DEFAULT_TOKEN_URL = 'https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token';
/** The public B2C application id from ERCOT's developer guide (not a secret). */
export const ERCOT_B2C_CLIENT_ID = 'fec253ea-0d06-4272-a5e6-b478baeecd70';
export const DEFAULT_PAGE_SIZE = 50_000;
export const DEFAULT_MIN_INTERVAL_MS = 2_000;
const MAX_PAGES = 10_000;

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);
type Cell = z.infer<typeof cell>;

export const reportPageSchema = z.object({
  _meta: z.object({
    totalRecords: z.number().int().nonnegative().optional(),
    totalPages: z.number().int().nonnegative(),
    currentPage: z.number().int().nonnegative(),
  }),
  fields: z.array(z.object({ name: z.string(), label: z.string().optional() })),
  // An empty result may come back as `{}` (the documented example's placeholder).
  data: z.union([z.array(z.union([z.array(cell), z.record(z.string(), cell)])), z.object({}).strict().transform(() => [])]),
});

const tokenSchema = z.object({ id_token: z.string().min(1) });

export interface ApiCredentials {
  subscriptionKey: string;
  /** A ready ID token; else username + password are exchanged for one. */
  idToken?: string;
  username?: string;
  password?: string;
}

/** One column of the MIS CSV layout and the API field names that feed it (matched ignoring case and punctuation). */
export interface ApiColumn {
  csv: string;
  fields: readonly string[];
  kind: 'date' | 'flag' | 'text';
}

/** Exchanges username/password for a B2C ID token (ROPC grant, parameters as in ERCOT's guide, sent in the form body). */
export async function fetchIdToken(http: HttpClient, tokenUrl: string, username: string, password: string, request: RequestOptions = {}): Promise<string> {
  const body = await http.postFormJson(
    tokenUrl,
    {
      username,
      password,
      grant_type: 'password',
      scope: `openid ${ERCOT_B2C_CLIENT_ID} offline_access`,
      client_id: ERCOT_B2C_CLIENT_ID,
      response_type: 'id_token',
    },
    request,
  );
  return decode(tokenSchema, body, tokenUrl).id_token;
}

/** Resolves the credentials into request headers, fetching an ID token when needed. */
export async function apiHeaders(http: HttpClient, tokenUrl: string, creds: ApiCredentials, request: RequestOptions = {}): Promise<Record<string, string>> {
  let token = creds.idToken;
  if (token === undefined) {
    if (creds.username === undefined || creds.password === undefined) {
      throw badInput('the ERCOT Public API needs ERCOT_API_ID_TOKEN, or ERCOT_API_USERNAME and ERCOT_API_PASSWORD', 'environment');
    }
    token = await fetchIdToken(http, tokenUrl, creds.username, creds.password, request);
  }
  return { 'ocp-apim-subscription-key': creds.subscriptionKey, authorization: `Bearer ${token}` };
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

function columnIndexes(fields: readonly { name: string; label?: string | undefined }[], columns: readonly ApiColumn[], where: string): number[] {
  return columns.map((c) => {
    const wanted = new Set(c.fields.map(norm));
    const i = fields.findIndex((f) => wanted.has(norm(f.name)) || (f.label !== undefined && wanted.has(norm(f.label))));
    if (i < 0) {
      throw new MulletError('PARSE', `no field for ${c.csv} (looked for ${c.fields.join(' / ')}; got ${fields.map((f) => f.name).join(', ')})`, { where });
    }
    return i;
  });
}

function csvCell(value: Cell | undefined, kind: ApiColumn['kind'], where: string): string {
  if (value === null || value === undefined) return '';
  if (kind === 'flag') {
    if (value === true || value === 'true' || value === 'Y') return 'Y';
    if (value === false || value === 'false' || value === 'N') return 'N';
    throw new MulletError('PARSE', `expected a DST flag, got '${String(value)}'`, { where });
  }
  const text = String(value);
  if (kind === 'date') {
    const iso = /^(\d{4})-(\d{2})-(\d{2})(?:T.*)?$/.exec(text);
    if (iso) return `${iso[2]}/${iso[3]}/${iso[1]}`;
    if (/^\d{2}\/\d{2}\/\d{4}$/.test(text)) return text;
    throw new MulletError('PARSE', `expected a delivery date, got '${text}'`, { where });
  }
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface ApiFetchOptions {
  apiBaseUrl: string;
  /** e.g. '/api/public-reports/np6-905-cd/spp_node_zone_hub'. */
  path: string;
  columns: readonly ApiColumn[];
  fromDate: string;
  toDate: string;
  headers: Record<string, string>;
  request?: RequestOptions;
  pageSize?: number;
  minIntervalMs?: number;
  sleep?: Sleep;
  onPage?: (page: number, totalPages: number) => void;
}

/** Fetches every page of a report for a delivery-date range and returns it as MIS-layout CSV text. */
export async function fetchApiReportCsv(http: HttpClient, o: ApiFetchOptions): Promise<{ csv: string; rows: number; pages: number }> {
  const lines = [o.columns.map((c) => c.csv).join(',')];
  const sleep = o.sleep ?? realSleep;
  const size = o.pageSize ?? DEFAULT_PAGE_SIZE;
  let indexes: number[] | undefined;
  let fieldNames: string[] = [];
  let page = 1;
  for (; page <= MAX_PAGES; page++) {
    if (page > 1) await sleep(o.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS, o.request?.signal);
    const query = `deliveryDateFrom=${o.fromDate}&deliveryDateTo=${o.toDate}&page=${page}&size=${size}`;
    const url = joinUrl(o.apiBaseUrl.replace(/\/+$/, ''), `${o.path}?${query}`);
    const body = decode(reportPageSchema, await http.fetchJson(url, { ...o.request, headers: { ...o.request?.headers, ...o.headers } }), url);
    if (!indexes) {
      indexes = columnIndexes(body.fields, o.columns, url);
      fieldNames = body.fields.map((f) => f.name);
    }
    for (const [r, row] of body.data.entries()) {
      const cells = Array.isArray(row) ? row : fieldNames.map((n) => row[n] ?? null);
      const at = `${url} data[${r}]`;
      lines.push(indexes.map((i, c) => csvCell(cells[i], (o.columns[c] as ApiColumn).kind, at)).join(','));
    }
    o.onPage?.(page, body._meta.totalPages);
    if (page >= body._meta.totalPages) break;
  }
  return { csv: lines.join('\n') + '\n', rows: lines.length - 1, pages: Math.min(page, MAX_PAGES) };
}
