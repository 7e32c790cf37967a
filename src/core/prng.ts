/**
 * A small, fast, seeded PRNG for every synthetic series and Monte Carlo path in Mullet:
 * xoshiro128** (Blackman & Vigna, 2018; 128-bit state, period 2^128 − 1) seeded through
 * splitmix32 so that nearby seeds give unrelated streams. Pure: no Math.random, no clock.
 */

/** splitmix32 step: a good 32-bit mixer used only to expand seeds into state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes a seed (safe integer or string) and an optional stream number into one 32-bit word. */
function mixSeed(seed: number | string, stream: number): number {
  let h = 0x811c9dc5; // FNV-1a over the seed's decimal text, then the stream number
  const text = typeof seed === 'number' ? `n${seed}` : `s${seed}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (stream >>> 0), 0x01000193);
  h = Math.imul(h ^ Math.floor(stream / 2 ** 32), 0x01000193);
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = NaN;

  /**
   * `seed`: any safe integer or string; `stream`: an independent sub-stream (e.g. a Monte Carlo
   * path index), so path k draws the same numbers whatever thread or order runs it.
   */
  constructor(seed: number | string, stream = 0) {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    if (!Number.isSafeInteger(stream) || stream < 0) throw new RangeError(`stream must be a non-negative integer, got ${stream}`);
    const st = { s: mixSeed(seed, stream) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1; // the all-zero state is the one fixed point
  }

  /** A generator with an explicit xoshiro state (four 32-bit words); for reference-vector tests. */
  static fromState(a: number, b: number, c: number, d: number): Rng {
    const r = new Rng(0);
    r.a = a | 0;
    r.b = b | 0;
    r.c = c | 0;
    r.d = d | 0;
    return r;
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform double in (0, 1): safe for logarithms. */
  nextOpen(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return u;
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal N(0, 1) by the Marsaglia polar method (the spare is kept, so two per loop). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * m;
        return u * m;
      }
    }
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(this.nextOpen());
  }

  /** Pareto (type I) with scale `xMin` and tail index `alpha`: P(X > x) = (xMin / x)^alpha. */
  pareto(xMin: number, alpha: number): number {
    return xMin * Math.pow(this.nextOpen(), -1 / alpha);
  }

  /** Poisson count with mean `lambda` (Knuth's product method below 30, normal approximation above). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Geometric count >= 1 with the given mean (>= 1). */
  geometric(mean: number): number {
    if (mean <= 1) return 1;
    const p = 1 / mean;
    return 1 + Math.floor(Math.log(this.nextOpen()) / Math.log(1 - p));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
