import { describe, expect, it } from 'vitest';
import { lastCompleteDay, measuredNetworkState } from './network-state.js';
import type { BtcDay } from './types.js';

const D = 25.046487590083e12;
/** 20 days before 2021-05-14 with 140 blocks a day at difficulty D (heights measured), no fees. */
function days(n = 20, extra: (i: number, d: string) => Partial<BtcDay> = () => ({})): BtcDay[] {
  return Array.from({ length: n }, (_, i) => {
    const d = new Date(Date.parse('2021-05-14T00:00:00Z') - (n - i) * 86_400_000).toISOString().slice(0, 10);
    return { dateUtc: d, priceUsd: 50_000 + i, difficulty: D, blocks: 140, heightEndOfDay: 680_000 + 140 * (i + 1), ...extra(i, d) };
  });
}
const OPTS = { feeShareOfSubsidyPct: 3 };

describe('measured network state', () => {
  it('measures the hashrate from blocks found × difficulty over the 14 days before, not 600-second blocks', () => {
    const m = measuredNetworkState(days(), [], '2021-05-14', OPTS);
    // 140 blocks a day: 140 × D × 2^32 / 86,400 H/s (vs 144 at 600 s per block).
    expect(m.hashrateHs).toBeCloseTo((140 * D * 2 ** 32) / 86_400, -6);
    expect(m.hashrateHow).toBe('blocks found × difficulty over the 14 days before (2021-04-30..2021-05-13)');
    expect(m.height).toBe(680_000 + 140 * 20);
    expect(m.heightHow).toBe('end of 2021-05-13');
    expect(m.btcPriceUsd).toBe(50_019);
    expect(m.priceHow).toBe('close of 2021-05-13 (00:00 UTC of 2021-05-14)');
    expect(m.warnings).toEqual([]);
  });

  it('names the fee default when the store has no fees, and uses the day before\'s fees when it has them', () => {
    const none = measuredNetworkState(days(), [], '2021-05-14', OPTS);
    expect(none.feesBtcPerBlock).toBeCloseTo(0.1875, 12);
    expect(none.defaults).toEqual(['fees: the store has no fees within 30 days before 2021-05-14; assumed 3 % of the subsidy = 0.1875 BTC/block (--fees-btc-per-block to set)']);
    const paid = measuredNetworkState(days(20, () => ({ feesBtc: 77 })), [], '2021-05-14', OPTS);
    expect(paid.feesBtcPerBlock).toBeCloseTo(0.55, 12);
    expect(paid.feesHow).toBe('fees / blocks of 2021-05-13');
    expect(paid.defaults).toEqual([]);
  });

  it('finds when the current retarget window began (interpolated within the day)', () => {
    // Heights 680,140 … 682,800; the window starting at 681,408 = 338 × 2016 is reached on day 10 (680,000 + 1,400 → 681,540).
    const m = measuredNetworkState(days(), [], '2021-05-14', OPTS);
    const day = '2021-05-04';
    expect(m.windowStartHow).toBe(`block 681,408 mined on ${day} (interpolated within the day's 140 blocks)`);
    expect(m.windowStartMs).toBeCloseTo(Date.parse(`${day}T00:00:00Z`) + ((681_408 - 681_400 - 0.5) / 140) * 86_400_000, 0);
  });

  it('rebuilds a missing height from block counts, and warns about an extrapolated height and a stale difficulty', () => {
    const gap = days().map((d, i) => {
      if (i < 15) return d;
      const { heightEndOfDay: _dropped, ...rest } = d;
      return rest;
    });
    const m = measuredNetworkState(gap, [], '2021-05-14', OPTS);
    expect(m.height).toBe(680_000 + 140 * 20);
    expect(m.heightHow).toBe('end of 2021-05-13, rebuilt from daily block counts');
    const later = measuredNetworkState(days(), [], '2021-06-13', OPTS);
    expect(later.height).toBe(680_000 + 140 * 20 + 144 * 30);
    expect(later.warnings.join('\n')).toMatch(/height 687,120 is extrapolated 30 days past the store's last known height \(2021-05-13\)/);
    expect(later.warnings.join('\n')).toMatch(/difficulty is STALE: the store's last observation is 2021-05-13, 30 days before 2021-06-13/);
    expect(later.defaults.join('\n')).toMatch(/hashrate: only 0 of the 14 days before have block counts/);
  });

  it('defaults to the day after the last day with every input observed', () => {
    const rows = days(20, (i) => (i < 18 ? { feesBtc: 70 } : {}));
    expect(lastCompleteDay(rows)).toBe('2021-05-11');
    expect(lastCompleteDay(days())).toBeUndefined();
  });
});
