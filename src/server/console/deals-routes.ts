/**
 * The published miner → AI-tenant deals and where a proposal stands among them (under /api/v1/deals):
 * the same valuation as `mullet deals --propose-*` (planner/proposal.ts: level and PV-level rate,
 * contract NPV per MW, the landlord's IRR on the conversion, and the proposal's rank among deals of
 * the same kind). Read-only computations for anyone who may read (`site:read`): GETs, nothing stored,
 * nothing audited.
 */
import { z } from 'zod';
import { loadDeals } from '../../catalog/load.js';
import { LIMITS } from '../../core/limits.js';
import { dealMetrics } from '../../compute/deals.js';
import { DEFAULT_CONVERSION, DEFAULT_DISCOUNT_RATE_PCT, evaluateProposal } from '../../planner/proposal.js';
import { route, type AnyRoute } from './define.js';

const READ = { kind: 'permission', permission: 'site:read' } as const;

const num = (min: number, max: number) => z.coerce.number().finite().min(min).max(max);

/** A proposal in query parameters: capacity, term, and exactly one of the total value or the first-year rate. */
export const proposalQuerySchema = z
  .object({
    itMW: num(0.001, LIMITS.siteMW),
    termYears: num(0.1, LIMITS.contractYears),
    totalValueUsd: num(1, LIMITS.usd).optional(),
    usdPerKwMonth: num(0.01, LIMITS.usdPerKwMonth).optional(),
    escalatorPct: num(-LIMITS.ratePct + 0.01, LIMITS.ratePct).default(0),
    prepayPct: num(0, 100).default(0),
    kind: z.enum(['lease', 'gpu-cloud']).default('lease'),
    discountRatePct: num(-LIMITS.ratePct + 0.01, 99.99).default(DEFAULT_DISCOUNT_RATE_PCT),
    capexUsdPerMW: num(0, LIMITS.usd).default(DEFAULT_CONVERSION.capexUsdPerMW),
    leadTimeMonths: z.coerce.number().int().min(0).max(120).default(DEFAULT_CONVERSION.leadTimeMonths),
    opexUsdPerMWYear: num(0, LIMITS.usd).default(DEFAULT_CONVERSION.opexUsdPerMWYear),
  })
  .refine((q) => (q.totalValueUsd === undefined) !== (q.usdPerKwMonth === undefined), { message: 'give exactly one of totalValueUsd or usdPerKwMonth', path: ['totalValueUsd'] });

const comparisonSchema = z.object({ usdPerKwMonth: z.number(), peers: z.number(), peersBelow: z.number(), percentile: z.number().nullable(), medianPeerUsdPerKwMonth: z.number().nullable(), vsMedianUsdPerKwMonth: z.number().nullable() });

export const proposalReplySchema = z.object({
  kind: z.enum(['lease', 'gpu-cloud']),
  itMW: z.number(),
  termYears: z.number(),
  totalValueUsd: z.number(),
  firstYearUsdPerKwMonth: z.number(),
  levelUsdPerKwMonth: z.number(),
  pvLevelUsdPerKwMonth: z.number(),
  discountRatePct: z.number(),
  contractNpvUsdPerMw: z.number(),
  conversion: z.object({ capexUsdPerMW: z.number(), leadTimeMonths: z.number(), opexUsdPerMWYear: z.number(), source: z.string(), landlordIrrPct: z.number().nullable(), landlordNpvUsdPerMw: z.number(), paybackYears: z.number().nullable() }),
  comparison: comparisonSchema,
  comparisonNormalised: comparisonSchema,
});

export const dealsReplySchema = z.object({
  deals: z.array(
    z.object({ id: z.string(), miner: z.string(), tenant: z.string(), kind: z.string(), itMW: z.number(), termYears: z.number(), announced: z.string(), source: z.string(), usdPerKwMonth: z.number(), firstYearUsdPerKwMonth: z.number(), totalValueUsd: z.number() }),
  ),
});

/** NaN (no peers) is not JSON: null. */
const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function dealsRoutes(): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/deals',
      operationId: 'deals.list',
      summary: 'Published miner → AI-tenant deals with their implied USD/kW-month (level and first-year)',
      tag: 'deals',
      access: READ,
      replies: { 200: { description: 'deals', schema: dealsReplySchema } },
      handler: async ({ c }) => {
        const { deals } = await loadDeals();
        return c.json({
          deals: deals.map((d) => {
            const m = dealMetrics(d);
            return { id: d.id, miner: d.miner, tenant: d.tenant, kind: d.kind, itMW: d.itMW, termYears: d.termYears, announced: d.announced, source: d.source, usdPerKwMonth: m.usdPerKwMonth, firstYearUsdPerKwMonth: m.firstYearUsdPerKwMonth, totalValueUsd: m.totalValueUsd };
          }),
        });
      },
    }),
    route({
      method: 'get',
      path: '/deals/proposal',
      operationId: 'deals.proposal',
      summary: 'A proposal valued (level and PV-level rate, NPV per MW, landlord IRR) and ranked among published deals of its kind',
      tag: 'deals',
      access: READ,
      query: proposalQuerySchema,
      replies: { 200: { description: 'the valued proposal and its rank', schema: proposalReplySchema } },
      handler: async ({ c, query: q }) => {
        const { deals } = await loadDeals();
        const r = evaluateProposal(
          {
            kind: q.kind,
            itMW: q.itMW,
            termYears: q.termYears,
            ...(q.totalValueUsd === undefined ? {} : { totalValueUsd: q.totalValueUsd }),
            ...(q.usdPerKwMonth === undefined ? {} : { usdPerKwMonth: q.usdPerKwMonth }),
            escalatorPct: q.escalatorPct,
            prepayPct: q.prepayPct,
            discountRatePct: q.discountRatePct,
            conversion: { capexUsdPerMW: q.capexUsdPerMW, leadTimeMonths: q.leadTimeMonths, opexUsdPerMWYear: q.opexUsdPerMWYear, source: 'request' },
            tenant: null,
            backstop: null,
          },
          deals,
        );
        const cmp = (x: typeof r.comparison) => ({ ...x, percentile: orNull(x.percentile), medianPeerUsdPerKwMonth: orNull(x.medianPeerUsdPerKwMonth), vsMedianUsdPerKwMonth: orNull(x.vsMedianUsdPerKwMonth) });
        return c.json({
          kind: r.kind,
          itMW: r.itMW,
          termYears: r.termYears,
          totalValueUsd: r.totalValueUsd,
          firstYearUsdPerKwMonth: r.firstYearUsdPerKwMonth,
          levelUsdPerKwMonth: r.levelUsdPerKwMonth,
          pvLevelUsdPerKwMonth: r.pvLevelUsdPerKwMonth,
          discountRatePct: r.discountRatePct,
          contractNpvUsdPerMw: r.contractNpvUsdPerMw,
          conversion: r.conversion,
          comparison: cmp(r.comparison),
          comparisonNormalised: cmp(r.comparisonNormalised),
        });
      },
    }),
  ];
}
