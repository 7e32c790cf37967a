import { describe, expect, it } from 'vitest';
import { MulletError } from '../core/errors.js';
import { hashpriceUsdPerPhDay } from '../bitcoin/hashprice.js';
import { hashpriceInputsForDate } from './hashprice-inputs.js';
import type { BtcDay } from './types.js';

/** A btcDays-only fake with the store's contract: inclusive range, sorted by date. */
function fakeStore(days: BtcDay[]): { btcDays(from: string, to: string): BtcDay[]; calls: [string, string][] } {
  const calls: [string, string][] = [];
  return {
    calls,
    btcDays(from, to) {
      calls.push([from, to]);
      return days.filter((d) => d.dateUtc >= from && d.dateUtc <= to).sort((a, b) => a.dateUtc.localeCompare(b.dateUtc));
    },
  };
}

// Values of 2024-04-20 / 21 as in the shared Coin Metrics and blocks-per-day files.
const HALVING_DAY: BtcDay = {
  dateUtc: '2024-04-20',
  priceUsd: 64907.99,
  difficulty: 86388559014751,
  feesBtc: 1206.4665844,
  blocks: 130,
  heightEndOfDay: 840134,
};

const { difficulty: _difficulty, heightEndOfDay: _height, ...HALVING_DAY_BARE } = HALVING_DAY;
const HALVING_DAY_NO_DIFFICULTY: BtcDay = { ...HALVING_DAY_BARE, heightEndOfDay: 840134 };

function noData(fn: () => unknown): MulletError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MulletError);
    expect((err as MulletError).code).toBe('NO_DATA');
    return err as MulletError;
  }
  throw new Error('expected a NO_DATA error');
}

describe('hashpriceInputsForDate', () => {
  it('reads a complete day', () => {
    const store = fakeStore([HALVING_DAY]);
    const i = hashpriceInputsForDate(store, '2024-04-20');
    expect(i).toEqual({
      dateUtc: '2024-04-20',
      btcPriceUsd: 64907.99,
      difficulty: 86388559014751,
      difficultyDateUtc: '2024-04-20',
      height: 840134,
      heightDateUtc: '2024-04-20',
      subsidyBtc: 3.125,
      feesBtc: 1206.4665844,
      blocks: 130,
      feesBtcPerBlock: 1206.4665844 / 130,
      derived: [],
      warnings: [],
    });
    expect(store.calls).toEqual([['2023-03-17', '2025-05-25']]);
  });

  it("rebuilds the day's height from the previous day's and its block count, and carries the latest difficulty within 30 days", () => {
    const store = fakeStore([
      { dateUtc: '2024-03-21', difficulty: 83_000_000_000_000 },
      { dateUtc: '2024-04-10', difficulty: 86_000_000_000_000, heightEndOfDay: 838_000 },
      { dateUtc: '2024-04-19', heightEndOfDay: 839_999 },
      HALVING_DAY_BARE,
    ]);
    const i = hashpriceInputsForDate(store, '2024-04-20');
    // 839,999 + 130 blocks: the halving block 840,000 is the day's first, so the day's subsidy is 3.125.
    expect(i.height).toBe(840_129);
    expect(i.heightDateUtc).toBe('2024-04-20');
    expect(i.subsidyBtc).toBe(3.125);
    expect(i.difficulty).toBe(86_000_000_000_000);
    expect(i.difficultyDateUtc).toBe('2024-04-10');
    expect(i.derived).toEqual([
      { input: 'height', how: '840,129 = 839,999 at the end of 2024-04-19 + 130 blocks mined since (daily block counts)' },
      { input: 'difficulty', how: 'carried from 2024-04-10 (10 days before)' },
    ]);
    // A later observation exists in the store (none here): without one the difficulty is called stale.
    expect(i.warnings[0]).toMatch(/difficulty is STALE: 2024-04-20 is 10 days past the store's last difficulty observation \(2024-04-10\)/);
  });

  it('does not call a carried difficulty stale when the store has later observations', () => {
    const store = fakeStore([{ dateUtc: '2024-04-10', difficulty: 86e12, heightEndOfDay: 838_000 }, { ...HALVING_DAY_NO_DIFFICULTY }, { dateUtc: '2024-04-21', difficulty: 88e12 }]);
    const i = hashpriceInputsForDate(store, '2024-04-20');
    expect(i.derived.map((d) => d.input)).toEqual(['difficulty']);
    expect(i.warnings).toEqual([]);
  });

  describe('rebuilding a missing height (the 2025-04-17..2025-08-10 gap of the shared data)', () => {
    // Coin Metrics has price, blocks, fees, issuance and implied difficulty; the height sources do not.
    const cm = (dateUtc: string, blocks: number): BtcDay => ({ dateUtc, priceUsd: 94_000, difficulty: 123.2e12, feesBtc: 4.5, blocks, issuanceBtc: 3.125 * blocks });
    const days: BtcDay[] = [
      { ...cm('2025-04-16', 150), heightEndOfDay: 892_837 },
      cm('2025-04-17', 140),
      cm('2025-04-18', 145),
      cm('2025-04-19', 151),
    ];

    it('adds the daily block counts to the last known height, and the hashprice is the formula at that height', () => {
      const i = hashpriceInputsForDate(fakeStore(days), '2025-04-19');
      expect(i.height).toBe(892_837 + 140 + 145 + 151);
      expect(i.heightDateUtc).toBe('2025-04-19');
      expect(i.derived).toEqual([{ input: 'height', how: '893,273 = 892,837 at the end of 2025-04-16 + 436 blocks mined since (daily block counts)' }]);
      expect(i.subsidyBtc).toBe(3.125);
      const formula = ((3.125 + 4.5 / 151) * 94_000 * 1e15 * 86_400) / (123.2e12 * 2 ** 32);
      expect(hashpriceUsdPerPhDay(i)).toBeCloseTo(formula, 9);
    });

    it('counts back from a later known height when that one is nearer', () => {
      const later: BtcDay[] = [cm('2025-08-09', 144), cm('2025-08-10', 146), { ...cm('2025-08-11', 143), heightEndOfDay: 910_000 }];
      const i = hashpriceInputsForDate(fakeStore(later), '2025-08-09');
      expect(i.height).toBe(910_000 - 143 - 146);
      expect(i.derived[0]?.how).toMatch(/910,000 at the end of 2025-08-11 − 289 blocks mined after 2025-08-09/);
    });

    it('takes the subsidy from issuance / blocks when the rebuilt height disagrees (a halving inside the gap)', () => {
      const halving: BtcDay[] = [{ ...cm('2024-04-17', 100), heightEndOfDay: 839_700 }, cm('2024-04-18', 100), { ...cm('2024-04-19', 150), issuanceBtc: 931.25 }];
      const i = hashpriceInputsForDate(fakeStore(halving), '2024-04-19');
      // 839,700 + 100 + 150 = 839,950 < 840,000: 6.25 by the rebuilt height, but issuance says 931.25 / 150.
      expect(i.height).toBe(839_950);
      expect(i.derived.map((d) => d.input)).toEqual(['height', 'subsidy']);
      expect(i.subsidyBtc).toBeCloseTo(931.25 / 150, 12);
    });

    it('stops at a missing block count instead of guessing', () => {
      const holed = days.filter((d) => d.dateUtc !== '2025-04-17');
      expect(noData(() => hashpriceInputsForDate(fakeStore(holed), '2025-04-19')).message).toContain('block height');
    });
  });

  it('assumes fees as a share of the subsidy only when asked, and says so', () => {
    const noFees: BtcDay = { dateUtc: '2021-05-14', priceUsd: 49_948, difficulty: 25.05e12, blocks: 150, heightEndOfDay: 683_658 };
    expect(noData(() => hashpriceInputsForDate(fakeStore([noFees]), '2021-05-14')).message).toContain('feesBtc');
    const i = hashpriceInputsForDate(fakeStore([noFees]), '2021-05-14', { feeShareOfSubsidyPct: 3 });
    expect(i.feesBtcPerBlock).toBeCloseTo(0.1875, 12);
    expect(i.feesBtc).toBeCloseTo(0.1875 * 150, 9);
    expect(i.derived).toEqual([{ input: 'fees', how: 'ASSUMED 3 % of the 6.25 BTC subsidy = 0.1875 BTC/block (no fee data for the day)' }]);
  });

  it('names every missing field and the date', () => {
    const store = fakeStore([{ dateUtc: '2024-04-20', priceUsd: 64_000 }]);
    const err = noData(() => hashpriceInputsForDate(store, '2024-04-20'));
    expect(err.message).toContain('2024-04-20');
    expect(err.message).toContain('feesBtc');
    expect(err.message).toContain('blocks');
    expect(err.message).toContain('heightEndOfDay');
    expect(err.message).toContain('difficulty');
    expect(err.message).not.toContain('priceUsd');
  });

  it('says when the day is absent altogether, and ignores difficulty older than 30 days', () => {
    expect(noData(() => hashpriceInputsForDate(fakeStore([]), '2024-04-20')).message).toContain('no Bitcoin data at all for 2024-04-20');
    const stale = fakeStore([{ dateUtc: '2024-03-20', difficulty: 1 }, HALVING_DAY_NO_DIFFICULTY]);
    expect(noData(() => hashpriceInputsForDate(stale, '2024-04-20')).message).toContain('difficulty');
  });

  it('treats a zero block count as missing (no division by zero)', () => {
    const err = noData(() => hashpriceInputsForDate(fakeStore([{ ...HALVING_DAY, blocks: 0 }]), '2024-04-20'));
    expect(err.message).toContain('block count');
  });
});
