import { describe, expect, it } from 'vitest';
import { Rng } from './prng.js';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference output for state [1, 2, 3, 4]', () => {
    // First outputs of the reference C implementation (prng.di.unimi.it/xoshiro128starstar.c).
    const r = Rng.fromState(1, 2, 3, 4);
    expect([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('is deterministic per seed and stream, and streams differ', () => {
    const a = new Rng(42, 7);
    const b = new Rng(42, 7);
    const c = new Rng(42, 8);
    const d = new Rng(43, 7);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    expect(Array.from({ length: 5 }, () => d.next())).not.toEqual(xs);
    expect(new Rng('abc').next()).toBe(new Rng('abc').next());
  });

  it('rejects unsafe seeds and negative streams', () => {
    expect(() => new Rng(0.5)).toThrow(RangeError);
    expect(() => new Rng(1, -1)).toThrow(RangeError);
  });

  it('draws have the right moments (200,000 draws, fixed seed)', () => {
    const r = new Rng(2024);
    const n = 200_000;
    let su = 0;
    let sn = 0;
    let sn2 = 0;
    let se = 0;
    let sp = 0;
    let tail = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      su += u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
      se += r.exponential(3);
      sp += r.poisson(2.5);
      if (r.pareto(100, 2) > 200) tail++;
    }
    expect(outside).toBe(0);
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(sn / n).toBeCloseTo(0, 2);
    expect(sn2 / n).toBeCloseTo(1, 1);
    expect(se / n).toBeCloseTo(3, 1);
    expect(sp / n).toBeCloseTo(2.5, 1);
    expect(tail / n).toBeCloseTo(0.25, 2); // (100/200)^2
  });

  it('geometric has the requested mean and is at least 1', () => {
    const r = new Rng(5);
    let s = 0;
    let min = Infinity;
    for (let i = 0; i < 100_000; i++) {
      const g = r.geometric(4);
      min = Math.min(min, g);
      s += g;
    }
    expect(min).toBe(1);
    expect(s / 100_000).toBeCloseTo(4, 1);
  });
});
