import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { decode } from './decode.js';
import { joinUrl, type HttpClient, type RequestOptions } from '../../net/http-client.js';

/**
 * mempool.space REST client (also any self-hosted mempool instance: the base URL is configurable).
 * Every response is `unknown` until its zod schema accepts it. Annotated examples (units added):
 *
 *   GET /api/blocks/tip/height                     → 698767                        (text, blocks)
 *   GET /api/v1/difficulty-adjustment              → { progressPercent: 44.39 (%), difficultyChange: 98.46 (%),
 *        estimatedRetargetDate: 1627762478 (s in the 2021 docs, ms in the current backend),
 *        remainingBlocks: 1121, nextRetargetHeight: 741888, previousRetarget: -4.8 (%), ... }
 *   GET /api/v1/prices                             → { time: 1703252411 (unix s), USD: 43753 (USD/BTC), EUR: ... }
 *   GET /api/v1/historical-price?currency=USD[&timestamp=S]
 *                                                  → { prices: [{ time: 1499904000 (s), USD: 2254.9 }], exchangeRates: {...} }
 *   GET /api/v1/mining/hashrate/:interval          → { hashrates: [{ timestamp: 1652486400 (s, 00:00 UTC ending the day
 *        measured), avgHashrate: 2.36e20 (H/s) }], difficulty: [{ timestamp | time (s), difficulty, height }],
 *        currentHashrate (H/s), currentDifficulty }
 *   GET /api/v1/mining/difficulty-adjustments/:interval
 *                                                  → [[1703311464 (s), 822528 (height), 72006146478567.1, 1.06983 (ratio)]]
 *   GET /api/v1/mining/blocks/fees/:interval       → [{ avgHeight: 735644, timestamp: 1652119111 (s), avgFees: 24212890
 *        (sats per block, averaged over a time bucket), USD?: price }]
 *   GET /api/v1/mining/blocks/rewards/:interval    → [{ avgHeight, timestamp (s), avgRewards: 637067563 (sats per block,
 *        subsidy + fees), USD? }]
 */

/** Intervals listed in mempool's API docs, plus 'all' (whole history; accepted by the backend, not in the docs list). */
export const MEMPOOL_INTERVALS = ['24h', '3d', '1w', '1m', '3m', '6m', '1y', '2y', '3y', 'all'] as const;
export type MempoolInterval = (typeof MEMPOOL_INTERVALS)[number];

export const DEFAULT_MEMPOOL_BASE_URL = 'https://mempool.space';

const unixS = z.number().int().nonnegative();
const height = z.number().int().nonnegative();
const nonNeg = z.number().nonnegative();

export const difficultyAdjustmentSchema = z.object({
  progressPercent: z.number(),
  difficultyChange: z.number(),
  estimatedRetargetDate: nonNeg,
  remainingBlocks: z.number().int().nonnegative(),
  remainingTime: nonNeg,
  previousRetarget: z.number(),
  nextRetargetHeight: height,
  timeAvg: nonNeg,
});
export type DifficultyAdjustment = z.infer<typeof difficultyAdjustmentSchema>;

export const pricesSchema = z.object({ time: unixS, USD: z.number() }).catchall(z.unknown());
export type CurrentPrices = z.infer<typeof pricesSchema>;

export const historicalPriceSchema = z.object({
  prices: z.array(z.object({ time: unixS, USD: z.number() }).catchall(z.unknown())),
  exchangeRates: z.record(z.string(), z.number()).optional(),
});
export type HistoricalPrice = z.infer<typeof historicalPriceSchema>;

/** Adjustment entries: `{timestamp, difficulty, height}` in the docs example, `{time, height, difficulty, adjustment}` in the current backend. */
const hashrateDifficultySchema = z
  .object({ timestamp: unixS.optional(), time: unixS.optional(), difficulty: z.number().positive(), height, adjustment: nonNeg.optional() })
  .refine((d) => d.timestamp !== undefined || d.time !== undefined, { message: 'needs timestamp or time' })
  .transform((d) => ({
    timestampS: d.timestamp ?? d.time ?? 0,
    difficulty: d.difficulty,
    height: d.height,
    ...(d.adjustment !== undefined && d.adjustment > 0 ? { ratio: d.adjustment } : {}),
  }));

export const hashrateSchema = z.object({
  hashrates: z.array(z.object({ timestamp: unixS, avgHashrate: nonNeg })),
  difficulty: z.array(hashrateDifficultySchema),
  // Zero when the instance's Bitcoin Core is unreachable (documented in the backend source).
  currentHashrate: nonNeg,
  currentDifficulty: nonNeg,
});
export type HashrateResponse = z.infer<typeof hashrateSchema>;

export const difficultyAdjustmentsSchema = z.array(z.tuple([unixS, height, z.number().positive(), nonNeg]));
export type DifficultyAdjustmentRow = z.infer<typeof difficultyAdjustmentsSchema>[number];

export const blockFeesSchema = z.array(z.object({ avgHeight: height, timestamp: unixS, avgFees: nonNeg, USD: z.number().optional() }));
export type BlockFeesPoint = z.infer<typeof blockFeesSchema>[number];

export const blockRewardsSchema = z.array(z.object({ avgHeight: height, timestamp: unixS, avgRewards: nonNeg, USD: z.number().optional() }));
export type BlockRewardsPoint = z.infer<typeof blockRewardsSchema>[number];

/** Normalises a user-given base URL: trailing slashes and a trailing '/api' are dropped. */
export function normaliseMempoolBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/api$/, '');
}

export interface MempoolClientOptions {
  http: HttpClient;
  baseUrl?: string;
  request?: RequestOptions;
}

export class MempoolClient {
  readonly baseUrl: string;
  private readonly http: HttpClient;
  private readonly request: RequestOptions;

  constructor(opts: MempoolClientOptions) {
    this.http = opts.http;
    this.baseUrl = normaliseMempoolBase(opts.baseUrl ?? DEFAULT_MEMPOOL_BASE_URL);
    this.request = opts.request ?? {};
  }

  url(path: string): string {
    return joinUrl(this.baseUrl, path);
  }

  private async get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const url = this.url(path);
    return decode(schema, await this.http.fetchJson(url, this.request), url);
  }

  /** Height of the chain tip, in blocks. */
  async tipHeight(): Promise<number> {
    const url = this.url('/api/blocks/tip/height');
    const text = (await this.http.fetchText(url, this.request)).trim();
    if (!/^\d{1,9}$/.test(text)) throw new MulletError('PARSE', `expected a block height, got '${text.slice(0, 40)}'`, { where: url });
    return Number(text);
  }

  difficultyAdjustment(): Promise<DifficultyAdjustment> {
    return this.get('/api/v1/difficulty-adjustment', difficultyAdjustmentSchema);
  }

  prices(): Promise<CurrentPrices> {
    return this.get('/api/v1/prices', pricesSchema);
  }

  /** USD price history: every stored price, or the one in force at `timestampS` (unix seconds). */
  historicalPrice(timestampS?: number): Promise<HistoricalPrice> {
    const q = timestampS === undefined ? '' : `&timestamp=${timestampS}`;
    return this.get(`/api/v1/historical-price?currency=USD${q}`, historicalPriceSchema);
  }

  hashrate(interval: MempoolInterval): Promise<HashrateResponse> {
    return this.get(`/api/v1/mining/hashrate/${interval}`, hashrateSchema);
  }

  difficultyAdjustments(interval: MempoolInterval): Promise<DifficultyAdjustmentRow[]> {
    return this.get(`/api/v1/mining/difficulty-adjustments/${interval}`, difficultyAdjustmentsSchema);
  }

  blockFees(interval: MempoolInterval): Promise<BlockFeesPoint[]> {
    return this.get(`/api/v1/mining/blocks/fees/${interval}`, blockFeesSchema);
  }

  blockRewards(interval: MempoolInterval): Promise<BlockRewardsPoint[]> {
    return this.get(`/api/v1/mining/blocks/rewards/${interval}`, blockRewardsSchema);
  }
}

/** estimatedRetargetDate in ms: the 2021 docs example is in seconds, the current backend in ms. */
export function retargetDateMs(estimatedRetargetDate: number): number {
  return estimatedRetargetDate < 1e11 ? estimatedRetargetDate * 1000 : estimatedRetargetDate;
}
