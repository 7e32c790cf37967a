import type { ParsedBatch } from '../types.js';
import type { CsvText } from './csv.js';

export interface ParseOptions {
  /**
   * ERCOT report layouts list every settlement point (~1,000 resource nodes). By default only hubs
   * (HB_*) and load zones (LZ_*) are kept; true keeps all of them.
   */
  allPoints?: boolean;
}

/** A recognised file layout: identified by its exact header row, parsed into a ParsedBatch. */
export interface FileFormat {
  /** Stable id, also ParsedBatch.source: 'eia-hubs-wide', 'ercot-np6-905', ... */
  id: string;
  /** One line for humans: what the file is and which series it feeds. */
  title: string;
  /** The header row, cell by cell (trimmed, case-sensitive). */
  header: readonly string[];
  /** False for files that are recognised but hold no market data (reference tables). */
  imports: boolean;
  /** Parses every row; throws BAD_INPUT at file:line:column on the first malformed cell. */
  parse(csv: CsvText, options: ParseOptions): ParsedBatch;
}
