/**
 * JSON as firmware writes it. Firmware is C (bmminer, btminer) or Rust (LUXminer, BOSminer) and
 * prints numbers its own way: `0.00`, `65.0`, `1.2009939119E+13`. `Raw` carries such text verbatim,
 * and `toWire` keeps insertion order (bmminer, btminer) or sorts keys (LUXminer's native order).
 */
export class Raw {
  constructor(readonly text: string) {}
}

/** A float printed with fixed decimals, as C's printf("%.2f") does. */
export function fixed(value: number, decimals = 2): Raw {
  return new Raw(value.toFixed(decimals));
}

/** A float printed in exponent form with a capital E, as bmminer prints "Total MH". */
export function exp(value: number, digits = 10): Raw {
  return new Raw(value.toExponential(digits).toUpperCase());
}

export type Wire = null | boolean | number | string | Raw | readonly Wire[] | { readonly [key: string]: Wire };

export interface WireOptions {
  /** Sort object keys (LUXminer, BOSminer data sections). */
  readonly sortKeys?: boolean;
}

/** Compact JSON text of a Wire value; non-finite numbers are a programming error here. */
export function toWire(value: Wire, opts: WireOptions = {}): string {
  if (value === null) return 'null';
  if (value instanceof Raw) return value.text;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`non-finite number in a reply: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${(value as readonly Wire[]).map((v) => toWire(v, opts)).join(',')}]`;
  const obj = value as { readonly [key: string]: Wire };
  const keys = Object.keys(obj);
  if (opts.sortKeys) keys.sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${toWire(obj[k] as Wire, opts)}`).join(',')}}`;
}
