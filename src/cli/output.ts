import type { CliIo } from './command.js';

/** Writes exactly one JSON document (and a newline) to stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2) + '\n');
}

export type Cell = string | number | null | undefined;

/** Formats a number for human tables: fixed decimals, thousands separators. */
export function fmt(value: number, decimals = 2): string {
  if (!Number.isFinite(value)) return String(value);
  // A value that rounds to zero prints as 0, never "-0".
  const v = Math.abs(value) < 0.5 * 10 ** -decimals ? 0 : value;
  return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A plain aligned text table; numbers right-aligned. Headers should carry units. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === 'number' || /^[-+$]?[\d,]+(\.\d+)?%?$/.test(String(r[i]))));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n') + '\n';
}
