import { describe, expect, it } from 'vitest';
import { MulletError } from '../core/errors.js';
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
    });
    expect(store.calls).toEqual([['2024-03-21', '2024-04-20']]);
  });

  it("falls back to the previous day's height and the latest difficulty within 30 days", () => {
    const store = fakeStore([
      { dateUtc: '2024-03-21', difficulty: 83_000_000_000_000 },
      { dateUtc: '2024-04-10', difficulty: 86_000_000_000_000, heightEndOfDay: 838_000 },
      { dateUtc: '2024-04-19', heightEndOfDay: 839_999 },
      HALVING_DAY_BARE,
    ]);
    const i = hashpriceInputsForDate(store, '2024-04-20');
    expect(i.height).toBe(839_999);
    expect(i.heightDateUtc).toBe('2024-04-19');
    expect(i.subsidyBtc).toBe(6.25); // the previous day's end height is still pre-halving
    expect(i.difficulty).toBe(86_000_000_000_000);
    expect(i.difficultyDateUtc).toBe('2024-04-10');
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
