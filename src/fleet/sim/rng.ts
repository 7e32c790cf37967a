/**
 * Seeded, order-independent randomness for the simulator. Every value is a pure function of
 * (seed, stream, index), so a miner's noise does not depend on how often or in which order it
 * is read, and two runs with the same seed serve identical fleets.
 */

/** 32-bit integer hash (a murmur3 finaliser over combined inputs); deterministic and fast. */
export function hash32(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    // Fold in both halves so inputs beyond 2^32 (ms timestamps) still matter.
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = Math.imul(h ^ lo, 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
    h = Math.imul(h ^ hi, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1) from hashed inputs. */
export function unit(...parts: readonly number[]): number {
  return hash32(...parts) / 4294967296;
}

/** A small sequential PRNG (mulberry32) for streams where order is part of the model. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = hash32(seed) || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A string of `len` characters drawn from `alphabet`. */
  chars(len: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
    let out = '';
    for (let i = 0; i < len; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
}

/**
 * Smooth value noise in [-1, 1]: random knots every `periodMs`, linearly interpolated, so
 * telemetry wanders like a real sensor instead of jumping on every read.
 */
export function smoothNoise(seed: number, channel: number, tMs: number, periodMs: number): number {
  const x = tMs / periodMs;
  const k = Math.floor(x);
  const f = x - k;
  const a = unit(seed, channel, k) * 2 - 1;
  const b = unit(seed, channel, k + 1) * 2 - 1;
  return a + (b - a) * f;
}

/** Deterministic Fisher-Yates shuffle (returns a new array). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  const rng = new Rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
