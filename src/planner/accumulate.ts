/**
 * Streaming accumulation of path results: per slot an exact sum and count of finite values and,
 * for quantile slots, a fixed-bin histogram whose range comes from a pilot run. Chunks of paths
 * fill their own accumulator and are merged strictly in chunk order, so results do not depend on
 * the number of worker threads. Memory is flat in the number of paths.
 */
import type { Layout } from './evaluate.js';
import { slot } from './evaluate.js';
import { addValue, mergeInto, newHistogram, rangeFromPilot, stdErrFromSums, type HistogramState } from './stats.js';

export interface Ranges {
  lo: Float64Array;
  hi: Float64Array;
  bins: Int32Array;
}

export interface Accumulator {
  paths: number;
  sums: Float64Array;
  /** Sums of squares per slot: the standard error of every mean. */
  sumSquares: Float64Array;
  /** Finite values per slot (IRR and payback are NaN on some paths). */
  counts: Float64Array;
  hists: (HistogramState | null)[];
}

const NPV_BINS = 2048;
const OTHER_BINS = 256;

/** Histogram ranges for every slot from pilot results (one Float64Array per pilot path). */
export function pilotRanges(layout: Layout, pilot: readonly Float64Array[]): Ranges {
  const lo = new Float64Array(layout.slots);
  const hi = new Float64Array(layout.slots);
  const bins = new Int32Array(layout.slots);
  const npvSlots = new Set<number>();
  for (let k = 0; k < layout.schedules; k++) npvSlots.add(slot.npv(layout, k));
  for (let i = 0; i < layout.slots; i++) {
    const r = rangeFromPilot(pilot.map((p) => p[i] as number));
    lo[i] = r.lo;
    hi[i] = r.hi;
    bins[i] = npvSlots.has(i) ? NPV_BINS : OTHER_BINS;
  }
  return { lo, hi, bins };
}

export function newAccumulator(layout: Layout, ranges: Ranges): Accumulator {
  return {
    paths: 0,
    sums: new Float64Array(layout.slots),
    sumSquares: new Float64Array(layout.slots),
    counts: new Float64Array(layout.slots),
    hists: layout.histogram.map((h, i) => (h ? newHistogram(ranges.lo[i] as number, ranges.hi[i] as number, ranges.bins[i] as number) : null)),
  };
}

export function accumulate(acc: Accumulator, values: Float64Array): void {
  acc.paths++;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (!Number.isFinite(x)) continue;
    acc.sums[i] = (acc.sums[i] as number) + x;
    acc.sumSquares[i] = (acc.sumSquares[i] as number) + x * x;
    acc.counts[i] = (acc.counts[i] as number) + 1;
    const h = acc.hists[i];
    if (h) addValue(h, x);
  }
}

/** Adds `b` into `a`. */
export function mergeAccumulator(a: Accumulator, b: Accumulator): void {
  a.paths += b.paths;
  for (let i = 0; i < a.sums.length; i++) {
    a.sums[i] = (a.sums[i] as number) + (b.sums[i] as number);
    a.sumSquares[i] = (a.sumSquares[i] as number) + (b.sumSquares[i] as number);
    a.counts[i] = (a.counts[i] as number) + (b.counts[i] as number);
    const ha = a.hists[i];
    const hb = b.hists[i];
    if (ha && hb) mergeInto(ha, hb);
  }
}

/** Standard error of slotMean(acc, i) (sample variance over the finite values, n − 1). */
export function slotStdErr(acc: Accumulator, i: number): number {
  return stdErrFromSums(acc.counts[i] as number, acc.sums[i] as number, acc.sumSquares[i] as number);
}

/** Exact mean of the finite values in slot i. */
export function slotMean(acc: Accumulator, i: number): number {
  const n = acc.counts[i] as number;
  return n > 0 ? (acc.sums[i] as number) / n : NaN;
}
