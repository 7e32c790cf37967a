/** What the benches share: the nearest-rank percentile of sorted samples, and the default firmware mix of simulated fleets. */

/** Nearest-rank percentile `p` (0–100) of ascending `sorted`; null when there are no samples. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** The firmware mix of a simulated fleet when a bench is not told otherwise (a typical North American site). */
export const DEFAULT_FIRMWARE_MIX = 'antminer-stock:45,luxos:25,braiins-legacy:10,whatsminer-v2:20';
