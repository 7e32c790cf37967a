import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ercotMisReply } from '../../market/fetchers/testing/ercot-samples.js';
import { closedPortUrl, startLoopback, type Loopback } from '../../net/testing/loopback.js';
import { mempoolSample, sampleForPath } from '../../market/fetchers/testing/mempool-samples.js';
import { withData } from '../../market/fetchers/testing/shared-data.js';
import { openMarketStore } from '../../store/sqlite-store.js';
import { skipWithoutSharedData } from '../../testing/data.js';
import { captureIo, runCapture } from '../../testing/cli.js';

const run = runCapture;

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-fetch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mullet data fetch: failures (loopback only)', () => {
  it('a closed port fails fast with a NETWORK message, exit 1, and no database created', async () => {
    const url = await closedPortUrl();
    const r = await run(['data', 'fetch', 'mempool', '--base-url', url, '--retries', '0', '--db', 'none.db'], captureIo(dir));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); check the network connection or point --base-url at a reachable server/);
    expect(existsSync(path.join(dir, 'none.db'))).toBe(false);
  });

  it('retries before giving up, saying so on stderr', async () => {
    const url = await closedPortUrl();
    const r = await run(['data', 'fetch', 'ercot', '--report', 'rt-spp', '--base-url', url, '--retries', '1', '--db', 'none.db'], captureIo(dir));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/retry 1\/1 in [\d.]+ s after: cannot reach/);
    expect(r.err).toMatch(/gave up after 2 attempts/);
  });

  it('bad input is exit 2: a malformed date, api without credentials, unknown interval', async () => {
    const io = () => captureIo(dir);
    expect((await run(['data', 'fetch', 'ercot', '--report', 'rt-spp', '--from', '2024-02-30'], io())).code).toBe(2);
    const noKey = await run(['data', 'fetch', 'ercot', '--report', 'dam-spp', '--source', 'api', '--from', '2025-01-01'], io());
    expect([noKey.code, noKey.err.split('\n')[0]]).toEqual([2, 'mullet data fetch ercot: ERCOT_API_SUBSCRIPTION_KEY: --source api needs a subscription key (free at apiexplorer.ercot.com)']);
    expect((await run(['data', 'fetch', 'mempool', '--interval', '5y'], io())).code).toBe(2);
    expect((await run(['data', 'fetch', 'ercot', '--report', 'rt-spp', '--from', '2024-03-29', '--to', '2024-03-28'], io())).code).toBe(2);
  });
});

describe.skipIf(skipWithoutSharedData)(withData('mullet data fetch against a loopback server serving recorded responses'), () => {
  let server: Loopback;
  beforeAll(async () => {
    server = await startLoopback((p) => {
      if (p.startsWith('/misapp/') || p.startsWith('/misdownload/')) return ercotMisReply(p);
      const sample = sampleForPath(p);
      return sample ? { body: mempoolSample(sample) } : { status: 404, body: 'Not Found' };
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('mempool: seven GETs, days and epochs land in the store, progress on stderr, one JSON document on stdout', async () => {
    const r = await run(['data', 'fetch', 'mempool', '--base-url', `${server.baseUrl}/api`, '--interval', '3d', '--db', 'm.db', '--json'], captureIo(dir));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { days: { count: number }; epochs: number; snapshot: { tipHeight: number }; report: { inserted: { btcDays: number; epochs: number } } };
    expect(j.snapshot.tipHeight).toBe(698767);
    expect(j.epochs).toBe(3);
    expect(j.report.inserted.epochs).toBe(3);
    expect(r.err).toMatch(/\[1\/7\] GET http:\/\/127\.0\.0\.1:\d+\/api\/blocks\/tip\/height/);
    expect(server.seen).toContain('/api/v1/mining/hashrate/3d');
    const store = await openMarketStore(path.join(dir, 'm.db'));
    try {
      const days = await store.btcDays('2022-05-13', '2022-05-15');
      expect(days.map((d) => [d.dateUtc, d.hashrateThs !== undefined, d.difficulty])).toEqual([
        ['2022-05-13', true, undefined],
        ['2022-05-14', true, 31251101365711.12],
        ['2022-05-15', true, 31251101365711.12],
      ]);
      expect((await store.btcDays('2017-07-12', '2017-07-12'))[0]?.priceUsd).toBe(2254.9);
      expect((await store.epochs()).map((e) => e.startHeight)).toEqual([818496, 820512, 822528]);
    } finally {
      await store.close();
    }
    // Idempotent: a second identical fetch writes nothing new.
    const again = await run(['data', 'fetch', 'mempool', '--base-url', server.baseUrl, '--interval', '3d', '--db', 'm.db', '--json'], captureIo(dir));
    expect((JSON.parse(again.out) as { report: { inserted: { btcDays: number } } }).report.inserted.btcDays).toBe(0);
  });

  it('ercot rt-spp from the MIS: the latest operating day lands as 15-minute RT prices', async () => {
    const r = await run(['data', 'fetch', 'ercot', '--report', 'rt-spp', '--base-url', server.baseUrl, '--db', 'e.db'], captureIo(dir));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^NP6-905-CD real-time settlement point prices, 15 min, 2024-03-29\.\.2024-03-29 \(CPT\) from the MIS: 2 documents, 46 prices at 23 settlement points\n/);
    const store = await openMarketStore(path.join(dir, 'e.db'));
    try {
      const west = await store.prices({ market: 'ERCOT', settlementPoint: 'HB_WEST', kind: 'RT', fromMs: Date.parse('2024-03-29T05:00:00Z'), toMs: Date.parse('2024-03-29T07:00:00Z') });
      expect(west.map((p) => [new Date(p.intervalStartMs).toISOString(), p.priceUsdPerMWh])).toEqual([
        ['2024-03-29T05:30:00.000Z', -1.08],
        ['2024-03-29T05:45:00.000Z', -1.08],
      ]);
    } finally {
      await store.close();
    }
  });

  it('ercot dam-spp from the MIS with an explicit day', async () => {
    const r = await run(['data', 'fetch', 'ercot', '--report', 'dam-spp', '--from', '2025-04-11', '--base-url', server.baseUrl, '--db', 'e.db', '--json'], captureIo(dir));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { prices: number; fetched: number; import: { inserted: { prices: number } } };
    expect([j.prices, j.fetched, j.import.inserted.prices]).toEqual([360, 1, 360]);
  });
});
