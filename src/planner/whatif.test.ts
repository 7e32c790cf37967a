import { describe, expect, it } from 'vitest';
import { networkWhatIf } from './whatif.js';

const base = { startMs: Date.parse('2026-01-01T00:00:00Z'), difficulty: 148.26e12, height: 931_392, btcPriceUsd: 90_000, feesBtcPerBlock: 0.03 };

describe('network what-if', () => {
  it('no exit: 600-second blocks and a flat hashprice', () => {
    const r = networkWhatIf({ ...base, exitEhs: 0, overDays: 0, days: 10 });
    expect(r.days[0]?.blockTimeS).toBeCloseTo(600, 6);
    expect(r.summary.blocksLostVsBaseline).toBeCloseTo(0, 6);
    expect(r.summary.stayerHashpriceVsBaselinePct).toBeCloseTo(0, 9);
  });

  it('a 10 % exit at once: 667-second blocks until the retarget lowers difficulty ~10 %, then stayers earn ~11 % more', () => {
    // Height 931,392 = 462 × 2016: a window starts now, so the retarget comes after 2016 slower blocks.
    const r = networkWhatIf({ ...base, exitEhs: 106.1, overDays: 0, days: 25 });
    const h0 = r.start.hashrateEhs;
    const share = 106.1 / h0;
    expect(r.days[0]?.blockTimeS).toBeCloseTo(600 / (1 - share), 3);
    // Stayers' revenue per PH is unchanged until the retarget (blocks slow down in proportion).
    expect(r.days[0]?.hashpriceUsdPerPhDay).toBeCloseTo(r.days[0]?.baselineHashpriceUsdPerPhDay as number, 6);
    expect(r.retargets).toHaveLength(1);
    const rt = r.retargets[0];
    // 2015 intervals at 600/(1−share) s: new difficulty = old × 1,209,600 / (2015 · 600/(1−share)).
    expect((rt?.difficultyAfter as number) / (rt?.difficultyBefore as number)).toBeCloseTo((1_209_600 * (1 - share)) / (2015 * 600), 4);
    expect(r.summary.stayerHashpriceVsBaselinePct).toBeGreaterThan(10);
    expect(r.summary.blocksLostVsBaseline).toBeGreaterThan(150);
  });

  it('rejects an exit larger than the network', () => {
    expect(() => networkWhatIf({ ...base, exitEhs: 5000, overDays: 10, days: 10 })).toThrow(RangeError);
  });
});
