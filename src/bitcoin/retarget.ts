import { decodeCompact, encodeCompact, UINT256_MODULUS } from './compact.js';

/** Proof-of-work consensus parameters that the retarget reads (Core's Consensus::Params). */
export interface PowParams {
  /** Easiest allowed target (Core's powLimit). */
  powLimit: bigint;
  /** Target duration of one retarget window, seconds (nPowTargetTimespan). */
  targetTimespanS: number;
  /** Blocks per retarget window (nPowTargetTimespan / nPowTargetSpacing). */
  intervalBlocks: number;
}

/** Mainnet (chainparams.cpp): powLimit 2^224 − 1 (compact 0x1d00ffff), two weeks, 2016 blocks. */
export const MAINNET_POW: PowParams = {
  powLimit: (1n << 224n) - 1n,
  targetTimespanS: 14 * 24 * 3600,
  intervalBlocks: 2016,
};

/** Signet shares the algorithm with a different powLimit (compact 0x1e0377ae); kept for test vectors. */
export const SIGNET_POW: PowParams = {
  powLimit: 0x0377aen << 216n,
  targetTimespanS: 14 * 24 * 3600,
  intervalBlocks: 2016,
};

export interface RetargetInput {
  /** Compact bits of the window's blocks (all 2016 carry the same bits on mainnet). */
  bits: number;
  /** Timestamp of the window's first block (height multiple of 2016), unix seconds. */
  firstBlockTimeS: number;
  /** Timestamp of the window's last block (height ≡ 2015 mod 2016), unix seconds. */
  lastBlockTimeS: number;
}

export interface RetargetResult {
  /** Compact bits of the next window. */
  bits: number;
  /** Target of the next window before compact truncation. */
  target: bigint;
  /** lastBlockTimeS − firstBlockTimeS: 2015 intervals, Core's historical off-by-one. May be negative. */
  actualTimespanS: number;
  /** The timespan actually used, after clamping to [timespan/4, timespan·4]. */
  timespanUsedS: number;
  /** True when the actual timespan was outside the ×4 / ÷4 band. */
  clamped: boolean;
  /** True when the new target exceeded powLimit and was capped. */
  cappedAtPowLimit: boolean;
}

function assertTime(name: string, s: number): void {
  if (!Number.isSafeInteger(s)) throw new RangeError(`${name} must be an integer number of unix seconds, got ${s}`);
}

/**
 * The next window's compact bits, exactly as Bitcoin Core's CalculateNextWorkRequired (pow.cpp)
 * without testnet rules: clamp the timespan, scale the 256-bit target (wrapping like
 * arith_uint256), integer-divide, cap at powLimit, re-encode with GetCompact. Like Core, the
 * input bits are decoded without checking the sign/overflow flags.
 */
export function calculateNextWorkRequired(input: RetargetInput, params: PowParams = MAINNET_POW): RetargetResult {
  assertTime('firstBlockTimeS', input.firstBlockTimeS);
  assertTime('lastBlockTimeS', input.lastBlockTimeS);
  const actualTimespanS = input.lastBlockTimeS - input.firstBlockTimeS;
  const minS = Math.trunc(params.targetTimespanS / 4);
  const maxS = params.targetTimespanS * 4;
  const timespanUsedS = Math.min(Math.max(actualTimespanS, minS), maxS);
  const old = decodeCompact(input.bits).target;
  let target = ((old * BigInt(timespanUsedS)) % UINT256_MODULUS) / BigInt(params.targetTimespanS);
  const cappedAtPowLimit = target > params.powLimit;
  if (cappedAtPowLimit) target = params.powLimit;
  return {
    bits: encodeCompact(target),
    target,
    actualTimespanS,
    timespanUsedS,
    clamped: timespanUsedS !== actualTimespanS,
    cappedAtPowLimit,
  };
}

/** True when a block at `height` starts a new retarget window (its bits may differ from its parent's). */
export function isRetargetHeight(height: number, params: PowParams = MAINNET_POW): boolean {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`height must be a non-negative integer, got ${height}`);
  return height % params.intervalBlocks === 0;
}

/** First height of the retarget window that contains `height`. */
export function retargetWindowStart(height: number, params: PowParams = MAINNET_POW): number {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`height must be a non-negative integer, got ${height}`);
  return height - (height % params.intervalBlocks);
}
