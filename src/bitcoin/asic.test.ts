import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedFile, SKIP_REASON, skipWithoutSharedData } from '../testing/data.js';
import { asicEconomics, efficiencyJPerTh, revenueUsdPerMWh } from './asic.js';

describe('revenueUsdPerMWh', () => {
  // Product brief: at the Nov 2025 low of $35/PH/day, 17 J/TH earns ≈ $86/MWh and 30 J/TH ≈ $49/MWh.
  it('reproduces the product brief sanity figures', () => {
    expect(revenueUsdPerMWh(35, 17)).toBeCloseTo(85.784, 3); // 35 / 0.408
    expect(revenueUsdPerMWh(35, 30)).toBeCloseTo(48.611, 3); // 35 / 0.72
  });

  it('applies pool fee and PUE as divisors of the metered energy value', () => {
    expect(revenueUsdPerMWh(35, 17, 2)).toBeCloseTo(85.784 * 0.98, 3);
    expect(revenueUsdPerMWh(35, 17, 0, 1.1)).toBeCloseTo(85.784 / 1.1, 3);
  });

  it('rejects impossible inputs', () => {
    expect(() => revenueUsdPerMWh(35, 0)).toThrow(RangeError);
    expect(() => revenueUsdPerMWh(-1, 17)).toThrow(RangeError);
    expect(() => revenueUsdPerMWh(35, 17, 100)).toThrow(RangeError);
    expect(() => revenueUsdPerMWh(35, 17, 0, 0.9)).toThrow(RangeError);
  });
});

describe('asicEconomics', () => {
  // An S21-class machine: 200 TH/s at 3,500 W = 17.5 J/TH; hashprice $50/PH/day; 2 % pool fee.
  const s21 = { model: 'Antminer S21', hashrateThs: 200, powerW: 3500, poolFeePct: 2 };

  it('computes efficiency, daily revenue and energy by hand', () => {
    const e = asicEconomics(s21, 50);
    expect(e.model).toBe('Antminer S21');
    expect(e.efficiencyJPerTh).toBe(17.5);
    expect(e.revenueUsdPerDay).toBeCloseTo(0.2 * 50 * 0.98, 10); // $9.80
    expect(e.energyMWhPerDay).toBeCloseTo(0.084, 12); // 3.5 kW × 24 h
    expect(e.revenueUsdPerMWh).toBeCloseTo(9.8 / 0.084, 9); // $116.67/MWh
    expect(e.breakEvenUsdPerMWh).toBe(e.revenueUsdPerMWh);
    expect(e.marginUsdPerDay).toBeUndefined();
  });

  it('gives margins at a power price, including negative prices', () => {
    const e = asicEconomics({ ...s21, pue: 1.05 }, 50, 40);
    expect(e.energyMWhPerDay).toBeCloseTo(0.0882, 12);
    expect(e.powerCostUsdPerDay).toBeCloseTo(0.0882 * 40, 10);
    expect(e.marginUsdPerDay).toBeCloseTo(9.8 - 3.528, 10);
    expect(e.marginUsdPerMWh).toBeCloseTo(9.8 / 0.0882 - 40, 9);
    // Margin per MWh × energy = margin per day: the two views agree.
    expect((e.marginUsdPerMWh ?? NaN) * e.energyMWhPerDay).toBeCloseTo(e.marginUsdPerDay ?? NaN, 10);
    const paid = asicEconomics(s21, 50, -20);
    expect(paid.marginUsdPerDay).toBeGreaterThan(paid.revenueUsdPerDay);
  });

  it('validates hashrate and power', () => {
    expect(() => efficiencyJPerTh(0, 3500)).toThrow(RangeError);
    expect(() => efficiencyJPerTh(200, NaN)).toThrow(RangeError);
    expect(() => asicEconomics(s21, 50, Infinity)).toThrow(RangeError);
  });
});

describe.skipIf(skipWithoutSharedData)(`real machines: asic_miner_specs.csv (${SKIP_REASON})`, () => {
  it('revenue per MWh equals daily revenue over daily energy for every listed model', () => {
    const lines = readFileSync(sharedFile('asic_miner_specs.csv'), 'utf8').trim().split('\n').slice(1);
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) {
      const [manufacturer, model, ths, w, eff] = line.split(',');
      const e = asicEconomics({ model: `${manufacturer} ${model}`, hashrateThs: Number(ths), powerW: Number(w), poolFeePct: 0 }, 35);
      expect(e.efficiencyJPerTh).toBeCloseTo(Number(eff), 0);
      expect(e.revenueUsdPerMWh).toBeCloseTo(e.revenueUsdPerDay / e.energyMWhPerDay, 6);
    }
  });
});
