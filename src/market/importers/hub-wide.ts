/**
 * The tidy wide CSVs in ../shared/data (PROVENANCE §1, §2, §8): one row per interval start (UTC and
 * CPT-local columns), one $/MWh column per settlement point. EIA's RT 15-min and DA hourly hub files
 * share one header, so the interval (and with it RT vs DA) is read from the row spacing.
 */
import path from 'node:path';
import { badInput } from '../../core/errors.js';
import { MS_PER_MINUTE } from '../../core/time.js';
import type { ParsedBatch, PriceKind } from '../types.js';
import type { RowCursor } from '../../core/csv.js';
import { utcWithCptLocal } from './ercot-common.js';
import type { FileFormat, FormatReader } from './format.js';

const HUBS = ['hb_busavg', 'hb_houston', 'hb_hubavg', 'hb_north', 'hb_pan', 'hb_south', 'hb_west'] as const;
const LOAD_ZONES = ['lz_aen', 'lz_cps', 'lz_houston', 'lz_lcra', 'lz_north', 'lz_raybn', 'lz_south', 'lz_west'] as const;

interface WideSpec {
  id: string;
  title: string;
  provider: string;
  priceColumns: readonly string[];
  /** Settlement point of a price column. */
  pointOf: (column: string) => string;
  /** Fixed kind and interval, or 'infer' from row spacing (15 min → RT, 60 min → DA). */
  shape: { kind: PriceKind; intervalMinutes: number } | 'infer';
}

function wideFormat(spec: WideSpec): FileFormat {
  return {
    id: spec.id,
    title: spec.title,
    header: ['interval_start_utc', 'interval_start_local', ...spec.priceColumns],
    imports: true,
    provider: spec.provider,
    open: (file) => new WideReader(spec, file),
  };
}

/**
 * Rows are held per batch, column by column, and flushed series by series (the store groups
 * consecutive records of one series without a lookup). With `shape: 'infer'` the interval is read
 * from the row spacing of the FIRST batch (thousands of rows: months of data); every later row must
 * lie on that grid, so a file whose first rows are an hour apart and later ones 15 minutes is
 * rejected rather than silently split.
 */
class WideReader implements FormatReader {
  private starts: number[] = [];
  private lines: number[] = [];
  private columns: number[][];
  private shape: { kind: PriceKind; intervalMinutes: number } | undefined;
  private rows = 0;

  constructor(
    private readonly spec: WideSpec,
    private readonly file: string,
  ) {
    this.columns = spec.priceColumns.map(() => []);
    if (spec.shape !== 'infer') this.shape = spec.shape;
  }

  row(_cells: string[], row: RowCursor): void {
    this.starts.push(utcWithCptLocal(row, 0, 1));
    this.lines.push(row.line);
    for (let k = 0; k < this.columns.length; k++) (this.columns[k] as number[]).push(row.num(k + 2));
    this.rows++;
  }

  flush(out: ParsedBatch): void {
    const starts = this.starts;
    if (starts.length === 0) return;
    const shape = (this.shape ??= inferShape(this.file, starts));
    const stepMs = shape.intervalMinutes * MS_PER_MINUTE;
    for (let i = 0; i < starts.length; i++) {
      if ((starts[i] as number) % stepMs !== 0) {
        throw badInput(`column 'interval_start_utc': ${new Date(starts[i] as number).toISOString()} is not on the ${shape.intervalMinutes}-minute grid of this file`, `${this.file}:${this.lines[i]}:1`);
      }
    }
    this.spec.priceColumns.forEach((column, k) => {
      const settlementPoint = this.spec.pointOf(column);
      const values = this.columns[k] as number[];
      for (let i = 0; i < starts.length; i++) {
        out.prices.push({ market: 'ERCOT', settlementPoint, kind: shape.kind, intervalStartMs: starts[i] as number, intervalMinutes: shape.intervalMinutes, priceUsdPerMWh: values[i] as number });
      }
    });
    this.starts = [];
    this.lines = [];
    this.columns = this.spec.priceColumns.map(() => []);
  }

  finish(out: ParsedBatch): void {
    if (this.rows === 0) out.notes.push(`${this.file}: header only, no rows`);
    else if (this.spec.shape === 'infer' && this.shape) out.notes.push(`${this.shape.kind} ${this.shape.intervalMinutes}-min prices (interval read from the row spacing)`);
  }
}

/** 15-minute rows are EIA's real-time file, hourly rows its day-ahead file; a name hint must agree. */
function inferShape(file: string, starts: readonly number[]): { kind: PriceKind; intervalMinutes: number } {
  const sorted = [...starts].sort((a, b) => a - b);
  let minStep = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const d = (sorted[i] as number) - (sorted[i - 1] as number);
    if (d > 0 && d < minStep) minStep = d;
  }
  const name = path.basename(file).toLowerCase();
  const hint: PriceKind | undefined = /(^|[^a-z])rt([^a-z]|$)/.test(name) ? 'RT' : /(^|[^a-z])(da|dam)([^a-z]|$)/.test(name) ? 'DA' : undefined;
  let kind: PriceKind | undefined;
  if (minStep === 15 * MS_PER_MINUTE) kind = 'RT';
  else if (minStep === 60 * MS_PER_MINUTE) kind = 'DA';
  else if (minStep === Infinity) kind = hint;
  if (kind === undefined) {
    throw badInput(`cannot tell real-time (15-min rows) from day-ahead (hourly rows): smallest row spacing is ${minStep === Infinity ? 'undefined (one row)' : `${minStep / MS_PER_MINUTE} min`}`, file);
  }
  if (hint !== undefined && hint !== kind) {
    throw badInput(`file name says ${hint} but the rows are ${kind === 'RT' ? '15 minutes' : 'an hour'} apart`, file);
  }
  return { kind, intervalMinutes: kind === 'RT' ? 15 : 60 };
}

const upper = (c: string) => c.toUpperCase();

export const HUB_WIDE_FORMATS: readonly FileFormat[] = [
  wideFormat({
    id: 'eia-hubs-wide',
    title: 'EIA ERCOT hub prices (RT 15-min or DA hourly by row spacing), ercot_rt_15min_hubs_YYYY.csv / ercot_dam_hubs_hourly_eia_*.csv',
    provider: 'eia',
    priceColumns: HUBS,
    pointOf: upper,
    shape: 'infer',
  }),
  wideFormat({
    id: 'gridstatus-dam-hubavg',
    title: 'gridstatus DAM SPP for HB_HUBAVG, hourly, ercot_dam_hb_hubavg_hourly_*.csv',
    provider: 'gridstatus',
    priceColumns: ['hb_hubavg_dam_spp'],
    pointOf: () => 'HB_HUBAVG',
    shape: { kind: 'DA', intervalMinutes: 60 },
  }),
  wideFormat({
    id: 'ercot-dam-spp-wide',
    title: 'ERCOT DAM SPP hubs and load zones, hourly, from the NP4-180-ER workbooks, ercot_dam_spp_hubs_lz_hourly_*.csv',
    provider: 'ercot',
    priceColumns: [...HUBS, ...LOAD_ZONES],
    pointOf: upper,
    shape: { kind: 'DA', intervalMinutes: 60 },
  }),
];
