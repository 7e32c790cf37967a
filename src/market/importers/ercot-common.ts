/** Helpers shared by the ERCOT importers. */
import { cptOffsetMinutes } from '../../core/ercot-time.js';
import type { RowCursor } from '../../core/csv.js';
import type { ParseOptions } from './format.js';

/**
 * Reads an `interval_start_utc` cell and checks the paired `interval_start_local` cell names the
 * same instant with Central Prevailing Time's offset at that instant (catches shifted rows).
 */
export function utcWithCptLocal(row: RowCursor, utcIndex: number, localIndex: number): number {
  const ms = row.utc(utcIndex);
  const local = row.offsetTime(localIndex);
  if (local.ms !== ms) row.fail(localIndex, `is not the same instant as ${row.header[utcIndex] ?? 'the UTC column'} (${new Date(ms).toISOString()})`);
  const expected = cptOffsetMinutes(ms);
  if (local.offsetMinutes !== expected) row.fail(localIndex, `offset ${local.offsetMinutes} min is not the CPT offset at that instant (${expected} min)`);
  return ms;
}

/** Hubs and load zones are always kept; other settlement points only with `allPoints`. */
export function keepSettlementPoint(name: string, options: ParseOptions): boolean {
  return options.allPoints === true || name.startsWith('HB_') || name.startsWith('LZ_');
}
