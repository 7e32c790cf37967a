import { afterAll, describe, expect, it } from 'vitest';
import { openMarketStore } from '../../store/sqlite-store.js';
import { parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const HEADER = 'year,month,interval_ending_local,interval_start_utc,ercot_4cp_mw,average_4cp_mw,source_doclookup_id';
// Summer 2023 as posted in ERCOT's NP9-83-M (PROVENANCE §10).
const Y2023 = [
  '2023,6,2023-06-27T17:00-05:00,2023-06-27T21:45:00Z,81017.6,83556.8,961277079',
  '2023,7,2023-07-31T17:00-05:00,2023-07-31T21:45:00Z,83032.6,83556.8,961277079',
  '2023,8,2023-08-10T17:00-05:00,2023-08-10T21:45:00Z,85636.9,83556.8,961277079',
  '2023,9,2023-09-08T16:45-05:00,2023-09-08T21:30:00Z,84540.3,83556.8,961277079',
];

describe('ERCOT official 4CP intervals', () => {
  it('reads the interval ending (local) as a 15-minute start in UTC and stores one interval per month', async () => {
    const file = tmp.write('official_intervals.csv', csv(HEADER, ...Y2023));
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('ercot-4cp-intervals');
    expect(batch.fourCpIntervals?.[3]).toEqual({ market: 'ERCOT', month: '2023-09', intervalStartMs: Date.parse('2023-09-08T21:30:00Z'), intervalMinutes: 15, systemLoadMW: 84540.3 });
    expect(batch.notes.join('\n')).not.toMatch(/differs from the mean/);
    const store = await openMarketStore(':memory:');
    expect((await store.ingest(file, batch)).inserted.fourCpIntervals).toBe(4);
    expect((await store.fourCpIntervals({ market: 'ERCOT' })).map((c) => [c.month, new Date(c.intervalStartMs).toISOString(), c.source])).toEqual([
      ['2023-06', '2023-06-27T21:45:00.000Z', 'ercot'],
      ['2023-07', '2023-07-31T21:45:00.000Z', 'ercot'],
      ['2023-08', '2023-08-10T21:45:00.000Z', 'ercot'],
      ['2023-09', '2023-09-08T21:30:00.000Z', 'ercot'],
    ]);
    await store.close();
  });

  it("accepts a user's own file with the same columns (no posting id, no MW) under the source 'user'", async () => {
    const file = tmp.write('mine.csv', csv(HEADER, '2021,8,2021-08-31T16:45-05:00,2021-08-31T21:30:00Z,,,'));
    const { batch } = await parseDataFile(file);
    expect(batch.fourCpIntervals).toEqual([{ market: 'ERCOT', month: '2021-08', intervalStartMs: Date.parse('2021-08-31T21:30:00Z'), intervalMinutes: 15, source: 'user' }]);
  });

  it('rejects an ending that is not 15 minutes after the start, a wrong offset, a wrong month and a repeated month', async () => {
    const row = (s: string) => tmp.write(`bad${Math.random().toString(36).slice(2)}.csv`, csv(HEADER, s));
    expect((await badInputAt(() => parseDataFile(row('2023,7,2023-07-31T17:00-05:00,2023-07-31T22:00:00Z,1,,')), ':2:4')).message).toMatch(/15 minutes before interval_ending_local \(2023-07-31T21:45:00Z\)/);
    expect((await badInputAt(() => parseDataFile(row('2023,7,2023-07-31T16:00-06:00,2023-07-31T21:45:00Z,1,,')), ':2:3')).message).toMatch(/not the CPT offset/);
    expect((await badInputAt(() => parseDataFile(row('2023,8,2023-07-31T17:00-05:00,2023-07-31T21:45:00Z,1,,')), ':2:4')).message).toMatch(/starts in 2023-07 \(CPT\), not 2023-08/);
    await badInputAt(() => parseDataFile(row('2023,7,2023-07-31 17:00,2023-07-31T21:45:00Z,1,,')), ':2:3');
    await badInputAt(() => parseDataFile(row('2023,7,2023-07-31T17:00-05:00,2023-07-31T21:45:00Z,-5,,')), ':2:5');
    await badInputAt(() => parseDataFile(row('2023,7,2023-07-31T17:00-05:00,2023-07-31T21:45:00Z,1,,abc')), ':2:7');
    const dup = tmp.write('dup.csv', csv(HEADER, Y2023[1] as string, Y2023[1] as string));
    expect((await badInputAt(() => parseDataFile(dup), 'dup.csv:3:2')).message).toMatch(/2023-07 already given on line 2/);
  });

  it('notes an average column that is not the mean of the four months (a shifted row)', async () => {
    const rows = Y2023.map((r, i) => (i === 2 ? r.replace('85636.9', '85000') : r));
    const { batch } = await parseDataFile(tmp.write('shifted.csv', csv(HEADER, ...rows)));
    expect(batch.notes.join('\n')).toMatch(/average_4cp_mw 83556.8 differs from the mean of 2023's four months/);
  });
});
