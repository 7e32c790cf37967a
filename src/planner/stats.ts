/**
 * Streaming statistics with memory flat in the number of samples: a fixed-bin histogram over a
 * range chosen up front (from a pilot run), with exact count, sum, min and max, exact sums per bin
 * (so the tail mean / CVaR is exact up to the one partial bin) and under/overflow buckets that keep
 * their exact sums. Histograms with the same edges merge by addition, so worker threads can each
 * fill one and the results combine in a fixed order.
 */

export interface HistogramState {
  lo: number;
  hi: number;
  bins: number;
  counts: Float64Array;
  sums: Float64Array;
  /** Sum of squares per bin (the tail's variance, for the standard error of CVaR). */
  squares: Float64Array;
  /** count, sum, min, max, underCount, underSum, overCount, overSum, sumSq, underSumSq, overSumSq */
  totals: Float64Array;
}

const COUNT = 0;
const SUM = 1;
const MIN = 2;
const MAX = 3;
const UNDER_N = 4;
const UNDER_SUM = 5;
const OVER_N = 6;
const OVER_SUM = 7;
const SUM_SQ = 8;
const UNDER_SQ = 9;
const OVER_SQ = 10;

/** A range for a histogram from pilot samples: their span, widened by `pad` of the span each side. */
export function rangeFromPilot(samples: readonly number[], pad = 0.5): { lo: number; hi: number } {
  const finite = samples.filter((x) => Number.isFinite(x));
  if (finite.length === 0) return { lo: -1, hi: 1 };
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  const span = hi - lo;
  const margin = span > 0 ? span * pad : Math.max(Math.abs(lo) * 0.01, 1);
  lo -= margin;
  hi += margin;
  return { lo, hi };
}

export function newHistogram(lo: number, hi: number, bins: number): HistogramState {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`histogram range must be finite with hi > lo, got [${lo}, ${hi}]`);
  const totals = new Float64Array(11);
  totals[MIN] = Infinity;
  totals[MAX] = -Infinity;
  return { lo, hi, bins, counts: new Float64Array(bins), sums: new Float64Array(bins), squares: new Float64Array(bins), totals };
}

/** Adds one finite value (non-finite values are ignored: callers count them separately). */
export function addValue(h: HistogramState, x: number): void {
  if (!Number.isFinite(x)) return;
  const t = h.totals;
  t[COUNT] = (t[COUNT] as number) + 1;
  t[SUM] = (t[SUM] as number) + x;
  t[SUM_SQ] = (t[SUM_SQ] as number) + x * x;
  if (x < (t[MIN] as number)) t[MIN] = x;
  if (x > (t[MAX] as number)) t[MAX] = x;
  if (x < h.lo) {
    t[UNDER_N] = (t[UNDER_N] as number) + 1;
    t[UNDER_SUM] = (t[UNDER_SUM] as number) + x;
    t[UNDER_SQ] = (t[UNDER_SQ] as number) + x * x;
    return;
  }
  if (x >= h.hi) {
    t[OVER_N] = (t[OVER_N] as number) + 1;
    t[OVER_SUM] = (t[OVER_SUM] as number) + x;
    t[OVER_SQ] = (t[OVER_SQ] as number) + x * x;
    return;
  }
  const i = Math.min(h.bins - 1, Math.floor(((x - h.lo) / (h.hi - h.lo)) * h.bins));
  h.counts[i] = (h.counts[i] as number) + 1;
  h.sums[i] = (h.sums[i] as number) + x;
  h.squares[i] = (h.squares[i] as number) + x * x;
}

/** Adds `b` into `a` (same edges required). */
export function mergeInto(a: HistogramState, b: HistogramState): void {
  if (a.lo !== b.lo || a.hi !== b.hi || a.bins !== b.bins) throw new RangeError('histograms with different edges cannot merge');
  for (let i = 0; i < a.bins; i++) {
    a.counts[i] = (a.counts[i] as number) + (b.counts[i] as number);
    a.sums[i] = (a.sums[i] as number) + (b.sums[i] as number);
    a.squares[i] = (a.squares[i] as number) + (b.squares[i] as number);
  }
  const ta = a.totals;
  const tb = b.totals;
  for (const k of [COUNT, SUM, UNDER_N, UNDER_SUM, OVER_N, OVER_SUM, SUM_SQ, UNDER_SQ, OVER_SQ]) ta[k] = (ta[k] as number) + (tb[k] as number);
  ta[MIN] = Math.min(ta[MIN] as number, tb[MIN] as number);
  ta[MAX] = Math.max(ta[MAX] as number, tb[MAX] as number);
}

export function count(h: HistogramState): number {
  return h.totals[COUNT] as number;
}

/** Exact mean of the values added. */
export function mean(h: HistogramState): number {
  const n = count(h);
  return n > 0 ? (h.totals[SUM] as number) / n : NaN;
}

/** Standard error of the mean, sqrt(sample variance / n); NaN below 2 values. */
export function meanStdErr(h: HistogramState): number {
  return stdErrFromSums(count(h), h.totals[SUM] as number, h.totals[SUM_SQ] as number);
}

/** Standard error of a mean from count, sum and sum of squares (sample variance, n − 1). */
export function stdErrFromSums(n: number, sum: number, sumSq: number): number {
  if (n < 2) return NaN;
  const m = sum / n;
  const v = Math.max(0, (sumSq - n * m * m) / (n - 1));
  return Math.sqrt(v / n);
}

/**
 * The q-quantile (0..1), interpolated linearly inside the bin that holds it and clamped to the
 * exact min/max; in the under/overflow buckets, interpolated between the extreme and the edge.
 */
export function quantile(h: HistogramState, q: number): number {
  const n = count(h);
  if (n === 0) return NaN;
  const min = h.totals[MIN] as number;
  const max = h.totals[MAX] as number;
  if (min === max) return min;
  const target = q * n;
  const under = h.totals[UNDER_N] as number;
  const clamp = (x: number) => Math.min(max, Math.max(min, x));
  if (target <= under) return clamp(under > 0 ? min + (h.lo - min) * (target / under) : min);
  let cum = under;
  const width = (h.hi - h.lo) / h.bins;
  for (let i = 0; i < h.bins; i++) {
    const c = h.counts[i] as number;
    if (c > 0 && cum + c >= target) return clamp(h.lo + width * (i + (target - cum) / c));
    cum += c;
  }
  const over = h.totals[OVER_N] as number;
  return clamp(over > 0 ? h.hi + (max - h.hi) * Math.min(1, (target - cum) / over) : max);
}

/** Mean of the lowest fraction `alpha` of the values (expected shortfall / CVaR at level alpha). */
export function tailMean(h: HistogramState, alpha: number): number {
  const n = count(h);
  if (n === 0) return NaN;
  const min = h.totals[MIN] as number;
  if (min === (h.totals[MAX] as number)) return min;
  const k = Math.max(1, alpha * n);
  let taken = 0;
  let sum = 0;
  const under = h.totals[UNDER_N] as number;
  if (under > 0) {
    const use = Math.min(under, k);
    sum += ((h.totals[UNDER_SUM] as number) / under) * use;
    taken += use;
  }
  for (let i = 0; i < h.bins && taken < k; i++) {
    const c = h.counts[i] as number;
    if (c === 0) continue;
    const use = Math.min(c, k - taken);
    sum += ((h.sums[i] as number) / c) * use;
    taken += use;
  }
  const over = h.totals[OVER_N] as number;
  if (taken < k && over > 0) {
    const use = Math.min(over, k - taken);
    sum += ((h.totals[OVER_SUM] as number) / over) * use;
    taken += use;
  }
  return sum / taken;
}

/**
 * Standard error of tailMean(h, alpha), from the asymptotic variance of the expected-shortfall
 * estimator: [Var(X | X ≤ VaR) + (1 − alpha)(VaR − CVaR)²] / (alpha · n).
 */
export function tailMeanStdErr(h: HistogramState, alpha: number): number {
  const n = count(h);
  if (n < 2) return NaN;
  const k = Math.max(1, alpha * n);
  let taken = 0;
  let sum = 0;
  let sq = 0;
  const take = (c: number, s: number, s2: number) => {
    const use = Math.min(c, k - taken);
    sum += (s / c) * use;
    sq += (s2 / c) * use;
    taken += use;
  };
  const under = h.totals[UNDER_N] as number;
  if (under > 0) take(under, h.totals[UNDER_SUM] as number, h.totals[UNDER_SQ] as number);
  for (let i = 0; i < h.bins && taken < k; i++) {
    const c = h.counts[i] as number;
    if (c > 0) take(c, h.sums[i] as number, h.squares[i] as number);
  }
  const over = h.totals[OVER_N] as number;
  if (taken < k && over > 0) take(over, h.totals[OVER_SUM] as number, h.totals[OVER_SQ] as number);
  const cvar = sum / taken;
  const tailVar = Math.max(0, sq / taken - cvar * cvar);
  const q = quantile(h, alpha);
  return Math.sqrt((tailVar + (1 - alpha) * (q - cvar) ** 2) / (alpha * n));
}

export interface Summary {
  mean: number;
  p5: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  count: number;
}

export function summarize(h: HistogramState): Summary {
  return {
    mean: mean(h),
    p5: quantile(h, 0.05),
    p50: quantile(h, 0.5),
    p95: quantile(h, 0.95),
    min: count(h) ? (h.totals[MIN] as number) : NaN,
    max: count(h) ? (h.totals[MAX] as number) : NaN,
    count: count(h),
  };
}
