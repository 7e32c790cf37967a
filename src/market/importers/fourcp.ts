/**
 * ERCOT's official 4CP settlement intervals (PROVENANCE §10; report NP9-83-M "Four Coincident Peak
 * Calculations"): one row per summer month with the interval ERCOT used, printed as the interval
 * *ending* in local time ("17:00" = 16:45–17:00 CPT). The same columns from a user's own file are
 * accepted; rows without an ERCOT posting id are stored under the source `user`.
 */
import { MS_PER_MINUTE } from '../../core/time.js';
import { cptOffsetMinutes } from '../../core/ercot-time.js';
import type { FourCpInterval, ParsedBatch } from '../types.js';
import type { RowCursor } from '../../core/csv.js';
import type { FileFormat, FormatReader } from './format.js';

/** ERCOT settles 4CP on 15-minute intervals. */
export const FOURCP_INTERVAL_MINUTES = 15;

const LOCAL_RE = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?([+-])(\d\d):(\d\d)$/;

/** 'YYYY-MM-DDTHH:MM[:SS]±HH:MM' → UTC ms and offset minutes, or a BAD_INPUT at the cell. */
function localInstant(row: RowCursor, index: number): { ms: number; offsetMinutes: number } {
  const s = row.raw(index);
  const m = LOCAL_RE.exec(s);
  if (!m) return row.fail(index, `expected a local time YYYY-MM-DDTHH:MM±HH:MM (interval ending), got '${s}'`);
  const [, y, mo, d, h, mi, sec, sign, oh, om] = m as unknown as [string, string, string, string, string, string, string | undefined, string, string, string];
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  // Hour 24 is how some ERCOT files write midnight ending; Date.UTC rolls it into the next day.
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec ?? 0));
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 24 || (Number(h) === 24 && Number(mi) !== 0) || Number(mi) > 59 || new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() !== Number(d)) {
    return row.fail(index, `not a valid local time: '${s}'`);
  }
  return { ms: wall - offsetMinutes * MS_PER_MINUTE, offsetMinutes };
}

const HEADER = ['year', 'month', 'interval_ending_local', 'interval_start_utc', 'ercot_4cp_mw', 'average_4cp_mw', 'source_doclookup_id'];

type Row = FourCpInterval & { year: number; average?: number; line: number };

/**
 * One row per month, months unique (1990..2200): at most 2,532 rows, so they are held to the end of
 * the file, where the per-year average is checked and the intervals are handed on.
 */
class FourCpReader implements FormatReader {
  private readonly rows: Row[] = [];
  private readonly seen = new Map<string, number>();

  constructor(private readonly file: string) {}

  row(_cells: string[], row: RowCursor): void {
    const year = row.int(0);
    if (year < 1990 || year > 2200) row.fail(0, `expected a year between 1990 and 2200, got ${year}`);
    const month = row.int(1);
    if (month < 1 || month > 12) row.fail(1, `expected a month 1..12, got ${month}`);
    const ending = localInstant(row, 2);
    const startMs = row.utc(3);
    if (ending.ms - startMs !== FOURCP_INTERVAL_MINUTES * MS_PER_MINUTE) {
      row.fail(3, `must be ${FOURCP_INTERVAL_MINUTES} minutes before interval_ending_local (${new Date(ending.ms - FOURCP_INTERVAL_MINUTES * MS_PER_MINUTE).toISOString().replace('.000Z', 'Z')})`);
    }
    if (startMs % (FOURCP_INTERVAL_MINUTES * MS_PER_MINUTE) !== 0) row.fail(3, `is not on the ${FOURCP_INTERVAL_MINUTES}-minute grid`);
    const expected = cptOffsetMinutes(startMs);
    if (ending.offsetMinutes !== expected) row.fail(2, `offset ${ending.offsetMinutes} min is not the CPT offset at that interval (${expected} min)`);
    const localStart = new Date(startMs + expected * MS_PER_MINUTE);
    if (localStart.getUTCFullYear() !== year || localStart.getUTCMonth() + 1 !== month) {
      row.fail(3, `the interval starts in ${localStart.toISOString().slice(0, 7)} (CPT), not ${year}-${String(month).padStart(2, '0')}`);
    }
    const key = `${year}-${String(month).padStart(2, '0')}`;
    const dup = this.seen.get(key);
    if (dup !== undefined) row.fail(1, `${key} already given on line ${dup}`);
    this.seen.set(key, row.line);
    const mw = row.optNum(4);
    if (mw !== undefined && mw <= 0) row.fail(4, `must be > 0 MW, got ${mw}`);
    const average = row.optNum(5);
    if (average !== undefined && average <= 0) row.fail(5, `must be > 0 MW, got ${average}`);
    const doc = row.raw(6);
    if (doc !== '' && !/^\d{1,20}$/.test(doc)) row.fail(6, `expected an ERCOT doclookupId (digits) or blank, got '${doc}'`);
    this.rows.push({
      market: 'ERCOT',
      month: key,
      intervalStartMs: startMs,
      intervalMinutes: FOURCP_INTERVAL_MINUTES,
      ...(mw === undefined ? {} : { systemLoadMW: mw }),
      ...(doc === '' ? { source: 'user' } : {}),
      year,
      ...(average === undefined ? {} : { average }),
      line: row.line,
    });
  }

  flush(batch: ParsedBatch, last: boolean): void {
    if (!last) return;
    // The average column is the mean of the year's four months: a cheap check against shifted rows.
    const byYear = new Map<number, Row[]>();
    for (const r of this.rows) byYear.set(r.year, [...(byYear.get(r.year) ?? []), r]);
    for (const [year, list] of byYear) {
      const mws = list.map((r) => r.systemLoadMW);
      const averages = new Set(list.map((r) => r.average).filter((a) => a !== undefined));
      if (list.length !== 4 || mws.some((v) => v === undefined) || averages.size === 0) continue;
      const mean = (mws as number[]).reduce((a, b) => a + b, 0) / 4;
      for (const r of list) {
        if (r.average !== undefined && Math.abs(r.average - mean) > 0.1) {
          batch.notes.push(`${this.file}:${r.line}: average_4cp_mw ${r.average} differs from the mean of ${year}'s four months (${mean.toFixed(2)} MW)`);
          break;
        }
      }
    }
    batch.fourCpIntervals = this.rows.map(({ year: _y, average: _a, line: _l, ...r }) => r);
    const years = [...byYear.keys()].sort();
    batch.notes.push(`${this.rows.length} official 4CP interval(s)${years.length ? ` for ${years[0]}..${years[years.length - 1]}` : ''}: back-tests settle those months' 4CP tag at exactly these intervals`);
  }
}

export const FOURCP_FORMATS: readonly FileFormat[] = [
  {
    id: 'ercot-4cp-intervals',
    title: 'ERCOT official 4CP settlement intervals (NP9-83-M), ercot_4cp/official_intervals_*.csv, or your own file with the same columns',
    header: HEADER,
    imports: true,
    provider: 'ercot',
    open: (file) => new FourCpReader(file),
  },
];
