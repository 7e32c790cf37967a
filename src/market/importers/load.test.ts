import { afterAll, describe, expect, it } from 'vitest';
import { openMarketStore } from '../../store/sqlite-store.js';
import { parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const HEADER = 'interval_start_utc,interval_start_local,total_load_mw,coast_mw,east_mw,far_west_mw,north_mw,north_central_mw,south_mw,south_central_mw,west_mw,source';

describe('ERCOT hourly load', () => {
  it('stores TOTAL and every weather zone with the per-row source', async () => {
    const file = tmp.write(
      'load.csv',
      csv(
        HEADER,
        '2021-12-31T22:00:00Z,2021-12-31T16:00:00-06:00,100,1,2,3,4,5,6,7,8,EIA',
        '2022-01-01T06:00:00Z,2022-01-01T00:00:00-06:00,200,11,12,13,14,15,16,17,18,ERCOT_NativeLoad',
      ),
    );
    const { format, batch } = await parseDataFile(file);
    expect(format.id).toBe('ercot-load-hourly');
    expect(batch.loads).toHaveLength(18);
    expect(batch.loads.filter((l) => l.zone === 'TOTAL').map((l) => [l.loadMW, l.source, l.intervalMinutes])).toEqual([
      [100, 'eia', 60],
      [200, 'ercot', 60],
    ]);
    expect([...new Set(batch.loads.map((l) => l.zone))]).toEqual(['TOTAL', 'COAST', 'EAST', 'FAR_WEST', 'NORTH', 'NORTH_CENTRAL', 'SOUTH', 'SOUTH_CENTRAL', 'WEST']);
    const store = await openMarketStore(':memory:');
    const r = await store.ingest(file, batch);
    expect(r.inserted.loads).toBe(18);
    expect(r.gaps.find((g) => g.series === 'ERCOT load TOTAL 60min')?.missingIntervals).toBe(7);
    expect((await store.loads({ market: 'ERCOT', zone: 'FAR_WEST', fromMs: 0, toMs: Date.parse('2023-01-01T00:00:00Z') })).map((l) => l.loadMW)).toEqual([3, 13]);
    await store.close();
  });

  it('rejects an unknown source and a negative load', async () => {
    await badInputAt(() => parseDataFile(tmp.write('src.csv', csv(HEADER, '2022-01-01T06:00:00Z,2022-01-01T00:00:00-06:00,1,1,1,1,1,1,1,1,1,NYISO'))), 'src.csv:2:12');
    await badInputAt(() => parseDataFile(tmp.write('neg.csv', csv(HEADER, '2022-01-01T06:00:00Z,2022-01-01T00:00:00-06:00,1,1,-1,1,1,1,1,1,1,EIA'))), 'neg.csv:2:5');
  });
});
