/**
 * ERCOT ancillary-service clearing prices for capacity (MCPC, USD per MW per hour held), three layouts:
 *
 *   NP4-181-ER  annual DAM archive DAMASMCPC_<year> (a zip; recent years xlsx: one sheet saved as
 *               CSV). WIDE: one row per hour, one column per product. The REGUP header carries a
 *               trailing space ("REGUP "): headers are trimmed. ECRS exists from 2023-06-10 00:00 CPT;
 *               before that its cell is blank (no row). Years before 2023 have no ECRS column.
 *                 Delivery Date,Hour Ending,Repeated Hour Flag,REGDN,REGUP ,RRS,NSPIN,ECRS
 *                 07/15/2023,17:00,N,<REGDN>,<REGUP>,<RRS>,<NSPIN>,<ECRS>  → DA, 60 min, starts 2023-07-15T21:00Z
 *   NP4-188-CD  rolling daily DAM report (MIS keeps ~31 days): LONG, one row per hour and product.
 *                 DeliveryDate,HourEnding,AncillaryType,MCPC,DSTFlag
 *                 08/05/2025,01:00,ECRS,0.07,N   → DA ECRS, 60 min, starts 2025-08-05T05:00Z (published value)
 *   NP6-331-CD  real-time MCPC per 15-minute settlement interval, since real-time co-optimization
 *               (RTC+B, 2025-12-05): LONG.
 *                 DeliveryDate,DeliveryHour,DeliveryInterval,RepeatedHourFlag,ASType,MCPC
 *                 12/10/2025,18,2,N,NSPIN,<MCPC>  → RT NSPIN, 15 min, starts 2025-12-11T00:15Z
 *
 * Rows are labelled in CPT by hour ending; the repeated-hour flag Y marks the second (CST) pass through
 * the fall-back hour (ercot-time.ts does the conversion). Stored under market 'ERCOT' by product.
 */
import { AS_PRICE_PRODUCTS, type AsPriceProduct, type ParsedBatch, type PriceKind } from '../types.js';
import type { CivilDate } from '../../core/ercot-time.js';
import { intervalStart } from './ercot-reports.js';
import type { RowCursor } from '../../core/csv.js';
import { columnIndex, type FileFormat, type FormatReader } from './format.js';

/** ECRS's first DAM delivery hour (2023-06-10 00:00 CPT = 05:00 UTC). */
export const ECRS_FIRST_START_MS = Date.parse('2023-06-10T05:00:00Z');


function product(row: RowCursor, index: number): AsPriceProduct {
  const p = row.raw(index);
  if (!(AS_PRICE_PRODUCTS as readonly string[]).includes(p)) row.fail(index, `unknown ancillary service '${p}'; expected one of ${AS_PRICE_PRODUCTS.join(', ')}`);
  return p as AsPriceProduct;
}

/** NP4-181-ER: one row per hour, a column per product. */
class WideReader implements FormatReader {
  private readonly c: { date: number; hour: number; interval: number; repeated: number };
  private readonly products: { index: number; product: AsPriceProduct }[];
  private readonly dates = new Map<string, CivilDate>();
  private blank = 0;
  private ecrsBeforeLaunch = 0;

  constructor(format: FileFormat, file: string) {
    const col = (name: string) => columnIndex(format, name, file);
    this.c = { date: col('Delivery Date'), hour: col('Hour Ending'), interval: -1, repeated: col('Repeated Hour Flag') };
    this.products = AS_PRICE_PRODUCTS.filter((p) => format.header.includes(p)).map((p) => ({ index: col(p), product: p }));
  }

  row(_cells: string[], row: RowCursor, out: ParsedBatch): void {
    const start = intervalStart(row, this.c, this.dates, 1);
    for (const { index, product } of this.products) {
      const v = row.optNum(index);
      if (v === undefined) {
        // Blank = the product was not procured that hour (ECRS before its launch); never a zero.
        this.blank++;
        continue;
      }
      if (product === 'ECRS' && start < ECRS_FIRST_START_MS) this.ecrsBeforeLaunch++;
      (out.asPrices ??= []).push({ market: 'ERCOT', product, kind: 'DA', intervalStartMs: start, intervalMinutes: 60, usdPerMWh: v });
    }
  }

  finish(out: ParsedBatch): void {
    if (this.blank > 0) out.notes.push(`${this.blank.toLocaleString('en-US')} blank product cell(s) skipped (not procured that hour; ECRS exists from 2023-06-10)`);
    if (this.ecrsBeforeLaunch > 0) out.notes.push(`${this.ecrsBeforeLaunch} ECRS price(s) before its 2023-06-10 launch kept as published; check the file`);
  }
}

/** NP4-188-CD and NP6-331-CD: one row per interval and product. */
class LongReader implements FormatReader {
  private readonly c: { date: number; hour: number; interval: number; repeated: number; product: number; price: number };
  private readonly dates = new Map<string, CivilDate>();

  constructor(
    format: FileFormat,
    file: string,
    private readonly kind: PriceKind,
    private readonly intervalMinutes: 15 | 60,
    names: { date: string; hour: string; interval?: string; repeated: string; product: string; price: string },
  ) {
    const col = (name: string) => columnIndex(format, name, file);
    this.c = { date: col(names.date), hour: col(names.hour), interval: names.interval === undefined ? -1 : col(names.interval), repeated: col(names.repeated), product: col(names.product), price: col(names.price) };
  }

  row(_cells: string[], row: RowCursor, out: ParsedBatch): void {
    const start = intervalStart(row, this.c, this.dates, 60 / this.intervalMinutes);
    const p = product(row, this.c.product);
    (out.asPrices ??= []).push({ market: 'ERCOT', product: p, kind: this.kind, intervalStartMs: start, intervalMinutes: this.intervalMinutes, usdPerMWh: row.num(this.c.price) });
  }
}

function wide(id: string, title: string, header: readonly string[]): FileFormat {
  const format: FileFormat = { id, title, header, imports: true, provider: 'ercot', open: (file) => new WideReader(format, file) };
  return format;
}

const NP4_188: FileFormat = {
  id: 'ercot-np4-188',
  title: 'ERCOT NP4-188-CD DAM clearing prices for capacity (daily file, hourly, one row per product)',
  header: ['DeliveryDate', 'HourEnding', 'AncillaryType', 'MCPC', 'DSTFlag'],
  imports: true,
  provider: 'ercot',
  open: (file) => new LongReader(NP4_188, file, 'DA', 60, { date: 'DeliveryDate', hour: 'HourEnding', repeated: 'DSTFlag', product: 'AncillaryType', price: 'MCPC' }),
};

const NP6_331: FileFormat = {
  id: 'ercot-np6-331',
  title: 'ERCOT NP6-331-CD real-time clearing prices for capacity per 15-minute settlement interval (since RTC+B, 2025-12)',
  header: ['DeliveryDate', 'DeliveryHour', 'DeliveryInterval', 'RepeatedHourFlag', 'ASType', 'MCPC'],
  imports: true,
  provider: 'ercot',
  open: (file) => new LongReader(NP6_331, file, 'RT', 15, { date: 'DeliveryDate', hour: 'DeliveryHour', interval: 'DeliveryInterval', repeated: 'RepeatedHourFlag', product: 'ASType', price: 'MCPC' }),
};

export const ANCILLARY_FORMATS: readonly FileFormat[] = [
  wide('ercot-np4-181', 'ERCOT NP4-181-ER historical DAM clearing prices for capacity (DAMASMCPC_<year>, from 2023 with ECRS; a sheet saved as CSV)', [
    'Delivery Date',
    'Hour Ending',
    'Repeated Hour Flag',
    'REGDN',
    'REGUP',
    'RRS',
    'NSPIN',
    'ECRS',
  ]),
  wide('ercot-np4-181-pre-ecrs', 'ERCOT NP4-181-ER historical DAM clearing prices for capacity (DAMASMCPC_<year>, before 2023: no ECRS column)', [
    'Delivery Date',
    'Hour Ending',
    'Repeated Hour Flag',
    'REGDN',
    'REGUP',
    'RRS',
    'NSPIN',
  ]),
  NP4_188,
  NP6_331,
];
