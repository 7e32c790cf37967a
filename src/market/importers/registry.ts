/**
 * Every file layout Mullet imports, keyed by its header row. `openDataFile` streams a file: it reads
 * the header, picks the format and yields the records in batches for the store; `parseDataText`
 * does the same for text already in memory. An unknown header is BAD_INPUT listing the formats.
 */
import { badInput, MulletError } from '../../core/errors.js';
import { emptyBatch, type ParsedBatch } from '../types.js';
import { ANCILLARY_FORMATS } from './ancillary.js';
import { BTC_FORMATS } from './btc.js';
import { CsvLines, type RowCursor } from '../../core/csv.js';
import { ERCOT_LOAD_REPORT_FORMATS } from './ercot-load-reports.js';
import { ERCOT_REPORT_FORMATS } from './ercot-reports.js';
import type { FileFormat, FormatReader, ParseOptions } from './format.js';
import { FOURCP_FORMATS } from './fourcp.js';
import { HUB_WIDE_FORMATS } from './hub-wide.js';
import { LOAD_FORMATS } from './load.js';
import { REFERENCE_FORMATS } from './reference.js';
import { openLines, type Compression } from './source.js';

export type { FileFormat, ParseOptions } from './format.js';

export const FORMATS: readonly FileFormat[] = [...HUB_WIDE_FORMATS, ...LOAD_FORMATS, ...ERCOT_REPORT_FORMATS, ...ERCOT_LOAD_REPORT_FORMATS, ...BTC_FORMATS, ...FOURCP_FORMATS, ...REFERENCE_FORMATS, ...ANCILLARY_FORMATS];

const BY_HEADER = new Map<string, FileFormat>();
{
  const ids = new Set<string>();
  for (const f of FORMATS) {
    const key = f.header.join(',');
    if (ids.has(f.id) || BY_HEADER.has(key)) throw new MulletError('INTERNAL', `duplicate import format registration: ${f.id}`);
    ids.add(f.id);
    BY_HEADER.set(key, f);
  }
}

/** The format whose header row is exactly `header`, or undefined. */
export function formatOf(header: readonly string[]): FileFormat | undefined {
  return BY_HEADER.get(header.join(','));
}

/** The BAD_INPUT for a header no format has, naming every recognised format. */
export function unrecognisedHeader(header: readonly string[], file: string): MulletError {
  const shown = header.join(',');
  return badInput(
    `unrecognised header '${shown.length > 120 ? shown.slice(0, 117) + '...' : shown}'; recognised formats:\n${FORMATS.map((f) => `  ${f.id}: ${f.title}`).join('\n')}`,
    `${file}:1`,
  );
}

/** The format whose header matches exactly, else BAD_INPUT naming every recognised format. */
export function detectFormat(header: readonly string[], file: string): FileFormat {
  const found = formatOf(header);
  if (found) return found;
  throw unrecognisedHeader(header, file);
}

/**
 * Data rows per batch handed to the store: large enough that per-batch work (a few statements per
 * series) is noise, small enough that a batch's records stay a few MB (8,192 rows of 7 hubs are
 * ~57,000 PricePoints).
 */
export const BATCH_ROWS = 8192;

/** Turns CSV lines into ParsedBatches of about BATCH_ROWS rows for one format. */
class BatchBuilder {
  private readonly reader: FormatReader;
  private batch: ParsedBatch;
  private inBatch = 0;
  private readonly done: ParsedBatch[] = [];

  constructor(
    private readonly format: FileFormat,
    file: string,
    options: ParseOptions,
    private readonly batchRows: number,
  ) {
    this.reader = format.open(file, options);
    this.batch = this.fresh();
  }

  private fresh(): ParsedBatch {
    const b = emptyBatch(this.format.id);
    if (this.format.provider !== undefined) b.provider = this.format.provider;
    return b;
  }

  private readonly onRow = (cells: string[], row: RowCursor): void => {
    this.reader.row(cells, row, this.batch);
    if (++this.inBatch >= this.batchRows) {
      this.reader.flush?.(this.batch, false);
      this.done.push(this.batch);
      this.batch = this.fresh();
      this.inBatch = 0;
    }
  };

  /** Feeds lines; returns the batches they completed. */
  feed(csv: CsvLines, lines: readonly string[]): ParsedBatch[] {
    csv.feed(lines, this.onRow);
    return this.done.splice(0);
  }

  /** The last batch (possibly empty), with the file's notes. */
  end(rows: number): ParsedBatch {
    this.reader.flush?.(this.batch, true);
    this.reader.finish?.(this.batch, rows);
    return this.batch;
  }
}

export interface ParsedFile {
  format: FileFormat;
  batch: ParsedBatch;
  rows: number;
}

/** Parses CSV text already in memory into one batch (small files: fetched documents, tests); `file` names it in errors. */
export function parseDataText(file: string, text: string, options: ParseOptions = {}): ParsedFile {
  const csv = new CsvLines(file);
  const lines = text.split('\n');
  csv.feed(lines.slice(0, 1), () => undefined);
  const format = detectFormat(csv.header ?? [], file);
  const builder = new BatchBuilder(format, file, options, Infinity);
  builder.feed(csv, lines.slice(1));
  return { format, batch: builder.end(csv.rows), rows: csv.rows };
}

/** A data file open for streaming: its header and format, then its batches. */
export interface DataFile {
  /** The header row's cells (empty for an empty file). */
  header: readonly string[];
  /** Undefined when the header is not a recognised format. */
  format: FileFormat | undefined;
  compression: Compression;
  /** Data rows read so far. */
  rows(): number;
  /**
   * The file's records in batches of about `batchRows` data rows (the last may be empty and carries
   * the file's notes). Throws BAD_INPUT at file:line:column on the first malformed row, ABORTED
   * when the signal given to openDataFile fires. Needs a recognised format.
   */
  batches(options?: ParseOptions, batchRows?: number): AsyncGenerator<ParsedBatch>;
  close(): Promise<void>;
}

/** Opens a data file (plain, gzip or single-file zip; regular files only) and reads its header. */
export async function openDataFile(fullPath: string, name = fullPath, signal?: AbortSignal): Promise<DataFile> {
  const source = await openLines(fullPath, name, signal);
  try {
    const lines = source.lines();
    const csv = new CsvLines(name);
    let pending: string[] = [];
    // The header: the first line, whatever the chunk that holds it.
    while (csv.header === undefined) {
      const next = await lines.next();
      if (next.done) break;
      csv.feed(next.value.slice(0, 1), () => undefined);
      pending = next.value.slice(1);
    }
    const header = csv.header ?? [];
    const format = formatOf(header);
    return {
      header,
      format,
      compression: source.compression,
      rows: () => csv.rows,
      async *batches(options: ParseOptions = {}, batchRows = BATCH_ROWS) {
        const builder = new BatchBuilder(format ?? detectFormat(header, name), name, options, batchRows);
        // Between batches too, not only between reads: one read can complete many batches.
        const stopped = (): void => {
          if (signal?.aborted) throw new MulletError('ABORTED', `stopped (${String(signal.reason ?? 'aborted')})`, { where: name, cause: signal.reason });
        };
        for (const b of builder.feed(csv, pending)) {
          stopped();
          yield b;
        }
        pending = [];
        for await (const chunk of lines) {
          for (const b of builder.feed(csv, chunk)) {
            stopped();
            yield b;
          }
        }
        stopped();
        yield builder.end(csv.rows);
      },
      close: () => source.close(),
    };
  } catch (err) {
    await source.close();
    throw err;
  }
}

/** Reads, sniffs and parses one whole file into one batch (streamed from disk; tests and small files). */
export async function parseDataFile(file: string, options: ParseOptions = {}): Promise<ParsedFile> {
  const data = await openDataFile(file, file);
  try {
    const format = data.format ?? detectFormat(data.header, file);
    const all = emptyBatch(format.id);
    if (format.provider !== undefined) all.provider = format.provider;
    for await (const b of data.batches(options)) {
      for (const p of b.prices) all.prices.push(p);
      for (const l of b.loads) all.loads.push(l);
      for (const d of b.btcDays) all.btcDays.push(d);
      for (const e of b.epochs) all.epochs.push(e);
      if (b.fourCpIntervals) (all.fourCpIntervals ??= []).push(...b.fourCpIntervals);
      if (b.asPrices) (all.asPrices ??= []).push(...b.asPrices);
      all.notes.push(...b.notes);
    }
    return { format, batch: all, rows: data.rows() };
  } finally {
    await data.close();
  }
}

/** True when the text's first line is a recognised header (directory imports skip the rest). */
export function isRecognised(text: string): boolean {
  const nl = text.indexOf('\n');
  const csv = new CsvLines('');
  csv.feed([nl < 0 ? text : text.slice(0, nl)], () => undefined);
  return formatOf(csv.header ?? []) !== undefined;
}
