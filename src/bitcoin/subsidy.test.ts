import { describe, expect, it } from 'vitest';
import { blockSubsidyBtc, blockSubsidySats } from './subsidy.js';

describe('blockSubsidySats', () => {
  it('follows the consensus halving schedule', () => {
    expect(blockSubsidySats(0)).toBe(5_000_000_000n);
    expect(blockSubsidySats(209_999)).toBe(5_000_000_000n);
    expect(blockSubsidySats(210_000)).toBe(2_500_000_000n);
    expect(blockSubsidySats(840_000)).toBe(312_500_000n);
    expect(blockSubsidySats(1_050_000)).toBe(156_250_000n);
    expect(blockSubsidyBtc(840_000)).toBe(3.125);
  });
  it('reaches 1 sat, then zero before and at the 64th halving', () => {
    expect(blockSubsidySats(32 * 210_000)).toBe(1n);
    expect(blockSubsidySats(33 * 210_000)).toBe(0n);
    expect(blockSubsidySats(64 * 210_000)).toBe(0n);
    expect(blockSubsidySats(100 * 210_000)).toBe(0n);
  });
  it('rejects negative or fractional heights', () => {
    expect(() => blockSubsidySats(-1)).toThrow(RangeError);
    expect(() => blockSubsidySats(1.5)).toThrow(RangeError);
  });
});
