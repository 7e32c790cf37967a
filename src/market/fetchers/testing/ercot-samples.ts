import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedFile } from '../../../testing/data.js';
import type { Recorded } from '../../../net/testing/recorded-transport.js';
import { buildZip } from './zip-writer.js';

/**
 * Test-only ERCOT responses: the constructed MIS listings beside this file (documented format,
 * not recordings) and the real CSV postings from ../shared/data/samples/ercot/, zipped at test
 * time exactly as the MIS serves them (one CSV per ZIP). Never copied into the repo.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));

export const RT_SAMPLE = 'NP6-905-CD_cdr.00012301.0000000000000000.20240329.010211.SPPHLZNP6905_20240329_0100.csv';
export const DAM_SAMPLE = 'NP4-190-CD_DAMSPP_20250411_hubs_loadzones.csv';

export function constructedFixture(name: string): unknown {
  return JSON.parse(readFileSync(path.join(HERE, '..', 'testdata', name), 'utf8')) as unknown;
}

/** The real 2024-03-29 HE01 interval-4 RT posting (908 rows). */
export function rtCsv(): string {
  return readFileSync(sharedFile('samples', 'ercot', RT_SAMPLE), 'utf8');
}

/**
 * The same posting relabelled to another interval of hour 1 (DeliveryInterval 4 → n): stands in
 * for the neighbouring 15-minute postings the samples do not have. Derived here, at test time.
 */
export function rtCsvForInterval(n: 1 | 2 | 3 | 4): string {
  return rtCsv().replace(/^(\d{2}\/\d{2}\/\d{4},1,)4,/gm, `$1${n},`);
}

/** The real 2025-04-11 DAM file, hub and load-zone rows (360 rows). */
export function damCsv(): string {
  return readFileSync(sharedFile('samples', 'ercot', DAM_SAMPLE), 'utf8');
}

/** What each constructed DocID downloads as (the name inside the ZIP as ERCOT names it). */
const DOCS: Record<string, () => { name: string; csv: string }> = {
  '1000000001': () => ({ name: 'cdr.00012301.0000000000000000.20240328.234706.SPPHLZNP6905_20240328_2345.csv', csv: rtCsv().replace(/^03\/29\/2024,1,4,/gm, '03/28/2024,24,3,') }),
  '1000000002': () => ({ name: 'cdr.00012301.0000000000000000.20240329.004706.SPPHLZNP6905_20240329_0045.csv', csv: rtCsvForInterval(3) }),
  '1000000003': () => ({ name: RT_SAMPLE.replace(/^NP6-905-CD_/, ''), csv: rtCsv() }),
  '1000000005': () => ({ name: 'cdr.00012301.0000000000000000.20240329.005501.SPPHLZNP6905_retry_20240329_0045.csv', csv: rtCsvForInterval(3) }),
  '2000000002': () => ({ name: 'cdr.00012331.0000000000000000.20250410.123002.DAMSPNP4190.csv', csv: damCsv() }),
};

/** Answers MIS paths (`/misapp/...IceDocListJsonWS?reportTypeId=`, `/misdownload/...mirDownload?doclookupId=`). */
export function ercotMisReply(pathAndQuery: string): Recorded {
  const list = /IceDocListJsonWS\?reportTypeId=(\d+)$/.exec(pathAndQuery);
  if (list) {
    const file = `ercot-mis-list-${list[1]}.constructed.json`;
    try {
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(constructedFixture(file)) };
    } catch {
      return { body: '{"ListDocsByRptTypeRes":{}}' };
    }
  }
  const dl = /mirDownload\?doclookupId=(\d+)$/.exec(pathAndQuery);
  const doc = dl ? DOCS[dl[1] as string] : undefined;
  if (doc) {
    const { name, csv } = doc();
    return { headers: { 'content-type': 'application/octet-stream' }, body: buildZip([{ name, data: csv }]) };
  }
  if (dl) return { body: '<html><body>Error Downloading Content - NO DATA</body></html>' };
  return { status: 404, body: 'Not Found' };
}
