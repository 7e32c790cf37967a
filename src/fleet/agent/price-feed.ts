/**
 * Live price feed client: GET a URL that answers with the latest real-time price as JSON, with a
 * deadline and an AbortSignal. Example reply:
 *
 *   { "priceUsdPerMWh": 42.5,                       ← real-time price of the interval, USD/MWh
 *     "intervalStart": "2025-08-01T18:00:00Z",       ← interval the price settles, UTC
 *     "hashpriceUsdPerPhDay": 48.2,                  ← optional: for break-even strikes
 *     "fourCpAlert": false }                         ← optional: a 4CP alert is in force
 */
import { z } from 'zod';
import { MulletError } from '../../core/errors.js';
import { createHttpClient } from '../../net/http-client.js';

export const priceFeedSchema = z.object({
  priceUsdPerMWh: z.number(),
  intervalStart: z.string().refine((s) => /(Z|[+-]\d\d:\d\d)$/.test(s) && Number.isFinite(Date.parse(s)), 'must be an ISO 8601 instant with Z or an offset'),
  hashpriceUsdPerPhDay: z.number().min(0).optional(),
  fourCpAlert: z.boolean().optional(),
});

export interface PriceSample {
  priceUsdPerMWh: number;
  intervalStartMs: number;
  hashpriceUsdPerPhDay: number | undefined;
  fourCpAlert: boolean;
  /** When the agent received it, UTC ms. */
  receivedAtMs: number;
}

/** One attempt per poll: the agent polls again on its own schedule, so the client never retries. */
const client = createHttpClient({ retry: { attempts: 1 }, maxBytes: 64 * 1024 });

/** Fetches one sample; NETWORK/TIMEOUT (transient) or PARSE/PROTOCOL (permanent) on failure. */
export async function fetchPrice(url: string, opts: { timeoutMs: number; signal?: AbortSignal; nowMs: number }): Promise<PriceSample> {
  const body = await client.fetchJson(url, { timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  const p = priceFeedSchema.safeParse(body);
  if (!p.success) throw new MulletError('PARSE', `price feed reply: ${p.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, { where: url });
  return {
    priceUsdPerMWh: p.data.priceUsdPerMWh,
    intervalStartMs: Date.parse(p.data.intervalStart),
    hashpriceUsdPerPhDay: p.data.hashpriceUsdPerPhDay,
    fourCpAlert: p.data.fourCpAlert ?? false,
    receivedAtMs: opts.nowMs,
  };
}
