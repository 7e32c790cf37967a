/**
 * Every file layout Mullet imports, keyed by its header row. `parseDataText` sniffs the header and
 * hands the file to its parser; an unknown header is BAD_INPUT listing the recognised formats.
 */
import { readFile } from 'node:fs/promises';
import { badInput, MulletError } from '../../core/errors.js';
import type { ParsedBatch } from '../types.js';
import { decodeDataFile } from './archive.js';
import { BTC_FORMATS } from './btc.js';
import { CsvText } from './csv.js';
import { ERCOT_REPORT_FORMATS } from './ercot-reports.js';
import type { FileFormat, ParseOptions } from './format.js';
import { FOURCP_FORMATS } from './fourcp.js';
import { HUB_WIDE_FORMATS } from './hub-wide.js';
import { LOAD_FORMATS } from './load.js';
import { REFERENCE_FORMATS } from './reference.js';

export type { FileFormat, ParseOptions } from './format.js';

export const FORMATS: readonly FileFormat[] = [...HUB_WIDE_FORMATS, ...LOAD_FORMATS, ...ERCOT_REPORT_FORMATS, ...BTC_FORMATS, ...FOURCP_FORMATS, ...REFERENCE_FORMATS];

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

/** The format whose header matches exactly, else BAD_INPUT naming every recognised format. */
export function detectFormat(csv: CsvText): FileFormat {
  const found = BY_HEADER.get(csv.header.join(','));
  if (found) return found;
  const shown = csv.header.join(',');
  throw badInput(
    `unrecognised header '${shown.length > 120 ? shown.slice(0, 117) + '...' : shown}'; recognised formats:\n${FORMATS.map((f) => `  ${f.id}: ${f.title}`).join('\n')}`,
    `${csv.file}:1`,
  );
}

export interface ParsedFile {
  format: FileFormat;
  batch: ParsedBatch;
  rows: number;
}

/** Parses CSV text already in memory; `file` names it in errors. */
export function parseDataText(file: string, text: string, options: ParseOptions = {}): ParsedFile {
  const csv = new CsvText(file, text);
  const format = detectFormat(csv);
  const batch = format.parse(csv, options);
  return { format, batch, rows: csv.countRows() };
}

/** Reads a data file as text, gunzipping or unzipping it when its magic bytes say so; `name` labels errors. */
export async function readDataText(file: string, name = file): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MulletError('NOT_FOUND', 'no such file', { where: name, cause: err });
    throw new MulletError('IO', `cannot read: ${err instanceof Error ? err.message : String(err)}`, { where: name, cause: err });
  }
  return decodeDataFile(name, bytes);
}

/** Reads, sniffs and parses one file. */
export async function parseDataFile(file: string, options: ParseOptions = {}): Promise<ParsedFile> {
  return parseDataText(file, await readDataText(file), options);
}

/** True when the text's first line is a recognised header (directory imports skip the rest). */
export function isRecognised(text: string): boolean {
  const nl = text.indexOf('\n');
  return BY_HEADER.has(new CsvText('', nl < 0 ? text : text.slice(0, nl)).header.join(','));
}
