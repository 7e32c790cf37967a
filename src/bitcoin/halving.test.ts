import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedFile, SKIP_REASON, skipWithoutSharedData } from '../testing/data.js';
import { estimateNextHalving, halvingEpoch, halvingHeightAfter } from './halving.js';
import { blockSubsidyBtc } from './subsidy.js';

describe('halvingHeightAfter', () => {
  it('is the next multiple of 210,000 strictly after the height', () => {
    expect(halvingHeightAfter(0)).toBe(210_000);
    expect(halvingHeightAfter(209_999)).toBe(210_000);
    expect(halvingHeightAfter(210_000)).toBe(420_000);
    expect(halvingHeightAfter(839_999)).toBe(840_000);
    expect(halvingHeightAfter(840_000)).toBe(1_050_000);
    expect(halvingEpoch(839_999)).toBe(3);
    expect(halvingEpoch(840_000)).toBe(4);
  });
  it('rejects negative or fractional heights', () => {
    expect(() => halvingHeightAfter(-1)).toThrow(RangeError);
    expect(() => halvingHeightAfter(1.5)).toThrow(RangeError);
  });
});

describe('estimateNextHalving', () => {
  it('adds blocksLeft × block time to the reference time', () => {
    const ref = Date.parse('2024-04-20T00:09:27Z'); // block 840,000
    const e = estimateNextHalving(840_000, ref);
    expect(e.nextHalvingHeight).toBe(1_050_000);
    expect(e.blocksLeft).toBe(210_000);
    expect(e.estimatedAtMs - ref).toBe(210_000 * 600_000); // 1,458.33 days
    expect(new Date(e.estimatedAtMs).toISOString()).toBe('2028-04-17T08:09:27.000Z');
    expect(e.subsidyNowBtc).toBe(3.125);
    expect(e.subsidyAfterBtc).toBe(1.5625);
  });

  it('takes the average block time as an input', () => {
    const e = estimateNextHalving(1_049_990, 0, 540);
    expect(e.blocksLeft).toBe(10);
    expect(e.estimatedAtMs).toBe(5_400_000);
  });

  it('rejects a non-positive block time or a non-finite reference time', () => {
    expect(() => estimateNextHalving(1, 0, 0)).toThrow(RangeError);
    expect(() => estimateNextHalving(1, NaN)).toThrow(RangeError);
  });
});

describe.skipIf(skipWithoutSharedData)(`real halvings: btc_halvings.csv (${SKIP_REASON})`, () => {
  it('each halving is the next one after the height at the end of the previous day', () => {
    const rows = readFileSync(sharedFile('btc_halvings.csv'), 'utf8').trim().split('\n').slice(1);
    let checked = 0;
    for (const line of rows) {
      const [, height, , before, after, , prevDayEnd] = line.split(',');
      if (!prevDayEnd) continue; // the projected row
      expect(halvingHeightAfter(Number(prevDayEnd))).toBe(Number(height));
      expect(blockSubsidyBtc(Number(height) - 1)).toBe(Number(before));
      expect(blockSubsidyBtc(Number(height))).toBe(Number(after));
      checked++;
    }
    expect(checked).toBe(4);
  });
});
