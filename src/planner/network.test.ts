import { describe, expect, it } from 'vitest';
import { bitsFromDifficulty, coreGetDifficulty } from '../bitcoin/difficulty.js';
import { calculateNextWorkRequired } from '../bitcoin/retarget.js';
import { advanceNetwork, equilibriumHashrateHs, initialNetwork } from './network.js';

const T0 = 1_800_000_000;

describe('planner network', () => {
  it('the halving lands at height 1,050,000, splitting the subsidy exactly', () => {
    const s = initialNetwork({ difficulty: 150e12, height: 1_049_000, timeS: T0 });
    // Exactly 600 s per block at the rounded (compact) difficulty.
    const h = equilibriumHashrateHs(s.difficulty);
    const p = advanceNetwork(s, 1200 * 600, h);
    expect(p.halvingHeight).toBe(1_050_000);
    expect(p.halvingTimeS).toBeCloseTo(T0 + 1000 * 600, 3);
    expect(p.blocks).toBeCloseTo(1200, 6);
    // 1,049,001 … 1,049,999 pay 3.125 BTC (999 blocks); 1,050,000 … 1,050,200 pay 1.5625.
    expect(p.subsidyBtc).toBeCloseTo(999 * 3.125 + 201 * 1.5625, 6);
    expect(p.retargets).toBe(0); // the window closes at 1,050,335
    expect(advanceNetwork(s, 86_400, h).retargets).toBe(1);
  });

  it('a window run on schedule retargets by Core rule: 2015 intervals make it 1/2015 short', () => {
    const s = initialNetwork({ difficulty: 100e12, height: 2016 * 500 - 1, timeS: T0, windowStartS: T0 });
    // Height 1,007,999 is the last block of a window; start a fresh window right after it.
    s.height = 2016 * 500 - 1 + 1e-9; // just past the close, so no retarget at t = 0
    s.windowStartS = T0 + 600; // block 1,008,000 will be mined at T0 + 600
    const bitsBefore = s.bits;
    const p = advanceNetwork(s, 2016 * 600 + 1, equilibriumHashrateHs(s.difficulty));
    expect(p.retargets).toBe(1);
    const expected = calculateNextWorkRequired({ bits: bitsBefore, firstBlockTimeS: T0 + 600, lastBlockTimeS: T0 + 600 + 2015 * 600 });
    expect(s.bits).toBe(expected.bits);
    expect(s.difficulty).toBe(coreGetDifficulty(expected.bits));
    expect(s.difficulty / coreGetDifficulty(bitsBefore)).toBeCloseTo(1209600 / 1209000, 5);
  });

  it('halving the hashrate halves the block rate until the retarget', () => {
    const d = 120e12;
    const s = initialNetwork({ difficulty: d, height: 900_000, timeS: T0 });
    const p = advanceNetwork(s, 86_400, equilibriumHashrateHs(s.difficulty) / 2);
    expect(p.blocks).toBeCloseTo(72, 6);
    expect(s.bits).toBe(bitsFromDifficulty(d));
  });
});
