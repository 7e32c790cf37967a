/**
 * ERCOT hourly system and weather-zone load (PROVENANCE §3a): MW per hour start, with a per-row
 * `source` (EIA for 2020–2021, ERCOT Native Load workbooks from 2022).
 */
import type { ParsedBatch } from '../types.js';
import type { RowCursor } from '../../core/csv.js';
import { utcWithCptLocal } from './ercot-common.js';
import type { FileFormat, FormatReader } from './format.js';

const ZONE_COLUMNS = ['total_load_mw', 'coast_mw', 'east_mw', 'far_west_mw', 'north_mw', 'north_central_mw', 'south_mw', 'south_central_mw', 'west_mw'] as const;

/** Zone name of a column: 'far_west_mw' → 'FAR_WEST', 'total_load_mw' → 'TOTAL'. */
function zoneOf(column: string): string {
  return column === 'total_load_mw' ? 'TOTAL' : column.slice(0, -'_mw'.length).toUpperCase();
}

const SOURCES: Readonly<Record<string, string>> = { EIA: 'eia', ERCOT_NativeLoad: 'ercot' };

/** Rows held per batch column by column, flushed zone by zone (the store groups consecutive records without a lookup). */
class LoadReader implements FormatReader {
  private readonly zones = ZONE_COLUMNS.map(zoneOf);
  private starts: number[] = [];
  private sources: string[] = [];
  private columns: number[][] = this.zones.map(() => []);

  row(_cells: string[], row: RowCursor): void {
    const sourceCol = ZONE_COLUMNS.length + 2;
    this.starts.push(utcWithCptLocal(row, 0, 1));
    const label = row.raw(sourceCol);
    const source = SOURCES[label];
    if (source === undefined) row.fail(sourceCol, `unknown source '${label}' (known: ${Object.keys(SOURCES).join(', ')})`);
    this.sources.push(source);
    for (let k = 0; k < this.zones.length; k++) {
      const loadMW = row.num(k + 2);
      if (loadMW < 0) row.fail(k + 2, `load must be >= 0 MW, got ${loadMW}`);
      (this.columns[k] as number[]).push(loadMW);
    }
  }

  flush(out: ParsedBatch): void {
    this.zones.forEach((zone, k) => {
      const values = this.columns[k] as number[];
      for (let i = 0; i < this.starts.length; i++) {
        out.loads.push({ market: 'ERCOT', zone, intervalStartMs: this.starts[i] as number, intervalMinutes: 60, loadMW: values[i] as number, source: this.sources[i] as string });
      }
    });
    this.starts = [];
    this.sources = [];
    this.columns = this.zones.map(() => []);
  }
}

export const LOAD_FORMATS: readonly FileFormat[] = [
  {
    id: 'ercot-load-hourly',
    title: 'ERCOT hourly load, system TOTAL and weather zones (MW), ercot_load_hourly_*.csv',
    header: ['interval_start_utc', 'interval_start_local', ...ZONE_COLUMNS, 'source'],
    imports: true,
    provider: 'ercot',
    open: () => new LoadReader(),
  },
];
