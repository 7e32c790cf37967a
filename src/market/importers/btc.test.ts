import { afterAll, describe, expect, it } from 'vitest';
import { openMarketStore } from '../../store/sqlite-store.js';
import { parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

describe('btc_price_daily', () => {
  const HEADER = 'date_utc,btc_usd_bitstamp_0000utc,btc_usd_yahoo_open,btc_usd_yahoo_high,btc_usd_yahoo_low,btc_usd_yahoo_close';

  it("stores Bitstamp 00:00 UTC as the previous day's close and Yahoo's close as that day's", async () => {
    const file = tmp.write('price.csv', csv(HEADER, '2024-04-20,63863,63800,65500,63000,64994', '2024-04-21,64930,,,,'));
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('btc-price-daily');
    expect(batch.btcDays).toEqual([
      { dateUtc: '2024-04-19', priceUsd: 63863, source: 'bitstamp' },
      { dateUtc: '2024-04-20', priceUsd: 64994, source: 'yahoo' },
      { dateUtc: '2024-04-20', priceUsd: 64930, source: 'bitstamp' },
    ]);
    const store = await openMarketStore(':memory:');
    await store.ingest(file, batch);
    expect((await store.btcDays('2024-04-19', '2024-04-21')).map((d) => [d.dateUtc, d.priceUsd, d.sources?.priceUsd])).toEqual([
      ['2024-04-19', 63863, 'bitstamp'],
      ['2024-04-20', 64930, 'bitstamp'],
    ]);
    await store.close();
  });

  it('rejects partial or inconsistent OHLC and non-positive prices', async () => {
    await badInputAt(() => parseDataFile(tmp.write('p1.csv', csv(HEADER, '2024-04-20,1,2,3,,2'))), 'p1.csv:2:5');
    await badInputAt(() => parseDataFile(tmp.write('p2.csv', csv(HEADER, '2024-04-20,1,2,3,2.5,2'))), 'p2.csv:2:5');
    await badInputAt(() => parseDataFile(tmp.write('p3.csv', csv(HEADER, '2024-04-20,0,,,,'))), 'p3.csv:2:2');
    await badInputAt(() => parseDataFile(tmp.write('p4.csv', csv(HEADER, '20240420,1,,,,'))), 'p4.csv:2:1');
  });
});

describe('network, epochs and blocks', () => {
  it('reads blockchain.com difficulty and hashrate and checks the EH/s column', async () => {
    const HEADER = 'date_utc,difficulty,hashrate_ths,hashrate_ehs';
    const { batch } = await parseDataFile(tmp.write('net.csv', csv(HEADER, '2024-04-15,86388558925171,605500000.5,605.500')));
    expect(batch.provider).toBe('blockchain.com');
    expect(batch.btcDays).toEqual([{ dateUtc: '2024-04-15', difficulty: 86388558925171, hashrateThs: 605500000.5 }]);
    await badInputAt(() => parseDataFile(tmp.write('net2.csv', csv(HEADER, '2024-04-15,86388558925171,605500000.5,605.6'))), 'net2.csv:2:4');
  });

  it('reads difficulty epochs', async () => {
    const HEADER = 'first_full_day_utc,difficulty,difficulty_T,pct_change_vs_prev_epoch,days_observed';
    const { format, batch } = await parseDataFile(tmp.write('ep.csv', csv(HEADER, '2024-04-11,86388558925171,86.389,3.92,14', '2020-04-11,14715214060657,14.715,,10')));
    expect(format.id).toBe('btc-difficulty-epochs');
    expect(batch.epochs).toEqual([
      { startDateUtc: '2024-04-11', difficulty: 86388558925171 },
      { startDateUtc: '2020-04-11', difficulty: 14715214060657 },
    ]);
    await badInputAt(() => parseDataFile(tmp.write('ep2.csv', csv(HEADER, '2024-04-11,86388558925171,8.6,3.92,14'))), 'ep2.csv:2:3');
  });

  it('reads blocks per day and notes breaks in the cumulative height', async () => {
    const { batch } = await parseDataFile(tmp.write('blocks.csv', csv('date_utc,blocks_mined,height_end_of_day', '2024-04-19,144,839999', '2024-04-20,135,840134', '2024-04-21,150,840300')));
    expect(batch.provider).toBe('hotstopper');
    expect(batch.btcDays[1]).toEqual({ dateUtc: '2024-04-20', blocks: 135, heightEndOfDay: 840134 });
    expect(batch.notes.join()).toMatch(/1 day\(s\) where height_end_of_day/);
  });
});

describe('fee files', () => {
  it('reads Coin Metrics daily fields', async () => {
    const HEADER =
      'date_utc,blocks_mined,fees_total_btc,fees_per_block_btc,fees_total_usd,issuance_btc,fee_share_of_miner_revenue,price_usd_coinmetrics,hashrate_ths,hashrate_ehs,difficulty_implied';
    const { format, batch } = await parseDataFile(tmp.write('cm.csv', csv(HEADER, '2022-12-30,158,21.70292619,0.13736029,360131.41,987.5,0.021505,16593.68,277757245,277.757,35364065814433')));
    expect(format.id).toBe('coinmetrics-btc-daily');
    expect(batch.provider).toBe('coinmetrics');
    expect(batch.btcDays).toEqual([
      { dateUtc: '2022-12-30', blocks: 158, feesBtc: 21.70292619, issuanceBtc: 987.5, priceUsd: 16593.68, hashrateThs: 277757245, difficulty: 35364065814433 },
    ]);
    await badInputAt(() => parseDataFile(tmp.write('cm2.csv', csv(HEADER, '2022-12-30,158.5,21.7,0.13,360131.41,987.5,0.02,16593.68,277757245,277.757,35364065814433'))), 'cm2.csv:2:2');
  });

  it('reads getblockstats sums and checks heights against the block count', async () => {
    const HEADER = 'date_utc,blocks,fees_total_btc,subsidy_total_btc,tx_count,first_height,last_height';
    const { format, batch } = await parseDataFile(tmp.write('bs.csv', csv(HEADER, '2023-02-15,163,35.34902814,1018.75000000,325460,776573,776735')));
    expect(format.id).toBe('blockstats-fees-daily');
    expect(batch.btcDays).toEqual([{ dateUtc: '2023-02-15', blocks: 163, feesBtc: 35.34902814, issuanceBtc: 1018.75, heightEndOfDay: 776735 }]);
    await badInputAt(() => parseDataFile(tmp.write('bs2.csv', csv(HEADER, '2023-02-15,163,35.3,1018.75,325460,776573,776736'))), 'bs2.csv:2:7');
  });
});
