import { afterAll, describe, expect, it } from 'vitest';
import { openMarketStore } from '../../store/sqlite-store.js';
import { parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const iso = (ms: number) => new Date(ms).toISOString();
const NP6_905 = 'DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag';
const NP4_190 = 'DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag';
const NP4_180 = 'Delivery Date,Hour Ending,Repeated Hour Flag,Settlement Point,Settlement Point Price';

describe('NP6-905-CD real-time SPP', () => {
  const posting = csv(
    NP6_905,
    '03/29/2024,1,4,AEEC,RN,-5.15,N',
    '03/29/2024,1,4,HB_HUBAVG,AH,1.39,N',
    '03/29/2024,1,4,HB_WEST,HU,-1.08,N',
    '03/29/2024,1,4,LZ_WEST,LZEW,6.34,N',
    '03/29/2024,1,4,LZ_WEST,LZ,6.35,N',
    '03/29/2024,1,4,DC_E,LZ_DC,2.95,N',
  );

  it('keeps hubs and load zones, names energy-weighted zones *_EW, and converts to UTC starts', async () => {
    const { format, batch } = await parseDataFile(tmp.write('np6905.csv', posting));
    expect(format.id).toBe('ercot-np6-905');
    expect(batch.provider).toBe('ercot');
    expect(batch.prices.map((p) => [p.settlementPoint, p.kind, p.intervalMinutes, iso(p.intervalStartMs), p.priceUsdPerMWh])).toEqual([
      ['HB_HUBAVG', 'RT', 15, '2024-03-29T05:45:00.000Z', 1.39],
      ['HB_WEST', 'RT', 15, '2024-03-29T05:45:00.000Z', -1.08],
      ['LZ_WEST_EW', 'RT', 15, '2024-03-29T05:45:00.000Z', 6.34],
      ['LZ_WEST', 'RT', 15, '2024-03-29T05:45:00.000Z', 6.35],
    ]);
    expect(batch.notes.join()).toMatch(/kept 4 of 6 rows/);
  });

  it('keeps every settlement point with allPoints', async () => {
    const { batch } = await parseDataFile(tmp.write('np6905b.csv', posting), { allPoints: true });
    expect(batch.prices.map((p) => p.settlementPoint)).toEqual(['AEEC', 'HB_HUBAVG', 'HB_WEST', 'LZ_WEST_EW', 'LZ_WEST', 'DC_E']);
  });

  it('tells the two passes through the fall-back hour apart by DSTFlag', async () => {
    const file = tmp.write(
      'np6905_fallback.csv',
      csv(NP6_905, '11/03/2024,2,1,HB_WEST,HU,10,N', '11/03/2024,2,4,HB_WEST,HU,11,N', '11/03/2024,2,1,HB_WEST,HU,20,Y', '11/03/2024,2,4,HB_WEST,HU,21,Y', '11/03/2024,3,1,HB_WEST,HU,30,N'),
    );
    const { batch } = await parseDataFile(file);
    expect(batch.prices.map((p) => [iso(p.intervalStartMs), p.priceUsdPerMWh])).toEqual([
      ['2024-11-03T06:00:00.000Z', 10],
      ['2024-11-03T06:45:00.000Z', 11],
      ['2024-11-03T07:00:00.000Z', 20],
      ['2024-11-03T07:45:00.000Z', 21],
      ['2024-11-03T08:00:00.000Z', 30],
    ]);
    const report = await (await openMarketStore(':memory:')).ingest(file, batch);
    expect(report.duplicatesInFile).toBe(0);
  });

  it('rejects hour ending 03 on the spring-forward day, a bad interval and a bad flag', async () => {
    const e = await badInputAt(() => parseDataFile(tmp.write('spring.csv', csv(NP6_905, '03/10/2024,2,4,HB_WEST,HU,1,N', '03/10/2024,3,1,HB_WEST,HU,1,N'))), 'spring.csv:3:2');
    expect(e.message).toMatch(/does not exist/);
    await badInputAt(() => parseDataFile(tmp.write('interval.csv', csv(NP6_905, '03/29/2024,1,5,HB_WEST,HU,1,N'))), 'interval.csv:2:3');
    await badInputAt(() => parseDataFile(tmp.write('flag.csv', csv(NP6_905, '03/29/2024,1,1,HB_WEST,HU,1,X'))), 'flag.csv:2:7');
    await badInputAt(() => parseDataFile(tmp.write('notrepeated.csv', csv(NP6_905, '03/29/2024,1,1,HB_WEST,HU,1,Y'))), 'notrepeated.csv:2:2');
    // A malformed resource-node row is an error even though resource nodes are not kept.
    await badInputAt(() => parseDataFile(tmp.write('rn.csv', csv(NP6_905, '03/29/2024,1,1,AEEC,RN,abc,N'))), 'rn.csv:2:6');
  });
});

describe('NP4-190-CD DAM SPP daily file', () => {
  it('reads prices with leading spaces and hour ending 24:00', async () => {
    const file = tmp.write('np4190.csv', csv(NP4_190, '04/11/2025,01:00,HB_WEST, 35.39,N', '04/11/2025,01:00,7RNCHSLR_ALL, 31.61,N', '04/11/2025,24:00,LZ_WEST, 35.54,N'));
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('ercot-np4-190');
    expect(batch.prices.map((p) => [p.settlementPoint, p.kind, p.intervalMinutes, iso(p.intervalStartMs), p.priceUsdPerMWh])).toEqual([
      ['HB_WEST', 'DA', 60, '2025-04-11T05:00:00.000Z', 35.39],
      ['LZ_WEST', 'DA', 60, '2025-04-12T04:00:00.000Z', 35.54],
    ]);
  });

  it('accepts a fully quoted file and CRLF line endings', async () => {
    const file = tmp.write('quoted.csv', '"DeliveryDate","HourEnding","SettlementPoint","SettlementPointPrice","DSTFlag"\r\n"04/11/2025","02:00","HB_NORTH","30.04","N"\r\n');
    const { batch } = await parseDataFile(file);
    expect(batch.prices.map((p) => [p.settlementPoint, iso(p.intervalStartMs), p.priceUsdPerMWh])).toEqual([['HB_NORTH', '2025-04-11T06:00:00.000Z', 30.04]]);
  });

  it('rejects a malformed hour ending', async () => {
    await badInputAt(() => parseDataFile(tmp.write('he.csv', csv(NP4_190, '04/11/2025,25:00,HB_WEST, 1,N'))), 'he.csv:2:2');
    await badInputAt(() => parseDataFile(tmp.write('date.csv', csv(NP4_190, '2025-04-11,01:00,HB_WEST, 1,N'))), 'date.csv:2:1');
  });
});

describe('NP4-180-ER yearly DAM workbook sheet', () => {
  it('maps the repeated fall-back hour (flag Y) to 01:00 CST and spring-forward skips HE 03', async () => {
    const file = tmp.write(
      'np4180.csv',
      csv(
        NP4_180,
        '03/09/2025,02:00,N,HB_WEST,20.00',
        '03/09/2025,04:00,N,HB_WEST,21.00',
        '11/02/2025,01:00,N,HB_WEST,30.00',
        '11/02/2025,02:00,N,HB_WEST,31.00',
        '11/02/2025,02:00,Y,HB_WEST,32.00',
        '11/02/2025,03:00,N,HB_WEST,33.00',
      ),
    );
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('ercot-np4-180');
    expect(batch.prices.map((p) => [iso(p.intervalStartMs), p.priceUsdPerMWh])).toEqual([
      ['2025-03-09T07:00:00.000Z', 20],
      ['2025-03-09T08:00:00.000Z', 21],
      ['2025-11-02T05:00:00.000Z', 30],
      ['2025-11-02T06:00:00.000Z', 31],
      ['2025-11-02T07:00:00.000Z', 32],
      ['2025-11-02T08:00:00.000Z', 33],
    ]);
    const store = await openMarketStore(':memory:');
    const report = await store.ingest(file, batch);
    // HE 02 → HE 04 on the spring-forward day is contiguous in UTC, and so is the fall-back
    // sequence: the only gap is the months between the two days of this fixture.
    const missing = (Date.parse('2025-11-02T05:00:00Z') - Date.parse('2025-03-09T08:00:00Z')) / 3_600_000 - 1;
    expect(report.gaps.map((g) => [iso(g.fromMs), iso(g.toMs), g.missingIntervals])).toEqual([['2025-03-09T09:00:00.000Z', '2025-11-02T04:00:00.000Z', missing]]);
    await store.close();
  });
});
