import type { ParsedBatch } from '../types.js';
import { mempoolBatch } from './mempool-convert.js';
import { retargetDateMs, type MempoolClient, type MempoolInterval } from './mempool.js';

/** A snapshot of the chain now: reported to the user, not stored (the current day is not over). */
export interface MempoolSnapshot {
  tipHeight: number;
  priceUsd: number;
  priceTimeMs: number;
  nextRetargetHeight: number;
  estimatedRetargetMs: number;
  /** Expected change at the next retarget, percent. */
  difficultyChangePct: number;
  epochProgressPct: number;
}

export interface MempoolFetchResult {
  batch: ParsedBatch;
  snapshot: MempoolSnapshot;
  /** Requests made, in order (paths relative to the base URL). */
  requests: string[];
}

export interface MempoolFetchOptions {
  interval: MempoolInterval;
  /** Wall clock at the edge (CLI): days ending after it are incomplete and dropped. */
  nowMs: number;
  /** Called before each request: step number (1-based), total, and what is fetched. */
  onStep?: (step: number, total: number, what: string) => void;
}

/**
 * Fetches the seven endpoints one after another (politely: no parallel burst on a public
 * instance) and converts them into one batch. Any failure aborts the whole fetch: a half-
 * fetched batch would mix days from different moments.
 */
export async function fetchMempool(client: MempoolClient, opts: MempoolFetchOptions): Promise<MempoolFetchResult> {
  const { interval } = opts;
  const requests: string[] = [];
  const steps = [
    'blocks/tip/height',
    'v1/difficulty-adjustment',
    'v1/prices',
    `v1/mining/hashrate/${interval}`,
    `v1/mining/difficulty-adjustments/${interval}`,
    `v1/mining/blocks/fees/${interval}`,
    'v1/historical-price?currency=USD',
  ] as const;
  let i = 0;
  const step = <T>(p: () => Promise<T>): Promise<T> => {
    const what = steps[i] as string;
    i++;
    opts.onStep?.(i, steps.length, what);
    requests.push(`/api/${what}`);
    return p();
  };
  const tipHeight = await step(() => client.tipHeight());
  const da = await step(() => client.difficultyAdjustment());
  const now = await step(() => client.prices());
  const hashrate = await step(() => client.hashrate(interval));
  const adjustments = await step(() => client.difficultyAdjustments(interval));
  const fees = await step(() => client.blockFees(interval));
  const history = await step(() => client.historicalPrice());
  const batch = mempoolBatch({ hashrate, adjustments, fees, history }, opts.nowMs, `mempool ${client.baseUrl} ${interval}`);
  return {
    batch,
    requests,
    snapshot: mempoolSnapshot(tipHeight, da, now),
  };
}

/** The network now, from the tip height, the difficulty-adjustment estimate and the latest prices. */
export function mempoolSnapshot(tipHeight: number, da: Awaited<ReturnType<MempoolClient['difficultyAdjustment']>>, now: Awaited<ReturnType<MempoolClient['prices']>>): MempoolSnapshot {
  return {
    tipHeight,
    priceUsd: now.USD,
    priceTimeMs: now.time * 1000,
    nextRetargetHeight: da.nextRetargetHeight,
    estimatedRetargetMs: retargetDateMs(da.estimatedRetargetDate),
    difficultyChangePct: da.difficultyChange,
    epochProgressPct: da.progressPercent,
  };
}
