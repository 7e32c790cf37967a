/**
 * Gap semantics shared by every store: a series has a fixed interval length; between its first and
 * last stored start, every grid step without a value (from any source) is missing. Consecutive
 * missing intervals merge into one gap [fromMs, toMs] (both inclusive interval starts).
 */
import type { GapReport } from '../market/store-port.js';

/** The gap between two consecutive present starts `prevMs` < `nextMs` (ms, step `stepMs`). */
export function gapBetween(series: string, prevMs: number, nextMs: number, stepMs: number): GapReport {
  const missingIntervals = Math.round((nextMs - prevMs) / stepMs) - 1;
  return { series, fromMs: prevMs + stepMs, toMs: nextMs - stepMs, missingIntervals };
}

/** All gaps of a sorted, de-duplicated list of interval starts (ms) on a `stepMs` grid. */
export function findGaps(series: string, sortedStartsMs: readonly number[], stepMs: number): GapReport[] {
  const gaps: GapReport[] = [];
  for (let i = 1; i < sortedStartsMs.length; i++) {
    const prev = sortedStartsMs[i - 1] as number;
    const next = sortedStartsMs[i] as number;
    // Half a step of slack: a start off the grid is not a gap of its own.
    if (next - prev > stepMs * 1.5) gaps.push(gapBetween(series, prev, next, stepMs));
  }
  return gaps;
}

/** The `n` largest gaps, largest first (earlier first on ties). */
export function largestGaps(gaps: readonly GapReport[], n: number): GapReport[] {
  return [...gaps].sort((a, b) => b.missingIntervals - a.missingIntervals || a.fromMs - b.fromMs).slice(0, Math.max(0, n));
}

/** Intervals from first to last start inclusive on a `stepMs` grid. */
export function expectedIntervals(firstMs: number, lastMs: number, stepMs: number): number {
  return Math.round((lastMs - firstMs) / stepMs) + 1;
}
