import { describe, expect, it } from 'vitest';
import { MulletError } from '../../core/errors.js';
import { skipWithoutSharedData } from '../../testing/data.js';
import type { PricePoint } from '../types.js';
import { apiHeaders, fetchApiReportCsv, reportPageSchema, type ApiColumn } from './ercot-api.js';
import { MisClient, damPostingKey, isCsvDocument, parseMisList, parsePublishDate, rtPostingKey, type MisDocument } from './ercot-mis.js';
import { ERCOT_REPORTS, fetchErcotApi, fetchErcotMis, reportParser } from './ercot.js';
import { createHttpClient, type Sleep } from '../../net/http-client.js';
import { constructedFixture, ercotMisReply, rtCsv } from './testing/ercot-samples.js';
import { RecordedTransport } from '../../net/testing/recorded-transport.js';
import { withData } from './testing/shared-data.js';

const noSleep: Sleep = () => Promise.resolve();

async function caught(p: Promise<unknown>): Promise<MulletError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MulletError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

function doc(friendlyName: string, publish = '2024-03-29T01:02:11-05:00'): MisDocument {
  return { docId: '1', friendlyName, constructedName: `x.${friendlyName}.zip`, publishMs: parsePublishDate(publish) ?? NaN };
}

function misTransport(): RecordedTransport {
  return new RecordedTransport([[/^https:\/\/mis\.example\//, (req) => ercotMisReply(req.url.replace('https://mis.example', ''))]]);
}

function misClient(t: RecordedTransport): MisClient {
  return new MisClient({ http: createHttpClient({ transport: t, sleep: noSleep }), baseUrl: 'https://mis.example/' });
}

const at = (iso: string) => Date.parse(iso);
const point = (prices: readonly PricePoint[], name: string, startIso: string) =>
  prices.find((p) => p.settlementPoint === name && p.intervalStartMs === at(startIso))?.priceUsdPerMWh;

describe('MIS document list', () => {
  it('reads PublishDate with its offset, and as CPT wall clock when it has none', () => {
    expect(parsePublishDate('2024-03-29T01:02:11-05:00')).toBe(at('2024-03-29T06:02:11Z'));
    expect(parsePublishDate('2024-12-02T10:00:00Z')).toBe(at('2024-12-02T10:00:00Z'));
    expect(parsePublishDate('2024-12-02T10:00:00')).toBe(at('2024-12-02T16:00:00Z')); // CST
    expect(parsePublishDate('yesterday')).toBeUndefined();
  });

  it('keys RT postings by the interval they end; 00:00 ends the previous operating day', () => {
    expect(rtPostingKey(doc('SPPHLZNP6905_20240329_0100_csv'))).toEqual({ operatingDay: '2024-03-29', key: '2024-03-29_0100' });
    expect(rtPostingKey(doc('SPPHLZNP6905_retry_20240329_0045_csv'))).toEqual({ operatingDay: '2024-03-29', key: '2024-03-29_0045' });
    expect(rtPostingKey(doc('SPPHLZNP6905_20240330_0000_csv'))?.operatingDay).toBe('2024-03-29');
    expect(rtPostingKey(doc('SPPHLZNP6905_csv'))).toBeUndefined();
  });

  it('dates a DAM posting to the day after its CPT publish day', () => {
    expect(damPostingKey(doc('DAMSPNP4190_csv', '2025-04-10T12:30:02-05:00')).operatingDay).toBe('2025-04-11');
    // 23:30 CDT is already the next day in UTC; the CPT day still decides.
    expect(damPostingKey(doc('DAMSPNP4190_csv', '2025-04-10T23:30:00-05:00')).operatingDay).toBe('2025-04-11');
  });

  it('parses the constructed listing, keeps CSV twins, tolerates one-item and empty lists', () => {
    const docs = parseMisList(constructedFixture('ercot-mis-list-12301.constructed.json'), 'list');
    expect(docs.map((d) => d.docId)).toEqual(['1000000005', '1000000004', '1000000003', '1000000002', '1000000001']);
    expect(docs[2]).toEqual({
      docId: '1000000003',
      friendlyName: 'SPPHLZNP6905_20240329_0100_csv',
      constructedName: 'cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100_csv.zip',
      publishMs: at('2024-03-29T06:02:11Z'),
      contentSizeBytes: 4387,
    });
    expect(docs.filter(isCsvDocument)).toHaveLength(4);
    const single = { ListDocsByRptTypeRes: { DocumentList: { Document: { DocID: 7, FriendlyName: 'A_csv', ConstructedName: 'a_csv.zip', PublishDate: '2024-01-01T00:00:00-06:00' } } } };
    expect(parseMisList(single, 'l').map((d) => d.docId)).toEqual(['7']);
    expect(parseMisList({ ListDocsByRptTypeRes: {} }, 'l')).toEqual([]);
    const bad = { ListDocsByRptTypeRes: { DocumentList: [{ Document: { DocID: '1', FriendlyName: 'a', ConstructedName: 'b', PublishDate: 'soon' } }] } };
    expect(() => parseMisList(bad, 'l')).toThrow(/unreadable PublishDate 'soon'/);
    expect(() => parseMisList({ DocumentList: [] }, 'l')).toThrow(/unexpected response shape at ListDocsByRptTypeRes/);
  });
});

describe('Public API pages', () => {
  const columns: ApiColumn[] = [
    { csv: 'DeliveryDate', fields: ['deliveryDate'], kind: 'date' },
    { csv: 'HourEnding', fields: ['hourEnding'], kind: 'text' },
    { csv: 'SettlementPoint', fields: ['settlementPoint'], kind: 'text' },
    { csv: 'SettlementPointPrice', fields: ['settlementPointPrice'], kind: 'text' },
    { csv: 'DSTFlag', fields: ['DSTFlag'], kind: 'flag' },
  ];
  const fields = [{ name: 'deliveryDate' }, { name: 'hourEnding' }, { name: 'settlementPoint' }, { name: 'settlementPointPrice' }, { name: 'DSTFlag' }];
  const page = (n: number, total: number, data: unknown[]) => ({ body: JSON.stringify({ _meta: { totalRecords: 3, totalPages: total, currentPage: n }, fields, data }) });

  it('follows totalPages, spaces pages for the throttle, sends both credentials, writes MIS-layout CSV', async () => {
    const t = new RecordedTransport([
      ['page=1&', page(1, 2, [['2025-04-11', '01:00', 'HB_WEST', 35.39, false], ['2025-04-11', '02:00', 'HB_WEST', 33.1, false]])],
      ['page=2&', page(2, 2, [{ deliveryDate: '2025-11-02', hourEnding: '02:00', settlementPoint: 'HB_WEST', settlementPointPrice: -2.5, DSTFlag: true }])],
    ]);
    const slept: number[] = [];
    const r = await fetchApiReportCsv(createHttpClient({ transport: t }), {
      apiBaseUrl: 'https://api.example/',
      path: '/api/public-reports/np4-190-cd/dam_stlmnt_pnt_prices',
      columns,
      fromDate: '2025-04-11',
      toDate: '2025-11-02',
      headers: { 'ocp-apim-subscription-key': 'k', authorization: 'Bearer tok' },
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    expect(r).toEqual({
      csv: 'DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n04/11/2025,01:00,HB_WEST,35.39,N\n04/11/2025,02:00,HB_WEST,33.1,N\n11/02/2025,02:00,HB_WEST,-2.5,Y\n',
      rows: 3,
      pages: 2,
    });
    expect(slept).toEqual([2000]);
    expect(t.urls()[0]).toBe('https://api.example/api/public-reports/np4-190-cd/dam_stlmnt_pnt_prices?deliveryDateFrom=2025-04-11&deliveryDateTo=2025-11-02&page=1&size=50000');
    expect(t.requests[1]?.headers).toMatchObject({ 'ocp-apim-subscription-key': 'k', authorization: 'Bearer tok' });
  });

  it('is a PARSE error when a needed field is missing, and accepts the empty `{}` data placeholder', async () => {
    const t = new RecordedTransport([['page=1&', { body: JSON.stringify({ _meta: { totalPages: 1, currentPage: 1 }, fields: fields.slice(1), data: [] }) }]]);
    const o = { apiBaseUrl: 'https://api.example', path: '/p', columns, fromDate: '2025-04-11', toDate: '2025-04-11', headers: {} };
    const err = await caught(fetchApiReportCsv(createHttpClient({ transport: t }), o));
    expect([err.code, err.message]).toEqual(['PARSE', 'no field for DeliveryDate (looked for deliveryDate; got hourEnding, settlementPoint, settlementPointPrice, DSTFlag)']);
    expect(reportPageSchema.parse({ _meta: { totalPages: 0, currentPage: 0 }, fields: [], data: {} }).data).toEqual([]);
  });

  it('needs an ID token or username/password; exchanges the latter with the ROPC grant', async () => {
    const t = new RecordedTransport([['/token', { body: '{"access_token":"a","id_token":"id-123","token_type":"Bearer","expires_in":3600}' }]]);
    const http = createHttpClient({ transport: t });
    expect((await caught(apiHeaders(http, 'https://b2c.example/token', { subscriptionKey: 'k' }))).code).toBe('BAD_INPUT');
    expect(await apiHeaders(http, 'https://b2c.example/token', { subscriptionKey: 'k', idToken: 'given' })).toEqual({ 'ocp-apim-subscription-key': 'k', authorization: 'Bearer given' });
    expect(await apiHeaders(http, 'https://b2c.example/token', { subscriptionKey: 'k', username: 'me@example.com', password: 'pw' })).toEqual({
      'ocp-apim-subscription-key': 'k',
      authorization: 'Bearer id-123',
    });
    const form = new URLSearchParams(t.requests[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      username: 'me@example.com',
      password: 'pw',
      grant_type: 'password',
      scope: 'openid fec253ea-0d06-4272-a5e6-b478baeecd70 offline_access',
      client_id: 'fec253ea-0d06-4272-a5e6-b478baeecd70',
      response_type: 'id_token',
    });
  });
});

describe.skipIf(skipWithoutSharedData)(withData('ERCOT fetchers on real postings served from the constructed listings'), () => {
  it('rt-spp: latest operating day, CSV twins only, the retry replaces the original, parsed by the importer', async () => {
    const t = misTransport();
    const r = await fetchErcotMis(misClient(t), { report: 'rt-spp', parse: reportParser(ERCOT_REPORTS['rt-spp']) });
    expect(t.urls()).toEqual([
      'https://mis.example/misapp/servlets/IceDocListJsonWS?reportTypeId=12301',
      'https://mis.example/misdownload/servlets/mirDownload?doclookupId=1000000005',
      'https://mis.example/misdownload/servlets/mirDownload?doclookupId=1000000003',
    ]);
    expect([r.fromDate, r.toDate, r.fetched, r.label]).toEqual(['2024-03-29', '2024-03-29', 2, 'ercot-mis:12301 2024-03-29..2024-03-29']);
    expect(r.batch.provider).toBe('ercot');
    // 23 hub / load-zone rows per posting (the importer keeps HB_* and LZ_* by default).
    expect(r.batch.prices).toHaveLength(46);
    // 03/29/2024 HE1 interval 4 is 00:45-01:00 CDT = 05:45Z; interval 3 starts 05:30Z.
    expect(point(r.batch.prices, 'HB_WEST', '2024-03-29T05:45:00Z')).toBe(-1.08);
    expect(point(r.batch.prices, 'HB_WEST', '2024-03-29T05:30:00Z')).toBe(-1.08);
    expect(r.batch.prices.every((p) => p.kind === 'RT' && p.intervalMinutes === 15 && p.market === 'ERCOT')).toBe(true);
  });

  it('rt-spp: an explicit earlier day selects only its postings', async () => {
    const t = misTransport();
    const r = await fetchErcotMis(misClient(t), { report: 'rt-spp', fromDate: '2024-03-28', toDate: '2024-03-28', parse: reportParser(ERCOT_REPORTS['rt-spp']) });
    expect(t.urls().slice(1)).toEqual(['https://mis.example/misdownload/servlets/mirDownload?doclookupId=1000000001']);
    // HE24 interval 3 of 03/28 (CDT) = 23:30 CDT = 04:30Z on 03/29, still operating day 03/28.
    expect(point(r.batch.prices, 'HB_WEST', '2024-03-29T04:30:00Z')).toBe(-1.08);
  });

  it('rt-spp: a day the MIS no longer lists is NO_DATA naming what it does list', async () => {
    const err = await caught(fetchErcotMis(misClient(misTransport()), { report: 'rt-spp', fromDate: '2024-01-01', parse: reportParser(ERCOT_REPORTS['rt-spp']) }));
    expect(err.code).toBe('NO_DATA');
    expect(err.message).toMatch(/no NP6-905-CD postings for 2024-01-01\.\.2024-01-01; it lists 2024-03-28\.\.2024-03-29 only/);
  });

  it('dam-spp: the file posted on 04-10 is operating day 2025-04-11, 24 hours x 15 points', async () => {
    const t = misTransport();
    const r = await fetchErcotMis(misClient(t), { report: 'dam-spp', parse: reportParser(ERCOT_REPORTS['dam-spp']) });
    expect(t.urls().slice(1)).toEqual(['https://mis.example/misdownload/servlets/mirDownload?doclookupId=2000000002']);
    expect([r.fromDate, r.batch.prices.length]).toEqual(['2025-04-11', 360]);
    // HE01 04/11/2025 (CDT) starts 00:00 CDT = 05:00Z.
    expect(point(r.batch.prices, 'HB_WEST', '2025-04-11T05:00:00Z')).toBe(35.39);
  });

  it('an error page instead of a ZIP is PROTOCOL; a CSV of another report is PARSE', async () => {
    const html = new RecordedTransport([
      ['IceDocListJsonWS', () => ercotMisReply('/misapp/servlets/IceDocListJsonWS?reportTypeId=12331')],
      ['mirDownload', { body: '<html><body>Error Downloading Content - NO DATA</body></html>' }],
    ]);
    const e1 = await caught(fetchErcotMis(misClient(html), { report: 'dam-spp', parse: reportParser(ERCOT_REPORTS['dam-spp']) }));
    expect([e1.code, e1.message]).toEqual(['PROTOCOL', 'document 2000000002 (cdr.00012331.0000000000000000.20250410.123002.DAMSPNP4190_csv.zip) is not a ZIP: <html><body>Error Downloading Content - NO DATA</body></html>']);
    // The RT posting served under the DAM listing: recognised, but not NP4-190-CD.
    const wrong = new RecordedTransport([
      ['IceDocListJsonWS', () => ercotMisReply('/misapp/servlets/IceDocListJsonWS?reportTypeId=12331')],
      ['mirDownload', () => ercotMisReply('/misdownload/servlets/mirDownload?doclookupId=1000000003')],
    ]);
    const e2 = await caught(fetchErcotMis(misClient(wrong), { report: 'dam-spp', parse: reportParser(ERCOT_REPORTS['dam-spp']) }));
    expect([e2.code, e2.message]).toEqual(['PARSE', "expected an NP4-190-CD CSV, got format 'ercot-np6-905'"]);
  });

  it('the Public API path yields exactly the records of the MIS file for the same interval', async () => {
    const envelope = constructedFixture('ercot-api-np6-905-cd.constructed.json') as Record<string, unknown>;
    const rows = rtCsv()
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [d, h, i, name, type, price, dst] = line.split(',') as [string, string, string, string, string, string, string];
        const [mm, dd, yyyy] = d.split('/');
        return [`${yyyy}-${mm}-${dd}`, Number(h), Number(i), name, type, Number(price), dst === 'Y'];
      });
    const pageOf = (n: number) => ({ body: JSON.stringify({ ...envelope, _meta: { totalRecords: rows.length, pageSize: 500, totalPages: 2, currentPage: n }, data: rows.slice((n - 1) * 500, n * 500) }) });
    const t = new RecordedTransport([
      ['/token', { body: '{"id_token":"tok"}' }],
      ['page=1&', pageOf(1)],
      ['page=2&', pageOf(2)],
    ]);
    const spec = ERCOT_REPORTS['rt-spp'];
    const api = await fetchErcotApi(createHttpClient({ transport: t }), {
      report: 'rt-spp',
      fromDate: '2024-03-29',
      toDate: '2024-03-29',
      parse: reportParser(spec),
      apiBaseUrl: 'https://api.example',
      tokenUrl: 'https://b2c.example/token',
      credentials: { subscriptionKey: 'sub', username: 'u', password: 'p' },
      pageSize: 500,
      sleep: noSleep,
    });
    expect(t.urls().slice(1)).toEqual([
      'https://api.example/api/public-reports/np6-905-cd/spp_node_zone_hub?deliveryDateFrom=2024-03-29&deliveryDateTo=2024-03-29&page=1&size=500',
      'https://api.example/api/public-reports/np6-905-cd/spp_node_zone_hub?deliveryDateFrom=2024-03-29&deliveryDateTo=2024-03-29&page=2&size=500',
    ]);
    expect(api.fetched).toBe(2);
    const mis = reportParser(spec)('mis.csv', rtCsv());
    expect(api.batch.prices).toEqual(mis.prices);
    expect(api.batch.prices).toHaveLength(23);
  });
});
