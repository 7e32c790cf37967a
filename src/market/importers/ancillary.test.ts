import { afterAll, describe, expect, it } from 'vitest';
import { openMarketStore } from '../../store/sqlite-store.js';
import { ECRS_FIRST_START_MS } from './ancillary.js';
import { parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const iso = (ms: number) => new Date(ms).toISOString();

describe('ERCOT ancillary-service clearing prices', () => {
  // NP4-181-ER (DAMASMCPC_2023) as ERCOT publishes it: wide, 'REGUP ' with a trailing space, ECRS blank
  // before 2023-06-10 00:00 CPT, 25 hours on 2023-11-05 (the repeated hour flagged Y). The MCPC values
  // below are illustrative (no archive is in the shared data); the layout and dates are ERCOT's.
  const WIDE = csv(
    'Delivery Date,Hour Ending,Repeated Hour Flag,REGDN,REGUP ,RRS,NSPIN,ECRS',
    '06/09/2023,24:00,N,1.10,4.00,3.00,2.50,',
    '06/10/2023,01:00,N,1.20,4.10,3.10,2.60,5.00',
    '11/05/2023,02:00,N,0.50,1.00,1.50,2.00,2.50',
    '11/05/2023,02:00,Y,0.60,1.10,1.60,2.10,2.60',
  );

  it('NP4-181-ER: reads the wide annual archive by product, hour starts in UTC, no ECRS row before its launch', async () => {
    const file = tmp.write('DAMASMCPC_2023.csv', WIDE);
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('ercot-np4-181');
    const ecrs = (batch.asPrices ?? []).filter((p) => p.product === 'ECRS');
    expect(ecrs.map((p) => [iso(p.intervalStartMs), p.usdPerMWh])).toEqual([
      ['2023-06-10T05:00:00.000Z', 5],
      ['2023-11-05T06:00:00.000Z', 2.5],
      ['2023-11-05T07:00:00.000Z', 2.6],
    ]);
    expect(ecrs[0]?.intervalStartMs).toBe(ECRS_FIRST_START_MS);
    // HE 24 of 2023-06-09 (CDT) is 23:00–24:00 local = 04:00Z on the 10th; 'REGUP ' is trimmed.
    expect(batch.asPrices?.find((p) => p.product === 'REGUP')).toEqual({ market: 'ERCOT', product: 'REGUP', kind: 'DA', intervalStartMs: Date.parse('2023-06-10T04:00:00Z'), intervalMinutes: 60, usdPerMWh: 4 });
    expect(batch.asPrices).toHaveLength(4 * 5 - 1);
    expect(batch.notes.join('\n')).toMatch(/1 blank product cell\(s\) skipped/);
    const store = await openMarketStore(':memory:');
    expect((await store.ingest(file, batch)).inserted.asPrices).toBe(19);
    expect((await store.ingest(file, batch)).inserted.asPrices).toBe(0);
    expect((await store.asPrices({ market: 'ERCOT', product: 'NSPIN', kind: 'DA', fromMs: Date.parse('2023-11-05T00:00:00Z'), toMs: Date.parse('2023-11-06T00:00:00Z') })).map((p) => [iso(p.intervalStartMs), p.usdPerMWh, p.source])).toEqual([
      ['2023-11-05T06:00:00.000Z', 2, 'ercot'],
      ['2023-11-05T07:00:00.000Z', 2.1, 'ercot'],
    ]);
    expect((await store.asPriceCoverage()).find((c) => c.product === 'ECRS')).toEqual({ market: 'ERCOT', product: 'ECRS', kind: 'DA', intervalMinutes: 60, firstMs: ECRS_FIRST_START_MS, lastMs: Date.parse('2023-11-05T07:00:00Z'), count: 3 });
    await store.close();
  });

  it('NP4-181-ER before 2023 has no ECRS column', async () => {
    const { format, batch } = await parseDataFile(tmp.write('DAMASMCPC_2022.csv', csv('Delivery Date,Hour Ending,Repeated Hour Flag,REGDN,REGUP ,RRS,NSPIN', '07/01/2022,17:00,N,1,2,3,4')));
    expect(format.id).toBe('ercot-np4-181-pre-ecrs');
    expect(batch.asPrices?.map((p) => p.product)).toEqual(['REGUP', 'REGDN', 'RRS', 'NSPIN']);
  });

  it('NP4-188-CD: the daily DAM report, one row per hour and product (published values)', async () => {
    // Rows of ERCOT's cdr.00012329…20250804…DAMCPCNP4188.csv (operating day 2025-08-05) and of 2026-09-26.
    const file = tmp.write('np4-188.csv', csv('DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag', '08/05/2025,01:00,ECRS,0.07,N', '08/05/2025,01:00,REGDN,0.89,N', '09/26/2026,01:00,RRS,0.19,N'));
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('ercot-np4-188');
    expect(batch.asPrices?.map((p) => [p.product, p.kind, iso(p.intervalStartMs), p.intervalMinutes, p.usdPerMWh])).toEqual([
      ['ECRS', 'DA', '2025-08-05T05:00:00.000Z', 60, 0.07],
      ['REGDN', 'DA', '2025-08-05T05:00:00.000Z', 60, 0.89],
      ['RRS', 'DA', '2026-09-26T05:00:00.000Z', 60, 0.19],
    ]);
  });

  it('NP6-331-CD: real-time MCPC per 15-minute interval', async () => {
    // Layout of ERCOT's RT clearing prices for capacity (since RTC+B, 2025-12-05); values illustrative.
    const file = tmp.write('np6-331.csv', csv('DeliveryDate,DeliveryHour,DeliveryInterval,RepeatedHourFlag,ASType,MCPC', '12/10/2025,18,1,N,NSPIN,0.16', '12/10/2025,18,2,N,NSPIN,0.18'));
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('ercot-np6-331');
    // HE 18 (CST) interval 2 = 17:15–17:30 local = 23:15Z.
    expect(batch.asPrices?.[1]).toEqual({ market: 'ERCOT', product: 'NSPIN', kind: 'RT', intervalStartMs: Date.parse('2025-12-10T23:15:00Z'), intervalMinutes: 15, usdPerMWh: 0.18 });
    const store = await openMarketStore(':memory:');
    await store.ingest(file, batch);
    expect(await store.asPrices({ market: 'ERCOT', product: 'NSPIN', kind: 'RT', fromMs: 0, toMs: Date.parse('2026-01-01T00:00:00Z') })).toHaveLength(2);
    expect(await store.asPrices({ market: 'ERCOT', product: 'NSPIN', kind: 'DA', fromMs: 0, toMs: Date.parse('2026-01-01T00:00:00Z') })).toEqual([]);
    await store.close();
  });

  it('refuses an unknown product or a bad hour at file:line:column', async () => {
    const bad = tmp.write('bad.csv', csv('DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag', '08/05/2025,01:00,ECRS,0.07,N', '08/05/2025,01:00,SPIN,0.07,N'));
    const e = await badInputAt(() => parseDataFile(bad), 'bad.csv:3:3');
    expect(e.message).toMatch(/unknown ancillary service 'SPIN'/);
    await badInputAt(() => parseDataFile(tmp.write('bad2.csv', csv('DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag', '08/05/2025,25:00,ECRS,0.07,N'))), 'bad2.csv:2:2');
  });
});
