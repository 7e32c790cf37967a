/**
 * Power prices for a monthly planner, from the scenario generator (src/scenario): a pool of
 * synthetic 15-minute months per settlement point, each reduced to two curves on a price grid,
 *   F(x) = P(p < x)            (share of the month a load with value x runs)
 *   S(x) = E[p · 1(p < x)]     (the energy cost of running only then, per MWh of capacity)
 * so a month's mining margin for any revenue per MWh v is v·F(v) − S(v), exact up to the grid.
 * A path draws, for each month, one pool month of the same calendar month (a bootstrap of synthetic
 * months); the 'mean' mode uses the mixture of them (deterministic). SYNTHETIC, and labelled so.
 */
import { generateMarket } from '../scenario/generate.js';
import { SYNTHETIC_LABEL, type ScenarioParams } from '../scenario/params.js';

export const GRID_MIN_USD_PER_MWH = -300;
export const GRID_STEP_USD_PER_MWH = 2;
export const GRID_POINTS = 751; // −300 … +1200

export interface PricePool {
  synthetic: true;
  label: typeof SYNTHETIC_LABEL;
  settlementPoint: string;
  years: number;
  /** Row-major [poolMonth][grid]: poolMonth = year·12 + calendar month. */
  runFrac: Float64Array;
  costBelow: Float64Array;
  /** Mean price of each pool month, USD/MWh. */
  meanPrice: Float64Array;
  /** The same three for the mixture of each calendar month's pool months (rows 0–11). */
  mixRunFrac: Float64Array;
  mixCostBelow: Float64Array;
  mixMean: Float64Array;
}

/** Fills F and S on the grid for one month of prices (sorted in place). */
function curves(prices: Float64Array, runFrac: Float64Array, costBelow: Float64Array, row: number): number {
  prices.sort();
  const n = prices.length;
  let i = 0;
  let below = 0;
  for (let g = 0; g < GRID_POINTS; g++) {
    const x = GRID_MIN_USD_PER_MWH + g * GRID_STEP_USD_PER_MWH;
    while (i < n && (prices[i] as number) < x) below += prices[i++] as number;
    runFrac[row * GRID_POINTS + g] = i / n;
    costBelow[row * GRID_POINTS + g] = below / n;
  }
  let total = 0;
  for (let k = 0; k < n; k++) total += prices[k] as number;
  return total / n;
}

/** Generates `years` synthetic years for `params` and reduces them to a pool. */
export function buildPricePool(params: ScenarioParams, years: number, seed: number): PricePool {
  const startMs = Date.UTC(2001, 0, 1); // a non-leap, arbitrary year: the pool is a climate, not a calendar
  const m = generateMarket(params, { seed, startMs, days: 365 * years });
  const rows = years * 12;
  const runFrac = new Float64Array(rows * GRID_POINTS);
  const costBelow = new Float64Array(rows * GRID_POINTS);
  const meanPrice = new Float64Array(rows);
  const perHour = 60 / m.rtPrice.intervalMinutes;
  let offset = 0;
  for (let y = 0; y < years; y++) {
    for (let c = 0; c < 12; c++) {
      const days = new Date(Date.UTC(2001, c + 1, 0)).getUTCDate();
      const n = days * 24 * perHour;
      const slice = m.rtPrice.values.slice(offset, offset + n);
      offset += n;
      meanPrice[y * 12 + c] = curves(slice, runFrac, costBelow, y * 12 + c);
    }
  }
  const mixRunFrac = new Float64Array(12 * GRID_POINTS);
  const mixCostBelow = new Float64Array(12 * GRID_POINTS);
  const mixMean = new Float64Array(12);
  for (let c = 0; c < 12; c++) {
    for (let y = 0; y < years; y++) {
      const r = y * 12 + c;
      for (let g = 0; g < GRID_POINTS; g++) {
        mixRunFrac[c * GRID_POINTS + g] = (mixRunFrac[c * GRID_POINTS + g] as number) + (runFrac[r * GRID_POINTS + g] as number) / years;
        mixCostBelow[c * GRID_POINTS + g] = (mixCostBelow[c * GRID_POINTS + g] as number) + (costBelow[r * GRID_POINTS + g] as number) / years;
      }
      mixMean[c] = (mixMean[c] as number) + (meanPrice[r] as number) / years;
    }
  }
  return { synthetic: true, label: SYNTHETIC_LABEL, settlementPoint: params.settlementPoint, years, runFrac, costBelow, meanPrice, mixRunFrac, mixCostBelow, mixMean };
}

/** Curves of a pool row: `mix` selects the calendar-month mixture rows. */
export function poolCurves(pool: PricePool, mix: boolean): { runFrac: Float64Array; costBelow: Float64Array; mean: Float64Array } {
  return mix ? { runFrac: pool.mixRunFrac, costBelow: pool.mixCostBelow, mean: pool.mixMean } : { runFrac: pool.runFrac, costBelow: pool.costBelow, mean: pool.meanPrice };
}

/**
 * F(x) and S(x) of pool row `row` at price threshold x (USD/MWh), prices scaled by `scale`:
 * F_s(x) = F(x/s), S_s(x) = s·S(x/s). Linear between grid points, clamped at the ends.
 */
export function lookup(runFrac: Float64Array, costBelow: Float64Array, row: number, x: number, scale: number, out: { run: number; cost: number }): void {
  const base = row * GRID_POINTS;
  const u = (x / scale - GRID_MIN_USD_PER_MWH) / GRID_STEP_USD_PER_MWH;
  if (u <= 0) {
    out.run = runFrac[base] as number;
    out.cost = scale * (costBelow[base] as number);
    return;
  }
  if (u >= GRID_POINTS - 1) {
    out.run = runFrac[base + GRID_POINTS - 1] as number;
    out.cost = scale * (costBelow[base + GRID_POINTS - 1] as number);
    return;
  }
  const g = Math.floor(u);
  const w = u - g;
  const i = base + g;
  out.run = (runFrac[i] as number) * (1 - w) + (runFrac[i + 1] as number) * w;
  out.cost = scale * ((costBelow[i] as number) * (1 - w) + (costBelow[i + 1] as number) * w);
}
