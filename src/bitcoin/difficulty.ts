import { decodeCompact, encodeCompact, UINT256_MODULUS } from './compact.js';

/**
 * Difficulty is the difficulty-1 target divided by the current target: how many times harder a
 * block is than at the genesis target. The difficulty-1 target is the *decoded* genesis bits
 * 0x1d00ffff (0xffff · 2^208), not Core's powLimit (2^224 − 1), which encodes to the same bits.
 */
export const DIFFICULTY_1_BITS = 0x1d00ffff;
export const DIFFICULTY_1_TARGET = 0xffffn << 208n;

/**
 * Hashes per block at difficulty 1 by the industry convention (2^32). The exact expectation,
 * 2^256 / (DIFFICULTY_1_TARGET + 1) ≈ 2^48 / 0xffff, is 0.0015 % higher; hashprice uses 2^32.
 */
export const HASHES_PER_DIFFICULTY_1 = 2 ** 32;

/**
 * The ratio num/den (positive bigints) as a double within 1 ulp: the quotient is first scaled
 * to at least 64 significant bits, so Number() rounds only once, at the last place.
 */
function ratioToNumber(num: bigint, den: bigint): number {
  const shift = BigInt(Math.max(0, 64 - (num.toString(2).length - den.toString(2).length)));
  const q = (num << shift) / den;
  return Number(q) / 2 ** Number(shift);
}

/** Difficulty (dimensionless) of a target: DIFFICULTY_1_TARGET / target as a float. */
export function difficultyFromTarget(target: bigint): number {
  if (target <= 0n) throw new RangeError(`target must be > 0, got ${target}`);
  return ratioToNumber(DIFFICULTY_1_TARGET, target);
}

/** Splits a finite positive double into an exact integer mantissa and power-of-two exponent. */
function exactParts(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** The target for a difficulty as the exact rational DIFFICULTY_1_TARGET / difficulty = num / den. */
function targetRational(difficulty: number): { num: bigint; den: bigint } {
  if (!Number.isFinite(difficulty) || difficulty <= 0) throw new RangeError(`difficulty must be a finite number > 0, got ${difficulty}`);
  const { mantissa, exponent } = exactParts(difficulty);
  // D1 / (m · 2^e) = (D1 · 2^-e) / m
  return exponent >= 0
    ? { num: DIFFICULTY_1_TARGET, den: mantissa << BigInt(exponent) }
    : { num: DIFFICULTY_1_TARGET << BigInt(-exponent), den: mantissa };
}

/**
 * Target (bigint, floor) for a difficulty: floor(DIFFICULTY_1_TARGET / difficulty), computed
 * exactly from the double's binary value. Throws when the result does not fit in 256 bits.
 */
export function targetFromDifficulty(difficulty: number): bigint {
  const { num, den } = targetRational(difficulty);
  const target = num / den;
  if (target >= UINT256_MODULUS) throw new RangeError(`difficulty ${difficulty} gives a target above 2^256`);
  return target;
}

/**
 * The compact bits whose target is nearest to DIFFICULTY_1_TARGET / difficulty (ties go to the
 * smaller target). Nearest, not GetCompact's truncation: a difficulty printed by an explorer is
 * rounded, and truncating it would land one mantissa step low about half the time.
 */
export function bitsFromDifficulty(difficulty: number): number {
  const { num, den } = targetRational(difficulty);
  const below = encodeCompact(targetFromDifficulty(difficulty));
  const belowTarget = decodeCompact(below).target;
  const size = below >>> 24;
  const step = size <= 3 ? 1n : 1n << BigInt(8 * (size - 3));
  if (belowTarget + step >= UINT256_MODULUS) return below;
  const above = encodeCompact(belowTarget + step);
  // Compare |t·den − num| for both candidates without leaving integers.
  const distBelow = num - belowTarget * den;
  const distAbove = (belowTarget + step) * den - num;
  return distAbove < distBelow ? above : below;
}

/** Difficulty of compact bits via the exact target (ignores the sign bit; use decodeCompact to check it). */
export function difficultyFromBits(bits: number): number {
  return difficultyFromTarget(decodeCompact(bits).target);
}

/**
 * Bitcoin Core's GetDifficulty (rpc/blockchain.cpp), float for float: 0xffff / mantissa, then
 * scaled by 256 per byte of size away from 29. This is what `getblockheader` reports; it can
 * differ from difficultyFromBits in the last bits, and it reads the sign bit as mantissa.
 */
export function coreGetDifficulty(bits: number): number {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw new RangeError(`bits must be a 32-bit unsigned integer, got ${bits}`);
  let shift = (bits >>> 24) & 0xff;
  let diff = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    diff *= 256.0;
    shift++;
  }
  while (shift > 29) {
    diff /= 256.0;
    shift--;
  }
  return diff;
}
