import { describe, expect, it } from 'vitest';
import { isMulletError } from '../core/errors.js';
import { mwOnlineInMonth, termMonthsFromYears, valueContract } from './contract.js';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('valueContract', () => {
  it('IREN–Microsoft: 200 MW, 5 yr, $9.7B → 808.33 USD/kW-month and $1.94B a year', () => {
    const v = valueContract({ itMW: 200, termYears: 5, totalValueUsd: 9.7e9, prepayPct: 20 });
    expect(v.termMonths).toBe(60);
    // hand: 9.7e9 / (200 × 1000 × 60) = 808.333…
    expect(v.usdPerKwMonth).toBeCloseTo(808.3333, 3);
    expect(v.firstYearUsdPerKwMonth).toBeCloseTo(808.3333, 3);
    expect(v.annualRevenueUsd).toBeCloseTo(1.94e9, 0);
    expect(v.firstFullYear).toBe(1);
    expect(v.revenueByYearUsd).toHaveLength(5);
    for (const y of v.revenueByYearUsd) expect(y).toBeCloseTo(1.94e9, 0);
    expect(v.prepaymentUsd).toBeCloseTo(1.94e9, 0);
    // prepayment in year 1 plus 80 % of each bill: cash still sums to the total
    expect(sum(v.cashByYearUsd)).toBeCloseTo(9.7e9, 0);
    expect(v.cashByYearUsd[0]).toBeCloseTo(1.94e9 + 0.8 * 1.94e9, 0);
    expect(v.npvUsd).toBeCloseTo(9.7e9, 0); // no discount rate given
  });

  it('Hut 8–Fluidstack: 3 %/yr escalator solves the first-year rate', () => {
    const v = valueContract({ itMW: 245, termYears: 15, totalValueUsd: 7.0e9, escalatorPct: 3 });
    // hand: S = (1.03^15 − 1) / 0.03 = 18.5989; rate₁ = 7e9 / (245,000 kW × 12 × S) = 128.0157
    expect(v.firstYearUsdPerKwMonth).toBeCloseTo(128.0157, 3);
    expect(v.usdPerKwMonth).toBeCloseTo(158.7302, 3); // 7e9 / (245,000 × 180)
    expect(v.revenueByYearUsd[0]).toBeCloseTo(376_366_063.24, 0);
    expect(v.revenueByYearUsd[14]).toBeCloseTo(569_287_440.03, 0);
    expect(sum(v.revenueByYearUsd)).toBeCloseTo(7.0e9, 0);
    expect(v.months[12]?.usdPerKwMonth).toBeCloseTo(128.0157 * 1.03, 3); // month 13 = year 2
  });

  it('prices from a rate, with prepayment and monthly discounting (hand NPV)', () => {
    // 100 MW × 1000 × 100 USD = 10 M per month; 20 % of 120 M (24 M) at signing, then 8 M per month.
    const v = valueContract({ itMW: 100, termYears: 1, usdPerKwMonth: 100, prepayPct: 20, discountRatePerYear: 0.1 });
    expect(v.totalValueUsd).toBeCloseTo(120e6, 4);
    expect(v.prepaymentUsd).toBeCloseTo(24e6, 4);
    expect(v.months[0]?.cashUsd).toBeCloseTo(8e6, 6);
    // Σ 8e6 × 1.1^(−m/12), m = 1..12, plus 24e6 (computed by hand in Python: 115,203,902.63)
    expect(v.npvUsd).toBeCloseTo(115_203_902.63, 1);
  });

  it('a linear ramp reduces billed MW; a total with a ramp raises the solved rate', () => {
    const byRate = valueContract({ itMW: 100, termYears: 2, usdPerKwMonth: 100, ramp: { kind: 'linear', months: 12 } });
    // year 1: Σ 100 × m/12 × 1000 × 100, m = 1..12 = 65 M; year 2 full: 120 M
    expect(byRate.revenueByYearUsd[0]).toBeCloseTo(65e6, 4);
    expect(byRate.revenueByYearUsd[1]).toBeCloseTo(120e6, 4);
    expect(byRate.firstFullYear).toBe(2);
    expect(byRate.annualRevenueUsd).toBeCloseTo(120e6, 4);
    expect(byRate.usdPerKwMonth).toBeCloseTo(185e6 / (100_000 * 24), 8); // level-equivalent over the full MW

    const byTotal = valueContract({ itMW: 100, termYears: 2, totalValueUsd: 1e8, ramp: { kind: 'linear', months: 12 } });
    expect(byTotal.firstYearUsdPerKwMonth).toBeCloseTo(1e8 / 1_850_000, 8); // 54.054
    expect(sum(byTotal.revenueByYearUsd)).toBeCloseTo(1e8, 4);
  });

  it('step ramps bill nothing before the first step', () => {
    const ramp = { kind: 'steps', steps: [{ month: 4, mw: 40 }, { month: 7, mw: 100 }] } as const;
    expect(mwOnlineInMonth(ramp, 100, 3)).toBe(0);
    expect(mwOnlineInMonth(ramp, 100, 4)).toBe(40);
    expect(mwOnlineInMonth(ramp, 100, 7)).toBe(100);
    const v = valueContract({ itMW: 100, termYears: 1, usdPerKwMonth: 10, ramp });
    // 3 months × 40 MW + 6 months × 100 MW = 720 MW-months × 1000 × 10 USD
    expect(v.totalValueUsd).toBeCloseTo(7.2e6, 6);
    expect(v.firstFullYear).toBeNull();
    expect(v.annualRevenueUsd).toBeCloseTo(100 * 1000 * 12 * 10, 6); // run-rate
  });

  it('handles a partial last year', () => {
    const v = valueContract({ itMW: 10, termYears: 1.5, usdPerKwMonth: 100 });
    expect(v.termMonths).toBe(18);
    expect(v.revenueByYearUsd).toEqual([12e6, 6e6]);
  });

  it('rejects bad inputs with the field named', () => {
    const where = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return isMulletError(err) ? `${err.code} ${err.where}` : String(err);
      }
      return 'no error';
    };
    expect(where(() => valueContract({ itMW: 10, termYears: 5 }))).toBe('BAD_INPUT pricing');
    expect(where(() => valueContract({ itMW: 10, termYears: 5, totalValueUsd: 1, usdPerKwMonth: 1 }))).toBe('BAD_INPUT pricing');
    expect(where(() => valueContract({ itMW: 0, termYears: 5, totalValueUsd: 1 }))).toBe('BAD_INPUT itMW');
    expect(where(() => valueContract({ itMW: 10, termYears: 5, totalValueUsd: 1, prepayPct: 120 }))).toBe('BAD_INPUT prepayPct');
    expect(where(() => valueContract({ itMW: 10, termYears: 5, totalValueUsd: Number.NaN }))).toBe('BAD_INPUT totalValueUsd');
    expect(where(() => valueContract({ itMW: 10, termYears: 5, totalValueUsd: 1, ramp: { kind: 'steps', steps: [{ month: 3, mw: 5 }, { month: 2, mw: 10 }] } }))).toBe(
      'BAD_INPUT ramp.steps[1].month',
    );
    expect(where(() => valueContract({ itMW: 10, termYears: 1, totalValueUsd: 1, ramp: { kind: 'steps', steps: [{ month: 13, mw: 10 }] } }))).toBe('BAD_INPUT ramp');
    expect(() => termMonthsFromYears(1.01)).toThrow(/whole number of months/);
  });
});
