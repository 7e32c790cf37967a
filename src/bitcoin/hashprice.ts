import { HASHES_PER_DIFFICULTY_1 } from './difficulty.js';

/**
 * Hashprice: what one PH/s of hashrate earns per day at a given difficulty, before pool fees
 * and power. A miner with share s of the network hashrate finds s of the blocks; at difficulty
 * D a block takes D · 2^32 hashes on average, so 1 PH/s (1e15 H/s) finds
 * 1e15 · 86,400 / (D · 2^32) blocks per day, each paying subsidy + fees.
 */
export interface HashpriceInputs {
  /** BTC price, USD per BTC. */
  btcPriceUsd: number;
  /** Network difficulty (dimensionless, as getblockheader reports it). */
  difficulty: number;
  /** Block subsidy, BTC per block (blockSubsidyBtc(height)). */
  subsidyBtc: number;
  /** Average transaction fees, BTC per block. */
  feesBtcPerBlock: number;
}

export interface Hashprice {
  hashpriceUsdPerPhDay: number;
  hashpriceBtcPerPhDay: number;
  /** Expected blocks found per day by 1 PH/s at this difficulty. */
  blocksPerPhDay: number;
}

export const HASHES_PER_PH = 1e15;
export const SECONDS_PER_DAY = 86_400;

function check(name: keyof HashpriceInputs, value: number, strictlyPositive: boolean): void {
  if (!Number.isFinite(value) || value < 0 || (strictlyPositive && value === 0)) {
    throw new RangeError(`${name} must be a finite number ${strictlyPositive ? '> 0' : '>= 0'}, got ${value}`);
  }
}

/** Expected blocks per day found by 1 PH/s: 1e15 × 86,400 / (difficulty × 2^32). */
export function blocksPerPhDay(difficulty: number): number {
  check('difficulty', difficulty, true);
  return (HASHES_PER_PH * SECONDS_PER_DAY) / (difficulty * HASHES_PER_DIFFICULTY_1);
}

/** Hashprice in BTC per PH/s per day: (subsidy + fees per block) × blocksPerPhDay. */
export function hashpriceBtcPerPhDay(i: HashpriceInputs): number {
  check('subsidyBtc', i.subsidyBtc, false);
  check('feesBtcPerBlock', i.feesBtcPerBlock, false);
  return (i.subsidyBtc + i.feesBtcPerBlock) * blocksPerPhDay(i.difficulty);
}

/** Hashprice in USD per PH/s per day: the BTC figure × BTC price. */
export function hashpriceUsdPerPhDay(i: HashpriceInputs): number {
  check('btcPriceUsd', i.btcPriceUsd, false);
  return hashpriceBtcPerPhDay(i) * i.btcPriceUsd;
}

/** Both hashprice figures and the expected blocks per PH/s-day for one set of inputs. */
export function hashprice(i: HashpriceInputs): Hashprice {
  return {
    hashpriceUsdPerPhDay: hashpriceUsdPerPhDay(i),
    hashpriceBtcPerPhDay: hashpriceBtcPerPhDay(i),
    blocksPerPhDay: blocksPerPhDay(i.difficulty),
  };
}
