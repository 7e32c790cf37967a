/**
 * Analyst page (`#/analyst`): the industry's key metrics from imported, sourced facts — MW
 * committed to AI vs mining by company over time, the revenue mix shift (Bitcoin vs AI/HPC),
 * contract announcements with the implied USD/kW-month, and value per MW. Every figure links its
 * source: the tables beside each chart, and a click on a point or bar opens it.
 */
import { h } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { call, type Me } from '../api.js';
import { ChartBox, openSource, PALETTE, SourceLink } from './chart.js';
// The server's own row types (type-only: nothing of src/ is bundled), so the page cannot drift from the API.
import type { DealView as Deal, RevenueMixRow as MixRow } from '../../src/industry/analytics.js';

interface MwReply {
  facts: { company: string; period: string; asOf: string; metric: string; mw: number; sourceUrl: string; sourceKind: string; note: string }[];
  signed: { company: string; steps: { announced: string; tenant: string; itMW: number; cumulativeMW: number; sourceUrl: string }[] }[];
}
interface ValueRow {
  company: string;
  period: string;
  valueMetric: string;
  valueUsd: number;
  mwMetric: string;
  mw: number;
  usdPerMW: number;
  sources: string[];
}
interface Summary {
  files: { file: string; kind: string; rows: number; importedAt: string }[];
  companies: string[];
}

const usdM = (v: number | null): string => (v === null ? '–' : `${(v / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} M`);
const MW_LABEL: Record<string, string> = { ai_hpc_mw_committed: 'AI/HPC committed', mining_mw: 'mining', energized_mw: 'energized', contracted_or_approved_mw: 'contracted / approved' };

function MwSection(p: { mw: MwReply }) {
  const ai = p.mw.facts.filter((f) => f.metric === 'ai_hpc_mw_committed' || f.metric === 'mining_mw');
  const periods = [...new Set(ai.map((f) => f.period))].sort();
  const series = [...new Set(ai.map((f) => `${f.company}|${f.metric}`))].sort();
  const pts = series.map((s) => {
    const [company, metric] = s.split('|') as [string, string];
    return { company, metric, byPeriod: new Map(ai.filter((f) => f.company === company && f.metric === metric).map((f) => [f.period, f])) };
  });
  const companies = [...new Set(pts.map((x) => x.company))];
  const config = useMemo(
    (): ChartConfiguration => ({
      type: 'line',
      data: {
        labels: periods,
        datasets: pts.map((s) => ({
          label: `${s.company} — ${MW_LABEL[s.metric] ?? s.metric}`,
          data: periods.map((q) => s.byPeriod.get(q)?.mw ?? null),
          borderColor: PALETTE[companies.indexOf(s.company) % PALETTE.length],
          backgroundColor: PALETTE[companies.indexOf(s.company) % PALETTE.length],
          borderDash: s.metric === 'mining_mw' ? [6, 4] : [],
          spanGaps: true,
          pointRadius: 4,
        })),
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'MW' } } }, plugins: { legend: { position: 'bottom' } } },
    }),
    [p.mw],
  );
  const signedLabels = [...new Set(p.mw.signed.flatMap((s) => s.steps.map((x) => x.announced)))].sort();
  const signedConfig = useMemo(
    (): ChartConfiguration => ({
      type: 'line',
      data: {
        labels: signedLabels,
        datasets: p.mw.signed.map((s, i) => {
          let last: number | null = null;
          return {
            label: s.company,
            data: signedLabels.map((d) => {
              const hit = s.steps.filter((x) => x.announced === d).at(-1);
              if (hit) last = hit.cumulativeMW;
              return last;
            }),
            stepped: true,
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
            pointRadius: signedLabels.map((d) => (s.steps.some((x) => x.announced === d) ? 4 : 0)),
          };
        }),
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'AI MW signed (cumulative)' } } }, plugins: { legend: { position: 'bottom' } } },
    }),
    [p.mw],
  );
  return h(
    'section',
    { class: 'wide', 'data-testid': 'analyst-mw' },
    h('h2', null, 'MW committed to AI vs mining, by company (click a point for its source)'),
    h(ChartBox, { config, label: 'MW committed to AI and mining MW by company and quarter', onPick: (d, i) => openSource(pts[d]?.byPeriod.get(periods[i] ?? '')?.sourceUrl) }),
    h('h2', null, 'AI MW signed, cumulated over contract announcements'),
    h(ChartBox, {
      config: signedConfig,
      label: 'cumulative AI MW signed by company',
      onPick: (d, i) =>
        openSource(
          p.mw.signed[d]?.steps.filter((x) => x.announced === signedLabels[i]).at(-1)?.sourceUrl,
        ),
    }),
    h(
      'details',
      null,
      h('summary', null, `${p.mw.facts.length} MW facts with their sources`),
      h(
        'table',
        null,
        h('thead', null, h('tr', null, ['company', 'quarter', 'as of', 'what', 'MW', 'source', 'note'].map((t) => h('th', null, t)))),
        h('tbody', null, p.mw.facts.map((f) => h('tr', null, h('td', null, f.company), h('td', null, f.period), h('td', null, f.asOf), h('td', null, MW_LABEL[f.metric] ?? f.metric), h('td', null, f.mw.toLocaleString('en-US')), h('td', null, h(SourceLink, { url: f.sourceUrl })), h('td', { class: 'note' }, f.note)))),
      ),
    ),
  );
}

function MixSection(p: { rows: MixRow[] }) {
  const companies = [...new Set(p.rows.map((r) => r.company))];
  const [company, setCompany] = useState<string>(companies.find((c) => p.rows.filter((r) => r.company === c && r.aiHpcUsd !== null).length > 1) ?? companies[0] ?? '');
  const rows = p.rows.filter((r) => r.company === company);
  const periods = [...new Set(p.rows.map((r) => r.period))].sort();
  const withShare = companies.filter((c) => p.rows.some((r) => r.company === c && r.aiSharePct !== null && (r.aiHpcUsd ?? 0) > 0));
  const stacked = useMemo(
    (): ChartConfiguration => ({
      type: 'bar',
      data: {
        labels: rows.map((r) => r.period),
        datasets: [
          { label: 'Bitcoin mining', data: rows.map((r) => (r.bitcoinUsd ?? 0) / 1e6), backgroundColor: '#f57c00' },
          { label: 'AI / HPC', data: rows.map((r) => (r.aiHpcUsd ?? 0) / 1e6), backgroundColor: '#1e88e5' },
          { label: 'hosting', data: rows.map((r) => (r.hostingUsd ?? 0) / 1e6), backgroundColor: '#8d6e63' },
          { label: 'other', data: rows.map((r) => (r.otherUsd ?? 0) / 1e6), backgroundColor: '#9e9e9e' },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'revenue, M USD' } } }, plugins: { legend: { position: 'bottom' } } },
    }),
    [company, p.rows],
  );
  const share = useMemo(
    (): ChartConfiguration => ({
      type: 'line',
      data: {
        labels: periods,
        datasets: withShare.map((c, i) => ({ label: c, data: periods.map((q) => p.rows.find((r) => r.company === c && r.period === q)?.aiSharePct ?? null), borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], spanGaps: true, pointRadius: 4 })),
      },
      options: { scales: { y: { min: 0, max: 100, title: { display: true, text: 'AI/HPC share of segment revenue, %' } } }, plugins: { legend: { position: 'bottom' } } },
    }),
    [p.rows],
  );
  return h(
    'section',
    { class: 'wide', 'data-testid': 'analyst-mix' },
    h('h2', null, 'Revenue mix shift: Bitcoin vs AI/HPC (click for the source)'),
    h(ChartBox, { config: share, label: 'AI/HPC share of revenue by company and quarter', onPick: (d, i) => openSource(p.rows.find((r) => r.company === withShare[d] && r.period === periods[i])?.sources.find((s) => s.metric === 'revenue_ai_hpc_usd')?.url) }),
    h('p', null, 'Segments of ', h('select', { value: company, 'aria-label': 'company', onChange: (e: Event) => setCompany((e.target as HTMLSelectElement).value) }, companies.map((c) => h('option', { value: c }, c)))),
    h(ChartBox, { config: stacked, label: `revenue by segment, ${company}`, onPick: (_d, i) => openSource(rows[i]?.sources[0]?.url) }),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['quarter', 'Bitcoin', 'AI/HPC', 'hosting', 'other', 'total', 'AI share', 'sources'].map((t) => h('th', null, t)))),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            null,
            h('td', null, r.period),
            h('td', null, usdM(r.bitcoinUsd)),
            h('td', null, usdM(r.aiHpcUsd)),
            h('td', null, usdM(r.hostingUsd)),
            h('td', null, usdM(r.otherUsd)),
            h('td', null, usdM(r.totalUsd)),
            h('td', null, r.aiSharePct === null ? '–' : `${r.aiSharePct.toFixed(1)} %`),
            h(
              'td',
              null,
              [...new Set(r.sources.map((s) => s.url))].map((u, i) => [i > 0 ? ' · ' : '', h(SourceLink, { url: u })]),
            ),
          ),
        ),
      ),
    ),
  );
}

function DealsSection(p: { deals: Deal[] }) {
  const shown = p.deals.filter((d) => d.impliedUsdPerKwMonth !== null && !d.aggregate);
  const config = useMemo(
    (): ChartConfiguration => ({
      type: 'bar',
      data: {
        labels: shown.map((d) => `${d.miner} → ${d.tenant.slice(0, 24)} (${d.announced || '?'})`),
        datasets: [{ label: 'implied USD per kW-month', data: shown.map((d) => d.impliedUsdPerKwMonth ?? 0), backgroundColor: shown.map((d) => (d.comparable ? '#1e88e5' : '#bdbdbd')) }],
      },
      options: { indexAxis: 'y', scales: { x: { title: { display: true, text: 'USD / kW-month (grey: GPU cloud, not comparable)' } } }, plugins: { legend: { display: false } } },
    }),
    [p.deals],
  );
  return h(
    'section',
    { class: 'wide', 'data-testid': 'analyst-deals' },
    h('h2', null, 'Contract announcements and implied USD/kW-month (click a bar for its source)'),
    h(ChartBox, { config, label: 'implied USD per kW-month by contract', height: Math.max(260, shown.length * 22), onPick: (_d, i) => openSource(shown[i]?.sourceUrl) }),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['announced', 'miner', 'tenant', 'kind', 'IT MW', 'years', 'total USD', 'USD/kW-mo', 'caveats', 'source'].map((t) => h('th', null, t)))),
      h(
        'tbody',
        null,
        p.deals.map((d) =>
          h(
            'tr',
            { class: d.aggregate ? 'note' : undefined },
            h('td', null, d.announced || '?'),
            h('td', null, d.miner),
            h('td', null, d.tenant),
            h('td', null, d.kind),
            h('td', null, d.itMW ?? '–'),
            h('td', null, d.termYears ?? '–'),
            h('td', null, usdM(d.totalValueUsd)),
            h('td', { title: d.basis ?? '' }, d.impliedUsdPerKwMonth === null ? '–' : d.impliedUsdPerKwMonth.toFixed(0)),
            h('td', { class: 'note' }, d.caveats.join('; ')),
            h('td', null, h(SourceLink, { url: d.sourceUrl })),
          ),
        ),
      ),
    ),
  );
}

function ValueSection(p: { rows: ValueRow[] }) {
  const config = useMemo(
    (): ChartConfiguration => ({
      type: 'bar',
      data: { labels: p.rows.map((r) => `${r.company} ${r.period} (${r.valueMetric === 'market_cap_usd' ? 'mcap' : 'EV'} / ${MW_LABEL[r.mwMetric] ?? r.mwMetric})`), datasets: [{ label: 'M USD per MW', data: p.rows.map((r) => r.usdPerMW / 1e6), backgroundColor: '#5e35b1' }] },
      options: { indexAxis: 'y', scales: { x: { title: { display: true, text: 'M USD per MW (same company and quarter)' } } }, plugins: { legend: { display: false } } },
    }),
    [p.rows],
  );
  return h(
    'section',
    { class: 'wide', 'data-testid': 'analyst-value' },
    h('h2', null, 'Value per MW (click a bar for the value’s source)'),
    h('p', { class: 'note' }, 'Market cap or enterprise value divided by a MW figure of the same company and quarter; the MW basis differs by row (named in the label).'),
    h(ChartBox, { config, label: 'value per MW', height: Math.max(220, p.rows.length * 22), onPick: (_d, i) => openSource(p.rows[i]?.sources[0]) }),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, ['company', 'quarter', 'value', 'MW', 'M USD / MW', 'sources'].map((t) => h('th', null, t)))),
      h(
        'tbody',
        null,
        p.rows.map((r) => h('tr', null, h('td', null, r.company), h('td', null, r.period), h('td', null, `${r.valueMetric === 'market_cap_usd' ? 'market cap' : 'EV'} ${usdM(r.valueUsd)}`), h('td', null, `${r.mw} (${MW_LABEL[r.mwMetric] ?? r.mwMetric})`), h('td', null, (r.usdPerMW / 1e6).toFixed(2)), h('td', null, r.sources.map((u, i) => [i > 0 ? ' · ' : '', h(SourceLink, { url: u })])))),
      ),
    ),
  );
}

export function AnalystPage(_p: { me: Me }) {
  const [data, setData] = useState<{ summary: Summary; mw: MwReply; mix: MixRow[]; deals: Deal[]; value: ValueRow[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Promise.all([call<Summary>('GET', '/industry/summary'), call<MwReply>('GET', '/industry/mw'), call<{ rows: MixRow[] }>('GET', '/industry/revenue-mix'), call<{ deals: Deal[] }>('GET', '/industry/deals'), call<{ rows: ValueRow[] }>('GET', '/industry/value-per-mw')])
      .then(([summary, mw, mix, deals, value]) => setData({ summary, mw, mix: mix.rows, deals: deals.deals, value: value.rows }))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  if (error) return h('main', null, h('section', { class: 'wide error', role: 'alert' }, error));
  if (!data) return h('main', null, h('section', null, 'loading the industry facts…'));
  return h(
    'main',
    null,
    h(
      'section',
      { class: 'wide' },
      h('h2', null, 'Industry: Bitcoin miners → AI/HPC'),
      h('p', null, `${data.summary.companies.length} companies; `, data.summary.files.map((f) => `${f.file}: ${f.rows} ${f.kind} rows (imported ${f.importedAt.slice(0, 10)})`).join(', '), '. Keep it current with `mullet industry import FILE`.'),
    ),
    h(MwSection, { mw: data.mw }),
    h(MixSection, { rows: data.mix }),
    h(DealsSection, { deals: data.deals }),
    h(ValueSection, { rows: data.value }),
  );
}
