/**
 * ERCOT's own public report layouts (samples in ../shared/data/samples/ercot, PROVENANCE §9).
 * Rows are labelled in Central Prevailing Time by hour ENDING (plus a 15-minute interval number
 * for real time); the DST flag / Repeated Hour Flag = Y marks the second (CST) pass through the
 * fall-back hour. Everything is converted to UTC interval starts with ercot-time.ts.
 *
 * Example rows (units: $/MWh):
 *   NP6-905-CD  03/29/2024,1,4,HB_WEST,HU,-1.08,N      → RT, 15 min, starts 2024-03-29T05:45Z
 *   NP4-190-CD  04/11/2025,01:00,HB_WEST, 35.39,N      → DA, 60 min, starts 2025-04-11T05:00Z
 *   NP4-180-ER  01/01/2025,01:00,N,HB_BUSAVG,23.00     → DA, 60 min, starts 2025-01-01T06:00Z
 */
import type { ParsedBatch, PriceKind } from '../types.js';
import { ercotIntervalStartUtcMs, parseErcotDate, parseHourEnding, type CivilDate } from '../../core/ercot-time.js';
import type { RowCursor } from '../../core/csv.js';
import { keepSettlementPoint } from './ercot-common.js';
import { columnIndex, type FileFormat, type FormatReader, type ParseOptions } from './format.js';

interface LongSpec {
  id: string;
  title: string;
  header: readonly string[];
  kind: PriceKind;
  intervalMinutes: 15 | 60;
  date: string;
  hour: string;
  interval?: string;
  repeated: string;
  point: string;
  pointType?: string;
  price: string;
}

/** Energy-weighted load-zone rows share the zone's name; gridstatus's '_EW' suffix keeps them apart. */
const ENERGY_WEIGHTED_TYPES: ReadonlySet<string> = new Set(['LZEW', 'LZ_DCEW']);

function longFormat(spec: LongSpec): FileFormat {
  return { id: spec.id, title: spec.title, header: spec.header, imports: true, provider: 'ercot', open: (file, options) => new LongReader(spec, file, options) };
}

/** Dates parsed per file at most: the cache is for the few days a posting covers, not a file of distinct dates. */
const MAX_CACHED_DATES = 10_000;

class LongReader implements FormatReader {
  private readonly c: { date: number; hour: number; interval: number; repeated: number; point: number; pointType: number; price: number };
  private readonly perHour: number;
  private readonly dates = new Map<string, CivilDate>();
  private rows = 0;
  private skipped = 0;

  constructor(
    private readonly spec: LongSpec,
    file: string,
    private readonly options: ParseOptions,
  ) {
    const col = (name: string): number => columnIndex(spec, name, file);
    this.c = {
      date: col(spec.date),
      hour: col(spec.hour),
      interval: spec.interval === undefined ? -1 : col(spec.interval),
      repeated: col(spec.repeated),
      point: col(spec.point),
      pointType: spec.pointType === undefined ? -1 : col(spec.pointType),
      price: col(spec.price),
    };
    this.perHour = 60 / spec.intervalMinutes;
  }

  row(_cells: string[], row: RowCursor, out: ParsedBatch): void {
    const c = this.c;
    this.rows++;
    let name = row.raw(c.point);
    if (name === '') row.fail(c.point, 'settlement point is blank');
    if (c.pointType >= 0 && ENERGY_WEIGHTED_TYPES.has(row.raw(c.pointType))) name += '_EW';
    // Every cell is checked even on rows that are not kept: a malformed file is rejected whole.
    if (this.dates.size > MAX_CACHED_DATES) this.dates.clear();
    const start = intervalStart(row, c, this.dates, this.perHour);
    const priceUsdPerMWh = row.num(c.price);
    if (!keepSettlementPoint(name, this.options)) {
      this.skipped++;
      return;
    }
    out.prices.push({ market: 'ERCOT', settlementPoint: name, kind: this.spec.kind, intervalStartMs: start, intervalMinutes: this.spec.intervalMinutes, priceUsdPerMWh });
  }

  finish(out: ParsedBatch): void {
    const { rows, skipped } = this;
    if (skipped > 0) {
      out.notes.push(`kept ${(rows - skipped).toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows (hubs HB_* and load zones LZ_*); --all-points keeps the other ${skipped.toLocaleString('en-US')} settlement-point rows`);
    }
  }
}

/** UTC start of the hour (or sub-hour interval) a CPT report row names; the date cache stays bounded. */
export function intervalStart(row: RowCursor, c: { date: number; hour: number; interval: number; repeated: number }, dates: Map<string, CivilDate>, perHour: number): number {
  const dateText = row.raw(c.date);
  let date = dates.get(dateText);
  if (!date) {
    try {
      date = parseErcotDate(dateText);
    } catch (err) {
      row.fail(c.date, message(err));
    }
    if (dates.size > 10_000) dates.clear();
    dates.set(dateText, date);
  }
  let hour: number;
  try {
    hour = parseHourEnding(row.raw(c.hour));
  } catch (err) {
    row.fail(c.hour, message(err));
  }
  const interval = c.interval >= 0 ? row.int(c.interval) : 1;
  const flag = row.raw(c.repeated);
  if (flag !== 'Y' && flag !== 'N') row.fail(c.repeated, `expected Y or N, got '${flag}'`);
  try {
    return ercotIntervalStartUtcMs(date, hour, flag === 'Y', interval, perHour);
  } catch (err) {
    return row.fail(c.interval >= 0 && /interval/.test(message(err)) ? c.interval : c.hour, message(err));
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const ERCOT_REPORT_FORMATS: readonly FileFormat[] = [
  longFormat({
    id: 'ercot-np6-905',
    title: 'ERCOT NP6-905-CD real-time SPP at resource nodes, hubs and load zones (15-min posting)',
    header: ['DeliveryDate', 'DeliveryHour', 'DeliveryInterval', 'SettlementPointName', 'SettlementPointType', 'SettlementPointPrice', 'DSTFlag'],
    kind: 'RT',
    intervalMinutes: 15,
    date: 'DeliveryDate',
    hour: 'DeliveryHour',
    interval: 'DeliveryInterval',
    repeated: 'DSTFlag',
    point: 'SettlementPointName',
    pointType: 'SettlementPointType',
    price: 'SettlementPointPrice',
  }),
  longFormat({
    id: 'ercot-np6-785',
    title: 'ERCOT NP6-785-ER historical RTM load zone and hub prices, one workbook sheet as CSV (layout documented, no real sample yet)',
    header: ['Delivery Date', 'Delivery Hour', 'Delivery Interval', 'Repeated Hour Flag', 'Settlement Point Name', 'Settlement Point Type', 'Settlement Point Price'],
    kind: 'RT',
    intervalMinutes: 15,
    date: 'Delivery Date',
    hour: 'Delivery Hour',
    interval: 'Delivery Interval',
    repeated: 'Repeated Hour Flag',
    point: 'Settlement Point Name',
    pointType: 'Settlement Point Type',
    price: 'Settlement Point Price',
  }),
  longFormat({
    id: 'ercot-np4-190',
    title: 'ERCOT NP4-190-CD DAM settlement point prices (daily file, hourly)',
    header: ['DeliveryDate', 'HourEnding', 'SettlementPoint', 'SettlementPointPrice', 'DSTFlag'],
    kind: 'DA',
    intervalMinutes: 60,
    date: 'DeliveryDate',
    hour: 'HourEnding',
    repeated: 'DSTFlag',
    point: 'SettlementPoint',
    price: 'SettlementPointPrice',
  }),
  longFormat({
    id: 'ercot-np4-180',
    title: 'ERCOT NP4-180-ER historical DAM load zone and hub prices, one workbook sheet as CSV (hourly)',
    header: ['Delivery Date', 'Hour Ending', 'Repeated Hour Flag', 'Settlement Point', 'Settlement Point Price'],
    kind: 'DA',
    intervalMinutes: 60,
    date: 'Delivery Date',
    hour: 'Hour Ending',
    repeated: 'Repeated Hour Flag',
    point: 'Settlement Point',
    price: 'Settlement Point Price',
  }),
];
