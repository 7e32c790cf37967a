import { MulletError } from '../core/errors.js';
import type { CliIo } from './command.js';

/**
 * The last line of defence against printing a non-finite number: a NaN or Infinity that reaches
 * the output is a bug upstream (an input that should have been rejected, a quantity that should
 * have been reported as undefined), so it is a runtime error (INTERNAL, exit 1), never a printed
 * "NaN" or a JSON null standing in for one. Values that can legitimately be undefined (an IRR
 * without a sign change) are given as null by the command, deliberately.
 */
export function nonFinite(value: number, where: string): MulletError {
  return new MulletError('INTERNAL', `refusing to print a non-finite number (${String(value)}); this is a bug, please report it with the command line`, { where });
}

/** Throws INTERNAL at the first non-finite number inside `value`, naming its JSON path. */
export function assertFiniteDeep(value: unknown, path = '$'): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw nonFinite(value, path);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) assertFiniteDeep(value[i], `${path}[${i}]`);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    const arr = value as unknown as ArrayLike<number>;
    for (let i = 0; i < arr.length; i++) assertFiniteDeep(arr[i], `${path}[${i}]`);
    return;
  }
  for (const [k, v] of Object.entries(value)) assertFiniteDeep(v, `${path}.${k}`);
}

/** Writes exactly one JSON document (and a newline) to stdout; a non-finite number anywhere is INTERNAL. */
export function printJson(io: CliIo, value: unknown): void {
  assertFiniteDeep(value);
  io.stdout(JSON.stringify(value, null, 2) + '\n');
}

export type Cell = string | number | null | undefined;

/** Formats a number for human tables: fixed decimals, thousands separators; non-finite is INTERNAL. */
export function fmt(value: number, decimals = 2): string {
  if (!Number.isFinite(value)) throw nonFinite(value, 'fmt');
  // A value that rounds to zero prints as 0, never "-0".
  const v = Math.abs(value) < 0.5 * 10 ** -decimals ? 0 : value;
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A plain aligned text table; numbers right-aligned. Headers should carry units. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  rows.forEach((r, i) =>
    r.forEach((c, j) => {
      if (typeof c === 'number' && !Number.isFinite(c)) throw nonFinite(c, `row ${i + 1}, column '${headers[j] ?? j}'`);
    }),
  );
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === 'number' || /^[-+$]?[\d,]+(\.\d+)?%?$/.test(String(r[i]))));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n') + '\n';
}

/** A word 'NaN', 'Infinity' or '-Infinity' as printed by String(number). */
const NON_FINITE_TEXT = /(^|[^\w.])-?(NaN|Infinity)(?![\w])/;

/**
 * Wraps a CliIo so that text on stdout with a printed NaN/Infinity token throws INTERNAL instead
 * of reaching the user: covers numbers interpolated into text without fmt().
 */
export function guardStdout(io: CliIo): CliIo {
  return {
    ...io,
    stdout: (text) => {
      const m = NON_FINITE_TEXT.exec(text);
      if (m) throw nonFinite(m[0].includes('NaN') ? NaN : Infinity, `stdout: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 20))}`);
      io.stdout(text);
    },
  };
}
