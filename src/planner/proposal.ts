/**
 * A proposed AI capacity contract from the landlord's side: what it is worth (NPV per MW of IT at a
 * stated discount rate), its rate normalised for escalator and term (the level rate with the same
 * present value), where that stands among published deals of the same kind, and the landlord's IRR
 * on the conversion capex it needs (capex spread over the lead time, rent from delivery for the
 * term, opex while it runs; energy passed through to the tenant, no renewal or residual value).
 * Pure: the CLI reads the deals and, optionally, a portfolio site's conversion assumptions.
 */
import { valueContract, type ContractValuation } from '../compute/contract.js';
import { compareProposal, dealPvLevelUsdPerKwMonth, pvLevelUsdPerKwMonth, type Deal, type DealKind, type ProposalComparison } from '../compute/deals.js';
import { MONTHS_PER_YEAR } from '../compute/lease.js';
import { irrAnnual, paybackMonths } from './irr.js';

/**
 * Conversion assumptions when neither flags nor a portfolio give them: the middle of the product
 * brief's "~8–11 M USD per MW" AI-ready conversion, the example portfolio's 18-month lead time and
 * 90,000 USD/MW-year of opex.
 */
export const DEFAULT_CONVERSION = { capexUsdPerMW: 9_500_000, leadTimeMonths: 18, opexUsdPerMWYear: 90_000 } as const;
/** Discount rate when none is given, %/yr (the example portfolio's). */
export const DEFAULT_DISCOUNT_RATE_PCT = 10;

export interface ProposalInput {
  kind: DealKind;
  itMW: number;
  termYears: number;
  totalValueUsd?: number;
  usdPerKwMonth?: number;
  escalatorPct: number;
  prepayPct: number;
  discountRatePct: number;
  conversion: { capexUsdPerMW: number; leadTimeMonths: number; opexUsdPerMWYear: number; source: string };
  tenant: string | null;
  backstop: string | null;
}

export interface ProposalResult {
  kind: DealKind;
  tenant: string | null;
  backstop: string | null;
  itMW: number;
  termYears: number;
  escalatorPct: number;
  prepayPct: number;
  totalValueUsd: number;
  firstYearUsdPerKwMonth: number;
  /** total / (MW × 1000 × months), USD/kW-month. */
  levelUsdPerKwMonth: number;
  discountRatePct: number;
  /** Level rate with the same PV at the discount rate: escalator- and term-normalised, USD/kW-month. */
  pvLevelUsdPerKwMonth: number;
  /** PV at signing of the contract's cash (rent from delivery, prepayment at signing), per MW of IT, USD/MW. */
  contractNpvUsdPerMw: number;
  conversion: {
    capexUsdPerMW: number;
    leadTimeMonths: number;
    opexUsdPerMWYear: number;
    source: string;
    /** Landlord's IRR on the conversion, %/yr; null when the cash never turns positive. */
    landlordIrrPct: number | null;
    /** NPV of the conversion at the discount rate (contract cash − capex − opex), per MW of IT, USD/MW. */
    landlordNpvUsdPerMw: number;
    /** Years from the first capex until the cumulative cash is back to zero; null: not within the term. */
    paybackYears: number | null;
  };
  /** Level rate among same-kind deals. */
  comparison: ProposalComparison;
  /** Escalator- and term-normalised rate among same-kind deals, at the same discount rate. */
  comparisonNormalised: ProposalComparison;
}

/** Values the proposal and places it among `deals`. */
export function evaluateProposal(p: ProposalInput, deals: readonly Deal[]): ProposalResult {
  const r = p.discountRatePct / 100;
  const v: ContractValuation = valueContract({
    itMW: p.itMW,
    termYears: p.termYears,
    ...(p.totalValueUsd === undefined ? {} : { totalValueUsd: p.totalValueUsd }),
    ...(p.usdPerKwMonth === undefined ? {} : { usdPerKwMonth: p.usdPerKwMonth }),
    escalatorPct: p.escalatorPct,
    prepayPct: p.prepayPct,
  });
  // Landlord cash per MW by month from signing (c[j] at month j; see planner/irr.ts): capex at the
  // starts of the lead months, prepayment at signing, rent and opex at the ends of the term months.
  const lead = Math.max(0, Math.round(p.conversion.leadTimeMonths));
  const c = new Float64Array(lead + v.termMonths + 1);
  const capex = p.conversion.capexUsdPerMW;
  if (lead === 0) c[0] = (c[0] as number) - capex;
  for (let k = 0; k < lead; k++) c[k] = (c[k] as number) - capex / lead;
  c[0] = (c[0] as number) + v.prepaymentUsd / p.itMW;
  const opex = p.conversion.opexUsdPerMWYear / MONTHS_PER_YEAR;
  let contractPv = v.prepaymentUsd / p.itMW;
  v.months.forEach((m, i) => {
    const j = lead + i + 1;
    c[j] = (c[j] as number) + m.cashUsd / p.itMW - opex;
    contractPv += (m.cashUsd / p.itMW) * (1 + r) ** (-j / MONTHS_PER_YEAR);
  });
  let npv = 0;
  c.forEach((x, j) => {
    npv += x * (1 + r) ** (-j / MONTHS_PER_YEAR);
  });
  const irr = irrAnnual(c);
  const pb = paybackMonths(c);
  const rateOfDeal = (d: Deal) => dealPvLevelUsdPerKwMonth(d, r);
  const pvLevel = pvLevelUsdPerKwMonth(v.months, p.itMW, r);
  return {
    kind: p.kind,
    tenant: p.tenant,
    backstop: p.backstop,
    itMW: p.itMW,
    termYears: p.termYears,
    escalatorPct: p.escalatorPct,
    prepayPct: p.prepayPct,
    totalValueUsd: v.totalValueUsd,
    firstYearUsdPerKwMonth: v.firstYearUsdPerKwMonth,
    levelUsdPerKwMonth: v.usdPerKwMonth,
    discountRatePct: p.discountRatePct,
    pvLevelUsdPerKwMonth: pvLevel,
    contractNpvUsdPerMw: contractPv,
    conversion: {
      capexUsdPerMW: capex,
      leadTimeMonths: lead,
      opexUsdPerMWYear: p.conversion.opexUsdPerMWYear,
      source: p.conversion.source,
      landlordIrrPct: Number.isFinite(irr) ? 100 * irr : null,
      landlordNpvUsdPerMw: npv,
      paybackYears: Number.isFinite(pb) ? pb / 12 : null,
    },
    comparison: compareProposal(v.usdPerKwMonth, p.kind, deals),
    comparisonNormalised: compareProposal(pvLevel, p.kind, deals, rateOfDeal),
  };
}
