import { describe, expect, it } from 'vitest';
import {
  HOURS_PER_MONTH,
  usdPerKwMonthFromUsdPerMWhIt,
  usdPerKwMonthFromUsdPerMWhMeter,
  usdPerKwMonthFromUsdPerMwYear,
  usdPerMWhItFromUsdPerKwMonth,
  usdPerMWhItFromUsdPerMWhMeter,
  usdPerMWhMeterFromUsdPerKwMonth,
  usdPerMWhMeterFromUsdPerMWhIt,
  usdPerMwYearFromUsdPerKwMonth,
} from './lease.js';

describe('lease conversions', () => {
  it('uses a 730-hour month', () => {
    expect(HOURS_PER_MONTH).toBe(730);
  });
  it('converts USD/kW-month to USD/MWh of IT and back (hand values)', () => {
    // 146 USD/kW-month × 1000 / 730 = 200 USD/MWh exactly.
    expect(usdPerMWhItFromUsdPerKwMonth(146)).toBeCloseTo(200, 10);
    expect(usdPerKwMonthFromUsdPerMWhIt(200)).toBeCloseTo(146, 10);
    expect(usdPerMWhItFromUsdPerKwMonth(808.3333333)).toBeCloseTo(1107.306, 3);
  });
  it('divides by PUE at the meter', () => {
    expect(usdPerMWhMeterFromUsdPerMWhIt(200, 1.25)).toBeCloseTo(160, 10);
    expect(usdPerMWhItFromUsdPerMWhMeter(160, 1.25)).toBeCloseTo(200, 10);
    expect(usdPerMWhMeterFromUsdPerKwMonth(146, 1.25)).toBeCloseTo(160, 10);
    expect(usdPerKwMonthFromUsdPerMWhMeter(160, 1.25)).toBeCloseTo(146, 10);
  });
  it('converts to and from USD per MW-year', () => {
    expect(usdPerMwYearFromUsdPerKwMonth(150)).toBe(1_800_000);
    expect(usdPerKwMonthFromUsdPerMwYear(1_800_000)).toBe(150);
  });
  it('rejects PUE below 1 and non-finite prices', () => {
    expect(() => usdPerMWhMeterFromUsdPerMWhIt(100, 0.9)).toThrow(/PUE must be >= 1/);
    expect(() => usdPerMWhItFromUsdPerKwMonth(Number.NaN)).toThrow(/finite/);
    expect(() => usdPerMWhItFromUsdPerKwMonth(Infinity)).toThrow(/finite/);
  });
});
