/**
 * Turns a ParsedBatch into validated, de-duplicated groups (one per series and source) before any
 * row is written. Shared by every store implementation so they count duplicates and reject
 * records identically.
 */
import { badInput } from '../core/errors.js';
import { MS_PER_MINUTE, parseUtcDate } from '../core/time.js';
import { AS_PRICE_PRODUCTS, BTC_FIELDS, type AsPriceProduct, type BtcField, type ParsedBatch, type PriceKind } from '../market/types.js';

export interface PointSeriesId {
  kind: 'price' | 'load';
  market: string;
  /** Settlement point (prices) or zone (loads). */
  point: string;
  /** 'RT' | 'DA' for prices, '' for loads. */
  priceKind: PriceKind | '';
  intervalMinutes: number;
}

/** Sorted, unique starts (ms) with their values, for one series and one source. */
export interface Group<K> {
  key: K;
  source: string;
  startsMs: number[];
  values: number[];
  duplicates: number;
  /** Duplicates whose values differed (the last one in the file is kept). */
  conflicting: number;
  firstConflictMs?: number;
}

export interface BatchGroups {
  points: Group<PointSeriesId>[];
  btc: Group<BtcField>[];
  epochs: { startDayMs: number; source: string; difficulty: number; startHeight: number | null }[];
  fourCp: { market: string; month: string; startMs: number; intervalMinutes: number; systemLoadMW: number | null; source: string }[];
  asPrices: { market: string; product: AsPriceProduct; kind: PriceKind; intervalMinutes: number; startMs: number; usdPerMWh: number; source: string }[];
}

export const PRICE_UNIT = 'USD/MWh';
export const LOAD_UNIT = 'MW';

export const BTC_UNITS: Readonly<Record<BtcField, string>> = {
  priceUsd: 'USD/BTC',
  difficulty: 'difficulty',
  feesBtc: 'BTC/day',
  blocks: 'blocks/day',
  heightEndOfDay: 'height',
  hashrateThs: 'TH/s',
  issuanceBtc: 'BTC/day',
};

/** Human label of a price or load series, e.g. 'ERCOT HB_WEST RT 15min', 'ERCOT load TOTAL 60min'. */
export function pointSeriesLabel(s: PointSeriesId): string {
  return s.kind === 'price'
    ? `${s.market} ${s.point} ${s.priceKind} ${s.intervalMinutes}min`
    : `${s.market} load ${s.point} ${s.intervalMinutes}min`;
}

/** Human label of a Bitcoin daily field, e.g. 'BTC priceUsd daily'. */
export function btcSeriesLabel(field: string): string {
  return `BTC ${field} daily`;
}

export function pointSeriesKey(s: PointSeriesId): string {
  return `${s.kind}\u0000${s.market}\u0000${s.point}\u0000${s.priceKind}\u0000${s.intervalMinutes}`;
}

const NAME_RE = /^[A-Za-z0-9_.\-/ ]{1,64}$/;

/** Names already validated; a batch repeats the same few names hundreds of thousands of times. */
const validNames = new Set<string>();

function checkName(value: unknown, what: string, where: string): string {
  if (typeof value === 'string' && validNames.has(value)) return value;
  if (typeof value !== 'string' || !NAME_RE.test(value) || value.trim() !== value) {
    throw badInput(`${what} must be 1–64 characters of letters, digits, '_', '-', '.', '/', got ${JSON.stringify(value)}`, where);
  }
  if (validNames.size < 10_000) validNames.add(value);
  return value;
}

function checkInterval(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 1440) {
    throw badInput(`intervalMinutes must be an integer in 1..1440, got ${String(value)}`, where);
  }
  return value;
}

function checkStart(value: unknown, intervalMinutes: number, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw badInput(`intervalStartMs must be an integer number of ms, got ${String(value)}`, where);
  }
  if (value % (intervalMinutes * MS_PER_MINUTE) !== 0) {
    throw badInput(`interval start ${new Date(value).toISOString()} is not on the ${intervalMinutes}-minute UTC grid`, where);
  }
  return value;
}

function checkFinite(value: unknown, what: string, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badInput(`${what} must be a finite number, got ${String(value)}`, where);
  return value;
}

class GroupBuilder<K> {
  readonly groups = new Map<string, Group<K>>();
  add(id: string, key: K, source: string, startMs: number, value: number): Group<K> {
    let g = this.groups.get(id);
    if (!g) {
      g = { key, source, startsMs: [], values: [], duplicates: 0, conflicting: 0 };
      this.groups.set(id, g);
    }
    g.startsMs.push(startMs);
    g.values.push(value);
    return g;
  }
  finish(): Group<K>[] {
    const out = [...this.groups.values()];
    for (const g of out) dedupe(g);
    return out;
  }
}

/** Sorts a group by start and collapses repeated starts, keeping the last value (file order). */
function dedupe<K>(g: Group<K>): void {
  const s = g.startsMs;
  let sorted = true;
  for (let i = 1; i < s.length; i++) {
    if ((s[i] as number) <= (s[i - 1] as number)) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  const order = s.map((_, i) => i).sort((a, b) => (s[a] as number) - (s[b] as number) || a - b);
  const starts: number[] = [];
  const values: number[] = [];
  for (const i of order) {
    const start = s[i] as number;
    const value = g.values[i] as number;
    if (starts.length > 0 && starts[starts.length - 1] === start) {
      g.duplicates++;
      if (values[values.length - 1] !== value) {
        g.conflicting++;
        g.firstConflictMs ??= start;
      }
      values[values.length - 1] = value;
    } else {
      starts.push(start);
      values.push(value);
    }
  }
  g.startsMs = starts;
  g.values = values;
}

/** Validates every record of `batch` and groups it; throws BAD_INPUT naming the record. */
export function groupBatch(file: string, batch: ParsedBatch): BatchGroups {
  const defaultSource = checkName(batch.provider ?? batch.source, 'batch provider', file);
  const points = new GroupBuilder<PointSeriesId>();
  const seen = new Map<string, PointSeriesId>();

  // Importers emit series by series, so the previous record's group is almost always the right one.
  let last: { kind: string; market: string; point: string; priceKind: string; interval: number; source: string; group: Group<PointSeriesId> } | undefined;
  const addPoint = (kind: 'price' | 'load', market: string, point: string, priceKind: PriceKind | '', interval: number, source: string, start: number, value: number) => {
    if (last && last.point === point && last.market === market && last.priceKind === priceKind && last.interval === interval && last.source === source && last.kind === kind) {
      last.group.startsMs.push(start);
      last.group.values.push(value);
      return;
    }
    const id = `${kind}\u0000${market}\u0000${point}\u0000${priceKind}\u0000${interval}`;
    let key = seen.get(id);
    if (!key) {
      key = { kind, market, point, priceKind, intervalMinutes: interval };
      seen.set(id, key);
    }
    const group = points.add(`${id}\u0000${source}`, key, source, start, value);
    last = { kind, market, point, priceKind, interval, source, group };
  };

  batch.prices.forEach((p, i) => {
    const where = `${file}: prices[${i}]`;
    const market = checkName(p.market, 'market', where);
    const point = checkName(p.settlementPoint, 'settlementPoint', where);
    if (p.kind !== 'RT' && p.kind !== 'DA') throw badInput(`kind must be RT or DA, got ${String(p.kind)}`, where);
    const interval = checkInterval(p.intervalMinutes, where);
    const start = checkStart(p.intervalStartMs, interval, where);
    const value = checkFinite(p.priceUsdPerMWh, 'priceUsdPerMWh', where);
    const source = p.source === undefined ? defaultSource : checkName(p.source, 'source', where);
    addPoint('price', market, point, p.kind, interval, source, start, value);
  });
  batch.loads.forEach((l, i) => {
    const where = `${file}: loads[${i}]`;
    const market = checkName(l.market, 'market', where);
    const zone = checkName(l.zone, 'zone', where);
    const interval = checkInterval(l.intervalMinutes, where);
    const start = checkStart(l.intervalStartMs, interval, where);
    const value = checkFinite(l.loadMW, 'loadMW', where);
    const source = l.source === undefined ? defaultSource : checkName(l.source, 'source', where);
    addPoint('load', market, zone, '', interval, source, start, value);
  });

  const btc = new GroupBuilder<BtcField>();
  batch.btcDays.forEach((d, i) => {
    const where = `${file}: btcDays[${i}]`;
    const dayMs = utcDay(d.dateUtc, where);
    const source = d.source === undefined ? defaultSource : checkName(d.source, 'source', where);
    for (const field of BTC_FIELDS) {
      const v = d[field];
      if (v === undefined) continue;
      btc.add(`${field}\u0000${source}`, field, source, dayMs, checkFinite(v, field, where));
    }
  });

  const epochs = batch.epochs.map((e, i) => {
    const where = `${file}: epochs[${i}]`;
    const difficulty = checkFinite(e.difficulty, 'difficulty', where);
    if (difficulty <= 0) throw badInput(`difficulty must be > 0, got ${difficulty}`, where);
    const h = e.startHeight;
    if (h !== undefined && (!Number.isSafeInteger(h) || h < 0)) throw badInput(`startHeight must be a non-negative integer, got ${h}`, where);
    return {
      startDayMs: utcDay(e.startDateUtc, where),
      source: e.source === undefined ? defaultSource : checkName(e.source, 'source', where),
      difficulty,
      startHeight: h ?? null,
    };
  });

  const fourCp = (batch.fourCpIntervals ?? []).map((c, i) => {
    const where = `${file}: fourCpIntervals[${i}]`;
    const market = checkName(c.market, 'market', where);
    if (typeof c.month !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(c.month)) throw badInput(`month must be YYYY-MM, got ${JSON.stringify(c.month)}`, where);
    const intervalMinutes = checkInterval(c.intervalMinutes, where);
    const startMs = checkStart(c.intervalStartMs, intervalMinutes, where);
    const mw = c.systemLoadMW === undefined ? null : checkFinite(c.systemLoadMW, 'systemLoadMW', where);
    return { market, month: c.month, startMs, intervalMinutes, systemLoadMW: mw, source: c.source === undefined ? defaultSource : checkName(c.source, 'source', where) };
  });

  const asPrices = (batch.asPrices ?? []).map((a, i) => {
    const where = `${file}: asPrices[${i}]`;
    const market = checkName(a.market, 'market', where);
    if (!(AS_PRICE_PRODUCTS as readonly string[]).includes(a.product)) throw badInput(`product must be one of ${AS_PRICE_PRODUCTS.join(', ')}, got ${JSON.stringify(a.product)}`, where);
    if (a.kind !== 'RT' && a.kind !== 'DA') throw badInput(`kind must be RT or DA, got ${String(a.kind)}`, where);
    const intervalMinutes = checkInterval(a.intervalMinutes, where);
    const startMs = checkStart(a.intervalStartMs, intervalMinutes, where);
    const usdPerMWh = checkFinite(a.usdPerMWh, 'usdPerMWh', where);
    return { market, product: a.product, kind: a.kind, intervalMinutes, startMs, usdPerMWh, source: a.source === undefined ? defaultSource : checkName(a.source, 'source', where) };
  });

  return { points: points.finish(), btc: btc.finish(), epochs, fourCp, asPrices };
}

function utcDay(date: unknown, where: string): number {
  try {
    return parseUtcDate(String(date));
  } catch (err) {
    throw badInput(err instanceof Error ? err.message : String(err), where);
  }
}
