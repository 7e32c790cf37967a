import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { cptWallToUtcMs, formatCpt } from '../../core/ercot-time.js';
import { decodeUtf8, joinUrl, type HttpClient, type RequestOptions } from '../../net/http-client.js';
import { decode } from './decode.js';
import { looksLikeZip, readSingleFileZip } from './zip.js';

/**
 * ERCOT MIS public report documents (no account needed). A report type has a document list:
 *
 *   GET {base}/misapp/servlets/IceDocListJsonWS?reportTypeId=12301
 *   → { "ListDocsByRptTypeRes": { "DocumentList": [ { "Document": {
 *         "DocID": "1000000001",                                   (download key)
 *         "ReportTypeID": 12301,
 *         "FriendlyName": "SPPHLZNP6905_20240329_0100_csv",        (RT: interval END, CPT, HHMM)
 *         "ConstructedName": "cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100_csv.zip",
 *         "Extension": "zip", "ContentSize": 4387 (bytes),
 *         "PublishDate": "2024-03-29T01:02:11-05:00" } } ] } }     (ISO 8601 with the CPT offset)
 *
 *   GET {base}/misdownload/servlets/mirDownload?doclookupId=<DocID>  → a ZIP holding one CSV
 *
 * Every posting exists twice, `..._csv` and `..._xml`; only the CSV twin is used. ERCOT re-posts a
 * corrected interval as `..._retry_...`; the latest publication of an interval wins. The MIS keeps
 * only a few days of postings per report: older days come from the Public API or the yearly
 * history files (`mullet data import`).
 */

export const DEFAULT_MIS_BASE_URL = 'https://www.ercot.com';

const docSchema = z.object({
  DocID: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
  FriendlyName: z.string(),
  ConstructedName: z.string(),
  PublishDate: z.string(),
  ContentSize: z.union([z.string(), z.number()]).optional(),
});
const one = <T extends z.ZodType>(s: T) => z.union([z.array(s), s]);

/** The documented shape, tolerant where JSON-from-XML converters differ (one item → no array; empty → no list). */
export const misListSchema = z.object({
  ListDocsByRptTypeRes: z.object({
    DocumentList: one(z.object({ Document: one(docSchema) })).optional(),
  }),
});

export interface MisDocument {
  docId: string;
  friendlyName: string;
  constructedName: string;
  publishMs: number;
  /** Declared archive size, bytes (when listed). */
  contentSizeBytes?: number;
}

/** Publish time in UTC ms: ISO with an offset as given; without one it is read as CPT wall clock. */
export function parsePublishDate(text: string): number | undefined {
  if (/(?:Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    const ms = Date.parse(text);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(text);
  if (!m) return undefined;
  try {
    const ms = cptWallToUtcMs({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }, Number(m[4]) * 60 + Number(m[5]));
    return ms + Number(m[6] ?? 0) * 1000;
  } catch {
    return undefined;
  }
}

/** Flattens and validates a document list; entries with an unreadable PublishDate are a PARSE error. */
export function parseMisList(value: unknown, where: string): MisDocument[] {
  const list = decode(misListSchema, value, where).ListDocsByRptTypeRes.DocumentList;
  const groups = list === undefined ? [] : Array.isArray(list) ? list : [list];
  const out: MisDocument[] = [];
  for (const g of groups) {
    for (const d of Array.isArray(g.Document) ? g.Document : [g.Document]) {
      const publishMs = parsePublishDate(d.PublishDate);
      if (publishMs === undefined) throw new MulletError('PARSE', `document ${d.DocID}: unreadable PublishDate '${d.PublishDate}'`, { where });
      const size = d.ContentSize === undefined ? NaN : Number(d.ContentSize);
      out.push({
        docId: d.DocID,
        friendlyName: d.FriendlyName,
        constructedName: d.ConstructedName,
        publishMs,
        ...(Number.isFinite(size) && size >= 0 ? { contentSizeBytes: size } : {}),
      });
    }
  }
  return out;
}

/** The CSV twin of a posting (FriendlyName `…_csv`, or ConstructedName `…_csv.zip`). */
export function isCsvDocument(d: MisDocument): boolean {
  return /_csv$/i.test(d.friendlyName) || /_csv\.zip$/i.test(d.constructedName);
}

/** CPT calendar date (YYYY-MM-DD) of a UTC instant. */
export function cptDate(utcMs: number): string {
  return formatCpt(utcMs).slice(0, 10);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Operating day and interval key of an RT posting from its name: `SPPHLZNP6905_20240329_0100_csv`
 * labels the 15-minute interval ENDING 01:00 CPT on 2024-03-29; `_0000` ends the previous day.
 */
export function rtPostingKey(d: MisDocument): { operatingDay: string; key: string } | undefined {
  const matches = [...d.friendlyName.matchAll(/_(\d{4})(\d{2})(\d{2})_(\d{4})(?=_|$)/g)];
  const m = matches.at(-1);
  if (!m) return undefined;
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  const operatingDay = m[4] === '0000' ? addDays(date, -1) : date;
  return { operatingDay, key: `${date}_${m[4]}` };
}

/** Operating day of a DAM posting: DAM clears on the day before delivery, so publish day (CPT) + 1. */
export function damPostingKey(d: MisDocument): { operatingDay: string; key: string } {
  const operatingDay = addDays(cptDate(d.publishMs), 1);
  return { operatingDay, key: operatingDay };
}

export interface MisClientOptions {
  http: HttpClient;
  baseUrl?: string;
  request?: RequestOptions;
}

export class MisClient {
  readonly baseUrl: string;
  private readonly http: HttpClient;
  private readonly request: RequestOptions;

  constructor(opts: MisClientOptions) {
    this.http = opts.http;
    this.baseUrl = (opts.baseUrl ?? DEFAULT_MIS_BASE_URL).replace(/\/+$/, '');
    this.request = opts.request ?? {};
  }

  listUrl(reportTypeId: number): string {
    return joinUrl(this.baseUrl, `/misapp/servlets/IceDocListJsonWS?reportTypeId=${reportTypeId}`);
  }

  downloadUrl(docId: string): string {
    return joinUrl(this.baseUrl, `/misdownload/servlets/mirDownload?doclookupId=${encodeURIComponent(docId)}`);
  }

  async list(reportTypeId: number): Promise<MisDocument[]> {
    const url = this.listUrl(reportTypeId);
    return parseMisList(await this.http.fetchJson(url, this.request), url);
  }

  /** Downloads one document and returns its single CSV as text (name from inside the ZIP). */
  async downloadCsv(doc: MisDocument): Promise<{ name: string; text: string }> {
    const url = this.downloadUrl(doc.docId);
    const bytes = await this.http.fetchBytes(url, this.request);
    if (!looksLikeZip(bytes)) {
      // The servlet answers a missing or expired document with 200 and an HTML/XML error page.
      const head = decodeUtf8(bytes.subarray(0, 200)).replace(/\s+/g, ' ').trim();
      throw new MulletError('PROTOCOL', `document ${doc.docId} (${doc.constructedName}) is not a ZIP: ${head || '(empty body)'}`, { where: url });
    }
    const { name, data } = readSingleFileZip(bytes, doc.constructedName);
    return { name, text: decodeUtf8(data) };
  }
}
