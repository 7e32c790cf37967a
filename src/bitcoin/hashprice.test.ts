import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedFile, SKIP_REASON, skipWithoutSharedData } from '../testing/data.js';
import { difficultyFromBits } from './difficulty.js';
import { blocksPerPhDay, hashprice, hashpriceBtcPerPhDay, hashpriceUsdPerPhDay, type HashpriceInputs } from './hashprice.js';
import { blockSubsidyBtc } from './subsidy.js';

describe('hashprice', () => {
  it('at difficulty 1, 1 PH/s finds 1e15·86400/2^32 ≈ 2.0117e10 blocks a day', () => {
    expect(blocksPerPhDay(1)).toBeCloseTo(20_116_567_611.694336, 5);
  });

  // The halving day, 2024-04-20: block 840,000 bits 0x17034219 (difficulty 86,388,558,925,171.02),
  // BTC ≈ $64,000, subsidy 3.125. Hand computation, fees excluded:
  //   1e15 × 86,400 / (86,388,558,925,171.02 × 4,294,967,296) = 2.328614791e-4 blocks per PH/s-day
  //   × 3.125 BTC = 7.276921223e-4 BTC per PH/s-day;  × $64,000 = $46.5723 per PH/s-day.
  // With a typical 0.5 BTC of fees per block it is $54.02 (the "≈ $54" often quoted).
  const halvingDay: HashpriceInputs = {
    btcPriceUsd: 64_000,
    difficulty: difficultyFromBits(0x17034219),
    subsidyBtc: blockSubsidyBtc(840_000),
    feesBtcPerBlock: 0,
  };

  it('matches the hand-computed halving-day figure (fees excluded)', () => {
    expect(halvingDay.difficulty).toBeCloseTo(86_388_558_925_171.02, 1);
    expect(hashpriceBtcPerPhDay(halvingDay)).toBeCloseTo(7.276921223e-4, 12);
    expect(hashpriceUsdPerPhDay(halvingDay)).toBeCloseTo(46.5723, 4);
    expect(hashpriceUsdPerPhDay({ ...halvingDay, feesBtcPerBlock: 0.5 })).toBeCloseTo(54.0239, 4);
  });

  it('is linear in price and reward, inverse in difficulty', () => {
    const base = hashprice(halvingDay);
    expect(hashprice({ ...halvingDay, btcPriceUsd: 128_000 }).hashpriceUsdPerPhDay).toBeCloseTo(2 * base.hashpriceUsdPerPhDay, 10);
    expect(hashprice({ ...halvingDay, difficulty: 2 * halvingDay.difficulty }).hashpriceBtcPerPhDay).toBeCloseTo(
      base.hashpriceBtcPerPhDay / 2,
      15,
    );
    expect(hashprice({ ...halvingDay, subsidyBtc: 6.25 }).hashpriceUsdPerPhDay).toBeCloseTo(2 * base.hashpriceUsdPerPhDay, 10);
    expect(base.hashpriceUsdPerPhDay).toBeCloseTo(base.hashpriceBtcPerPhDay * 64_000, 10);
  });

  it('rejects bad inputs, naming the field', () => {
    expect(() => hashpriceUsdPerPhDay({ ...halvingDay, difficulty: 0 })).toThrow(/difficulty/);
    expect(() => hashpriceUsdPerPhDay({ ...halvingDay, btcPriceUsd: NaN })).toThrow(/btcPriceUsd/);
    expect(() => hashpriceUsdPerPhDay({ ...halvingDay, feesBtcPerBlock: -1 })).toThrow(/feesBtcPerBlock/);
    expect(() => hashpriceUsdPerPhDay({ ...halvingDay, subsidyBtc: Infinity })).toThrow(/subsidyBtc/);
  });
});

describe.skipIf(skipWithoutSharedData)(`real daily hashprice: btc_fees_daily_coinmetrics_2023_2025.csv (${SKIP_REASON})`, () => {
  const lines = readFileSync(sharedFile('btc_fees_daily_coinmetrics_2023_2025.csv'), 'utf8').trim().split('\n');
  const header = (lines[0] ?? '').split(',');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`column ${name} missing`);
    return i;
  };
  const days = lines.slice(1).map((line) => {
    const f = line.split(',');
    const num = (name: string): number => Number(f[col(name)]);
    const blocks = num('blocks_mined');
    return {
      date: f[col('date_utc')] ?? '',
      usd: hashpriceUsdPerPhDay({
        btcPriceUsd: num('price_usd_coinmetrics'),
        difficulty: num('difficulty_implied'),
        subsidyBtc: num('issuance_btc') / blocks,
        feesBtcPerBlock: num('fees_per_block_btc'),
      }),
    };
  });

  it('reproduces the product brief: ~$108 before the 2024 halving, record low ~$35 in Nov 2025', () => {
    const byDate = new Map(days.map((d) => [d.date, d.usd]));
    expect(byDate.get('2024-04-19')).toBeGreaterThan(100);
    expect(byDate.get('2024-04-19')).toBeLessThan(115);
    // The Runes launch on the halving day: fees of 9.28 BTC per block tripled hashprice for a day.
    expect(byDate.get('2024-04-20')).toBeGreaterThan(180);
    const low = days.reduce((a, b) => (b.usd < a.usd ? b : a));
    expect(low.date.startsWith('2025-11')).toBe(true);
    expect(low.usd).toBeGreaterThan(34);
    expect(low.usd).toBeLessThan(37);
  });
});
