import { describe, expect, it } from 'vitest';
import { DEFAULT_AS_PRICE_PARAMS, generateAsPrices } from './ancillary.js';
import { SYNTHETIC_LABEL } from './params.js';

const Y2023 = Date.parse('2023-01-01T06:00:00Z');
const Y2024 = Date.parse('2024-01-01T06:00:00Z');
const Y2025 = Date.parse('2025-01-01T06:00:00Z');
const ECRS_LAUNCH = Date.parse('2023-06-10T05:00:00Z');

function mean(a: Float64Array, from = 0, to = a.length): number {
  let s = 0;
  let n = 0;
  for (let i = from; i < to; i++) if (Number.isFinite(a[i])) [s, n] = [s + (a[i] as number), n + 1];
  return s / n;
}

describe('synthetic AS prices', () => {
  it('is labelled SYNTHETIC, seeded and deterministic, with no ECRS before its launch', () => {
    const a = generateAsPrices(DEFAULT_AS_PRICE_PARAMS, { seed: 7, startMs: Y2023, hours: 24 * 200 });
    const b = generateAsPrices(DEFAULT_AS_PRICE_PARAMS, { seed: 7, startMs: Y2023, hours: 24 * 200 });
    expect(a.label).toBe(SYNTHETIC_LABEL);
    expect(a.notes[0]).toMatch(/^SYNTHETIC/);
    expect(a.notes[0]).toMatch(/RRS, NSPIN means ASSUMED/);
    expect(Array.from(a.values.ECRS)).toEqual(Array.from(b.values.ECRS));
    const launch = (ECRS_LAUNCH - Y2023) / 3_600_000;
    expect(Number.isNaN(a.values.ECRS[launch - 1])).toBe(true);
    expect(a.values.ECRS[launch]).toBeGreaterThan(0);
    expect(a.values.RRS.every((v) => v > 0)).toBe(true);
    expect(generateAsPrices(DEFAULT_AS_PRICE_PARAMS, { seed: 8, startMs: Y2023, hours: 24 }).values.RRS[0]).not.toBe(a.values.RRS[0]);
  });

  it('matches the published annual means in expectation: ECRS 76.77 (2023, from launch) and 9.62 (2024)', () => {
    const hours = (Y2025 - Y2023) / 3_600_000;
    const split = (Y2024 - Y2023) / 3_600_000;
    let e23 = 0;
    let e24 = 0;
    let r24 = 0;
    const seeds = 12;
    for (let s = 0; s < seeds; s++) {
      const g = generateAsPrices(DEFAULT_AS_PRICE_PARAMS, { seed: s, startMs: Y2023, hours });
      e23 += mean(g.values.ECRS, 0, split) / seeds;
      e24 += mean(g.values.ECRS, split) / seeds;
      r24 += mean(g.values.RRS, split) / seeds;
    }
    expect(e23).toBeGreaterThan(76.77 * 0.85);
    expect(e23).toBeLessThan(76.77 * 1.15);
    expect(e24).toBeGreaterThan(9.62 * 0.85);
    expect(e24).toBeLessThan(9.62 * 1.15);
    expect(r24).toBeGreaterThan(5 * 0.85);
    expect(r24).toBeLessThan(5 * 1.15);
  });

  it('names a year it has no mean for and uses the nearest one', () => {
    const g = generateAsPrices(DEFAULT_AS_PRICE_PARAMS, { seed: 1, startMs: Date.parse('2026-01-01T06:00:00Z'), hours: 24 * 365 });
    expect(g.notes.join('\n')).toMatch(/ECRS 2026: no annual mean on file; the 2024 mean is used/);
  });
});
