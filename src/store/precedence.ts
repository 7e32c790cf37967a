/**
 * Which source wins when several publish the same interval or day. Every store implementation
 * keeps all sources side by side and applies these lists on read; the reasons are in README.md.
 * Sources not listed rank after the listed ones, alphabetically.
 */
import type { BtcField } from '../market/types.js';

/** ERCOT's own reports, then gridstatus (a faithful ERCOT re-publisher), then EIA's copy. */
export const PRICE_SOURCES: readonly string[] = ['ercot', 'gridstatus', 'eia'];

/** ERCOT Native Load workbooks, then EIA's hourly load by weather zone. */
export const LOAD_SOURCES: readonly string[] = ['ercot', 'eia'];

/** Difficulty epochs: only one derivation exists so far. */
export const EPOCH_SOURCES: readonly string[] = ['blockchain.com'];

/** Official 4CP intervals: ERCOT's posting, then a user's own file with the same columns. */
export const FOURCP_SOURCES: readonly string[] = ['ercot', 'user'];

/** Per Bitcoin field, best first. */
export const BTC_SOURCES: Readonly<Record<BtcField, readonly string[]>> = {
  // One continuous 2011→2026 series beats switching sources mid-back-test; Bitstamp at 00:00 UTC of
  // d+1 is stored as the close of d. Coin Metrics' reference rate and Yahoo's close fill the rest.
  priceUsd: ['bitstamp', 'coinmetrics', 'yahoo'],
  // blockchain.com daily mean difficulty; Coin Metrics' implied difficulty (same daily-mean
  // definition, matches to 3e-9) carries on after 2025-04-08.
  difficulty: ['blockchain.com', 'coinmetrics'],
  hashrateThs: ['blockchain.com', 'coinmetrics'],
  // Coin Metrics is the continuous daily series; per-block getblockstats sums extend it.
  feesBtc: ['coinmetrics', 'blockstats'],
  blocks: ['coinmetrics', 'blockstats', 'hotstopper'],
  issuanceBtc: ['coinmetrics', 'blockstats'],
  // Bitcoin Core getblockstats heights are consensus data; the blocks-per-day file fills the rest.
  heightEndOfDay: ['blockstats', 'hotstopper'],
};

/** Sorting rank of `source` in `order` (lower wins); unknown sources come after known ones. */
export function sourceRank(order: readonly string[], source: string): number {
  const i = order.indexOf(source);
  return i >= 0 ? i : order.length;
}

/** Comparator: precedence first, then name (so unknown sources have a stable order). */
export function bySourcePrecedence(order: readonly string[]): (a: string, b: string) => number {
  return (a, b) => sourceRank(order, a) - sourceRank(order, b) || (a < b ? -1 : a > b ? 1 : 0);
}
