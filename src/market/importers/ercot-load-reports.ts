/**
 * ERCOT's own system-load postings (MIS / Public API layouts), for the live load feed and for
 * `mullet data import` of the same files. Rows are labelled by operating day (CPT) and hour ENDING;
 * the DST flag marks the second (CST) pass through the fall-back hour (ercot-time.ts).
 *
 * Layouts (documented column lists; no recorded sample in ../shared/data yet, see live/README.md):
 *   NP6-345-CD actual system load by weather zone (MIS report type 13101), MW:
 *     OperDay,HourEnding,COAST,EAST,FAR_WEST,NORTH,NORTH_C,SOUTHERN,SOUTH_C,WEST,TOTAL,DSTFlag
 *     04/11/2025,01:00,11234.5,1402.1,6920.3,1011.2,11890.4,3120.9,6788.0,1280.6,43648.0,N
 *       → loads TOTAL, COAST, …, hourly, start 2025-04-11T05:00Z
 *   NP3-565-CD seven-day load forecast by model and weather zone (report type 14837), MW:
 *     DeliveryDate,HourEnding,Coast,East,FarWest,North,NorthCentral,SouthCentral,Southern,West,SystemTotal,Model,InUseFlag,DSTFlag
 *     04/12/2025,17:00,…,52011.3,E,Y,N   → load TOTAL_FORECAST, hourly, start 2025-04-12T21:00Z
 *
 * Zones take the names the hourly load file already uses (NORTH_C → NORTH_CENTRAL, SOUTH_C →
 * SOUTH_CENTRAL, SOUTHERN → SOUTH), so the live series continue the imported ones. Of the forecast
 * only the system total of the model ERCOT has in use (InUseFlag = Y) is kept, as its own zone
 * `TOTAL_FORECAST`: a forecast must never be read as, or outrank, a measured load. A later posting
 * overwrites the same hours (the store's upsert), so the store holds the forecast in force.
 */
import type { ParsedBatch } from '../types.js';
import { ercotIntervalStartUtcMs, parseErcotDate, parseHourEnding, type CivilDate } from '../../core/ercot-time.js';
import type { RowCursor } from '../../core/csv.js';
import { columnIndex, type FileFormat, type FormatReader } from './format.js';

/** Zone of the forecast system total in the store (see the header comment). */
export const FORECAST_TOTAL_ZONE = 'TOTAL_FORECAST';

const ACTUAL_HEADER = ['OperDay', 'HourEnding', 'COAST', 'EAST', 'FAR_WEST', 'NORTH', 'NORTH_C', 'SOUTHERN', 'SOUTH_C', 'WEST', 'TOTAL', 'DSTFlag'] as const;
const ACTUAL_ZONES: Readonly<Record<string, string>> = {
  COAST: 'COAST',
  EAST: 'EAST',
  FAR_WEST: 'FAR_WEST',
  NORTH: 'NORTH',
  NORTH_C: 'NORTH_CENTRAL',
  SOUTHERN: 'SOUTH',
  SOUTH_C: 'SOUTH_CENTRAL',
  WEST: 'WEST',
  TOTAL: 'TOTAL',
};

const FORECAST_HEADER = ['DeliveryDate', 'HourEnding', 'Coast', 'East', 'FarWest', 'North', 'NorthCentral', 'SouthCentral', 'Southern', 'West', 'SystemTotal', 'Model', 'InUseFlag', 'DSTFlag'] as const;

function hourStart(row: RowCursor, dateCol: number, hourCol: number, flagCol: number): number {
  let date: CivilDate;
  let hour: number;
  try {
    date = parseErcotDate(row.raw(dateCol));
  } catch (err) {
    return row.fail(dateCol, message(err));
  }
  try {
    hour = parseHourEnding(row.raw(hourCol));
  } catch (err) {
    return row.fail(hourCol, message(err));
  }
  const flag = row.raw(flagCol);
  if (flag !== 'Y' && flag !== 'N') row.fail(flagCol, `expected Y or N, got '${flag}'`);
  try {
    return ercotIntervalStartUtcMs(date, hour, flag === 'Y');
  } catch (err) {
    return row.fail(hourCol, message(err));
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function loadMW(row: RowCursor, col: number): number {
  const mw = row.num(col);
  if (mw < 0) row.fail(col, `load must be >= 0 MW, got ${mw}`);
  return mw;
}

class ActualReader implements FormatReader {
  private readonly zones: { col: number; zone: string }[];
  private readonly c: { date: number; hour: number; flag: number };

  constructor(file: string) {
    const fmt = { header: ACTUAL_HEADER };
    this.zones = Object.entries(ACTUAL_ZONES).map(([column, zone]) => ({ col: columnIndex(fmt, column, file), zone }));
    this.c = { date: columnIndex(fmt, 'OperDay', file), hour: columnIndex(fmt, 'HourEnding', file), flag: columnIndex(fmt, 'DSTFlag', file) };
  }

  row(_cells: string[], row: RowCursor, out: ParsedBatch): void {
    const start = hourStart(row, this.c.date, this.c.hour, this.c.flag);
    for (const { col, zone } of this.zones) {
      out.loads.push({ market: 'ERCOT', zone, intervalStartMs: start, intervalMinutes: 60, loadMW: loadMW(row, col) });
    }
  }
}

class ForecastReader implements FormatReader {
  private readonly c: { date: number; hour: number; flag: number; total: number; model: number; inUse: number };
  private skipped = 0;

  constructor(file: string) {
    const fmt = { header: FORECAST_HEADER };
    const col = (n: string) => columnIndex(fmt, n, file);
    this.c = { date: col('DeliveryDate'), hour: col('HourEnding'), flag: col('DSTFlag'), total: col('SystemTotal'), model: col('Model'), inUse: col('InUseFlag') };
  }

  row(_cells: string[], row: RowCursor, out: ParsedBatch): void {
    const start = hourStart(row, this.c.date, this.c.hour, this.c.flag);
    const total = loadMW(row, this.c.total);
    if (row.raw(this.c.model) === '') row.fail(this.c.model, 'model is blank');
    const inUse = row.raw(this.c.inUse);
    if (inUse !== 'Y' && inUse !== 'N') row.fail(this.c.inUse, `expected Y or N, got '${inUse}'`);
    if (inUse === 'N') {
      this.skipped++;
      return;
    }
    out.loads.push({ market: 'ERCOT', zone: FORECAST_TOTAL_ZONE, intervalStartMs: start, intervalMinutes: 60, loadMW: total });
  }

  finish(out: ParsedBatch): void {
    if (this.skipped > 0) out.notes.push(`kept the in-use forecast model only (${this.skipped} rows of other models left out)`);
  }
}

export const ERCOT_LOAD_REPORT_FORMATS: readonly FileFormat[] = [
  {
    id: 'ercot-np6-345',
    title: 'ERCOT NP6-345-CD actual system load by weather zone (hourly posting), TOTAL and 8 weather zones (MW)',
    header: ACTUAL_HEADER,
    imports: true,
    provider: 'ercot',
    open: (file) => new ActualReader(file),
  },
  {
    id: 'ercot-np3-565',
    title: `ERCOT NP3-565-CD seven-day load forecast by model and weather zone: the in-use model's system total, stored as zone ${FORECAST_TOTAL_ZONE} (MW)`,
    header: FORECAST_HEADER,
    imports: true,
    provider: 'ercot',
    open: (file) => new ForecastReader(file),
  },
];
