import { describe, expect, it } from 'vitest';
import { compareWithHistory, exitAt, linearExit, networkWhatIf } from './whatif.js';

const base = { startMs: Date.parse('2026-01-01T00:00:00Z'), difficulty: 148.26e12, height: 931_392, btcPriceUsd: 90_000, feesBtcPerBlock: 0.03 };

describe('network what-if', () => {
  it('no exit: 600-second blocks and a flat hashprice', () => {
    const r = networkWhatIf({ ...base, exit: linearExit(0, 0), days: 10 });
    expect(r.days[0]?.blockTimeS).toBeCloseTo(600, 6);
    expect(r.summary.blocksLostVsBaseline).toBeCloseTo(0, 6);
    expect(r.summary.stayerHashpriceVsBaselinePct).toBeCloseTo(0, 9);
  });

  it('a 10 % exit at once: 667-second blocks until the retarget lowers difficulty ~10 %, then stayers earn ~11 % more', () => {
    // Height 931,392 = 462 × 2016: a window starts now, so the retarget comes after 2016 slower blocks.
    const r = networkWhatIf({ ...base, exit: linearExit(106.1, 0), days: 25 });
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
    expect(() => networkWhatIf({ ...base, exit: linearExit(5000, 10), days: 10 })).toThrow(RangeError);
  });
});

describe('network what-if: exit profiles', () => {
  it('interpolates a profile linearly, 0 before it and held after it', () => {
    const p = [
      { dayOffset: 2, exitEhs: 0 },
      { dayOffset: 4, exitEhs: 100 },
      { dayOffset: 6, exitEhs: 0 },
    ];
    expect([0, 2, 3, 4, 5, 6, 9].map((d) => exitAt(p, d))).toEqual([0, 0, 50, 100, 50, 0, 0]);
    expect(exitAt(linearExit(30, 10), 5)).toBe(15);
    expect(exitAt(linearExit(30, 0), 0)).toBe(30);
  });

  it('a temporary exit slows blocks only while it lasts and, inside one window, leaves the difficulty alone', () => {
    // Height 931,392 starts a window: a 2-day 20 % exit on days 3–4 ends well before the retarget.
    const h0 = (148.26e12 * 2 ** 32) / 600 / 1e18;
    const exit = [
      { dayOffset: 3, exitEhs: 0 },
      { dayOffset: 3, exitEhs: 0.2 * h0 },
      { dayOffset: 5, exitEhs: 0.2 * h0 },
      { dayOffset: 5, exitEhs: 0 },
    ];
    const r = networkWhatIf({ ...base, exit, days: 10 });
    expect(r.days.map((d) => Math.round(d.blockTimeS))).toEqual([600, 600, 600, 750, 750, 600, 600, 600, 600, 600]);
    expect(r.retargets).toHaveLength(0);
    // 2 days at 80 %: 0.2 × 2 × 144 blocks fewer.
    expect(r.summary.blocksLostVsBaseline).toBeCloseTo(57.6, 2); // the difficulty is rounded to compact bits
    expect(r.peakExitEhs).toBeCloseTo(0.2 * h0, 9);
  });

  it('starts the first window where the store says it began: a late window retargets up-front less', () => {
    // 1,000 blocks into a window that began 1,000 × 660 s ago (10 % slow): the first retarget comes
    // after 1,016 more blocks, and Core's rule sees the whole slow window.
    const start = base.startMs;
    const onSchedule = networkWhatIf({ ...base, height: 931_392 + 1000, exit: [], days: 10 });
    const slow = networkWhatIf({ ...base, height: 931_392 + 1000, windowStartMs: start - 1000 * 660_000, exit: [], days: 10 });
    expect(onSchedule.retargets[0]?.changePct).toBeCloseTo((1_209_600 / (2015 * 600) - 1) * 100, 3);
    expect(slow.retargets[0]?.changePct).toBeLessThan((onSchedule.retargets[0]?.changePct ?? 0) - 4);
  });

  it('compares retargets with history one by one', () => {
    const r = networkWhatIf({ ...base, exit: linearExit(106.1, 0), days: 25 });
    const real = [
      { firstFullDayUtc: '2025-12-25', difficulty: 148.26e12 },
      { firstFullDayUtc: '2026-01-17', difficulty: 148.26e12 * 0.92 },
    ];
    const h = compareWithHistory(r, real, new Map([[r.days[0]?.dateUtc ?? '', 130]]));
    expect(h.epochs).toHaveLength(1);
    expect(h.epochs[0]?.real?.retargetDayUtc).toBe('2026-01-16');
    expect(h.epochs[0]?.real?.changePct).toBeCloseTo(-8, 9);
    expect(h.epochs[0]?.dayDifference).toBe(Math.round((Date.parse(`${r.retargets[0]?.dateUtc ?? ''}T00:00:00Z`) - Date.parse('2026-01-16T00:00:00Z')) / 86_400_000));
    expect(h.blocks).toEqual({ days: 1, simulated: r.days[0]?.blocks, real: 130 });
  });
});
