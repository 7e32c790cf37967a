/**
 * A small, fast CSV reader for the importers: lines split on LF (CR stripped), the first line the
 * header, an unquoted fast path with a quoted fallback, and cell parsers that reject anything not
 * exactly a finite number / date, naming file:line:column. `CsvLines` takes lines as they are read
 * (a file is streamed, never held whole); `CsvText` wraps a text already in memory.
 */
import { badInput, MulletError } from './errors.js';

/** Reads CSV lines as they arrive: line 1 is the header (a UTF-8 BOM dropped), later non-blank lines are rows. */
export class CsvLines {
  header: string[] | undefined;
  /** Number of the last line read (1-based). */
  line = 0;
  /** Data rows read. */
  rows = 0;
  private cursor: RowCursor | undefined;

  constructor(readonly file: string) {}

  /** Feeds lines (without their '\n'); every data row goes to `fn` with a cursor for precise errors. */
  feed(lines: readonly string[], fn: (cells: string[], row: RowCursor) => void): void {
    for (const raw of lines) {
      this.line++;
      const line = stripCr(raw);
      const cursor = this.cursor;
      if (cursor === undefined) {
        const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
        this.header = splitCsvLine(text).map((h) => h.trim());
        this.cursor = new RowCursor(this.file, this.header);
        continue;
      }
      if (line === '') continue;
      const cells = line.indexOf('"') < 0 ? line.split(',') : splitCsvLine(line);
      const width = cursor.header.length;
      cursor.line = this.line;
      cursor.cells = cells;
      if (cells.length !== width) cursor.fail(Math.min(cells.length, width), `expected ${width} fields, got ${cells.length}`);
      this.rows++;
      fn(cells, cursor);
    }
  }
}

/** CSV text already in memory (small files, tests): the same reading as CsvLines. */
export class CsvText {
  readonly header: string[];
  private readonly lines: string[];

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.lines = text.split('\n');
    const first = new CsvLines(file);
    first.feed(this.lines.slice(0, 1), () => undefined);
    this.header = first.header ?? [];
  }

  /** Calls `fn` for every non-blank data row with its cells and a cursor for precise errors. */
  forEachRow(fn: (cells: string[], row: RowCursor) => void): void {
    new CsvLines(this.file).feed(this.lines, fn);
  }

  /** Number of data rows (non-blank lines after the header). */
  countRows(): number {
    let n = 0;
    for (let i = 1; i < this.lines.length; i++) if (stripCr(this.lines[i] as string) !== '') n++;
    return n;
  }

  /** Index of a header column; throws INTERNAL when a format's own column list is wrong. */
  col(name: string): number {
    const i = this.header.indexOf(name);
    if (i < 0) throw new MulletError('INTERNAL', `column '${name}' not in header`, { where: this.file });
    return i;
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Splits one CSV line with RFC 4180 quoting ("" inside quotes is a quote). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Where a row is being read; its parsers throw BAD_INPUT at file:line:column ('col' is 1-based). */
export class RowCursor {
  line = 0;
  cells: string[] = [];

  constructor(
    readonly file: string,
    readonly header: readonly string[],
  ) {}

  fail(index: number, message: string): never {
    const name = this.header[index];
    throw badInput(name === undefined ? message : `column '${name}': ${message}`, `${this.file}:${this.line}:${index + 1}`);
  }

  raw(index: number): string {
    return (this.cells[index] as string).trim();
  }

  /** A finite decimal number; blank, NaN, Infinity, hex and overflow are rejected. */
  num(index: number): number {
    const s = this.raw(index);
    if (!DECIMAL_RE.test(s)) this.fail(index, `expected a finite number, got '${s}'`);
    const v = Number(s);
    if (!Number.isFinite(v)) this.fail(index, `expected a finite number, got '${s}'`);
    return v;
  }

  /** A number, or undefined when the cell is blank. */
  optNum(index: number): number | undefined {
    return this.raw(index) === '' ? undefined : this.num(index);
  }

  int(index: number): number {
    const v = this.num(index);
    if (!Number.isSafeInteger(v)) this.fail(index, `expected an integer, got '${this.raw(index)}'`);
    return v;
  }

  /** 'YYYY-MM-DD' → ms of that UTC midnight. */
  date(index: number): number {
    const s = this.raw(index);
    const ms = s.length === 10 && s[4] === '-' && s[7] === '-' ? civilMs(s, 0, 0, 0) : NaN;
    if (Number.isNaN(ms)) this.fail(index, `expected a date YYYY-MM-DD, got '${s}'`);
    return ms;
  }

  /** 'YYYY-MM-DDTHH:MM:SSZ' → UTC ms. */
  utc(index: number): number {
    const s = this.raw(index);
    const ms = s.length === 20 && s[10] === 'T' && s[19] === 'Z' ? isoMs(s) : NaN;
    if (Number.isNaN(ms)) this.fail(index, `expected a UTC timestamp YYYY-MM-DDTHH:MM:SSZ, got '${s}'`);
    return ms;
  }

  /** 'YYYY-MM-DDTHH:MM:SS±HH:MM' → UTC ms and the offset in minutes. */
  offsetTime(index: number): { ms: number; offsetMinutes: number } {
    const s = this.raw(index);
    let ms = NaN;
    let offsetMinutes = 0;
    if (s.length === 25 && s[10] === 'T' && (s[19] === '+' || s[19] === '-') && s[22] === ':') {
      const oh = digits(s, 20, 2);
      const om = digits(s, 23, 2);
      offsetMinutes = (s[19] === '-' ? -1 : 1) * (oh * 60 + om);
      ms = isoMs(s) - offsetMinutes * 60_000;
    }
    if (Number.isNaN(ms)) this.fail(index, `expected a local timestamp YYYY-MM-DDTHH:MM:SS±HH:MM, got '${s}'`);
    return { ms, offsetMinutes };
  }
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/** ms of a civil date-time read as UTC, NaN when impossible (Feb 30, hour 24, ...). */
function civilMs(s: string, hour: number, minute: number, second: number): number {
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && hour >= 0 && hour < 24 && minute >= 0 && minute < 60 && second >= 0 && second < 60)) return NaN;
  const ms = Date.UTC(y, mo - 1, d, hour, minute, second);
  // Date.UTC rolls Feb 30 into March; the day must survive the round trip.
  return new Date(ms).getUTCDate() === d ? ms : NaN;
}

function isoMs(s: string): number {
  if (s[4] !== '-' || s[7] !== '-' || s[13] !== ':' || s[16] !== ':') return NaN;
  return civilMs(s, digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2));
}
