import { MulletError } from '../../core/errors.js';
import type { ParsedBatch } from '../types.js';
import type { RowCursor } from '../../core/csv.js';

export interface ParseOptions {
  /**
   * ERCOT report layouts list every settlement point (~1,000 resource nodes). By default only hubs
   * (HB_*) and load zones (LZ_*) are kept; true keeps all of them.
   */
  allPoints?: boolean;
}

/**
 * Reads the rows of one file, in order, into the batch it is handed. Files are streamed: the
 * caller hands each batch to the store every few thousand rows, so a reader keeps only what the
 * current batch needs (plus small running state such as a previous row for cross-row checks).
 */
export interface FormatReader {
  /** Parses one data row (cell count already checked) and adds its records to `out`. */
  row(cells: string[], row: RowCursor, out: ParsedBatch): void;
  /** Before `out` is handed on (every batch, and after the last row with `last`): adds anything held back. */
  flush?(out: ParsedBatch, last: boolean): void;
  /** After the last row and its flush: notes about the whole file (`rows` = data rows read). */
  finish?(out: ParsedBatch, rows: number): void;
}

/** A recognised file layout: identified by its exact header row, read row by row into ParsedBatches. */
export interface FileFormat {
  /** Stable id, also ParsedBatch.source: 'eia-hubs-wide', 'ercot-np6-905', ... */
  id: string;
  /** One line for humans: what the file is and which series it feeds. */
  title: string;
  /** The header row, cell by cell (trimmed, case-sensitive). */
  header: readonly string[];
  /** False for files that are recognised but hold no market data (reference tables). */
  imports: boolean;
  /** Default publisher of the records (ParsedBatch.provider), when the format has one. */
  provider?: string;
  /** A reader for one file; its rows must then throw BAD_INPUT at file:line:column on the first malformed cell. */
  open(file: string, options: ParseOptions): FormatReader;
}

/** Index of a column in a format's own header; INTERNAL when the format's column list is wrong. */
export function columnIndex(format: Pick<FileFormat, 'header'>, name: string, file: string): number {
  const i = format.header.indexOf(name);
  if (i < 0) throw new MulletError('INTERNAL', `column '${name}' not in header`, { where: file });
  return i;
}
