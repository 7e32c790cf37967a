import { describe, expect, it } from 'vitest';
import { irrAnnual, paybackMonths } from './irr.js';

describe('irr', () => {
  it('−100 now, +110 in 12 months is 10 %/yr', () => {
    const c = new Float64Array(13);
    c[0] = -100;
    c[12] = 110;
    expect(irrAnnual(c)).toBeCloseTo(0.1, 10);
  });

  it('a level monthly annuity priced at 8 %/yr returns 8 %', () => {
    const r = Math.pow(1.08, 1 / 12) - 1;
    const pay = 1000;
    const n = 60;
    const pv = (pay * (1 - Math.pow(1 + r, -n))) / r;
    const c = new Float64Array(n + 1).fill(pay);
    c[0] = -pv;
    expect(irrAnnual(c)).toBeCloseTo(0.08, 9);
  });

  it('no sign change: NaN', () => {
    expect(irrAnnual(Float64Array.from([1, 2, 3]))).toBeNaN();
    expect(irrAnnual(Float64Array.from([-1, -2]))).toBeNaN();
  });

  it('payback counts months to recover', () => {
    expect(paybackMonths(Float64Array.from([-100, 30, 30, 30, 30, 30]))).toBe(4);
    expect(paybackMonths(Float64Array.from([5, 5]))).toBe(0);
    expect(paybackMonths(Float64Array.from([-5, 1]))).toBe(Infinity);
    // Counted from the first capex (month 2 here), and only within the first n months.
    expect(paybackMonths(Float64Array.from([0, 0, -100, 60, 60]), 5, 2)).toBe(2);
    expect(paybackMonths(Float64Array.from([0, 0, -100, 60, 60]), 4, 2)).toBe(Infinity);
  });
});
