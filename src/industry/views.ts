/**
 * The wire schemas of the analyst API (`/api/v1/industry/...`): what `analytics.ts` computes, as
 * zod, so the route table and its OpenAPI document describe the replies. Every figure names its
 * source URL(s).
 */
import { z } from 'zod';
import { DEAL_KINDS, METRIC_NAMES, SOURCE_KINDS } from './schema.js';
import { MW_METRICS, VALUE_METRICS } from './analytics.js';

const url = z.string();

export const industrySummarySchema = z.object({
  files: z.array(z.object({ file: z.string(), kind: z.string(), rows: z.number().int(), importedAt: z.string() })),
  companies: z.array(z.string()),
});

export const mwReplySchema = z.object({
  facts: z.array(z.object({ company: z.string(), period: z.string(), asOf: z.string(), metric: z.enum(MW_METRICS), mw: z.number(), sourceUrl: url, sourceKind: z.string(), note: z.string() })),
  signed: z.array(z.object({ company: z.string(), steps: z.array(z.object({ announced: z.string(), tenant: z.string(), itMW: z.number(), cumulativeMW: z.number(), sourceUrl: url })) })),
});

export const revenueMixReplySchema = z.object({
  rows: z.array(
    z.object({
      company: z.string(),
      period: z.string(),
      bitcoinUsd: z.number().nullable(),
      aiHpcUsd: z.number().nullable(),
      hostingUsd: z.number().nullable(),
      otherUsd: z.number().nullable(),
      totalUsd: z.number().nullable(),
      aiSharePct: z.number().nullable(),
      sources: z.array(z.object({ metric: z.string(), url })),
    }),
  ),
});

export const dealsReplySchema = z.object({
  deals: z.array(
    z.object({
      announced: z.string(),
      miner: z.string(),
      tenant: z.string(),
      site: z.string(),
      kind: z.enum(DEAL_KINDS),
      itMW: z.number().nullable(),
      termYears: z.number().nullable(),
      totalValueUsd: z.number().nullable(),
      annualValueUsd: z.number().nullable(),
      impliedUsdPerKwMonth: z.number().nullable().describe('derived here: total ÷ kW ÷ term months, or annual ÷ kW ÷ 12'),
      basis: z.string().nullable(),
      aggregate: z.boolean(),
      comparable: z.boolean(),
      caveats: z.array(z.string()),
      sourceUrl: url,
      sourceKind: z.string(),
      note: z.string(),
    }),
  ),
});

export const valuePerMwReplySchema = z.object({
  rows: z.array(z.object({ company: z.string(), period: z.string(), valueMetric: z.enum(VALUE_METRICS), valueUsd: z.number(), mwMetric: z.enum(MW_METRICS), mw: z.number(), usdPerMW: z.number(), sources: z.array(url) })),
});

export const factsQuerySchema = z.strictObject({
  company: z.string().max(200).optional(),
  metric: z.enum(METRIC_NAMES as [string, ...string[]]).optional(),
});

export const factsReplySchema = z.object({
  facts: z.array(
    z.object({
      company: z.string(),
      ticker: z.string(),
      period: z.string(),
      metric: z.string(),
      value: z.number(),
      unit: z.string(),
      asOf: z.string(),
      sourceUrl: url,
      sourceKind: z.enum(SOURCE_KINDS),
      note: z.string(),
      file: z.string(),
      line: z.number().int(),
    }),
  ),
});
