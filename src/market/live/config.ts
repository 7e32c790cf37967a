/**
 * The `feeds:` section of an ops config: which live market feeds run, where they poll, how often,
 * and when their data counts as stale. One zod schema, validated once with the located errors of
 * every other config (`ops.yaml:12: feeds.ercotRt.everyMinutes: …`) when it is part of a YAML file
 * parsed with `parseConfig`. Secrets never live in the file: the ERCOT Public API credentials are
 * named by environment variable (`subscriptionKeyEnv: ERCOT_API_SUBSCRIPTION_KEY`).
 *
 *   feeds:
 *     settlementPoints: [HB_WEST]        # the first one is the feed's "primary" point (status, staleness)
 *     ercot:
 *       channel: mis                     # mis (public, no account) | api (api.ercot.com, credentials from env)
 *       misBaseUrl: https://www.ercot.com
 *       api: { subscriptionKeyEnv: ERCOT_API_SUBSCRIPTION_KEY, idTokenEnv: ERCOT_API_ID_TOKEN }
 *     ercotRt: { everyMinutes: 15, publishDelayS: 120, staleAfterMinutes: 45 }
 *     ercotDa: { publishAtCpt: "13:30", retryEveryMinutes: 15 }
 *     ercotLoad: { everyMinutes: 60, offsetMinutes: 10, staleAfterMinutes: 180 }
 *     mempool: { baseUrl: https://mempool.space, everyMinutes: 5, dailyEveryMinutes: 60 }
 *     timeoutS: 30
 *     backoff: { baseS: 5, maxS: 600 }
 */
import { z } from 'zod';
import { MEMPOOL_INTERVALS, DEFAULT_MEMPOOL_BASE_URL } from '../fetchers/mempool.js';
import { DEFAULT_MIS_BASE_URL } from '../fetchers/ercot-mis.js';
import { DEFAULT_API_BASE_URL, DEFAULT_TOKEN_URL } from '../fetchers/ercot-api.js';

export const FEED_IDS = ['ercot-rt', 'ercot-da', 'ercot-load', 'mempool'] as const;
export type FeedId = (typeof FEED_IDS)[number];

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be the NAME of an environment variable (upper case, digits, _), never the secret itself');
// No user:password@ in a URL: it would be a secret in the file and in every logged error.
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'must not carry credentials (user:password@); use the *Env fields');
const point = z.string().regex(/^[A-Z0-9_]{1,64}$/, 'a settlement point in ERCOT spelling, upper case (e.g. HB_WEST)');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h, Central Prevailing Time)');
const enabled = z.boolean().optional();
const staleAfterMinutes = z.number().min(1).max(7 * 24 * 60).optional();

export const liveFeedsConfigSchema = z.strictObject({
  /** Settlement points kept from ERCOT postings (hubs HB_*, load zones LZ_*); the first is the primary. */
  settlementPoints: z.array(point).min(1).max(64).optional(),
  ercot: z
    .strictObject({
      channel: z.enum(['mis', 'api']).optional(),
      misBaseUrl: httpUrl.optional(),
      api: z
        .strictObject({
          baseUrl: httpUrl.optional(),
          tokenUrl: httpUrl.optional(),
          subscriptionKeyEnv: envName.optional(),
          idTokenEnv: envName.optional(),
          usernameEnv: envName.optional(),
          passwordEnv: envName.optional(),
        })
        .optional(),
    })
    .optional(),
  ercotRt: z
    .strictObject({
      enabled,
      /** ERCOT posts RT SPPs per 15-minute interval (SCED runs every 5): poll on that grid. */
      everyMinutes: z.union([z.literal(5), z.literal(15)]).optional(),
      /** How long after an interval ends its posting is expected, seconds. */
      publishDelayS: z.number().int().min(0).max(1800).optional(),
      /** How far back (by publish time) postings not yet fetched are picked up after a gap, minutes. */
      backfillMinutes: z.number().int().min(15).max(24 * 60).optional(),
      staleAfterMinutes,
    })
    .optional(),
  ercotDa: z
    .strictObject({
      enabled,
      /** DAM results are posted around 13:30 CPT for the next operating day. */
      publishAtCpt: hhmm.optional(),
      retryEveryMinutes: z.number().int().min(1).max(240).optional(),
      /** Stale when the current hour has had no DA price for this long, minutes. */
      staleAfterMinutes,
    })
    .optional(),
  ercotLoad: z
    .strictObject({
      enabled,
      everyMinutes: z.number().int().min(5).max(24 * 60).optional(),
      offsetMinutes: z.number().int().min(0).max(59).optional(),
      actual: z.boolean().optional(),
      forecast: z.boolean().optional(),
      staleAfterMinutes,
    })
    .optional(),
  mempool: z
    .strictObject({
      enabled,
      baseUrl: httpUrl.optional(),
      /** Snapshot (price, tip, next retarget) cadence, minutes. */
      everyMinutes: z.number().int().min(1).max(24 * 60).optional(),
      /** Daily series (fees, blocks, difficulty, hashrate, close price) cadence, minutes. */
      dailyEveryMinutes: z.number().int().min(5).max(24 * 60).optional(),
      interval: z.enum(MEMPOOL_INTERVALS).optional(),
      staleAfterMinutes,
    })
    .optional(),
  /** Deadline of one poll (all its requests), seconds. */
  timeoutS: z.number().min(0.05).max(600).optional(),
  backoff: z.strictObject({ baseS: z.number().min(0.01).max(3600).optional(), maxS: z.number().min(0.01).max(86_400).optional() }).optional(),
}).superRefine((c, ctx) => {
  // Cross-field checks, each located at the field to change.
  const rt = c.ercotRt;
  if (rt?.staleAfterMinutes !== undefined) {
    const gapMinutes = 15 + (rt.publishDelayS ?? 120) / 60;
    if (rt.staleAfterMinutes < gapMinutes) {
      ctx.addIssue({ code: 'custom', path: ['ercotRt', 'staleAfterMinutes'], message: `must be at least ${gapMinutes} (one 15-minute interval + publishDelayS), or the feed goes stale between every two postings` });
    }
  }
  const b = c.backoff;
  if (b?.baseS !== undefined && b.maxS !== undefined && b.baseS > b.maxS) {
    ctx.addIssue({ code: 'custom', path: ['backoff', 'baseS'], message: `must not exceed backoff.maxS (${b.maxS})` });
  }
});
export type LiveFeedsConfigFile = z.infer<typeof liveFeedsConfigSchema>;

/** The section with every default filled in; times in ms. */
export interface LiveFeedsConfig {
  settlementPoints: string[];
  ercot: {
    channel: 'mis' | 'api';
    misBaseUrl: string;
    api: { baseUrl: string; tokenUrl: string; subscriptionKeyEnv: string; idTokenEnv: string; usernameEnv: string; passwordEnv: string };
  };
  ercotRt: { enabled: boolean; everyMs: number; publishDelayMs: number; backfillMs: number; staleAfterMs: number };
  ercotDa: { enabled: boolean; publishAtMinuteCpt: number; retryEveryMs: number; staleAfterMs: number };
  ercotLoad: { enabled: boolean; everyMs: number; offsetMs: number; actual: boolean; forecast: boolean; staleAfterMs: number };
  mempool: { enabled: boolean; baseUrl: string; everyMs: number; dailyEveryMs: number; interval: (typeof MEMPOOL_INTERVALS)[number]; staleAfterMs: number };
  timeoutMs: number;
  backoff: { baseDelayMs: number; maxDelayMs: number };
}

const MIN = 60_000;

/** Fills the defaults of a validated section (an absent section runs every feed with defaults). */
export function resolveLiveFeedsConfig(c: LiveFeedsConfigFile = {}): LiveFeedsConfig {
  const [h, m] = (c.ercotDa?.publishAtCpt ?? '13:30').split(':').map(Number) as [number, number];
  return {
    settlementPoints: c.settlementPoints ?? ['HB_WEST'],
    ercot: {
      channel: c.ercot?.channel ?? 'mis',
      misBaseUrl: c.ercot?.misBaseUrl ?? DEFAULT_MIS_BASE_URL,
      api: {
        baseUrl: c.ercot?.api?.baseUrl ?? DEFAULT_API_BASE_URL,
        tokenUrl: c.ercot?.api?.tokenUrl ?? DEFAULT_TOKEN_URL,
        subscriptionKeyEnv: c.ercot?.api?.subscriptionKeyEnv ?? 'ERCOT_API_SUBSCRIPTION_KEY',
        idTokenEnv: c.ercot?.api?.idTokenEnv ?? 'ERCOT_API_ID_TOKEN',
        usernameEnv: c.ercot?.api?.usernameEnv ?? 'ERCOT_API_USERNAME',
        passwordEnv: c.ercot?.api?.passwordEnv ?? 'ERCOT_API_PASSWORD',
      },
    },
    ercotRt: {
      enabled: c.ercotRt?.enabled ?? true,
      everyMs: (c.ercotRt?.everyMinutes ?? 15) * MIN,
      publishDelayMs: (c.ercotRt?.publishDelayS ?? 120) * 1000,
      backfillMs: (c.ercotRt?.backfillMinutes ?? 180) * MIN,
      staleAfterMs: (c.ercotRt?.staleAfterMinutes ?? 45) * MIN,
    },
    ercotDa: {
      enabled: c.ercotDa?.enabled ?? true,
      publishAtMinuteCpt: h * 60 + m,
      retryEveryMs: (c.ercotDa?.retryEveryMinutes ?? 15) * MIN,
      staleAfterMs: (c.ercotDa?.staleAfterMinutes ?? 1) * MIN,
    },
    ercotLoad: {
      enabled: c.ercotLoad?.enabled ?? true,
      everyMs: (c.ercotLoad?.everyMinutes ?? 60) * MIN,
      offsetMs: (c.ercotLoad?.offsetMinutes ?? 10) * MIN,
      actual: c.ercotLoad?.actual ?? true,
      forecast: c.ercotLoad?.forecast ?? true,
      staleAfterMs: (c.ercotLoad?.staleAfterMinutes ?? 180) * MIN,
    },
    mempool: {
      enabled: c.mempool?.enabled ?? true,
      baseUrl: c.mempool?.baseUrl ?? DEFAULT_MEMPOOL_BASE_URL,
      everyMs: (c.mempool?.everyMinutes ?? 5) * MIN,
      dailyEveryMs: (c.mempool?.dailyEveryMinutes ?? 60) * MIN,
      interval: c.mempool?.interval ?? '1w',
      staleAfterMs: (c.mempool?.staleAfterMinutes ?? 30) * MIN,
    },
    timeoutMs: (c.timeoutS ?? 30) * 1000,
    backoff: { baseDelayMs: (c.backoff?.baseS ?? 5) * 1000, maxDelayMs: (c.backoff?.maxS ?? 600) * 1000 },
  };
}
