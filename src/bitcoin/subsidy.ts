/** Consensus constants (Bitcoin Core, mainnet). */
export const HALVING_INTERVAL_BLOCKS = 210_000;
export const INITIAL_SUBSIDY_SATS = 50n * 100_000_000n;
export const SATS_PER_BTC = 100_000_000;

/**
 * Block subsidy at `height` in satoshis, exactly as Bitcoin Core's GetBlockSubsidy: the initial
 * 50 BTC right-shifted once per 210,000 blocks, and zero from the 64th halving on (a shift of 64
 * or more is undefined behaviour in C++, so Core special-cases it).
 */
export function blockSubsidySats(height: number): bigint {
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`height must be a non-negative integer, got ${height}`);
  const halvings = Math.floor(height / HALVING_INTERVAL_BLOCKS);
  if (halvings >= 64) return 0n;
  return INITIAL_SUBSIDY_SATS >> BigInt(halvings);
}

/** Block subsidy in BTC (a float view of the exact satoshi value). */
export function blockSubsidyBtc(height: number): number {
  return Number(blockSubsidySats(height)) / SATS_PER_BTC;
}
