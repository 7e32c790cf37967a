import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO_PARAMS } from '../scenario/defaults.js';
import { SYNTHETIC_LABEL } from '../scenario/params.js';
import { buildPricePool, GRID_MIN_USD_PER_MWH, GRID_POINTS, GRID_STEP_USD_PER_MWH, lookup } from './power-pool.js';

describe('synthetic power price pool', () => {
  const pool = buildPricePool(DEFAULT_SCENARIO_PARAMS, 1, 3);

  it('is labelled synthetic and has twelve months per year', () => {
    expect(pool.synthetic).toBe(true);
    expect(pool.label).toBe(SYNTHETIC_LABEL);
    expect(pool.meanPrice).toHaveLength(12);
    expect(pool.runFrac).toHaveLength(12 * GRID_POINTS);
  });

  it('F rises from 0 to 1 and S ends at the month mean (the whole month runs)', () => {
    for (let row = 0; row < 12; row++) {
      let prev = -1;
      for (let g = 0; g < GRID_POINTS; g++) {
        const f = pool.runFrac[row * GRID_POINTS + g] as number;
        expect(f).toBeGreaterThanOrEqual(prev);
        prev = f;
      }
      // Above every price but spikes: F close to 1; at the floor: nothing runs.
      expect(pool.runFrac[row * GRID_POINTS] as number).toBe(0);
      expect(pool.runFrac[row * GRID_POINTS + GRID_POINTS - 1] as number).toBeGreaterThan(0.98);
    }
  });

  it('lookup interpolates linearly and scales prices', () => {
    const out = { run: 0, cost: 0 };
    const g = 200; // x = −300 + 400 = 100 USD/MWh
    const x = GRID_MIN_USD_PER_MWH + g * GRID_STEP_USD_PER_MWH;
    lookup(pool.runFrac, pool.costBelow, 7, x + GRID_STEP_USD_PER_MWH / 2, 1, out);
    const i = 7 * GRID_POINTS + g;
    expect(out.run).toBeCloseTo(((pool.runFrac[i] as number) + (pool.runFrac[i + 1] as number)) / 2, 12);
    // Doubling every price: F_2(2x) = F(x), S_2(2x) = 2 S(x).
    lookup(pool.runFrac, pool.costBelow, 7, 2 * x, 2, out);
    expect(out.run).toBeCloseTo(pool.runFrac[i] as number, 12);
    expect(out.cost).toBeCloseTo(2 * (pool.costBelow[i] as number), 9);
  });

  it('the mixture of a one-year pool is that year', () => {
    expect(Array.from(pool.mixMean)).toEqual(Array.from(pool.meanPrice));
  });
});
