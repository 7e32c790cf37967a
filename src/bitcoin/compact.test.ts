import { describe, expect, it } from 'vitest';
import { decodeCompact, encodeCompact, formatBits, formatTarget, parseBitsHex } from './compact.js';

// Cases from Bitcoin Core src/test/arith_uint256_tests.cpp (bignum_SetCompact): bits in, then
// GetHex of the decoded target, GetCompact of it (with the sign re-applied where Core does), flags.
const CORE_SET_COMPACT: readonly [bits: number, hex: string, compact: number, negative: boolean][] = [
  [0x00000000, '0', 0, false],
  [0x00123456, '0', 0, false],
  [0x01003456, '0', 0, false],
  [0x02000056, '0', 0, false],
  [0x03000000, '0', 0, false],
  [0x04000000, '0', 0, false],
  [0x00923456, '0', 0, false],
  [0x01803456, '0', 0, false],
  [0x02800056, '0', 0, false],
  [0x03800000, '0', 0, false],
  [0x04800000, '0', 0, false],
  [0x01123456, '12', 0x01120000, false],
  [0x01fedcba, '7e', 0x01fe0000, true],
  [0x02123456, '1234', 0x02123400, false],
  [0x03123456, '123456', 0x03123456, false],
  [0x04123456, '12345600', 0x04123456, false],
  [0x04923456, '12345600', 0x04923456, true],
  [0x05009234, '92340000', 0x05009234, false],
  [0x20123456, '1234560000000000000000000000000000000000000000000000000000000000', 0x20123456, false],
];

describe('decodeCompact / encodeCompact (Core SetCompact / GetCompact)', () => {
  it.each(CORE_SET_COMPACT.map((c) => [formatBits(c[0]), ...c] as const))('%s', (_name, bits, hex, compact, negative) => {
    const d = decodeCompact(bits);
    expect(formatTarget(d.target)).toBe(hex.padStart(64, '0'));
    expect(d.negative).toBe(negative);
    expect(d.overflow).toBe(false);
    expect(encodeCompact(d.target, d.negative)).toBe(compact);
  });

  it('flags overflow (0xff123456) and not negative', () => {
    const d = decodeCompact(0xff123456);
    expect(d.overflow).toBe(true);
    expect(d.negative).toBe(false);
    // arith_uint256 drops the bits shifted past 2^256: the stored value wraps to zero.
    expect(d.target).toBe(0n);
  });

  it('applies the exact overflow thresholds at sizes 32, 33, 34', () => {
    expect(decodeCompact(0x207fffff).overflow).toBe(false); // 32 bytes fit
    expect(decodeCompact(0x21010000).overflow).toBe(true); // word > 0xffff at size 33
    expect(decodeCompact(0x2100ffff).overflow).toBe(false);
    expect(decodeCompact(0x220000ff).overflow).toBe(false);
    expect(decodeCompact(0x22000100).overflow).toBe(true); // word > 0xff at size 34
    expect(decodeCompact(0x23000001).overflow).toBe(true); // any word at size 35
    expect(decodeCompact(0x23000000).overflow).toBe(false); // zero never overflows
  });

  it('never emits the sign bit: 0x80 encodes as 0x02008000', () => {
    expect(encodeCompact(0x80n)).toBe(0x02008000);
    expect(encodeCompact(0x800000n)).toBe(0x04008000);
  });

  it('truncates the mantissa instead of rounding (mainnet powLimit encodes as 0x1d00ffff)', () => {
    expect(encodeCompact((1n << 224n) - 1n)).toBe(0x1d00ffff);
    expect(decodeCompact(0x1d00ffff).target).toBe(0xffffn << 208n);
  });

  it('decodes real mainnet bits (block 840,000: 0x17034219)', () => {
    const d = decodeCompact(0x17034219);
    expect(formatTarget(d.target)).toBe('0000000000000000000342190000000000000000000000000000000000000000');
    expect(encodeCompact(d.target)).toBe(0x17034219);
  });

  it('rejects out-of-range inputs', () => {
    expect(() => decodeCompact(-1)).toThrow(RangeError);
    expect(() => decodeCompact(2 ** 32)).toThrow(RangeError);
    expect(() => decodeCompact(1.5)).toThrow(RangeError);
    expect(() => encodeCompact(-1n)).toThrow(RangeError);
    expect(() => encodeCompact(1n << 256n)).toThrow(RangeError);
  });
});

describe('formatBits / parseBitsHex', () => {
  it('prints 0x + 8 lowercase hex digits', () => {
    expect(formatBits(0x1d00d86a)).toBe('0x1d00d86a');
    expect(formatBits(0x01120000)).toBe('0x01120000');
  });
  it('accepts bare, 0x and 0X hex; rejects anything else', () => {
    expect(parseBitsHex('1d00ffff')).toBe(0x1d00ffff);
    expect(parseBitsHex('0x1D00FFFF')).toBe(0x1d00ffff);
    expect(parseBitsHex('0X17034219')).toBe(0x17034219);
    expect(parseBitsHex('ff')).toBe(0xff);
    expect(parseBitsHex('')).toBeUndefined();
    expect(parseBitsHex('0x')).toBeUndefined();
    expect(parseBitsHex('1d00ffff0')).toBeUndefined();
    expect(parseBitsHex('0x1g00ffff')).toBeUndefined();
    expect(parseBitsHex('-1')).toBeUndefined();
  });
});
