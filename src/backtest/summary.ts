/** The back-test's result document (the `--json` output) and the policy comparison with regret. */
import { formatCpt } from '../core/ercot-time.js';
import { explainIdentical, samePlan, type RegretBreakdown } from '../dispatch/compare.js';
import type { Ledger, LedgerTotals } from '../dispatch/ledger.js';
import type { DispatchInput, Plan, PolicyResult } from '../dispatch/types.js';
import type { BacktestData } from './data.js';

/** The ledger's totals (4CP peaks with their hours written out), plus what the run itself adds. */
export interface PolicySummary extends Omit<LedgerTotals, 'fourCpDemandsMW' | 'ancillary'> {
  /** Gross grid-service revenue by product (RRS, ECRS, NSPIN, ERS-10, ERS-30), USD; sums to revenueUsd.ancillary. */
  ancillaryByProduct: Record<string, number>;
  /** Deployments and shortfalls (their money is already in the streams). */
  ancillary: Omit<LedgerTotals['ancillary'], 'byProductUsd'>;
  /** What each product added to this policy's net (leave-one-out re-runs), USD; present with --compare when products are offered. */
  ancillaryValueByProduct?: Record<string, number | null>;
  policy: string;
  intervals: number;
  /** Per 4CP month: the interval that set the site's demand (official, or the worst estimated candidate). */
  fourCpDemandsMW: { month: string; basis: 'official' | 'estimated'; intervalStartUtc: string | null; intervalStartLocal: string | null; demandMW: number; usdPerKwYear: number; chargeUsd: number }[];
  solveSeconds: number;
  safeFallbacks: number;
  /** Present in a comparison that includes optimal: optimal net − this net, USD and % of optimal. */
  regretVsOptimalUsd?: number;
  regretVsOptimalPct?: number;
  /** net(reference) − net(this policy) split by cause and by ledger stream (reference: optimal unless --regret-vs). */
  regretByCause?: RegretBreakdown;
  notes: string[];
}

export interface BacktestDocument {
  site: string;
  settlementPoint: string;
  window: { from: string; to: string; fromUtc: string; toUtc: string };
  expectedIntervals: number;
  intervals: number;
  gaps: { missingIntervals: number; ranges: { fromUtc: string; toUtc: string; intervals: number; reason: string }[] };
  hashprice: { source: string; meanUsdPerPhDay: number };
  /**
   * Per 4CP month: ERCOT's settlement interval (`intervalStartUtc`, 15-minute start) when `basis` is
   * 'official'; when 'estimated' it is null and the tag is the worst of the candidate intervals
   * [candidatesFromUtc, candidatesToUtc). `hourStartUtc`: hour of highest hourly ERCOT load, if known.
   */
  fourCpPeaks: {
    month: string;
    basis: 'official' | 'estimated';
    intervalStartUtc: string | null;
    intervalStartLocal: string | null;
    candidateIntervals: number;
    candidatesFromUtc: string;
    candidatesToUtc: string;
    systemLoadMW: number | null;
    hourStartUtc: string | null;
    hourStartLocal: string | null;
    monthComplete: boolean;
    usdPerKwYear: number;
    rateSource: string;
  }[];
  /** Pairs of policies that dispatched identically, and why. */
  identical: { policies: [string, string]; why: string }[];
  notes: string[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
/** A formatted instant, or null when there is none (NaN). */
const opt = (ms: number, f: (ms: number) => string): string | null => (Number.isFinite(ms) ? f(ms) : null);

export function summarizePolicy(input: DispatchInput, result: PolicyResult, ledger: Ledger): PolicySummary {
  const t = ledger.totals;
  return {
    policy: result.plan.policy,
    intervals: input.startMs.length,
    netUsd: round(t.netUsd),
    revenueUsd: {
      ai: round(t.revenueUsd.ai),
      mining: round(t.revenueUsd.mining),
      powerResale: round(t.revenueUsd.powerResale),
      aiFlex: round(t.revenueUsd.aiFlex),
      aiPassThrough: round(t.revenueUsd.aiPassThrough),
      ancillary: round(t.revenueUsd.ancillary),
    },
    costUsd: { energy: round(t.costUsd.energy), ppa: round(t.costUsd.ppa), transmission: round(t.costUsd.transmission), ancillaryPenalty: round(t.costUsd.ancillaryPenalty) },
    ancillaryByProduct: Object.fromEntries(Object.entries(t.ancillary.byProductUsd).map(([p, v]) => [p, round(v)])),
    ancillary: { deploymentUsd: round(t.ancillary.deploymentUsd), deployedMWh: round(t.ancillary.deployedMWh, 3), missedMWh: round(t.ancillary.missedMWh, 3), shortfallMWh: round(t.ancillary.shortfallMWh, 3) },
    miningEnergyMWh: round(t.miningEnergyMWh, 3),
    curtailedMWh: round(t.curtailedMWh, 3),
    miningUptimePct: round(t.miningUptimePct, 3),
    fourCpTagMW: round(t.fourCpTagMW, 4),
    fourCpDemandsMW: t.fourCpDemandsMW.map((d) => ({
      month: d.month,
      basis: d.basis,
      intervalStartUtc: opt(d.intervalStartMs, iso),
      intervalStartLocal: opt(d.intervalStartMs, formatCpt),
      demandMW: round(d.demandMW, 4),
      usdPerKwYear: d.usdPerKwYear,
      chargeUsd: round(d.chargeUsd),
    })),
    resaleMWh: round(t.resaleMWh, 3),
    siteEnergyMWh: round(t.siteEnergyMWh, 3),
    deferrableShortfallMWh: round(t.deferrableShortfallMWh, 3),
    importLimitViolations: t.importLimitViolations,
    solveSeconds: round(result.solveSeconds, 3),
    safeFallbacks: result.safeFallbacks,
    fleets: t.fleets.map((f) => ({ name: f.name, energyMWh: round(f.energyMWh, 3), revenueUsd: round(f.revenueUsd), uptimePct: round(f.uptimePct, 3) })),
    notes: result.notes,
  };
}

/** Adds regret vs optimal to every summary when optimal is among them. */
export function addRegret(summaries: PolicySummary[]): void {
  const opt = summaries.find((s) => s.policy === 'optimal');
  if (!opt) return;
  for (const s of summaries) {
    s.regretVsOptimalUsd = round(opt.netUsd - s.netUsd);
    s.regretVsOptimalPct = opt.netUsd !== 0 ? round((100 * (opt.netUsd - s.netUsd)) / Math.abs(opt.netUsd), 3) : 0;
  }
}

export function backtestDocument(siteName: string, point: string, from: string, to: string, data: BacktestData, input: DispatchInput, hashpriceSource: string, notes: string[]): BacktestDocument {
  return {
    site: siteName,
    settlementPoint: point,
    window: { from, to, fromUtc: iso(data.series.fromMs), toUtc: iso(data.series.toMs) },
    expectedIntervals: data.expectedIntervals,
    intervals: input.startMs.length,
    gaps: {
      missingIntervals: data.gaps.reduce((s, g) => s + g.intervals, 0),
      ranges: data.gaps.map((g) => ({ fromUtc: iso(g.fromMs), toUtc: iso(g.toMs), intervals: g.intervals, reason: g.reason })),
    },
    hashprice: { source: hashpriceSource, meanUsdPerPhDay: round(data.meanHashpriceUsdPerPhDay, 4) },
    fourCpPeaks: input.fourCpPeaks.map((p) => ({
      month: p.month,
      basis: p.basis,
      intervalStartUtc: opt(p.intervalStartMs, iso),
      intervalStartLocal: opt(p.intervalStartMs, formatCpt),
      candidateIntervals: p.candidateStartMs.length,
      candidatesFromUtc: iso(p.candidateStartMs[0] as number),
      candidatesToUtc: iso((p.candidateStartMs[p.candidateStartMs.length - 1] as number) + input.intervalMinutes * 60_000),
      systemLoadMW: Number.isFinite(p.systemLoadMW) ? p.systemLoadMW : null,
      hourStartUtc: opt(p.hourStartMs, iso),
      hourStartLocal: opt(p.hourStartMs, formatCpt),
      monthComplete: p.monthComplete,
      usdPerKwYear: p.usdPerKwYear,
      rateSource: p.rateSource,
    })),
    identical: [],
    notes,
  };
}

/** The breakdown with USD to the cent and MWh to the kWh. */
export function roundBreakdown(b: RegretBreakdown): RegretBreakdown {
  const s = b.byStreamUsd;
  return {
    ...b,
    gapUsd: round(b.gapUsd),
    causes: b.causes.map((c) => ({ ...c, usd: round(c.usd), fleetMWh: round(c.fleetMWh, 3) })),
    byStreamUsd: {
      mining: round(s.mining),
      powerResale: round(s.powerResale),
      ai: round(s.ai),
      aiFlex: round(s.aiFlex),
      aiPassThrough: round(s.aiPassThrough),
      ancillary: round(s.ancillary),
      energy: round(s.energy),
      ppa: round(s.ppa),
      transmission: round(s.transmission),
      ancillaryPenalty: round(s.ancillaryPenalty),
    },
  };
}

/** Every pair of runs whose plans are identical, with the reason. */
export function identicalPairs(input: DispatchInput, runs: readonly { result: { plan: Plan } }[]): { policies: [string, string]; why: string }[] {
  const out: { policies: [string, string]; why: string }[] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = (runs[i] as { result: { plan: Plan } }).result.plan;
      const b = (runs[j] as { result: { plan: Plan } }).result.plan;
      if (samePlan(a, b)) out.push({ policies: [a.policy, b.policy], why: explainIdentical(input, a, b) });
    }
  }
  return out;
}
