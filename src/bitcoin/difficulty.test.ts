import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedFile, SKIP_REASON, skipWithoutSharedData } from '../testing/data.js';
import { decodeCompact } from './compact.js';
import {
  bitsFromDifficulty,
  coreGetDifficulty,
  DIFFICULTY_1_TARGET,
  difficultyFromBits,
  difficultyFromTarget,
  targetFromDifficulty,
} from './difficulty.js';

describe('coreGetDifficulty (Bitcoin Core src/test/blockchain_tests.cpp, tolerance 1e-5 as there)', () => {
  it.each([
    [0x1f111111, 0.000001],
    [0x1ef88f6f, 0.000016],
    [0x1df88f6f, 0.004023],
    [0x1cf88f6f, 1.029916],
    [0x12345678, 5913134931067755359633408.0],
  ])('bits %d → %d', (bits, expected) => {
    expect(Math.abs(coreGetDifficulty(bits) - expected)).toBeLessThan(0.00001);
  });

  it('matches the difficulty explorers print for block 840,000 (bits 0x17034219)', () => {
    // getblockheader / esplora: "difficulty": 86388558925171.02
    expect(coreGetDifficulty(0x17034219)).toBeCloseTo(86388558925171.02, 2);
    expect(difficultyFromBits(0x17034219)).toBeCloseTo(86388558925171.02, 2);
  });

  it('is exactly 1 at the genesis bits', () => {
    expect(coreGetDifficulty(0x1d00ffff)).toBe(1);
    expect(difficultyFromBits(0x1d00ffff)).toBe(1);
  });
});

describe('difficulty ↔ target ↔ bits', () => {
  it('difficulty = difficulty-1 target / target', () => {
    expect(DIFFICULTY_1_TARGET).toBe(decodeCompact(0x1d00ffff).target);
    expect(difficultyFromTarget(DIFFICULTY_1_TARGET)).toBe(1);
    expect(difficultyFromTarget(DIFFICULTY_1_TARGET / 4n)).toBe(4);
    expect(difficultyFromTarget(DIFFICULTY_1_TARGET * 2n)).toBe(0.5);
    // 0xffff·2^208 / 2^192 = 0xffff·2^16, exactly representable
    expect(difficultyFromTarget(1n << 192n)).toBe(0xffff * 65536);
  });

  it('agrees with Core float algorithm to within a few ulps on real bits', () => {
    for (const bits of [0x17034219, 0x1703255b, 0x1703098c, 0x17371ef4, 0x1c05a3f4, 0x1d00d86a]) {
      const exact = difficultyFromBits(bits);
      expect(Math.abs(exact - coreGetDifficulty(bits)) / exact).toBeLessThan(1e-15);
    }
  });

  it('targetFromDifficulty is exact floor division on the double', () => {
    expect(targetFromDifficulty(1)).toBe(DIFFICULTY_1_TARGET);
    expect(targetFromDifficulty(2)).toBe(DIFFICULTY_1_TARGET / 2n);
    expect(targetFromDifficulty(3)).toBe(DIFFICULTY_1_TARGET / 3n);
    expect(targetFromDifficulty(0.5)).toBe(DIFFICULTY_1_TARGET * 2n);
    expect(targetFromDifficulty(0.1)).toBe((DIFFICULTY_1_TARGET * 2n ** 55n) / 3602879701896397n); // 0.1 = 3602879701896397·2^-55
  });

  it('bits → difficulty → bits returns the same bits for real mainnet values (nearest, not truncated)', () => {
    for (const bits of [0x1d00ffff, 0x1d00d86a, 0x1c0168fd, 0x17034219, 0x1703255b, 0x1703098c, 0x17032f14, 0x17028c61]) {
      expect(bitsFromDifficulty(difficultyFromBits(bits))).toBe(bits);
    }
  });

  it('bitsFromDifficulty picks the nearest compact target, also for rounded explorer figures', () => {
    expect(bitsFromDifficulty(86388558925171)).toBe(0x17034219); // blockchain.com daily difficulty, integer
    expect(bitsFromDifficulty(1)).toBe(0x1d00ffff);
    // floor(D1 / d) truncates to 0x1d00d869 here; the nearest compact is the real 0x1d00d86a
    const d = difficultyFromBits(0x1d00d86a);
    expect(targetFromDifficulty(d) < decodeCompact(0x1d00d86a).target).toBe(true);
    expect(bitsFromDifficulty(d)).toBe(0x1d00d86a);
  });

  it('rejects non-positive or non-finite difficulties and targets', () => {
    expect(() => targetFromDifficulty(0)).toThrow(RangeError);
    expect(() => targetFromDifficulty(-1)).toThrow(RangeError);
    expect(() => targetFromDifficulty(Infinity)).toThrow(RangeError);
    expect(() => targetFromDifficulty(NaN)).toThrow(RangeError);
    expect(() => targetFromDifficulty(1e-20)).toThrow(RangeError); // target above 2^256
    expect(() => difficultyFromTarget(0n)).toThrow(RangeError);
  });
});

describe.skipIf(skipWithoutSharedData)(`real epochs: btc_difficulty_epochs_2020_2025.csv (${SKIP_REASON})`, () => {
  const rows = readFileSync(sharedFile('btc_difficulty_epochs_2020_2025.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [date, difficulty] = line.split(',');
      return { date: date ?? '', difficulty: Number(difficulty) };
    });

  it('every epoch difficulty (blockchain.com, rounded to an integer) is a genuine compact target', () => {
    expect(rows.length).toBeGreaterThan(100);
    for (const r of rows) {
      const bits = bitsFromDifficulty(r.difficulty);
      expect(Math.round(difficultyFromBits(bits)), r.date).toBe(r.difficulty);
    }
  });

  it('no retarget moved difficulty by more than ×4 or ÷4', () => {
    for (let i = 1; i < rows.length; i++) {
      const ratio = (rows[i]?.difficulty ?? NaN) / (rows[i - 1]?.difficulty ?? NaN);
      expect(ratio).toBeGreaterThan(0.25);
      expect(ratio).toBeLessThan(4);
    }
  });
});
