import { describe, expect, it } from 'vitest';
import { cappedLognormalMean, cappedParetoMean, normalCdf, solveCappedLognormalMu } from './mathx.js';

describe('scenario math', () => {
  it('normalCdf at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 6);
  });

  it('capped lognormal mean tends to exp(mu + s²/2) with a far cap and to the cap with a low one', () => {
    expect(cappedLognormalMean(1, 0.5, 1e9)).toBeCloseTo(Math.exp(1 + 0.125), 6);
    expect(cappedLognormalMean(10, 0.5, 2)).toBeCloseTo(2, 6);
  });

  it('solveCappedLognormalMu inverts the capped mean', () => {
    for (const [target, sigma, cap] of [[30, 0.8, 300], [250, 0.9, 300], [5, 1.2, 300]] as const) {
      const mu = solveCappedLognormalMu(target, sigma, cap);
      expect(cappedLognormalMean(mu, sigma, cap)).toBeCloseTo(target, 6);
    }
  });

  it('capped Pareto mean: closed forms', () => {
    // alpha 2, xMin 1, cap 10: 1 + (1/1 − 1/10) = 1.9
    expect(cappedParetoMean(1, 2, 10)).toBeCloseTo(1.9, 12);
    // alpha 1: xMin (1 + ln(cap/xMin))
    expect(cappedParetoMean(300, 1, 5000)).toBeCloseTo(300 * (1 + Math.log(5000 / 300)), 9);
  });
});
