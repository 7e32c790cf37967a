/**
 * Field readers for loosely typed miner replies. Firmware sends numbers as numbers, as strings
 * ("0.00", "3250 W", "1.2009939119E+13"), as empty strings for absent chains, and renames keys
 * between versions ("total rate" vs "total_rate"). These helpers read one field the tolerant way
 * and return null when it is absent, empty or non-finite, never NaN.
 */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Longest numeric string read as a number ("1.2009939119E+13 GH/s" is 21): longer is not a
 * reading, and the pattern below backtracks quadratically on long digit runs (a 20 KB string of
 * digits took 1.2 s).
 */
const MAX_NUMERIC_TEXT = 64;

/** A finite number from a number or a numeric string with an optional unit suffix; else null. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v.length > MAX_NUMERIC_TEXT) return null;
  // "3250 W", "  12.5", "1.2E+13", "-8": the leading numeric part, then only a unit/space tail.
  const m = /^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%/°]*)\s*$/.exec(v);
  if (!m?.[1]) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : null;
}

/** The first key present (own property, not undefined/null) among `keys`, in order. */
export function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) {
    if (Object.hasOwn(o, k) && o[k] !== undefined && o[k] !== null) return o[k];
  }
  return undefined;
}

/** num(pick(...)): a number under the first matching key (key drift), else null. */
export function pickNum(o: Obj, ...keys: string[]): number | null {
  for (const k of keys) {
    if (!Object.hasOwn(o, k)) continue;
    const n = num(o[k]);
    if (n !== null) return n;
  }
  return null;
}

/** A trimmed non-empty string, else null. */
export function str(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  return t === '' ? null : t;
}

export function pickStr(o: Obj, ...keys: string[]): string | null {
  for (const k of keys) {
    if (!Object.hasOwn(o, k)) continue;
    const s = str(o[k]);
    if (s !== null) return s;
  }
  return null;
}

/** Booleans sent as true/false, "true"/"false", "Y"/"N", 1/0. */
export function bool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 0 ? false : v === 1 ? true : null;
  if (typeof v !== 'string') return null;
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === 'y' || t === 'yes' || t === '1' || t === 'on') return true;
  if (t === 'false' || t === 'n' || t === 'no' || t === '0' || t === 'off') return false;
  return null;
}

/**
 * Bitmain's hyphen-packed sensor lists: "73-45-64-65", and with negative readings on a cold
 * intake "2--1-20-22" → [2, -1, 20, 22] and "-8--11-10-12" → [-8, -11, 10, 12]. A hyphen is a
 * separator unless it starts the string or follows another separator, where it is a minus sign.
 * Returns null for an empty string or any non-numeric element ("m-m-m-m" means "missing").
 */
export function hyphenList(v: unknown): number[] | null {
  if (Array.isArray(v)) {
    const out = v.map(num);
    return out.every((n): n is number => n !== null) ? out : null;
  }
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s === '') return null;
  const out: number[] = [];
  const numberAt = /-?\d+(?:\.\d+)?/y;
  let i = 0;
  for (;;) {
    numberAt.lastIndex = i;
    const m = numberAt.exec(s);
    if (!m) return null;
    out.push(Number(m[0]));
    i += m[0].length;
    if (i === s.length) return out;
    if (s[i] !== '-') return null;
    i++; // the separator; a following '-' is the next number's sign
  }
}

/** Hashrate in TH/s from a value and its unit ("GH", "GH/s", "MHS", "TH/s", ...). */
export function toThs(value: number, unit: 'H' | 'KH' | 'MH' | 'GH' | 'TH' | 'PH'): number {
  switch (unit) {
    case 'H':
      return value / 1e12;
    case 'KH':
      return value / 1e9;
    case 'MH':
      return value / 1e6;
    case 'GH':
      return value / 1e3;
    case 'TH':
      return value;
    case 'PH':
      return value * 1e3;
  }
}

/** Parses a rate-unit label ("GH", "GH/s", "gh/s", "MHS") to a unit; null if unknown. */
export function rateUnit(label: unknown): 'H' | 'KH' | 'MH' | 'GH' | 'TH' | 'PH' | null {
  const s = str(label)?.toUpperCase().replace(/\/S$|S$/, '') ?? '';
  switch (s) {
    case 'H':
    case 'KH':
    case 'MH':
    case 'GH':
    case 'TH':
    case 'PH':
      return s;
    default:
      return null;
  }
}

/**
 * Reads `[KEY[value] KEY2[v1 v2] ...]`-style bracket strings (Avalon "MM ID0") into a map. A key is
 * the run of word characters and spaces just before '[', from its first letter or '_'; the value
 * runs to the next ']'. Scanned by hand in one pass: the equivalent regex
 * `/([A-Za-z_][\w ]*?)\[([^\]]*)\]/g` rescans long runs without '[' from every position (O(n²)).
 */
export function bracketFields(s: string): Map<string, string> {
  const out = new Map<string, string>();
  let from = 0;
  for (let open = s.indexOf('[', from); open >= 0; open = s.indexOf('[', from)) {
    let start = open;
    while (start > from && isKeyChar(s.charCodeAt(start - 1))) start--;
    while (start < open && !isKeyStart(s.charCodeAt(start))) start++;
    if (start === open) {
      // No key before this '[': it cannot start a field, look at the next one.
      from = open + 1;
      continue;
    }
    const close = s.indexOf(']', open + 1);
    if (close < 0) break;
    const key = s.slice(start, open).trim();
    if (key !== '' && !out.has(key)) out.set(key, s.slice(open + 1, close).trim());
    from = close + 1;
  }
  return out;
}

/** [A-Za-z_] */
function isKeyStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** [\w ] */
function isKeyChar(c: number): boolean {
  return isKeyStart(c) || (c >= 48 && c <= 57) || c === 32;
}

/** Rounds to a fixed number of decimals without float noise (for normalised telemetry). */
export function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}
