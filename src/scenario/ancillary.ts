/**
 * SYNTHETIC ancillary-service clearing prices (day-ahead MCPC, hourly, USD per MW per hour), seeded,
 * so grid-service back-tests run offline. Pure and deterministic: same params, seed and window give
 * the same numbers. Every output carries SYNTHETIC_LABEL. Users with ERCOT's archives import them
 * instead (market/importers/ancillary.ts) and the back-test reads those.
 *
 * Model per product and hour: price = level(year) × shape(month, CPT hour) × exp(σd·D + σh·H − (σd² + σh²)/2),
 * D a daily and H an hourly unit-variance AR(1). The noise has mean 1, and level(year) is solved so that
 * the expected mean over the hours of that year on which the product exists equals the published
 * annual mean: calibrated in expectation, independent of the window generated.
 *
 * Calibration (annual means, USD/MW-h):
 * - ECRS: 76.77 in 2023 (from its 2023-06-10 launch) and 9.62 in 2024 — Potomac Economics, 2024 State
 *   of the Market Report for the ERCOT markets (IMM), as reported by RTO Insider (2025).
 * - RRS and Non-Spin: ASSUMED (no published figure recorded in this repository): RRS 20 / 5 and
 *   NSPIN 25 / 8 in 2023 / 2024, the ordering of the IMM's description (ECRS and Non-Spin dearest in
 *   2023, every product cheaper in 2024 as storage entered). Override them, or import the real archive.
 * Years not listed take the nearest listed year. Shapes: judgement — summer and evening net-load
 * ramps are when reserves price (Ascend Analytics on ECRS, 2024), ×2.5 June–September, ×3 at 17–21 CPT.
 */
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from '../core/time.js';
import { cptOffsetMinutes } from '../core/ercot-time.js';
import { SYNTHETIC_LABEL } from './params.js';
import { Rng } from '../core/prng.js';

export type SyntheticAsProduct = 'RRS' | 'ECRS' | 'NSPIN';

export interface AsPriceParams {
  /** Published (or assumed) annual mean per product and calendar year, USD/MW-h. */
  annualMeanUsdPerMWh: Record<SyntheticAsProduct, Record<number, number>>;
  /** Which means are assumed rather than published (named in the notes). */
  assumed: SyntheticAsProduct[];
  /** First hour a product existed, UTC ms (ECRS: 2023-06-10 00:00 CPT). */
  firstStartMs: Partial<Record<SyntheticAsProduct, number>>;
  /** Relative level by CPT hour (24) and month (12, 0 = January). */
  hourShape: number[];
  monthShape: number[];
  dailySigmaLog: number;
  dailyAr1: number;
  hourlySigmaLog: number;
  hourlyAr1: number;
}

const hourShape = Array.from({ length: 24 }, (_, h) => (h >= 17 && h < 21 ? 3 : h >= 7 && h < 17 ? 1 : h >= 21 ? 1.2 : 0.5));
const monthShape = Array.from({ length: 12 }, (_, m) => (m >= 5 && m <= 8 ? 2.5 : 0.6));

export const DEFAULT_AS_PRICE_PARAMS: AsPriceParams = {
  annualMeanUsdPerMWh: {
    ECRS: { 2023: 76.77, 2024: 9.62 },
    RRS: { 2023: 20, 2024: 5 },
    NSPIN: { 2023: 25, 2024: 8 },
  },
  assumed: ['RRS', 'NSPIN'],
  firstStartMs: { ECRS: Date.parse('2023-06-10T05:00:00Z') },
  hourShape,
  monthShape,
  dailySigmaLog: 0.8,
  dailyAr1: 0.7,
  hourlySigmaLog: 0.9,
  hourlyAr1: 0.8,
};

export interface SyntheticAsPrices {
  synthetic: true;
  label: typeof SYNTHETIC_LABEL;
  seed: number | string;
  /** First hour, UTC ms; values[p][i] covers [startMs + i h, + 1 h). NaN before a product existed. */
  startMs: number;
  hours: number;
  values: Record<SyntheticAsProduct, Float64Array>;
  notes: string[];
}

/** CPT calendar fields of a UTC instant. */
function cpt(ms: number): { day: number; hour: number; month: number; year: number } {
  const local = ms + cptOffsetMinutes(ms) * MS_PER_MINUTE;
  const d = new Date(local);
  return { day: Math.floor(local / MS_PER_DAY), hour: d.getUTCHours(), month: d.getUTCMonth(), year: d.getUTCFullYear() };
}

/** The listed year nearest to `year`. */
function nearestYear(table: Record<number, number>, year: number): number {
  const years = Object.keys(table).map(Number);
  let best = years[0] as number;
  for (const y of years) if (Math.abs(y - year) < Math.abs(best - year)) best = y;
  return best;
}

/** Mean of the shape over the hours of calendar year `year` (from 06:00 UTC ≈ CPT midnight) from `fromMs` on. */
function meanShape(p: AsPriceParams, year: number, fromMs: number): number {
  const start = Math.max(Date.UTC(year, 0, 1, 6), fromMs);
  const end = Date.UTC(year + 1, 0, 1, 6);
  let sum = 0;
  let count = 0;
  for (let ms = start; ms < end; ms += MS_PER_HOUR) {
    const c = cpt(ms);
    sum += (p.monthShape[c.month] as number) * (p.hourShape[c.hour] as number);
    count++;
  }
  return count > 0 ? sum / count : 1;
}

/** Generates `hours` hours of SYNTHETIC day-ahead AS prices from `startMs` (on the hour). */
export function generateAsPrices(params: AsPriceParams, opts: { seed: number | string; startMs: number; hours: number }): SyntheticAsPrices {
  if (opts.startMs % MS_PER_HOUR !== 0) throw new RangeError('startMs must be on the hour');
  const products: SyntheticAsProduct[] = ['RRS', 'ECRS', 'NSPIN'];
  const values = {} as Record<SyntheticAsProduct, Float64Array>;
  const notes: string[] = [];
  const levels = new Map<string, number>();
  products.forEach((product, k) => {
    const out = new Float64Array(opts.hours);
    // One stream per product: adding a product never shifts another's numbers.
    const rng = new Rng(opts.seed, 100 + k);
    const sd = params.dailySigmaLog;
    const sh = params.hourlySigmaLog;
    let d = rng.normal();
    let h = rng.normal();
    let day = cpt(opts.startMs).day;
    const first = params.firstStartMs[product] ?? -Infinity;
    for (let i = 0; i < opts.hours; i++) {
      const ms = opts.startMs + i * MS_PER_HOUR;
      const c = cpt(ms);
      const today = c.day;
      if (today !== day) {
        d = params.dailyAr1 * d + Math.sqrt(1 - params.dailyAr1 ** 2) * rng.normal();
        day = today;
      }
      h = params.hourlyAr1 * h + Math.sqrt(1 - params.hourlyAr1 ** 2) * rng.normal();
      if (ms < first) {
        out[i] = NaN;
        continue;
      }
      const year = c.year;
      const key = `${product}:${year}`;
      let level = levels.get(key);
      if (level === undefined) {
        const table = params.annualMeanUsdPerMWh[product];
        const y = nearestYear(table, year);
        if (y !== year) notes.push(`${product} ${year}: no annual mean on file; the ${y} mean is used`);
        level = (table[y] as number) / meanShape(params, year, first);
        levels.set(key, level);
      }
      const shape = (params.monthShape[c.month] as number) * (params.hourShape[c.hour] as number);
      out[i] = level * shape * Math.exp(sd * d + sh * h - (sd * sd + sh * sh) / 2);
    }
    values[product] = out;
  });
  const assumed = params.assumed.length > 0 ? `; ${params.assumed.join(', ')} means ASSUMED, not published` : '';
  notes.unshift(`${SYNTHETIC_LABEL}: day-ahead AS prices (seed ${String(opts.seed)}), calibrated in expectation to annual means (ECRS 76.77 USD/MW-h in 2023 from 2023-06-10, 9.62 in 2024: IMM 2024 State of the Market)${assumed}`);
  return { synthetic: true, label: SYNTHETIC_LABEL, seed: opts.seed, startMs: opts.startMs, hours: opts.hours, values, notes };
}

/** Hours from the UTC day of `fromMs` to `toMs`, for callers generating a back-test window. */
export function hoursCovering(fromMs: number, toMs: number): { startMs: number; hours: number } {
  const startMs = Math.floor(fromMs / MS_PER_HOUR) * MS_PER_HOUR;
  return { startMs, hours: Math.max(1, Math.ceil((toMs - startMs) / MS_PER_HOUR)) };
}
