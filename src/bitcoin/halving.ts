import { blockSubsidyBtc, HALVING_INTERVAL_BLOCKS } from './subsidy.js';

/** Target block interval, seconds (nPowTargetSpacing); the default average for estimates. */
export const TARGET_BLOCK_TIME_S = 600;

function assertHeight(height: number): void {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`height must be a non-negative integer, got ${height}`);
}

/** The first halving height strictly after `height` (840,000 → 1,050,000; 839,999 → 840,000). */
export function halvingHeightAfter(height: number): number {
  assertHeight(height);
  return (Math.floor(height / HALVING_INTERVAL_BLOCKS) + 1) * HALVING_INTERVAL_BLOCKS;
}

/** Halvings that have happened at or before `height` (the epoch index; 4 from 840,000). */
export function halvingEpoch(height: number): number {
  assertHeight(height);
  return Math.floor(height / HALVING_INTERVAL_BLOCKS);
}

export interface HalvingEstimate {
  height: number;
  nextHalvingHeight: number;
  blocksLeft: number;
  /** Estimated time of the next halving block, UTC ms: reference time + blocksLeft × block time. */
  estimatedAtMs: number;
  subsidyNowBtc: number;
  subsidyAfterBtc: number;
}

/**
 * Estimates the next halving from the tip `height` seen at `referenceMs` (UTC ms), assuming an
 * average block time of `blockTimeS` seconds (600 unless told). Pure: the caller supplies "now".
 */
export function estimateNextHalving(height: number, referenceMs: number, blockTimeS: number = TARGET_BLOCK_TIME_S): HalvingEstimate {
  assertHeight(height);
  if (!Number.isFinite(referenceMs)) throw new RangeError(`referenceMs must be finite, got ${referenceMs}`);
  if (!Number.isFinite(blockTimeS) || blockTimeS <= 0) throw new RangeError(`blockTimeS must be > 0, got ${blockTimeS}`);
  const nextHalvingHeight = halvingHeightAfter(height);
  const blocksLeft = nextHalvingHeight - height;
  return {
    height,
    nextHalvingHeight,
    blocksLeft,
    estimatedAtMs: referenceMs + Math.round(blocksLeft * blockTimeS * 1000),
    subsidyNowBtc: blockSubsidyBtc(height),
    subsidyAfterBtc: blockSubsidyBtc(nextHalvingHeight),
  };
}
