import { afterAll, describe, expect, it } from 'vitest';
import { parseDataFile } from './registry.js';
import { badInputAt, csv, tmpDir } from './testing/tmp.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

const HALVINGS = 'halving_number,height,date_utc,subsidy_before_btc,subsidy_after_btc,verified_in_blocks_per_day,blocks_file_height_prev_day_end,blocks_file_height_day_end';

describe('reference files: recognised, nothing imported', () => {
  it('verifies halvings against the consensus schedule', async () => {
    const { format, batch } = await parseDataFile(tmp.write('h.csv', csv(HALVINGS, '4,840000,2024-04-20,6.25,3.125,yes,839999,840134', '5,1050000,,3.125,1.5625,projected,,')));
    expect(format.imports).toBe(false);
    expect(batch.btcDays).toEqual([]);
    expect(batch.notes.join()).toMatch(/2 halving\(s\) match the consensus subsidy schedule/);
    await badInputAt(() => parseDataFile(tmp.write('h2.csv', csv(HALVINGS, '4,840000,2024-04-20,6.25,3.25,yes,839999,840134'))), 'h2.csv:2:5');
    await badInputAt(() => parseDataFile(tmp.write('h3.csv', csv(HALVINGS, '4,840001,2024-04-20,6.25,3.125,yes,839999,840134'))), 'h3.csv:2:2');
    await badInputAt(() => parseDataFile(tmp.write('h4.csv', csv(HALVINGS, '4,840000,2024-04-20,6.25,3.125,yes,840000,840134'))), 'h4.csv:2:8');
  });

  it('skips the derived monthly peak file and the hardware tables with a clear note', async () => {
    const peak = await parseDataFile(
      tmp.write('peak.csv', csv('year,month,is_4cp_month,peak_hourly_load_mw,peak_hour_start_utc,peak_hour_start_local,hours_present,hours_expected,coverage_pct,source', '2020,1,0,49057.06,2020-01-08T13:00:00Z,2020-01-08T07:00:00-06:00,744,744,100.0,EIA')),
    );
    expect(peak.format.imports).toBe(false);
    expect(peak.batch.notes.join()).toMatch(/derived file.*4CP peaks are recomputed from the hourly TOTAL load/);
    const asic = await parseDataFile(tmp.write('asic.csv', csv('manufacturer,model,hashrate_ths,power_w,efficiency_j_per_th,release_year,release_month,cooling,source', 'Bitmain,S21,200,3500,17.5,2024,,Air,x')));
    expect(asic.format.id).toBe('asic-miner-specs');
    expect(asic.batch.notes.join()).toMatch(/hardware spec table \(1 miners\), not market data/);
    const gpu = await parseDataFile(tmp.write('gpu.csv', csv('vendor,model,architecture,form_factor,unit,power_w,memory_gb,release_year,source', 'NVIDIA,"GB200 (per GPU, NVL72)",Blackwell,SXM,GPU,1200,192,2024,x')));
    expect(gpu.format.imports).toBe(false);
  });
});
