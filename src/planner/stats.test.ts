import { describe, expect, it } from 'vitest';
import { addValue, mean, mergeInto, newHistogram, quantile, rangeFromPilot, summarize, tailMean } from './stats.js';

describe('streaming histogram', () => {
  it('exact mean, close quantiles, exact tail mean for 1..1000', () => {
    const h = newHistogram(0, 1000, 1000);
    for (let i = 1; i <= 1000; i++) addValue(h, i);
    expect(mean(h)).toBe(500.5);
    // Quantiles are exact to one bin width (1 here).
    expect(Math.abs(quantile(h, 0.5) - 500)).toBeLessThanOrEqual(1);
    expect(Math.abs(quantile(h, 0.05) - 50)).toBeLessThanOrEqual(1);
    expect(tailMean(h, 0.05)).toBeCloseTo(25.5, 9); // mean of 1..50
    expect(summarize(h)).toMatchObject({ min: 1, max: 1000, count: 1000 });
  });

  it('values outside the range go to under/overflow with exact sums', () => {
    const h = newHistogram(0, 10, 10);
    for (const x of [-50, -40, 5, 100]) addValue(h, x);
    expect(mean(h)).toBe(15 / 4);
    expect(tailMean(h, 0.5)).toBe(-45);
    expect(quantile(h, 0)).toBe(-50);
    expect(quantile(h, 1)).toBe(100);
  });

  it('merging in any split gives the same counts; identical values give that value', () => {
    const a = newHistogram(0, 1, 16);
    const b = newHistogram(0, 1, 16);
    const all = newHistogram(0, 1, 16);
    for (let i = 0; i < 100; i++) {
      const x = (i * 37) % 100 / 100;
      addValue(i < 40 ? a : b, x);
      addValue(all, x);
    }
    mergeInto(a, b);
    expect(Array.from(a.counts)).toEqual(Array.from(all.counts));
    const same = newHistogram(0, 2, 8);
    for (let i = 0; i < 10; i++) addValue(same, 1.2345);
    expect(quantile(same, 0.05)).toBe(1.2345);
    expect(tailMean(same, 0.05)).toBe(1.2345);
  });

  it('pilot ranges pad the span and survive a constant pilot', () => {
    expect(rangeFromPilot([1, 3])).toEqual({ lo: 0, hi: 4 });
    const r = rangeFromPilot([5, 5]);
    expect(r.lo).toBeLessThan(5);
    expect(r.hi).toBeGreaterThan(5);
  });
});
