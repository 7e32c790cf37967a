import { afterAll, describe, expect, it } from 'vitest';
import { openMarketStore } from '../../store/sqlite-store.js';
import { parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const EIA_HEADER = 'interval_start_utc,interval_start_local,hb_busavg,hb_houston,hb_hubavg,hb_north,hb_pan,hb_south,hb_west';

describe('EIA hub files (one header for RT 15-min and DA hourly)', () => {
  it('reads 15-minute rows as RT and stores one series per hub', async () => {
    const file = tmp.write(
      'ercot_rt_15min_hubs_2024.csv',
      csv(
        EIA_HEADER,
        '2024-03-29T05:30:00Z,2024-03-29T00:30:00-05:00,1.1,4.1,1.4,2.9,-5.3,-0.3,-1.1',
        '2024-03-29T05:45:00Z,2024-03-29T00:45:00-05:00,1.91,4.03,1.39,2.93,-5.29,-0.31,-1.08',
        '2024-03-29T06:15:00Z,2024-03-29T01:15:00-05:00,2,4,1.5,3,-5,0,-1',
      ),
    );
    const { format, batch, rows } = await parseDataFile(file);
    expect(format.id).toBe('eia-hubs-wide');
    expect(rows).toBe(3);
    expect(batch.provider).toBe('eia');
    expect(batch.prices).toHaveLength(21);
    const west = batch.prices.filter((p) => p.settlementPoint === 'HB_WEST');
    expect(west.map((p) => [new Date(p.intervalStartMs).toISOString(), p.kind, p.intervalMinutes, p.priceUsdPerMWh])).toEqual([
      ['2024-03-29T05:30:00.000Z', 'RT', 15, -1.1],
      ['2024-03-29T05:45:00.000Z', 'RT', 15, -1.08],
      ['2024-03-29T06:15:00.000Z', 'RT', 15, -1],
    ]);
    const store = await openMarketStore(':memory:');
    const report = await store.ingest(file, batch);
    expect(report.inserted.prices).toBe(21);
    expect(report.gaps.filter((g) => g.series === 'ERCOT HB_WEST RT 15min')).toEqual([
      { series: 'ERCOT HB_WEST RT 15min', fromMs: Date.parse('2024-03-29T06:00:00Z'), toMs: Date.parse('2024-03-29T06:00:00Z'), missingIntervals: 1 },
    ]);
    expect((await store.ingest(file, batch)).inserted.prices).toBe(0);
    await store.close();
  });

  it('reads hourly rows as DA', async () => {
    const file = tmp.write(
      'ercot_dam_hubs_hourly_eia_2020.csv',
      csv(EIA_HEADER, '2020-01-01T06:00:00Z,2020-01-01T00:00:00-06:00,11.27,11.27,11.23,11.29,0,11.34,11.03', '2020-01-01T07:00:00Z,2020-01-01T01:00:00-06:00,10.04,9.73,9.99,10.01,-0.01,10.4,9.83'),
    );
    const { batch } = await parseDataFile(file);
    const hubavg = batch.prices.filter((p) => p.settlementPoint === 'HB_HUBAVG');
    expect(hubavg.map((p) => [p.kind, p.intervalMinutes, p.priceUsdPerMWh])).toEqual([
      ['DA', 60, 11.23],
      ['DA', 60, 9.99],
    ]);
  });

  it('refuses a file whose name and row spacing disagree, or that cannot be told apart', async () => {
    const hourly = csv(EIA_HEADER, '2020-01-01T06:00:00Z,2020-01-01T00:00:00-06:00,1,1,1,1,1,1,1', '2020-01-01T07:00:00Z,2020-01-01T01:00:00-06:00,1,1,1,1,1,1,1');
    await expect(parseDataFile(tmp.write('ercot_rt_hubs.csv', hourly))).rejects.toThrow(/file name says RT/);
    const single = csv(EIA_HEADER, '2020-01-01T06:00:00Z,2020-01-01T00:00:00-06:00,1,1,1,1,1,1,1');
    await expect(parseDataFile(tmp.write('hubs.csv', single))).rejects.toThrow(/cannot tell real-time/);
    expect((await parseDataFile(tmp.write('hubs_da.csv', single))).batch.prices[0]?.kind).toBe('DA');
  });

  it('names file:line:column for a bad number, a shifted local time and a wrong offset', async () => {
    const bad = (row: string) => tmp.write('bad_rt.csv', csv(EIA_HEADER, '2024-01-01T06:00:00Z,2024-01-01T00:00:00-06:00,1,1,1,1,1,1,1', row));
    let e = await badInputAt(() => parseDataFile(bad('2024-01-01T06:15:00Z,2024-01-01T00:15:00-06:00,1,1,1,1,1,NaN,1')), 'bad_rt.csv:3:8');
    expect(e.message).toMatch(/column 'hb_south': expected a finite number, got 'NaN'/);
    await badInputAt(() => parseDataFile(bad('2024-01-01T06:15:00Z,2024-01-01T00:15:00-06:00,1,1,,1,1,1,1')), 'bad_rt.csv:3:5');
    await badInputAt(() => parseDataFile(bad('2024-01-01T06:15:00Z,2024-01-01T00:15:00-06:00,1,1,1e999,1,1,1,1')), 'bad_rt.csv:3:5');
    e = await badInputAt(() => parseDataFile(bad('2024-01-01T06:15:00Z,2024-01-01T01:15:00-06:00,1,1,1,1,1,1,1')), 'bad_rt.csv:3:2');
    expect(e.message).toMatch(/not the same instant/);
    e = await badInputAt(() => parseDataFile(bad('2024-01-01T06:15:00Z,2024-01-01T01:15:00-05:00,1,1,1,1,1,1,1')), 'bad_rt.csv:3:2');
    expect(e.message).toMatch(/not the CPT offset/);
    expect((await badInputAt(() => parseDataFile(bad('2024-01-01T06:15:00Z,2024-01-01T00:15:00-06:00,1,1,1,1,1,1')), 'bad_rt.csv:3:9')).message).toMatch(/expected 9 fields, got 8/);
    await badInputAt(() => parseDataFile(bad('2024-02-30T06:15:00Z,2024-02-30T00:15:00-06:00,1,1,1,1,1,1,1')), 'bad_rt.csv:3:1');
  });

  it('rejects a start off the 15-minute grid', async () => {
    const file = tmp.write('off_rt.csv', csv(EIA_HEADER, '2024-01-01T06:00:00Z,2024-01-01T00:00:00-06:00,1,1,1,1,1,1,1', '2024-01-01T06:20:00Z,2024-01-01T00:20:00-06:00,1,1,1,1,1,1,1', '2024-01-01T06:35:00Z,2024-01-01T00:35:00-06:00,1,1,1,1,1,1,1'));
    await expect(parseDataFile(file)).rejects.toThrow(/cannot tell|grid/);
  });
});

describe('gridstatus DAM HB_HUBAVG and ERCOT DAM SPP wide files', () => {
  it('reads the gridstatus file as DA HB_HUBAVG from gridstatus', async () => {
    const file = tmp.write('hubavg.csv', csv('interval_start_utc,interval_start_local,hb_hubavg_dam_spp', '2020-01-01T06:00:00Z,2020-01-01T00:00:00-06:00,11.23'));
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('gridstatus-dam-hubavg');
    expect(batch.provider).toBe('gridstatus');
    expect(batch.prices).toEqual([{ market: 'ERCOT', settlementPoint: 'HB_HUBAVG', kind: 'DA', intervalStartMs: Date.parse('2020-01-01T06:00:00Z'), intervalMinutes: 60, priceUsdPerMWh: 11.23 }]);
  });

  it('reads hubs and load zones from the ERCOT workbook-derived file, across the fall-back hour', async () => {
    const header = 'interval_start_utc,interval_start_local,hb_busavg,hb_houston,hb_hubavg,hb_north,hb_pan,hb_south,hb_west,lz_aen,lz_cps,lz_houston,lz_lcra,lz_north,lz_raybn,lz_south,lz_west';
    const vals = Array.from({ length: 15 }, (_, i) => (i + 1).toFixed(2)).join(',');
    const file = tmp.write(
      'dam_spp.csv',
      csv(header, `2024-11-03T06:00:00Z,2024-11-03T01:00:00-05:00,${vals}`, `2024-11-03T07:00:00Z,2024-11-03T01:00:00-06:00,${vals}`, `2024-11-03T08:00:00Z,2024-11-03T02:00:00-06:00,${vals}`),
    );
    const { batch } = await parseDataFile(file);
    expect(batch.provider).toBe('ercot');
    expect(batch.prices).toHaveLength(45);
    expect(new Set(batch.prices.map((p) => p.settlementPoint)).size).toBe(15);
    expect(batch.prices.find((p) => p.settlementPoint === 'LZ_WEST')?.priceUsdPerMWh).toBe(15);
  });
});
