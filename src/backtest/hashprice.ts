/**
 * Daily hashprice for a back-test: from the market store (each UTC day's price, difficulty,
 * fees and height through the hashprice formula), a constant, or a CSV series (what-if runs).
 */
import { hashpriceUsdPerPhDay } from '../bitcoin/hashprice.js';
import { badInput, isMulletError } from '../core/errors.js';
import { parseUtcDate } from '../core/time.js';
import { hashpriceInputsForDate, type BtcDayView, type DerivedInput } from '../market/hashprice-inputs.js';
import { LIMITS } from '../core/limits.js';

export type HashpriceSource =
  | { kind: 'constant'; usdPerPhDay: number }
  | { kind: 'csv'; file: string; byDay: ReadonlyMap<string, number> }
  /** From the store; days without fee data assume fees = feeShareOfSubsidyPct % of the subsidy. */
  | { kind: 'store'; feeShareOfSubsidyPct: number; feeShareIsDefault: boolean };

/** What the store path rebuilt or assumed, per day (only days with something to say). */
export interface HashpriceProvenance {
  derived: Map<string, DerivedInput[]>;
  warnings: Map<string, string[]>;
}

/**
 * Parses a hashprice series: a header row, then `YYYY-MM-DD,USD per PH/s per day` per line
 * (extra columns ignored). Throws BAD_INPUT naming file:line.
 */
export function parseHashpriceCsv(text: string, file: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (i === 0 || line.trim() === '') return;
    const [date, value] = line.split(',').map((c) => c.trim());
    const where = `${file}:${i + 1}`;
    try {
      parseUtcDate(date ?? '');
    } catch {
      throw badInput(`expected a date YYYY-MM-DD in the first column, got '${date ?? ''}'`, where);
    }
    const v = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(v) || v < 0 || v > LIMITS.hashpriceUsdPerPhDay) {
      throw badInput(`expected a hashprice within 0..${LIMITS.hashpriceUsdPerPhDay.toLocaleString('en-US')} USD/PH/day in the second column, got '${value ?? ''}'`, where);
    }
    if (out.has(date as string)) throw badInput(`date ${date} appears twice`, where);
    out.set(date as string, v);
  });
  if (out.size === 0) throw badInput('no rows (expected a header, then date,hashprice lines)', file);
  return out;
}

/** Hashprice per UTC day ('YYYY-MM-DD' → USD/PH/day); days without data are absent. */
export function dailyHashprice(source: HashpriceSource, days: readonly string[], store?: BtcDayView, provenance?: HashpriceProvenance): Map<string, number> {
  const out = new Map<string, number>();
  for (const day of days) {
    switch (source.kind) {
      case 'constant':
        out.set(day, source.usdPerPhDay);
        break;
      case 'csv': {
        const v = source.byDay.get(day);
        if (v !== undefined) out.set(day, v);
        break;
      }
      case 'store': {
        if (!store) break;
        try {
          const inputs = hashpriceInputsForDate(store, day, { feeShareOfSubsidyPct: source.feeShareOfSubsidyPct });
          out.set(day, hashpriceUsdPerPhDay(inputs));
          if (inputs.derived.length > 0) provenance?.derived.set(day, inputs.derived);
          if (inputs.warnings.length > 0) provenance?.warnings.set(day, inputs.warnings);
        } catch (err) {
          if (!isMulletError(err) || err.code !== 'NO_DATA') throw err;
        }
        break;
      }
    }
  }
  return out;
}
