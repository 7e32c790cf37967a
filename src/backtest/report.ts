/**
 * Self-contained HTML back-test report: key figures, the policy comparison, and four Chart.js
 * charts (price vs each fleet's break-even with the 4CP hours marked, the stacked power plan,
 * cumulative USD by stream). Chart.js is inlined, so the file opens without a server or network.
 * Long windows are averaged into buckets (15 min, 1 h, 6 h or 1 day) to keep the file small.
 */
import { breakEvenUsdPerMWh, fleetModel } from '../dispatch/fleet-model.js';
import type { Ledger } from '../dispatch/ledger.js';
import type { DispatchInput, Plan } from '../dispatch/types.js';
import { formatCpt } from '../market/ercot-time.js';
import type { BacktestDocument, PolicySummary } from './summary.js';

/** Most points per chart line before bucketing coarsens. */
const MAX_POINTS = 3000;

export interface ReportInput {
  doc: BacktestDocument;
  input: DispatchInput;
  plan: Plan;
  ledger: Ledger;
  summaries: PolicySummary[];
  /** Text of chart.js/dist/chart.umd.js. */
  chartJsSource: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const usd = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 0 });
const r2 = (v: number) => Math.round(v * 100) / 100;

/** Interval buckets [start, end) covering the run, sized so there are at most MAX_POINTS. */
function buckets(input: DispatchInput): { label: string; from: number; to: number }[] {
  const n = input.startMs.length;
  const size = [1, 4, 24, 96].find((k) => n / k <= MAX_POINTS) ?? Math.ceil(n / MAX_POINTS);
  const out: { label: string; from: number; to: number }[] = [];
  for (let i = 0; i < n; i += size) out.push({ label: formatCpt(input.startMs[i] as number).slice(0, 16).replace('T', ' '), from: i, to: Math.min(n, i + size) });
  return out;
}

function mean(a: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i] as number;
  return to > from ? s / (to - from) : 0;
}

function chartData(r: ReportInput) {
  const { input, plan, ledger } = r;
  const site = input.site;
  const b = buckets(input);
  const models = site.fleets.map(fleetModel);
  const hp = input.hashpriceUsdPerPhDay;
  // Break-even is linear in hashprice, so the bucket mean of it is the break-even of the mean.
  const breakEven = models.map((m) => b.map((k) => r2(breakEvenUsdPerMWh(m, mean(hp, k.from, k.to)))));
  const peakBucket = new Set<number>();
  const alertBucket = new Set<number>();
  b.forEach((k, i) => {
    for (let t = k.from; t < k.to; t++) {
      if ((input.fourCpPeakWeight[t] as number) > 0) peakBucket.add(i);
      if (input.fourCpAlert[t] === 1) alertBucket.add(i);
    }
  });
  const priceMean = b.map((k) => r2(mean(input.rtPriceUsdPerMWh, k.from, k.to)));
  const priceMax = b.map((k) => r2(Math.max(...Array.from(input.rtPriceUsdPerMWh.subarray(k.from, k.to)))));
  const firm = b.map((k) => {
    let s = 0;
    site.ai.forEach((a, j) => {
      if (a.kind === 'firm') s += mean(plan.aiItMW[j] as Float64Array, k.from, k.to) * a.pue;
    });
    return r2(s);
  });
  const flexAi = b.map((k) => {
    let s = 0;
    site.ai.forEach((a, j) => {
      if (a.kind !== 'firm') s += mean(plan.aiItMW[j] as Float64Array, k.from, k.to) * a.pue;
    });
    return r2(s);
  });
  const fleets = site.fleets.map((f, j) => ({ name: f.name, mw: b.map((k) => r2(mean(plan.fleetMW[j] as Float64Array, k.from, k.to))) }));
  const headroom = b.map((k) => r2(Math.max(0, site.interconnect.importLimitMW - mean(ledger.siteLoadMW, k.from, k.to))));
  const cumulative = (a: Float64Array, sign = 1) => {
    let acc = 0;
    return b.map((k) => {
      for (let t = k.from; t < k.to; t++) acc += sign * (a[t] as number);
      return Math.round(acc);
    });
  };
  const streams = [
    { name: 'AI revenue', data: cumulative(ledger.revenue.ai) },
    { name: 'mining revenue', data: cumulative(ledger.revenue.mining) },
    { name: 'power resale', data: cumulative(ledger.revenue.powerResale) },
    { name: 'AI flex', data: cumulative(ledger.revenue.aiFlex) },
    { name: 'AI energy / 4CP passed through', data: cumulative(ledger.revenue.aiPassThrough) },
    { name: '− energy', data: cumulative(ledger.cost.energy, -1) },
    { name: '− PPA', data: cumulative(ledger.cost.ppa, -1) },
    { name: '− transmission (4CP)', data: cumulative(ledger.cost.transmission, -1) },
    { name: 'net', data: cumulative(ledger.net) },
  ].filter((s) => s.data.some((v) => v !== 0));
  // ERCOT spikes (to 5,000 USD/MWh) would flatten everything else: clip the axis, say so in the title.
  const sorted = [...priceMean].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0;
  const top = Math.ceil(Math.max(2 * Math.max(0, ...breakEven.flat()), 1.2 * p99, 10));
  return {
    labels: b.map((k) => k.label),
    yMax: top,
    priceMaxAll: r2(Math.max(...priceMax)),
    bucketMinutes: (b[0] ? b[0].to - b[0].from : 1) * input.intervalMinutes,
    priceMean,
    priceMax,
    breakEven: models.map((m, i) => ({ name: m.fleet.name, data: breakEven[i] })),
    peaks: b.map((_, i) => (peakBucket.has(i) ? r2(top) : null)),
    alerts: b.map((_, i) => (alertBucket.has(i) ? r2(top) : null)),
    firm,
    flexAi,
    fleets,
    headroom,
    streams,
  };
}

function figuresTable(s: PolicySummary): string {
  const rows: [string, number][] = [
    ['AI revenue', s.revenueUsd.ai],
    ['Mining revenue', s.revenueUsd.mining],
    ['Power resale credits', s.revenueUsd.powerResale],
    ['AI flex payments', s.revenueUsd.aiFlex],
    ['AI energy and 4CP passed through to tenants', s.revenueUsd.aiPassThrough],
    ['Energy bought', -s.costUsd.energy],
    ['PPA', -s.costUsd.ppa],
    ['Transmission (4CP)', -s.costUsd.transmission],
    ['Net', s.netUsd],
  ];
  return `<table><tr><th>stream</th><th>USD</th></tr>${rows.map(([k, v]) => `<tr><td>${k}</td><td class="n">${usd(v)}</td></tr>`).join('')}</table>`;
}

function comparisonTable(all: PolicySummary[]): string {
  if (all.length < 2) return '';
  const head = '<tr><th>policy</th><th>net USD</th><th>mining USD</th><th>resale USD</th><th>energy USD</th><th>4CP USD</th><th>uptime %</th><th>regret USD</th><th>regret %</th><th>fallbacks</th></tr>';
  const rows = all
    .map(
      (s) =>
        `<tr><td>${esc(s.policy)}</td><td class="n">${usd(s.netUsd)}</td><td class="n">${usd(s.revenueUsd.mining)}</td><td class="n">${usd(s.revenueUsd.powerResale)}</td><td class="n">${usd(s.costUsd.energy)}</td><td class="n">${usd(s.costUsd.transmission)}</td><td class="n">${s.miningUptimePct.toFixed(1)}</td><td class="n">${s.regretVsOptimalUsd === undefined ? '' : usd(s.regretVsOptimalUsd)}</td><td class="n">${s.regretVsOptimalPct === undefined ? '' : s.regretVsOptimalPct.toFixed(2)}</td><td class="n">${s.safeFallbacks}</td></tr>`,
    )
    .join('');
  return `<h2>Policies compared</h2><table>${head}${rows}</table>`;
}

/** Renders the report HTML. */
export function renderBacktestReport(r: ReportInput): string {
  const { doc } = r;
  const main = r.summaries.find((s) => s.policy === r.plan.policy) ?? r.summaries[0];
  const data = chartData(r);
  const gaps = doc.gaps.missingIntervals > 0 ? `<p class="warn">${doc.gaps.missingIntervals} of ${doc.expectedIntervals} intervals have no price or hashprice and are left out (${doc.gaps.ranges.length} gap ranges; see the JSON output).</p>` : '';
  const peaks = doc.fourCpPeaks.length
    ? `<p>4CP settlement intervals: ${doc.fourCpPeaks
        .map((p) => (p.basis === 'official' ? `${p.month} at ${esc(p.intervalStartLocal ?? '')} (official${p.systemLoadMW !== null ? `, ${usd(p.systemLoadMW)} MW` : ''})` : `${p.month}: worst of the ${p.candidateIntervals} intervals from ${esc(p.candidatesFromUtc)} (estimated)`))
        .join('; ')}. Site 4CP tag ${main?.fourCpTagMW.toFixed(2) ?? '0'} MW.</p>`
    : '';
  const notes = [...doc.notes, ...(main?.notes ?? [])].map((n) => `<li>${esc(n)}</li>`).join('');
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mullet back-test: ${esc(doc.site)} ${esc(doc.window.from)}..${esc(doc.window.to)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem}td.n{text-align:right;font-variant-numeric:tabular-nums}
.warn{color:#a40}.chart{height:360px;margin-bottom:2rem}h1{font-size:1.5rem}
</style></head><body>
<h1>Back-test of ${esc(doc.site)} (${esc(doc.settlementPoint)}) — policy <code>${esc(r.plan.policy)}</code></h1>
<p>${esc(doc.window.from)} to ${esc(doc.window.to)} (CPT days), ${doc.intervals} settled 15-minute intervals; mean hashprice ${doc.hashprice.meanUsdPerPhDay.toFixed(2)} USD/PH/day (${esc(doc.hashprice.source)}). Charts average ${data.bucketMinutes}-minute buckets.</p>
${gaps}${peaks}
${main ? figuresTable(main) : ''}
${comparisonTable(r.summaries)}
<h2>Real-time price vs each fleet's break-even (USD/MWh)</h2><div class="chart"><canvas id="price"></canvas></div>
<h2>Power plan at the meter (MW)</h2><div class="chart"><canvas id="power"></canvas></div>
<h2>Cumulative USD by stream</h2><div class="chart"><canvas id="usd"></canvas></div>
${notes ? `<h2>Notes</h2><ul>${notes}</ul>` : ''}
<script>${r.chartJsSource.replace(/<\/script/gi, '<\\/script')}</script>
<script>
const D = ${json};
const palette = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
const common = { animation: false, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false }, elements: { point: { radius: 0 } }, scales: { x: { ticks: { maxTicksLimit: 12 } } } };
new Chart(document.getElementById('price'), { type: 'line', data: { labels: D.labels, datasets: [
  { label: 'RT price (bucket mean)', data: D.priceMean, borderColor: '#333', borderWidth: 1 },
  { label: 'RT price (bucket max)', data: D.priceMax, borderColor: '#bbb', borderWidth: 1, hidden: D.bucketMinutes <= 15 },
  ...D.breakEven.map((f, i) => ({ label: 'break-even ' + f.name, data: f.data, borderColor: palette[(i + 1) % 10], borderDash: [6, 3], borderWidth: 2 })),
  { type: 'bar', label: '4CP settlement interval', data: D.peaks, backgroundColor: 'rgba(214,39,40,0.6)', barPercentage: 1, categoryPercentage: 1 },
  { type: 'bar', label: '4CP alert', data: D.alerts, backgroundColor: 'rgba(255,127,14,0.15)', barPercentage: 1, categoryPercentage: 1, hidden: true },
] }, options: { ...common, scales: { ...common.scales, y: { max: D.yMax, title: { display: true, text: 'USD/MWh (axis clipped at ' + D.yMax + '; highest ' + D.priceMaxAll + ')' } } } } });
new Chart(document.getElementById('power'), { type: 'line', data: { labels: D.labels, datasets: [
  { label: 'firm AI', data: D.firm, fill: 'origin', backgroundColor: 'rgba(31,119,180,0.7)', borderWidth: 0 },
  { label: 'flexible AI', data: D.flexAi, fill: '-1', backgroundColor: 'rgba(23,190,207,0.6)', borderWidth: 0 },
  ...D.fleets.map((f, i) => ({ label: f.name, data: f.mw, fill: '-1', backgroundColor: palette[(i + 2) % 10], borderWidth: 0 })),
  { label: 'headroom', data: D.headroom, fill: '-1', backgroundColor: 'rgba(200,200,200,0.5)', borderWidth: 0 },
] }, options: { ...common, scales: { ...common.scales, y: { stacked: true, title: { display: true, text: 'MW' } } } } });
new Chart(document.getElementById('usd'), { type: 'line', data: { labels: D.labels, datasets:
  D.streams.map((s, i) => ({ label: s.name, data: s.data, borderColor: s.name === 'net' ? '#000' : palette[i % 10], borderWidth: s.name === 'net' ? 3 : 1.5 }))
}, options: { ...common, scales: { ...common.scales, y: { title: { display: true, text: 'USD' } } } } });
</script>
</body></html>
`;
}
