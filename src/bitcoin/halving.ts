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

/**
 * Heights and UTC times (ms) the chain is known to have reached: the genesis block and the four
 * halvings (block header times; consensus history, cross-checked against ../shared/data/btc_halvings.csv).
 */
export const CHAIN_ANCHORS: readonly { height: number; timeMs: number }[] = [
  { height: 0, timeMs: Date.parse('2009-01-03T18:15:05Z') },
  { height: 210_000, timeMs: Date.parse('2012-11-28T15:24:38Z') },
  { height: 420_000, timeMs: Date.parse('2016-07-09T16:46:13Z') },
  { height: 630_000, timeMs: Date.parse('2020-05-11T19:23:43Z') },
  { height: 840_000, timeMs: Date.parse('2024-04-20T00:09:27Z') },
];

export interface ExpectedTip {
  /** Height the chain is expected at `atMs`: interpolated between anchors, extrapolated at the target block time after the last. */
  height: number;
  /** How far a height may sit from it before it is implausible, blocks: 10 % of the blocks since the nearest anchor, at least two weeks' worth (2016). */
  toleranceBlocks: number;
  basis: string;
}

/** The chain tip expected at `atMs` (UTC ms), for telling whether a height fits a time. */
export function expectedTipHeight(atMs: number): ExpectedTip {
  if (!Number.isFinite(atMs)) throw new RangeError(`atMs must be finite, got ${atMs}`);
  const a = CHAIN_ANCHORS;
  const last = a[a.length - 1] as { height: number; timeMs: number };
  let height: number;
  let basis: string;
  let nearest: number;
  if (atMs >= last.timeMs) {
    height = last.height + Math.floor((atMs - last.timeMs) / (TARGET_BLOCK_TIME_S * 1000));
    basis = `block ${last.height.toLocaleString('en-US')} at ${new Date(last.timeMs).toISOString()} plus one block per ${TARGET_BLOCK_TIME_S} s`;
    nearest = last.height;
  } else if (atMs <= (a[0] as { timeMs: number }).timeMs) {
    height = 0;
    basis = 'before the genesis block';
    nearest = 0;
  } else {
    const i = a.findIndex((x) => x.timeMs > atMs);
    const lo = a[i - 1] as { height: number; timeMs: number };
    const hi = a[i] as { height: number; timeMs: number };
    height = Math.round(lo.height + ((hi.height - lo.height) * (atMs - lo.timeMs)) / (hi.timeMs - lo.timeMs));
    basis = `interpolated between blocks ${lo.height.toLocaleString('en-US')} and ${hi.height.toLocaleString('en-US')}`;
    nearest = height - lo.height < hi.height - height ? lo.height : hi.height;
  }
  return { height, toleranceBlocks: Math.max(2016, Math.round(0.1 * Math.abs(height - nearest))), basis };
}
