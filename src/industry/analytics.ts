/**
 * The analyst's figures from stored facts (pure: no I/O). Every figure carries the source URL(s) of
 * the facts it is made of; nothing is computed that the data does not support:
 *  - MW by company over time: the MW facts as stated (AI/HPC committed, mining, energized,
 *    contracted/approved), and the AI MW a company has signed, cumulated over its deal announcements;
 *  - revenue mix by company and quarter (Bitcoin mining, AI/HPC, hosting, other) and the AI share;
 *  - contract announcements with the implied USD per kW-month (total ÷ kW ÷ months of the term, or
 *    annual ÷ kW ÷ 12), GPU-cloud contracts flagged as not comparable (they include the GPUs);
 *  - value per MW: market cap or EV over a MW fact of the same company and quarter.
 * Where a cell has several rows: rows from one source are summed (segments of one report), and of
 * several sources the best kind wins (filing > press release > analyst > press), then the first row.
 */
import type { DealFact, MetricFact, MetricName, MetricRow } from './schema.js';

const KIND_RANK: Record<MetricRow['source_kind'], number> = { filing: 0, press_release: 1, analyst: 2, press: 3 };

export const MW_METRICS = ['ai_hpc_mw_committed', 'mining_mw', 'energized_mw', 'contracted_or_approved_mw'] as const satisfies readonly MetricName[];
export const REVENUE_METRICS = ['revenue_bitcoin_mining_usd', 'revenue_ai_hpc_usd', 'revenue_hosting_usd', 'revenue_other_usd', 'revenue_total_usd'] as const satisfies readonly MetricName[];
export const VALUE_METRICS = ['market_cap_usd', 'enterprise_value_usd'] as const satisfies readonly MetricName[];

export interface Figure {
  value: number;
  sources: string[];
}

/** One (company, period, metric) cell, resolved as the header says; null when no row. */
export function resolveCell(rows: readonly MetricFact[]): Figure | null {
  if (rows.length === 0) return null;
  const bySource = new Map<string, MetricFact[]>();
  for (const r of rows) bySource.set(r.row.source_url, [...(bySource.get(r.row.source_url) ?? []), r]);
  let best: { rank: number; line: number; url: string; value: number } | null = null;
  for (const [url, rs] of bySource) {
    const first = rs[0] as MetricFact;
    const rank = KIND_RANK[first.row.source_kind];
    const line = Math.min(...rs.map((r) => r.line));
    if (!best || rank < best.rank || (rank === best.rank && line < best.line)) best = { rank, line, url, value: rs.reduce((a, r) => a + r.row.value, 0) };
  }
  return best ? { value: best.value, sources: [best.url] } : null;
}

function cells(facts: readonly MetricFact[], metrics: readonly MetricName[]): Map<string, MetricFact[]> {
  const want = new Set<MetricName>(metrics);
  const m = new Map<string, MetricFact[]>();
  for (const f of facts) {
    if (!want.has(f.row.metric)) continue;
    const k = JSON.stringify([f.row.company, f.row.period, f.row.metric]);
    m.set(k, [...(m.get(k) ?? []), f]);
  }
  return m;
}

const isQuarter = (p: string): boolean => /^\d{4}Q[1-4]$/.test(p);
const byCompanyPeriod = <T extends { company: string; period: string }>(a: T, b: T): number => a.company.localeCompare(b.company) || a.period.localeCompare(b.period);

export interface MwFact {
  company: string;
  period: string;
  asOf: string;
  metric: (typeof MW_METRICS)[number];
  mw: number;
  sourceUrl: string;
  sourceKind: string;
  note: string;
}

export interface DealStep {
  announced: string;
  tenant: string;
  itMW: number;
  cumulativeMW: number;
  sourceUrl: string;
}

/** MW facts as stated, and each company's signed AI MW cumulated over its dated deals (aggregates skipped). */
export function mwByCompany(facts: readonly MetricFact[], deals: readonly DealFact[]): { facts: MwFact[]; signed: { company: string; steps: DealStep[] }[] } {
  const mw = new Set<string>(MW_METRICS);
  const out: MwFact[] = facts
    .filter((f) => mw.has(f.row.metric))
    .map((f) => ({ company: f.row.company, period: f.row.period, asOf: f.row.as_of, metric: f.row.metric as MwFact['metric'], mw: f.row.value, sourceUrl: f.row.source_url, sourceKind: f.row.source_kind, note: f.row.note }))
    .sort((a, b) => byCompanyPeriod(a, b) || a.asOf.localeCompare(b.asOf) || a.metric.localeCompare(b.metric));
  const byMiner = new Map<string, DealFact[]>();
  for (const d of deals) {
    if (d.aggregate || d.row.it_mw === null || d.row.announced === '') continue;
    byMiner.set(d.row.miner, [...(byMiner.get(d.row.miner) ?? []), d]);
  }
  const signed = [...byMiner.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([company, ds]) => {
      let total = 0;
      const steps = [...ds]
        .sort((a, b) => a.row.announced.localeCompare(b.row.announced) || a.line - b.line)
        .map((d) => {
          total += d.row.it_mw ?? 0;
          return { announced: d.row.announced, tenant: d.row.tenant, itMW: d.row.it_mw ?? 0, cumulativeMW: total, sourceUrl: d.row.source_url };
        });
      return { company, steps };
    });
  return { facts: out, signed };
}

export interface RevenueMixRow {
  company: string;
  period: string;
  bitcoinUsd: number | null;
  aiHpcUsd: number | null;
  hostingUsd: number | null;
  otherUsd: number | null;
  totalUsd: number | null;
  /** AI/HPC ÷ (the segments reported), %; null without an AI/HPC or Bitcoin figure. */
  aiSharePct: number | null;
  sources: { metric: string; url: string }[];
}

/** Revenue by segment per company and calendar quarter (fiscal-year rows left out: they overlap quarters). */
export function revenueMix(facts: readonly MetricFact[]): RevenueMixRow[] {
  const c = cells(
    facts.filter((f) => isQuarter(f.row.period)),
    REVENUE_METRICS,
  );
  const keys = new Map<string, { company: string; period: string }>();
  for (const fs of c.values()) {
    const r = (fs[0] as MetricFact).row;
    keys.set(JSON.stringify([r.company, r.period]), { company: r.company, period: r.period });
  }
  const rows: RevenueMixRow[] = [];
  for (const { company, period } of keys.values()) {
    const sources: RevenueMixRow['sources'] = [];
    const get = (metric: MetricName): number | null => {
      const fig = resolveCell(c.get(JSON.stringify([company, period, metric])) ?? []);
      if (!fig) return null;
      for (const url of fig.sources) sources.push({ metric, url });
      return fig.value;
    };
    const bitcoinUsd = get('revenue_bitcoin_mining_usd');
    const aiHpcUsd = get('revenue_ai_hpc_usd');
    const hostingUsd = get('revenue_hosting_usd');
    const otherUsd = get('revenue_other_usd');
    const totalUsd = get('revenue_total_usd');
    const segments = (bitcoinUsd ?? 0) + (aiHpcUsd ?? 0) + (hostingUsd ?? 0) + (otherUsd ?? 0);
    const aiSharePct = (aiHpcUsd !== null || bitcoinUsd !== null) && segments > 0 ? (100 * (aiHpcUsd ?? 0)) / segments : null;
    rows.push({ company, period, bitcoinUsd, aiHpcUsd, hostingUsd, otherUsd, totalUsd, aiSharePct, sources });
  }
  return rows.sort(byCompanyPeriod);
}

export interface DealView {
  announced: string;
  miner: string;
  tenant: string;
  site: string;
  kind: string;
  itMW: number | null;
  termYears: number | null;
  totalValueUsd: number | null;
  annualValueUsd: number | null;
  /** Derived here (the data stores no $/MW): USD per kW of IT per month. */
  impliedUsdPerKwMonth: number | null;
  /** How it was derived: 'total ÷ kW ÷ term months' or 'annual ÷ kW ÷ 12'. */
  basis: string | null;
  aggregate: boolean;
  /** Comparable with leases: false for GPU-cloud contracts (their value includes the GPUs). */
  comparable: boolean;
  caveats: string[];
  sourceUrl: string;
  sourceKind: string;
  note: string;
}

/** Contract announcements with the implied USD/kW-month, newest first (undated last). */
export function dealViews(deals: readonly DealFact[]): DealView[] {
  return deals
    .map((d): DealView => {
      const r = d.row;
      let implied: number | null = null;
      let basis: string | null = null;
      if (r.it_mw !== null && r.total_value_usd !== null && r.term_years !== null) {
        implied = r.total_value_usd / (r.it_mw * 1000) / (r.term_years * 12);
        basis = 'total ÷ kW ÷ term months';
      } else if (r.it_mw !== null && r.annual_value_usd !== null) {
        implied = r.annual_value_usd / (r.it_mw * 1000) / 12;
        basis = 'annual ÷ kW ÷ 12';
      }
      const caveats: string[] = [];
      if (r.kind === 'gpu-cloud') caveats.push('GPU cloud: the value includes GPU economics, not comparable with leases');
      if (d.aggregate) caveats.push('aggregate of phase rows: do not sum');
      if (/\bgross\b/i.test(r.note)) caveats.push('MW basis: gross (not critical IT) per the note');
      if (/^\d{4}(-\d{2})?$/.test(r.announced)) caveats.push('announcement date known to the ' + (r.announced.length === 4 ? 'year' : 'month') + ' only');
      if (r.announced === '') caveats.push('announcement date unknown');
      return { announced: r.announced, miner: r.miner, tenant: r.tenant, site: r.site, kind: r.kind, itMW: r.it_mw, termYears: r.term_years, totalValueUsd: r.total_value_usd, annualValueUsd: r.annual_value_usd, impliedUsdPerKwMonth: implied, basis, aggregate: d.aggregate, comparable: r.kind !== 'gpu-cloud', caveats, sourceUrl: r.source_url, sourceKind: r.source_kind, note: r.note };
    })
    .sort((a, b) => (a.announced === '' ? 1 : 0) - (b.announced === '' ? 1 : 0) || b.announced.localeCompare(a.announced) || a.miner.localeCompare(b.miner));
}

export interface ValuePerMwRow {
  company: string;
  period: string;
  valueMetric: (typeof VALUE_METRICS)[number];
  valueUsd: number;
  mwMetric: (typeof MW_METRICS)[number];
  mw: number;
  usdPerMW: number;
  sources: string[];
}

/** Market cap / EV over each MW fact of the same company and quarter (the pairing the data README suggests). */
export function valuePerMw(facts: readonly MetricFact[]): ValuePerMwRow[] {
  const q = facts.filter((f) => isQuarter(f.row.period));
  const vc = cells(q, VALUE_METRICS);
  const mc = cells(q, MW_METRICS);
  const rows: ValuePerMwRow[] = [];
  for (const [k, vs] of vc) {
    const [company, period, valueMetric] = JSON.parse(k) as [string, string, ValuePerMwRow['valueMetric']];
    const v = resolveCell(vs);
    if (!v) continue;
    for (const mwMetric of MW_METRICS) {
      const m = resolveCell(mc.get(JSON.stringify([company, period, mwMetric])) ?? []);
      if (!m || m.value <= 0) continue;
      rows.push({ company, period, valueMetric, valueUsd: v.value, mwMetric, mw: m.value, usdPerMW: v.value / m.value, sources: [...v.sources, ...m.sources] });
    }
  }
  return rows.sort((a, b) => byCompanyPeriod(a, b) || a.valueMetric.localeCompare(b.valueMetric) || a.mwMetric.localeCompare(b.mwMetric));
}
