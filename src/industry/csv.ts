/**
 * RFC 4180 CSV reading for the industry files (pure): quoted cells may hold commas, doubled quotes
 * and line breaks; each record keeps the line it starts on so every error can say file:line.
 */
import { badInput } from '../core/errors.js';

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  cells: string[];
}

/** Splits CSV text into records (a UTF-8 BOM dropped, CRLF or LF, blank lines skipped). */
export function readCsv(text: string, file: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let cells: string[] = [];
  let cell = '';
  let start = 1;
  let quoted = false;
  let any = false;
  const endRecord = (): void => {
    cells.push(cell);
    if (any || cells.length > 1 || cell !== '') out.push({ line: start, cells });
    cells = [];
    cell = '';
    any = false;
  };
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"') {
      if (cell.trim() !== '') throw badInput(`a quote inside an unquoted cell (column ${cells.length + 1}): quote the whole cell`, `${file}:${line}`);
      cell = '';
      quoted = true;
      any = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
      any = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      if (cells.length === 0 && cell === '') start = line;
      cell += ch;
    }
  }
  if (quoted) throw badInput(`a quoted cell opened on line ${start} is never closed`, `${file}:${start}`);
  if (cell !== '' || cells.length > 0) endRecord();
  return out;
}
