/**
 * Self-contained HTML back-test report: key figures, the policy comparison with regret by cause,
 * and Chart.js charts: price vs each fleet's break-even (zoomed to the break-even range, curtailed
 * periods shaded, 4CP settlement intervals marked) with a full-range view of the spikes, the stacked power plan of
 * every compared policy side by side (from 0 MW, the PPA block and the interconnect drawn), net USD
 * accumulated by policy, and USD by stream for the primary policy. Chart.js is inlined, so the file
 * opens without a server or network; no animation, so a capture shows final values. Long windows
 * are averaged into buckets (15 min, 1 h, 6 h or 1 day) to keep the file small. Times are interval
 * starts in CPT (America/Chicago), as ERCOT settles.
 */
import { REGRET_CAUSE_LABELS, REGRET_CAUSES } from '../dispatch/compare.js';
import { breakEvenUsdPerMWh, fleetModel } from '../dispatch/fleet-model.js';
import type { Ledger } from '../dispatch/ledger.js';
import { Reason, type DispatchInput, type Plan } from '../dispatch/types.js';
import { formatCpt } from '../core/ercot-time.js';
import type { BacktestDocument, PolicySummary } from './summary.js';

/** Most points per chart line before bucketing coarsens. */
const MAX_POINTS = 3000;

export interface ReportRun {
  plan: Plan;
  ledger: Ledger;
  summary: PolicySummary;
}

export interface ReportInput {
  doc: BacktestDocument;
  input: DispatchInput;
  /** Every policy run; the first is the primary (its streams and shading are shown). */
  runs: readonly ReportRun[];
  /** Text of chart.js/dist/chart.umd.js. */
  chartJsSource: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Whole USD with separators; a value that rounds to zero prints 0, never "-0". */
const usd = (v: number) => (Math.abs(v) < 0.5 ? 0 : v).toLocaleString('en-US', { maximumFractionDigits: 0 });
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

function powerSeries(input: DispatchInput, b: ReturnType<typeof buckets>, run: ReportRun) {
  const site = input.site;
  const load = (pred: (kind: string) => boolean) =>
    b.map((k) => {
      let s = 0;
      site.ai.forEach((a, j) => {
        if (pred(a.kind)) s += mean(run.plan.aiItMW[j] as Float64Array, k.from, k.to) * a.pue;
      });
      return r2(s);
    });
  return {
    policy: run.plan.policy,
    firm: site.ai.some((a) => a.kind === 'firm') ? load((kind) => kind === 'firm') : null,
    flexAi: site.ai.some((a) => a.kind !== 'firm') ? load((kind) => kind !== 'firm') : null,
    fleets: site.fleets.map((f, j) => ({ name: f.name, mw: b.map((k) => r2(mean(run.plan.fleetMW[j] as Float64Array, k.from, k.to))) })),
    headroom: b.map((k) => r2(Math.max(0, site.interconnect.importLimitMW - mean(run.ledger.siteLoadMW, k.from, k.to)))),
  };
}

function chartData(r: ReportInput) {
  const { input } = r;
  const primary = r.runs[0] as ReportRun;
  const site = input.site;
  const b = buckets(input);
  const models = site.fleets.map(fleetModel);
  const hp = input.hashpriceUsdPerPhDay;
  // Break-even is linear in hashprice, so the bucket mean of it is the break-even of the mean.
  const breakEven = models.map((m) => b.map((k) => r2(breakEvenUsdPerMWh(m, mean(hp, k.from, k.to)))));
  const peakBucket = new Set<number>();
  const alertBucket = new Set<number>();
  const curtailedBucket = new Set<number>();
  b.forEach((k, i) => {
    for (let t = k.from; t < k.to; t++) {
      if ((input.fourCpPeakWeight[t] as number) > 0) peakBucket.add(i);
      if (input.fourCpAlert[t] === 1) alertBucket.add(i);
      if (primary.plan.reason.some((rs) => rs[t] === Reason.price || rs[t] === Reason.fourCp)) curtailedBucket.add(i);
    }
  });
  const priceMean = b.map((k) => r2(mean(input.rtPriceUsdPerMWh, k.from, k.to)));
  const priceMax = b.map((k) => r2(Math.max(...Array.from(input.rtPriceUsdPerMWh.subarray(k.from, k.to)))));
  const cumulative = (a: Float64Array, sign = 1) => {
    let acc = 0;
    return b.map((k) => {
      for (let t = k.from; t < k.to; t++) acc += sign * (a[t] as number);
      return Math.round(acc);
    });
  };
  const l = primary.ledger;
  const streams = [
    { name: 'AI revenue', data: cumulative(l.revenue.ai) },
    { name: 'mining revenue', data: cumulative(l.revenue.mining) },
    { name: 'power resale', data: cumulative(l.revenue.powerResale) },
    { name: 'AI flex', data: cumulative(l.revenue.aiFlex) },
    { name: 'AI energy / 4CP passed through', data: cumulative(l.revenue.aiPassThrough) },
    { name: 'grid services', data: cumulative(l.revenue.ancillary) },
    { name: '− grid penalties', data: cumulative(l.cost.ancillaryPenalty, -1) },
    { name: '− energy', data: cumulative(l.cost.energy, -1) },
    { name: '− PPA', data: cumulative(l.cost.ppa, -1) },
    { name: '− transmission (4CP)', data: cumulative(l.cost.transmission, -1) },
    { name: 'net', data: cumulative(l.net) },
  ].filter((s) => s.data.some((v) => v !== 0));
  // The zoomed view keeps the break-evens readable: spikes (to 5,000 USD/MWh) go to the full-range chart.
  const sorted = [...priceMean].sort((x, y) => x - y);
  const p90 = sorted[Math.floor(0.9 * (sorted.length - 1))] ?? 0;
  const maxBe = Math.max(0, ...breakEven.flat());
  const top = Math.ceil(Math.max(models.length ? 1.6 * maxBe : 0, 1.2 * p90, 10) / 10) * 10;
  const flag = (set: Set<number>, v: number) => b.map((_, i) => (set.has(i) ? v : null));
  return {
    labels: b.map((k) => k.label),
    hasFleets: models.length > 0,
    yMax: top,
    priceMaxAll: r2(Math.max(...priceMax)),
    priceMinAll: r2(Math.min(...priceMean)),
    bucketMinutes: (b[0] ? b[0].to - b[0].from : 1) * input.intervalMinutes,
    priceMean,
    priceMax,
    breakEven: models.map((m, i) => ({ name: m.fleet.name, data: breakEven[i] })),
    peaks: flag(peakBucket, top),
    alerts: flag(alertBucket, top),
    curtailed: flag(curtailedBucket, top),
    primary: primary.plan.policy,
    ppaBlockMW: site.ppa?.blockMW ?? null,
    importLimitMW: site.interconnect.importLimitMW,
    power: r.runs.map((run) => powerSeries(input, b, run)),
    netByPolicy: r.runs.map((run) => ({ policy: run.plan.policy, data: cumulative(run.ledger.net) })),
    streams,
    regret: r.runs
      .filter((run) => run.summary.regretByCause)
      .map((run) => ({ policy: run.plan.policy, causes: REGRET_CAUSES.map((c) => run.summary.regretByCause?.causes.find((k) => k.cause === c)?.usd ?? 0) })),
    causeLabels: REGRET_CAUSES.map((c) => REGRET_CAUSE_LABELS[c]),
  };
}

function figuresTable(s: PolicySummary): string {
  const rows: [string, number][] = [
    ['AI revenue', s.revenueUsd.ai],
    ['Mining revenue', s.revenueUsd.mining],
    ['Power resale credits', s.revenueUsd.powerResale],
    ['AI flex payments', s.revenueUsd.aiFlex],
    ['AI energy and 4CP passed through to tenants', s.revenueUsd.aiPassThrough],
    ...Object.entries(s.ancillaryByProduct).map(([p, v]): [string, number] => [`Grid services: ${p}`, v]),
    ...(s.costUsd.ancillaryPenalty !== 0 ? [['Grid-service penalties', -s.costUsd.ancillaryPenalty] as [string, number]] : []),
    ['Energy bought', -s.costUsd.energy],
    ['PPA', -s.costUsd.ppa],
    ['Transmission (4CP)', -s.costUsd.transmission],
    ['Net', s.netUsd],
  ];
  return `<table><tr><th>stream (${esc(s.policy)})</th><th>USD</th></tr>${rows.map(([k, v]) => `<tr><td>${k}</td><td class="n">${usd(v)}</td></tr>`).join('')}</table>`;
}

function comparisonTable(all: readonly PolicySummary[]): string {
  if (all.length < 2) return '';
  const head =
    '<tr><th>policy</th><th>net USD</th><th>mining USD</th><th>resale USD</th><th>AI pass-through USD</th><th>energy USD</th><th>4CP USD</th><th>uptime %</th><th>regret USD</th><th>regret %</th><th>fallbacks</th></tr>';
  const rows = all
    .map(
      (s) =>
        `<tr><td>${esc(s.policy)}</td><td class="n">${usd(s.netUsd)}</td><td class="n">${usd(s.revenueUsd.mining)}</td><td class="n">${usd(s.revenueUsd.powerResale)}</td><td class="n">${usd(s.revenueUsd.aiPassThrough)}</td><td class="n">${usd(s.costUsd.energy)}</td><td class="n">${usd(s.costUsd.transmission)}</td><td class="n">${s.miningUptimePct.toFixed(1)}</td><td class="n">${s.regretVsOptimalUsd === undefined ? '' : usd(s.regretVsOptimalUsd)}</td><td class="n">${s.regretVsOptimalPct === undefined ? '' : (Math.abs(s.regretVsOptimalPct) < 0.005 ? 0 : s.regretVsOptimalPct).toFixed(2)}</td><td class="n">${s.safeFallbacks}</td></tr>`,
    )
    .join('');
  return `<h2>Policies compared</h2><table>${head}${rows}</table>`;
}

function regretTable(all: readonly PolicySummary[]): string {
  const rows = all.filter((s) => s.regretByCause);
  if (rows.length === 0) return '';
  const ref = rows[0]?.regretByCause?.reference ?? 'optimal';
  const causes = REGRET_CAUSES.filter((c) => rows.some((s) => Math.abs(s.regretByCause?.causes.find((k) => k.cause === c)?.usd ?? 0) >= 0.5));
  const head = `<tr><th>policy</th>${causes.map((c) => `<th>${esc(REGRET_CAUSE_LABELS[c])}</th>`).join('')}<th>total</th></tr>`;
  const body = rows
    .map((s) => `<tr><td>${esc(s.policy)}</td>${causes.map((c) => `<td class="n">${usd(s.regretByCause?.causes.find((k) => k.cause === c)?.usd ?? 0)}</td>`).join('')}<td class="n">${usd(s.regretByCause?.gapUsd ?? 0)}</td></tr>`)
    .join('');
  return `<h2>What each policy left on the table vs <code>${esc(ref)}</code>, by cause (USD)</h2><p class="small">Exact interval-by-interval split of the gap: 4CP alerts and peaks, price response (the rule reacts to the last price against a break-even), ramp and off-time limits, the interconnect, AI flexibility, unresold PPA power.</p><table>${head}${body}</table><div class="chart small-chart"><canvas id="regret"></canvas></div>`;
}

/** Renders the report HTML. */
export function renderBacktestReport(r: ReportInput): string {
  const { doc } = r;
  const primary = r.runs[0];
  const main = primary?.summary;
  const summaries = r.runs.map((x) => x.summary);
  const data = chartData(r);
  const policies = r.runs.map((x) => x.plan.policy);
  const gaps = doc.gaps.missingIntervals > 0 ? `<p class="warn">${doc.gaps.missingIntervals} of ${doc.expectedIntervals} intervals have no price or hashprice and are left out (${doc.gaps.ranges.length} gap ranges; see the JSON output).</p>` : '';
  const peaks = doc.fourCpPeaks.length
    ? `<p>4CP settlement intervals: ${doc.fourCpPeaks
        .map((p) => (p.basis === 'official' ? `${p.month} at ${esc(p.intervalStartLocal ?? '')} (official${p.systemLoadMW !== null ? `, ${usd(p.systemLoadMW)} MW` : ''})` : `${p.month}: worst of the ${p.candidateIntervals} intervals from ${esc(p.candidatesFromUtc)} (estimated)`))
        .join('; ')}. Site 4CP tag (${esc(main?.policy ?? '')}) ${main?.fourCpTagMW.toFixed(2) ?? '0'} MW.</p>`
    : '';
  const identical = doc.identical.length ? `<h2>Same result</h2><ul>${doc.identical.map((i) => `<li>${esc(i.why)}</li>`).join('')}</ul>` : '';
  const notes = [...doc.notes, ...r.runs.flatMap((x) => x.summary.notes.map((n) => `${x.plan.policy}: ${n}`))].map((n) => `<li>${esc(n)}</li>`).join('');
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const priceTitle = data.hasFleets ? "Real-time price vs each fleet's break-even (USD/MWh)" : 'Real-time price (USD/MWh)';
  const powerCharts = data.power.map((p, i) => `<div class="chart${data.power.length > 1 ? ' half' : ''}"><canvas id="power-${i}"></canvas></div>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mullet back-test: ${esc(doc.site)} ${esc(doc.window.from)}..${esc(doc.window.to)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem}td.n{text-align:right;font-variant-numeric:tabular-nums}
.warn{color:#a40}.chart{height:360px;margin-bottom:2rem}.chart.full{height:200px}.chart.small-chart{height:240px}.small{color:#555;font-size:.9rem}h1{font-size:1.5rem}
.grid{display:flex;flex-wrap:wrap;gap:1rem}.chart.half{flex:1 1 560px;height:320px}
</style></head><body>
<h1>Back-test of ${esc(doc.site)} (${esc(doc.settlementPoint)}) — ${policies.length > 1 ? `policies ${policies.map((p) => `<code>${esc(p)}</code>`).join(', ')}` : `policy <code>${esc(policies[0] ?? '')}</code>`}</h1>
<p>${esc(doc.window.from)} to ${esc(doc.window.to)} (CPT days), ${doc.intervals} settled 15-minute intervals; mean hashprice ${doc.hashprice.meanUsdPerPhDay.toFixed(2)} USD/PH/day (${esc(doc.hashprice.source)}). Charts average ${data.bucketMinutes}-minute buckets; times are interval starts in CPT (America/Chicago).</p>
${gaps}${peaks}
${main ? figuresTable(main) : ''}
${comparisonTable(summaries)}
${regretTable(summaries)}
${identical}
<h2>${priceTitle}</h2><p class="small">Zoomed to the break-even range (axis top ${data.yMax} USD/MWh; highest bucket ${data.priceMaxAll})${data.hasFleets ? `; grey: intervals where <code>${esc(data.primary)}</code> curtailed (price or 4CP)` : ''}.</p><div class="chart"><canvas id="price"></canvas></div>
<p class="small">Full range (spikes included):</p><div class="chart full"><canvas id="price-full"></canvas></div>
<h2>Power plan at the meter (MW)${data.power.length > 1 ? ', policy by policy' : ''}</h2><div class="grid">${powerCharts}</div>
${r.runs.length > 1 ? '<h2>Net USD accumulated, by policy</h2><div class="chart"><canvas id="net"></canvas></div>' : ''}
<h2>Cumulative USD by stream (${esc(data.primary)})</h2><div class="chart"><canvas id="usd"></canvas></div>
${notes ? `<h2>Notes</h2><ul>${notes}</ul>` : ''}
<script>${r.chartJsSource.replace(/<\/script/gi, '<\\/script')}</script>
<script>
const D = ${json};
const palette = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
const timeAxis = { ticks: { maxTicksLimit: 12 }, title: { display: true, text: 'interval start, CPT (America/Chicago)' } };
const common = { animation: false, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false }, elements: { point: { radius: 0 } }, scales: { x: timeAxis } };
const band = (label, data, color) => ({ type: 'bar', label, data, backgroundColor: color, barPercentage: 1, categoryPercentage: 1 });
new Chart(document.getElementById('price'), { type: 'line', data: { labels: D.labels, datasets: [
  { label: 'RT price (bucket mean)', data: D.priceMean, borderColor: '#333', borderWidth: 1 },
  { label: 'RT price (bucket max)', data: D.priceMax, borderColor: '#bbb', borderWidth: 1, hidden: D.bucketMinutes <= 15 },
  ...D.breakEven.map((f, i) => ({ label: 'break-even ' + f.name, data: f.data, borderColor: palette[(i + 1) % 10], borderDash: [6, 3], borderWidth: 2 })),
  ...(D.hasFleets ? [band(D.primary + ' curtailed', D.curtailed, 'rgba(120,120,120,0.18)')] : []),
  band('4CP settlement interval', D.peaks, 'rgba(214,39,40,0.6)'),
  { ...band('4CP alert', D.alerts, 'rgba(255,127,14,0.15)'), hidden: true },
] }, options: { ...common, scales: { x: timeAxis, y: { max: D.yMax, title: { display: true, text: 'USD/MWh (zoomed)' } } } } });
new Chart(document.getElementById('price-full'), { type: 'line', data: { labels: D.labels, datasets: [
  { label: 'RT price (bucket max)', data: D.priceMax, borderColor: '#999', borderWidth: 1 },
  { label: 'RT price (bucket mean)', data: D.priceMean, borderColor: '#333', borderWidth: 1 },
] }, options: { ...common, plugins: { legend: { display: false } }, scales: { x: timeAxis, y: { title: { display: true, text: 'USD/MWh' } } } } });
D.power.forEach((p, i) => {
  const sets = [];
  if (p.firm) sets.push({ label: 'firm AI', data: p.firm, fill: 'origin', backgroundColor: 'rgba(31,119,180,0.7)', borderWidth: 0 });
  if (p.flexAi) sets.push({ label: 'flexible AI', data: p.flexAi, fill: sets.length ? '-1' : 'origin', backgroundColor: 'rgba(23,190,207,0.6)', borderWidth: 0 });
  p.fleets.forEach((f, j) => sets.push({ label: f.name, data: f.mw, fill: sets.length ? '-1' : 'origin', backgroundColor: palette[(j + 2) % 10], borderWidth: 0 }));
  sets.push({ label: 'headroom', data: p.headroom, fill: sets.length ? '-1' : 'origin', backgroundColor: 'rgba(200,200,200,0.5)', borderWidth: 0 });
  const lines = [{ label: 'interconnect ' + D.importLimitMW + ' MW', data: D.labels.map(() => D.importLimitMW), borderColor: '#000', borderWidth: 1, fill: false, stack: 'import-limit' }];
  if (D.ppaBlockMW !== null) lines.push({ label: 'PPA block ' + D.ppaBlockMW + ' MW', data: D.labels.map(() => D.ppaBlockMW), borderColor: '#d62728', borderDash: [6, 4], borderWidth: 2, fill: false, stack: 'ppa-block' });
  new Chart(document.getElementById('power-' + i), { type: 'line', data: { labels: D.labels, datasets: [...sets, ...lines] },
    options: { ...common, plugins: { title: { display: true, text: p.policy } }, scales: { x: timeAxis, y: { stacked: true, min: 0, title: { display: true, text: 'MW' } } } } });
});
if (document.getElementById('net')) new Chart(document.getElementById('net'), { type: 'line', data: { labels: D.labels, datasets:
  D.netByPolicy.map((s, i) => ({ label: s.policy, data: s.data, borderColor: palette[i % 10], borderWidth: 2 }))
}, options: { ...common, scales: { x: timeAxis, y: { title: { display: true, text: 'USD' } } } } });
new Chart(document.getElementById('usd'), { type: 'line', data: { labels: D.labels, datasets:
  D.streams.map((s, i) => ({ label: s.name, data: s.data, borderColor: s.name === 'net' ? '#000' : palette[i % 10], borderWidth: s.name === 'net' ? 3 : 1.5 }))
}, options: { ...common, scales: { x: timeAxis, y: { title: { display: true, text: 'USD' } } } } });
if (document.getElementById('regret')) new Chart(document.getElementById('regret'), { type: 'bar', data: { labels: D.regret.map((x) => x.policy), datasets:
  D.causeLabels.map((c, k) => ({ label: c, data: D.regret.map((x) => x.causes[k]), backgroundColor: palette[k % 10] })).filter((d) => d.data.some((v) => Math.abs(v) >= 0.5))
}, options: { animation: false, maintainAspectRatio: false, indexAxis: 'y', scales: { x: { stacked: true, title: { display: true, text: 'USD' } }, y: { stacked: true } } } });
</script>
</body></html>
`;
}
