/**
 * Published miner → AI-tenant deals: the record shape, its validation schema for user files,
 * merging with the built-in list, and the implied metrics ($/kW-month, $/MWh of IT, $/MW-year).
 * Pure: no I/O (src/catalog/load.ts reads user files).
 */
import { z } from 'zod';
import { valueContract } from './contract.js';
import { MONTHS_PER_YEAR } from './lease.js';
import { atMost, LIMITS } from '../core/limits.js';

export type DealKind = 'lease' | 'gpu-cloud';

export interface Deal {
  /** Stable identifier; a user deal with a built-in's id replaces it. */
  id: string;
  miner: string;
  tenant: string;
  siteOrNote: string;
  /** 'lease' = powered shell / colocation; 'gpu-cloud' = the miner also owns and runs the GPUs. */
  kind: DealKind;
  /** Critical IT capacity, MW. */
  itMW: number;
  termYears: number;
  /** Exactly one of totalValueUsd / annualUsd is non-null. */
  totalValueUsd: number | null;
  /** Average annual value, USD per year. */
  annualUsd: number | null;
  /** Annual escalator, %/yr; null = not disclosed (metrics then assume a level rate). */
  escalatorPct: number | null;
  /** Prepaid share of the total, %; null = none disclosed. */
  prepayPct: number | null;
  /** Who guarantees the tenant's payments (e.g. 'Google backstops $1.4B of the lease obligations'); null = none disclosed. */
  backstop: string | null;
  /** Announcement month, YYYY-MM. */
  announced: string;
  /** URL or publication name. */
  source: string;
  notes: string;
}

export interface DealMetrics {
  totalValueUsd: number;
  /** Average annual value (total / years), USD. */
  averageAnnualUsd: number;
  /** Level-equivalent rate: total / (MW × 1000 × months), USD/kW-month. */
  usdPerKwMonth: number;
  /** First-year rate that the disclosed escalator grows to the total, USD/kW-month (= level when no escalator). */
  firstYearUsdPerKwMonth: number;
  /** Level rate per MWh of IT energy at full load, USD/MWh. */
  usdPerMWhIt: number;
  /** USD per MW of critical IT per year (average). */
  revenueUsdPerMwYear: number;
}

/** Implied metrics of a deal; assumes the full MW billed over the whole term (no ramp). */
export function dealMetrics(deal: Deal): DealMetrics {
  const total = deal.totalValueUsd ?? (deal.annualUsd as number) * deal.termYears;
  const v = valueContract({ itMW: deal.itMW, termYears: deal.termYears, totalValueUsd: total, escalatorPct: deal.escalatorPct ?? 0 });
  return {
    totalValueUsd: v.totalValueUsd,
    averageAnnualUsd: v.averageAnnualRevenueUsd,
    usdPerKwMonth: v.usdPerKwMonth,
    firstYearUsdPerKwMonth: v.firstYearUsdPerKwMonth,
    usdPerMWhIt: v.usdPerMWhIt,
    revenueUsdPerMwYear: v.revenueUsdPerMwYear,
  };
}

/**
 * The level monthly rate with the same present value at `discountRatePerYear` over the same term
 * (full MW billed, payments at month ends): it takes out the escalator and puts contracts of
 * different terms on one footing, USD/kW-month.
 */
export function pvLevelUsdPerKwMonth(months: readonly { revenueUsd: number }[], itMW: number, discountRatePerYear: number): number {
  let pv = 0;
  let annuity = 0;
  months.forEach((m, i) => {
    const df = (1 + discountRatePerYear) ** (-(i + 1) / MONTHS_PER_YEAR);
    pv += m.revenueUsd * df;
    annuity += df;
  });
  return pv / (itMW * 1000 * annuity);
}

/** pvLevelUsdPerKwMonth of a published deal (no ramp, its disclosed escalator or none). */
export function dealPvLevelUsdPerKwMonth(deal: Deal, discountRatePerYear: number): number {
  const total = deal.totalValueUsd ?? (deal.annualUsd as number) * deal.termYears;
  const v = valueContract({ itMW: deal.itMW, termYears: deal.termYears, totalValueUsd: total, escalatorPct: deal.escalatorPct ?? 0 });
  return pvLevelUsdPerKwMonth(v.months, deal.itMW, discountRatePerYear);
}

/** 'IREN', 'Microsoft', '2025-11' → 'iren-microsoft-2025-11'. */
export function dealId(miner: string, tenant: string, announced: string): string {
  return `${miner}-${tenant}-${announced}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

const positive = (what: string) => z.number().positive(`${what} must be > 0`);

/** A deal as written in a user's YAML/JSON file. */
export const DealInputSchema = z
  .strictObject({
    id: z.string().trim().min(1).optional(),
    miner: z.string().trim().min(1, 'miner must not be empty'),
    tenant: z.string().trim().min(1, 'tenant must not be empty'),
    siteOrNote: z.string().default(''),
    kind: z.enum(['lease', 'gpu-cloud']).default('lease'),
    itMW: positive('itMW').max(...atMost(LIMITS.siteMW, 'MW')),
    termYears: positive('termYears').max(...atMost(LIMITS.contractYears, 'years')),
    totalValueUsd: positive('totalValueUsd').max(...atMost(LIMITS.usd, 'USD')).optional(),
    annualUsd: positive('annualUsd').max(...atMost(LIMITS.usd, 'USD')).optional(),
    escalatorPct: z.number().gt(-100).lt(100).nullable().optional(),
    prepayPct: z.number().min(0).max(100).nullable().optional(),
    backstop: z.string().trim().min(1, 'backstop must not be empty (omit it or write who guarantees the payments)').nullable().optional(),
    announced: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'announced must be YYYY-MM'),
    source: z.string().trim().min(1, 'source must not be empty (URL or publication name)'),
    notes: z.string().default(''),
  })
  .superRefine((d, ctx) => {
    if ((d.totalValueUsd === undefined) === (d.annualUsd === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['totalValueUsd'], message: 'give exactly one of totalValueUsd or annualUsd' });
    }
    const months = d.termYears * MONTHS_PER_YEAR;
    if (Math.abs(months - Math.round(months)) > 1e-6) {
      ctx.addIssue({ code: 'custom', path: ['termYears'], message: `${d.termYears} years is not a whole number of months` });
    }
  });

export type DealInput = z.output<typeof DealInputSchema>;

export function dealFromInput(d: DealInput): Deal {
  return {
    id: d.id ?? dealId(d.miner, d.tenant, d.announced),
    miner: d.miner,
    tenant: d.tenant,
    siteOrNote: d.siteOrNote,
    kind: d.kind,
    itMW: d.itMW,
    termYears: d.termYears,
    totalValueUsd: d.totalValueUsd ?? null,
    annualUsd: d.annualUsd ?? null,
    escalatorPct: d.escalatorPct ?? null,
    prepayPct: d.prepayPct ?? null,
    backstop: d.backstop ?? null,
    announced: d.announced,
    source: d.source,
    notes: d.notes,
  };
}

const DealListSchema = z.array(DealInputSchema).superRefine((deals, ctx) => {
  const seen = new Map<string, number>();
  deals.forEach((d, i) => {
    const id = d.id ?? dealId(d.miner, d.tenant, d.announced);
    const first = seen.get(id);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate deal id '${id}' (also item ${first}); give each an explicit distinct id` });
    else seen.set(id, i);
  });
});

const DealsObjectSchema = z.strictObject({ deals: DealListSchema });

/** Schema for a deals file: a bare list, or `{ deals: [...] }` (paths then start with `deals`). */
export function dealsFileSchema(raw: unknown) {
  return Array.isArray(raw) ? DealListSchema.transform((deals) => ({ deals })) : DealsObjectSchema;
}

export interface MergedDeals {
  deals: Deal[];
  /** Human notes about user deals that replaced built-in ones. */
  overrides: string[];
}

/** Built-in deals, then the user's; a user deal with a built-in's id replaces it in place. */
export function mergeDeals(builtIn: readonly Deal[], extra: readonly Deal[]): MergedDeals {
  const deals = [...builtIn];
  const overrides: string[] = [];
  for (const d of extra) {
    const idx = deals.findIndex((b) => b.id === d.id);
    if (idx >= 0) {
      overrides.push(`user file overrides built-in deal '${d.id}'`);
      deals[idx] = d;
    } else deals.push(d);
  }
  return { deals, overrides };
}

export interface ProposalComparison {
  /** Level-equivalent rate of the proposal, USD/kW-month. */
  usdPerKwMonth: number;
  /** Deals of the same kind it is compared with. */
  peers: number;
  /** How many of those peers have a lower level rate. */
  peersBelow: number;
  /** Share of peers priced below the proposal, percent (0–100). */
  percentile: number;
  /** Median peer level rate, USD/kW-month (NaN without peers). */
  medianPeerUsdPerKwMonth: number;
  /** Proposal minus the median peer, USD/kW-month. */
  vsMedianUsdPerKwMonth: number;
}

/**
 * Where a proposed contract's level rate (USD/kW-month) stands among deals of the same kind:
 * leases are compared with leases only, since a GPU-cloud price includes the GPUs.
 */
export function compareProposal(proposalUsdPerKwMonth: number, kind: DealKind, deals: readonly Deal[], rateOf: (d: Deal) => number = (d) => dealMetrics(d).usdPerKwMonth): ProposalComparison {
  const rates = deals
    .filter((d) => d.kind === kind)
    .map(rateOf)
    .sort((a, b) => a - b);
  const below = rates.filter((r) => r < proposalUsdPerKwMonth).length;
  const mid = rates.length / 2;
  const median = rates.length === 0 ? NaN : rates.length % 2 ? (rates[Math.floor(mid)] as number) : ((rates[mid - 1] as number) + (rates[mid] as number)) / 2;
  return {
    usdPerKwMonth: proposalUsdPerKwMonth,
    peers: rates.length,
    peersBelow: below,
    percentile: rates.length ? (100 * below) / rates.length : NaN,
    medianPeerUsdPerKwMonth: median,
    vsMedianUsdPerKwMonth: proposalUsdPerKwMonth - median,
  };
}
