import { describe, expect, it } from 'vitest';
import { MulletError } from '../../core/errors.js';
import { skipWithoutSharedData } from '../../testing/data.js';
import { withData } from './testing/shared-data.js';
import { createHttpClient } from '../../net/http-client.js';
import { difficultyDays, epochsFromAdjustments, feeDays, hashrateDays, mempoolBatch, mergeDays, priceDays, subsidySats } from './mempool-convert.js';
import { fetchMempool } from './mempool-fetch.js';
import { MempoolClient, normaliseMempoolBase, retargetDateMs, type BlockFeesPoint } from './mempool.js';
import { MEMPOOL_SAMPLES, mempoolSample, rawMempoolSample, sampleForPath, type MempoolSampleName } from './testing/mempool-samples.js';
import { RecordedTransport } from '../../net/testing/recorded-transport.js';

const NOW_2026 = Date.parse('2026-01-01T00:00:00Z');

function recordedClient(): { client: MempoolClient; transport: RecordedTransport } {
  const names = Object.keys(MEMPOOL_SAMPLES) as MempoolSampleName[];
  const transport = new RecordedTransport(names.map((n) => [MEMPOOL_SAMPLES[n].pathPrefix, () => ({ body: mempoolSample(n) })] as const));
  return { client: new MempoolClient({ http: createHttpClient({ transport }), baseUrl: 'https://mempool.example/' }), transport };
}

describe('normaliseMempoolBase', () => {
  it('accepts a base with or without a trailing /api', () => {
    expect(normaliseMempoolBase('https://mempool.space/api/')).toBe('https://mempool.space');
    expect(normaliseMempoolBase('http://umbrel.local:3006')).toBe('http://umbrel.local:3006');
  });
});

describe.skipIf(skipWithoutSharedData)(withData('mempool client on the recorded docs responses'), () => {
  it('needs the documented conversions: JS-object syntax and truncated arrays are not JSON', () => {
    for (const n of ['get-difficulty-adjustment', 'get-price', 'get-historical-price', 'get-block-fees', 'get-block-rewards'] as const) {
      expect(() => JSON.parse(rawMempoolSample(n)) as unknown, n).toThrow();
      expect(() => JSON.parse(mempoolSample(n)) as unknown, n).not.toThrow();
    }
    expect(sampleForPath('/api/v1/mining/blocks/fees/1y')).toBe('get-block-fees');
  });

  it('parses every endpoint with its schema', async () => {
    const { client, transport } = recordedClient();
    expect(await client.tipHeight()).toBe(698767);
    const da = await client.difficultyAdjustment();
    expect([da.progressPercent, da.nextRetargetHeight, da.remainingBlocks]).toEqual([44.397234501112074, 741888, 1121]);
    expect(retargetDateMs(da.estimatedRetargetDate)).toBe(1627762478000);
    const prices = await client.prices();
    expect([prices.time, prices.USD]).toEqual([1703252411, 43753]);
    expect((await client.historicalPrice(1500000000)).prices).toEqual([{ time: 1499904000, EUR: 1964, USD: 2254.9 }]);
    const hr = await client.hashrate('3d');
    expect(hr.hashrates.map((h) => h.timestamp)).toEqual([1652486400, 1652572800, 1652659200]);
    expect(hr.difficulty).toEqual([{ timestampS: 1652468330, difficulty: 31251101365711.12, height: 736249 }]);
    const adj = await client.difficultyAdjustments('1m');
    expect(adj[0]).toEqual([1703311464, 822528, 72006146478567.1, 1.06983]);
    const fees = await client.blockFees('1w');
    expect(fees).toHaveLength(6);
    expect(fees[0]).toEqual({ avgHeight: 735644, timestamp: 1652119111, avgFees: 24212890 });
    const rewards = await client.blockRewards('1d' as '24h');
    expect(rewards.map((r) => r.avgRewards)).toEqual([1260530933, 1264314538, 637067563, 646519104, 638709605]);
    expect(transport.urls()).toContain('https://mempool.example/api/v1/historical-price?currency=USD&timestamp=1500000000');
    expect(transport.urls()).toContain('https://mempool.example/api/v1/mining/hashrate/3d');
  });

  it('converts the recorded responses into BtcDay and DifficultyEpoch rows', async () => {
    const { client } = recordedClient();
    const r = await fetchMempool(client, { interval: '3d', nowMs: NOW_2026 });
    expect(r.requests).toHaveLength(7);
    expect(r.snapshot).toEqual({
      tipHeight: 698767,
      priceUsd: 43753,
      priceTimeMs: 1703252411000,
      nextRetargetHeight: 741888,
      estimatedRetargetMs: 1627762478000,
      difficultyChangePct: 98.45932018381687,
      epochProgressPct: 44.397234501112074,
    });
    const days = r.batch.btcDays;
    // The price stamped 2017-07-13T00:00Z is the close of 2017-07-12.
    expect(days.find((d) => d.priceUsd !== undefined)).toEqual({ dateUtc: '2017-07-12', priceUsd: 2254.9 });
    // Hashrate stamped 2022-05-14T00:00Z measures the blocks of 2022-05-13. That day's retarget
    // (18:58 UTC) has no recorded ratio, so its blended mean is unknown: difficulty starts 05-14.
    expect(days.filter((d) => d.dateUtc.startsWith('2022-05'))).toEqual([
      { dateUtc: '2022-05-13', hashrateThs: 236499762108771800000 / 1e12 },
      { dateUtc: '2022-05-14', hashrateThs: 217473276787331300000 / 1e12, difficulty: 31251101365711.12 },
      { dateUtc: '2022-05-15', hashrateThs: 189877203506913000000 / 1e12, difficulty: 31251101365711.12 },
    ]);
    // The six fee buckets all lie on 2022-05-09, a partial day: no fee rows from them.
    expect(days.some((d) => d.feesBtc !== undefined)).toBe(false);
    expect(r.batch.epochs).toEqual([
      { startDateUtc: '2023-11-27', difficulty: 67957790298897.88, startHeight: 818496 },
      { startDateUtc: '2023-12-11', difficulty: 67305906902031.39, startHeight: 820512 },
      { startDateUtc: '2023-12-24', difficulty: 72006146478567.1, startHeight: 822528 },
    ]);
    expect(r.batch.prices).toEqual([]);
  });

  it('fails with PARSE naming the field when a response changes shape', async () => {
    const transport = new RecordedTransport([['/hashrate/', { body: '{"hashrates":[{"timestamp":1652486400,"avgHashrate":"fast"}],"difficulty":[]}' }]]);
    const client = new MempoolClient({ http: createHttpClient({ transport }), baseUrl: 'https://m.example' });
    const err = await client.hashrate('1y').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MulletError);
    expect((err as MulletError).code).toBe('PARSE');
    expect((err as MulletError).message).toMatch(/^unexpected response shape at hashrates\.0\.avgHashrate/);
    expect((err as MulletError).where).toBe('https://m.example/api/v1/mining/hashrate/1y');
  });
});

describe('mempool conversions (hand-computed cases)', () => {
  // 49 blocks per 8 h bucket; 2024-01-02 is the one day with buckets on both sides.
  const t = (iso: string) => Date.parse(iso) / 1000;
  const buckets: BlockFeesPoint[] = [
    { avgHeight: 1024, timestamp: t('2024-01-01T20:00:00Z'), avgFees: 5_000_000 }, // heights 1000..1048
    { avgHeight: 1073, timestamp: t('2024-01-02T04:00:00Z'), avgFees: 10_000_000 }, // 1049..1097
    { avgHeight: 1122, timestamp: t('2024-01-02T12:00:00Z'), avgFees: 20_000_000 }, // 1098..1146
    { avgHeight: 1171, timestamp: t('2024-01-02T20:00:00Z'), avgFees: 30_000_000 }, // 1147..1195
    { avgHeight: 1220, timestamp: t('2024-01-03T04:00:00Z'), avgFees: 40_000_000 }, // 1196..1244
  ];

  it('fees per day = sum of avgFees x blocks per bucket, blocks and height from midpoint boundaries', () => {
    const { days, skipped } = feeDays(buckets, Date.parse('2024-01-05T00:00:00Z'));
    // 49 x (10 + 20 + 30) M sats = 2.94e9 sats; heights 1049..1195.
    expect(days).toEqual([{ dateUtc: '2024-01-02', feesBtc: 29.4, blocks: 147, heightEndOfDay: 1195, issuanceBtc: 147 * 50 }]);
    expect(skipped).toEqual([]);
  });

  it('drops a day that is not over yet, and needs three buckets', () => {
    expect(feeDays(buckets, Date.parse('2024-01-02T23:59:59Z')).days).toEqual([]);
    expect(feeDays(buckets.slice(0, 2), Date.parse('2025-01-01T00:00:00Z')).days).toEqual([]);
  });

  it('keeps the block-count error within the end boundaries when buckets are unequal', () => {
    // True blocks of 2024-01-02: 1049..1196 (148), bucket sizes 40 / 50 / 58; neighbours 49 and 45.
    const uneven: BlockFeesPoint[] = [
      { avgHeight: 1024, timestamp: t('2024-01-01T20:00:00Z'), avgFees: 0 }, // 1000..1048
      { avgHeight: 1068, timestamp: t('2024-01-02T04:00:00Z'), avgFees: 0 }, // 1049..1088 (mean 1068.5)
      { avgHeight: 1113, timestamp: t('2024-01-02T12:00:00Z'), avgFees: 0 }, // 1089..1138 (mean 1113.5)
      { avgHeight: 1167, timestamp: t('2024-01-02T20:00:00Z'), avgFees: 0 }, // 1139..1196 (mean 1167.5)
      { avgHeight: 1219, timestamp: t('2024-01-03T04:00:00Z'), avgFees: 0 }, // 1197..1241
    ];
    const [day] = feeDays(uneven, Date.parse('2024-02-01T00:00:00Z')).days;
    expect(day?.heightEndOfDay).toBe(1193); // true 1196: boundary (1167 + 1219) / 2 - 0.5
    expect(day?.blocks).toBe(147); // true 148
  });

  it('stamps daily hashrate on the day before its 00:00 UTC timestamp, in TH/s', () => {
    expect(hashrateDays([{ timestamp: t('2024-03-01T00:00:00Z'), avgHashrate: 6e20 }])).toEqual([{ dateUtc: '2024-02-29', hashrateThs: 6e8 }]);
  });

  it('gives the mean difficulty of each day, time-weighted across a retarget', () => {
    const adj = [
      { timestampS: t('2024-01-10T15:00:00Z'), height: 823_200, difficulty: 100 },
      { timestampS: t('2024-01-12T00:00:00Z'), height: 825_216, difficulty: 110 },
      { timestampS: t('2024-01-13T06:00:00Z'), height: 827_232, difficulty: 90 },
    ];
    // 01-10 is left out: the difficulty before 15:00 is unknown (no ratio given).
    expect(difficultyDays(adj, '2024-01-14').map((d) => [d.dateUtc, d.difficulty])).toEqual([
      ['2024-01-11', 100],
      ['2024-01-12', 110],
      ['2024-01-13', 110 * 0.25 + 90 * 0.75],
      ['2024-01-14', 90],
    ]);
    // With the ratio (new / previous = 1.25) the first retarget day is blended too: 80 until 18:00.
    const withRatio = [{ timestampS: t('2024-01-10T18:00:00Z'), height: 823_200, difficulty: 100, ratio: 1.25 }];
    expect(difficultyDays(withRatio, '2024-01-10')).toEqual([{ dateUtc: '2024-01-10', difficulty: 80 * 0.75 + 100 * 0.25 }]);
  });

  it('sums subsidies across a halving exactly', () => {
    expect(subsidySats(839_999, 840_001)).toBe(625_000_000n + 2n * 312_500_000n);
  });

  it('starts an epoch on its first full UTC day (the same day when the retarget block is at 00:00:00)', () => {
    expect(epochsFromAdjustments([[t('2024-01-12T00:00:00Z'), 1, 2, 1], [t('2024-01-12T00:00:01Z'), 3, 4, 1]]).map((e) => e.startDateUtc)).toEqual([
      '2024-01-12',
      '2024-01-13',
    ]);
  });

  it('takes the last price up to 24:00 as the day\'s close, ignoring missing (-1) entries and unfinished days', () => {
    const history = {
      prices: [
        { time: t('2024-01-01T00:00:00Z'), USD: 42000 }, // closes 2023-12-31
        { time: t('2024-01-01T12:00:00Z'), USD: 43000 },
        { time: t('2024-01-02T00:00:00Z'), USD: 44000 }, // closes 2024-01-01
        { time: t('2024-01-02T06:00:00Z'), USD: -1 },
        { time: t('2024-01-03T00:00:00Z'), USD: 45000 }, // closes 2024-01-02
        { time: t('2024-01-03T01:00:00Z'), USD: 46000 }, // 2024-01-03 is not over at noon
      ],
    };
    expect(priceDays(history, Date.parse('2024-01-03T12:00:00Z'))).toEqual([
      { dateUtc: '2023-12-31', priceUsd: 42000 },
      { dateUtc: '2024-01-01', priceUsd: 44000 },
      { dateUtc: '2024-01-02', priceUsd: 45000 },
    ]);
  });

  it('merges partial days without overwriting earlier fields', () => {
    expect(mergeDays([{ dateUtc: '2024-01-02', priceUsd: 1 }], [{ dateUtc: '2024-01-02', priceUsd: 2, blocks: 144 }, { dateUtc: '2024-01-01', blocks: 140 }])).toEqual([
      { dateUtc: '2024-01-01', blocks: 140 },
      { dateUtc: '2024-01-02', priceUsd: 1, blocks: 144 },
    ]);
  });

  it('notes that fee rows are estimates', () => {
    const batch = mempoolBatch({ fees: buckets }, Date.parse('2024-02-01T00:00:00Z'));
    expect(batch.btcDays).toEqual([{ dateUtc: '2024-01-02', feesBtc: 29.4, blocks: 147, heightEndOfDay: 1195, issuanceBtc: 7350 }]);
    expect(batch.provider).toBe('mempool');
    expect(batch.notes[0]).toMatch(/estimated from bucket averages/);
  });
});
