import { describe, expect, it } from 'vitest';
import { expectedIntervals, findGaps, largestGaps } from './gaps.js';

const H = 3_600_000;

describe('gap detection on a hand-made hourly series', () => {
  // Hours present: 0 1 2 _ _ 5 6 _ 8 9 _ _ _ _ 14
  const starts = [0, 1, 2, 5, 6, 8, 9, 14].map((h) => h * H);
  const gaps = findGaps('test', starts, H);

  it('merges consecutive missing intervals into one range with inclusive starts', () => {
    expect(gaps).toEqual([
      { series: 'test', fromMs: 3 * H, toMs: 4 * H, missingIntervals: 2 },
      { series: 'test', fromMs: 7 * H, toMs: 7 * H, missingIntervals: 1 },
      { series: 'test', fromMs: 10 * H, toMs: 13 * H, missingIntervals: 4 },
    ]);
  });
  it('missing = expected − present', () => {
    const missing = gaps.reduce((a, g) => a + g.missingIntervals, 0);
    expect(expectedIntervals(0, 14 * H, H) - starts.length).toBe(missing);
  });
  it('lists the largest first', () => {
    expect(largestGaps(gaps, 2).map((g) => g.missingIntervals)).toEqual([4, 2]);
    expect(largestGaps(gaps, 0)).toEqual([]);
  });
  it('finds nothing in a complete or single-point series', () => {
    expect(findGaps('x', [0, H, 2 * H], H)).toEqual([]);
    expect(findGaps('x', [5 * H], H)).toEqual([]);
    expect(findGaps('x', [], H)).toEqual([]);
  });
});
