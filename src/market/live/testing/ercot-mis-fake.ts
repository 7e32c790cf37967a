import { buildZip } from '../../fetchers/testing/zip-writer.js';
import type { Recorded } from '../../../net/testing/recorded-transport.js';

/**
 * Test-only ERCOT MIS: document lists CONSTRUCTED in the documented IceDocListJsonWS shape (not
 * recordings; DocIDs made up) whose documents download as ZIPs of CSV text the test supplies: the
 * real postings of ../shared/data/samples/ercot (read at test time, never copied) or, for the load
 * reports that have no recorded sample, CSV built from the documented column list.
 */
export interface FakeDoc {
  docId: string;
  reportTypeId: number;
  /** e.g. 'SPPHLZNP6905_20240329_0100_csv'. */
  friendlyName: string;
  /** ISO 8601 with offset, as the MIS lists it. */
  publishDate: string;
  /** Name of the CSV inside the ZIP. */
  csvName: string;
  csv: () => string;
}

export class FakeMis {
  readonly docs: FakeDoc[] = [];
  /** Answer for every request instead of the normal one (to simulate an outage); cleared with null. */
  override: Recorded | null = null;

  add(doc: FakeDoc): this {
    this.docs.push(doc);
    return this;
  }

  /** For RecordedTransport: `[/^https:\/\/mis\.test\//, (req) => fake.reply(req.url)]`. */
  reply(url: string): Recorded {
    if (this.override) return this.override;
    const u = new URL(url);
    if (u.pathname === '/misapp/servlets/IceDocListJsonWS') {
      const id = Number(u.searchParams.get('reportTypeId'));
      const list = this.docs
        .filter((d) => d.reportTypeId === id)
        .flatMap((d) => [d, { ...d, docId: `${d.docId}9`, friendlyName: d.friendlyName.replace(/_csv$/, '_xml') }])
        .map((d) => ({
          Document: {
            DocID: d.docId,
            ReportTypeID: d.reportTypeId,
            FriendlyName: d.friendlyName,
            ConstructedName: `cdr.${String(d.reportTypeId).padStart(8, '0')}.0000000000000000.${d.friendlyName}.zip`,
            Extension: 'zip',
            ContentSize: 4000,
            PublishDate: d.publishDate,
          },
        }));
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ListDocsByRptTypeRes: list.length === 0 ? {} : { DocumentList: list } }) };
    }
    if (u.pathname === '/misdownload/servlets/mirDownload') {
      const doc = this.docs.find((d) => d.docId === u.searchParams.get('doclookupId'));
      if (!doc) return { body: '<html><body>Error Downloading Content - NO DATA</body></html>' };
      return { headers: { 'content-type': 'application/octet-stream' }, body: buildZip([{ name: doc.csvName, data: doc.csv() }]) };
    }
    return { status: 404, body: 'Not Found' };
  }
}
