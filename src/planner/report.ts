/**
 * The plan as one self-contained HTML file: Chart.js (its UMD build, passed in by the caller who
 * read it from node_modules) inlined with the data, no network access when opened. Charts: the
 * annual cash-flow fan (p5–p95 band, mean, baseline), revenue mix by year (stacked), the Bitcoin
 * share fan, NPV and CVaR by start year and by size (±1.96 standard errors), and the sensitivity
 * tornado (floating bars low..high around its stated base). No animation: a capture shows the final
 * values. Pure: returns a string.
 */
import type { ComparisonRow, PlanResult, ScheduleOutcome } from './plan.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const usdM = (x: number) =>
  Number.isFinite(x) ? `${x < 0 ? '−' : ''}$${(Math.abs(x) / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })}M` : '—';
const pct = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} %` : '—');
/** "$686.3M ± 4.2": a mean and its standard error. */
const pm = (mean: number, se: number) => `${usdM(mean)} ± ${Number.isFinite(se) ? (Math.abs(se) / 1e6).toFixed(1) : '—'}`;

/** Payback in words: years from first capex, or "not within the N-year horizon". */
export function paybackText(p: ScheduleOutcome['paybackYears']): string {
  const rec = `${p.recoveredPathsPct.toFixed(1)} % of paths recover within the horizon`;
  if (p.p50 === null) return `not within the ${p.withinYears}-year horizon (${rec})`;
  return `${p.p50.toFixed(1)} years from first capex (${rec})`;
}

const VERDICT: Record<ComparisonRow['verdict'], string> = { pick: 'the pick', indistinguishable: '≈ pick (not significant)', worse: 'worse', better: 'better' };

function comparisonTable(rows: readonly ComparisonRow[], kind: 'main' | 'start-year' | 'size'): string {
  const head =
    kind === 'main'
      ? '<tr><th>schedule</th><th>NPV mean ± SE</th><th>vs pick ± SE</th><th>CVaR 5 % ± SE</th><th>verdict</th></tr>'
      : `<tr><th>site</th><th>${kind === 'start-year' ? 'start year' : 'IT MW'}</th><th>${kind === 'start-year' ? 'IT MW' : 'start'}</th><th>contract</th><th>NPV mean ± SE</th><th>vs pick ± SE</th><th>CVaR 5 % ± SE</th><th>verdict</th></tr>`;
  const body = rows
    .map((r) => {
      const tail = `<td>${pm(r.npvUsd.mean, r.npvUsd.se)}</td><td>${pm(r.vsPickUsd.mean, r.vsPickUsd.se)}</td><td>${pm(r.cvar5Usd.value, r.cvar5Usd.se)}</td><td>${VERDICT[r.verdict]}</td>`;
      if (kind === 'main') return `<tr><td>${esc(r.label)}</td>${tail}</tr>`;
      const st = r.schedule.find((x) => x.site === r.site);
      const a = kind === 'start-year' ? String(r.startYear ?? '') : (r.itMW ?? 0).toFixed(0);
      const b = kind === 'start-year' ? (r.itMW ?? 0).toFixed(0) : (st?.conversionStart ?? 'keeps mining');
      return `<tr><td>${esc(r.site ?? '')}</td><td>${a}</td><td>${esc(b)}</td><td>${esc(r.contract ?? '—')}</td>${tail}</tr>`;
    })
    .join('');
  return `<table>${head}${body}</table>`;
}

/** Chart data for NPV / CVaR by start year or size: one series per site. */
function gridSeries(rows: readonly ComparisonRow[], x: (r: ComparisonRow) => number | null) {
  const sites = [...new Set(rows.map((r) => r.site ?? ''))];
  return sites.map((site) => {
    const rs = rows.filter((r) => r.site === site && x(r) !== null).sort((a, b) => (x(a) as number) - (x(b) as number));
    return {
      site,
      x: rs.map((r) => x(r) as number),
      mean: rs.map((r) => r.npvUsd.mean / 1e6),
      lo: rs.map((r) => (r.npvUsd.mean - 1.96 * r.npvUsd.se) / 1e6),
      hi: rs.map((r) => (r.npvUsd.mean + 1.96 * r.npvUsd.se) / 1e6),
      cvar: rs.map((r) => r.cvar5Usd.value / 1e6),
    };
  });
}

/** JSON for a <script> block: `<` escaped so no string can close the tag. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

function scheduleTable(rows: PlanResult['schedule'], refresh: PlanResult['refresh']): string {
  if (rows.length === 0 && refresh.length === 0) return '<p>No conversion: keep mining everywhere.</p>';
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.site)}</td><td>${r.itMW.toFixed(0)}</td><td>${r.siteMW.toFixed(0)}</td><td>${esc(r.contract)} (${r.contractKind})</td><td>${r.conversionStart}</td><td>${r.online}</td><td>${r.displacedMiningMW.map((d) => `${esc(d.model)} ${d.mw.toFixed(0)} MW`).join(', ') || '—'}</td></tr>`,
    )
    .join('');
  const ref = refresh.map((r) => `<li>${esc(r.site)}: refresh ${esc(r.refresh)}</li>`).join('');
  return `<table><tr><th>site</th><th>IT MW</th><th>site MW</th><th>contract</th><th>construction starts</th><th>online</th><th>mining displaced</th></tr>${body}</table>${ref ? `<ul>${ref}</ul>` : ''}`;
}

/** Renders the report; `chartJsSource` is the text of chart.js/dist/chart.umd.js. */
export function renderPlanReport(r: PlanResult, chartJsSource: string): string {
  const years = r.years.map((y) => y.year);
  const rows = r.comparison.rows;
  const byYear = rows.filter((x) => x.kind === 'start-year');
  const bySize = rows.filter((x) => x.kind === 'size');
  const risk = rows.find((x) => x.kind === 'risk-averse');
  const data = {
    years,
    cfMean: r.years.map((y) => y.cashFlowUsd / 1e6),
    cfP5: r.years.map((y) => y.cashFlowUsdP5 / 1e6),
    cfP95: r.years.map((y) => y.cashFlowUsdP95 / 1e6),
    cfBase: r.baseline.years.map((y) => y.cashFlowUsd / 1e6),
    btc: r.years.map((y) => y.btcRevenueUsd / 1e6),
    ai: r.years.map((y) => y.aiRevenueUsd / 1e6),
    resale: r.years.map((y) => y.resaleRevenueUsd / 1e6),
    shareMean: r.years.map((y) => y.btcRevenueSharePct),
    shareP5: r.years.map((y) => y.btcRevenueSharePctP5),
    shareP95: r.years.map((y) => y.btcRevenueSharePctP95),
    // Floating bars from the low to the high case, in NPV (USD M), around the sensitivity's own base.
    tornadoBase: r.sensitivity.baseNpvUsd / 1e6,
    tornado: r.sensitivity.bars.map((b) => ({
      label: `${b.label} ${b.lowLabel} … ${b.highLabel}: ${(b.lowNpvUsd / 1e6).toFixed(0)} … ${(b.highNpvUsd / 1e6).toFixed(0)} M (range ${(Math.abs(b.highNpvUsd - b.lowNpvUsd) / 1e6).toFixed(0)})`,
      low: b.lowNpvUsd / 1e6,
      high: b.highNpvUsd / 1e6,
      lowLabel: b.lowLabel,
      highLabel: b.highLabel,
    })),
    byYear: gridSeries(byYear, (x) => x.startYear),
    bySize: gridSeries(bySize, (x) => x.itMW),
  };
  const yearRows = r.years
    .map((y) => `<tr><td>${y.year}</td><td>${usdM(y.revenueUsd)}</td><td>${pct(y.btcRevenueSharePct)}</td><td>${usdM(y.ebitdaUsd)}</td><td>${pm(y.cashFlowUsd, y.cashFlowUsdSe)}</td><td>${y.hashpriceUsdPerPhDay.toFixed(1)}</td><td>${Math.round(y.btcPriceUsd).toLocaleString('en-US')}</td></tr>`)
    .join('');
  const vpm = r.valuePerMw.map((v) => `<tr><td>${esc(v.site)}</td><td>${v.use}</td><td>${v.mw.toFixed(0)}</td><td>${pm(v.npvUsd, v.npvUsdSe)}</td><td>${usdM(v.npvUsdPerMw)}</td></tr>`).join('');
  const q = (x: PlanResult['npvUsd']) => `${pm(x.mean, x.se)} (p5 ${usdM(x.p5)}, p50 ${usdM(x.p50)}, p95 ${usdM(x.p95)})`;
  const users = r.userSchedules
    .map((u) => `<h2>Your schedule “${esc(u.name)}”</h2>${scheduleTable(u.schedule, u.refresh)}<p>NPV ${q(u.npvUsd)}, CVaR 5 % ${pm(u.cvar5Usd, u.cvar5UsdSe)}, IRR p50 ${pct(u.irrPct.p50)}, payback ${esc(paybackText(u.paybackYears))}.</p>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mullet plan — ${esc(r.portfolio)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2433;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d5d9e2;padding:4px 8px;text-align:right}th{background:#f2f4f8}
td:first-child,th:first-child{text-align:left}.kpi{display:flex;gap:16px;flex-wrap:wrap}.kpi div{background:#f2f4f8;border-radius:6px;padding:8px 12px}
.synthetic{background:#fff4d6;border:1px solid #e0b84a;padding:6px 10px;border-radius:6px}.grid{display:grid;grid-template-columns:1fr 1fr;gap:20px}
canvas{max-height:340px}small{color:#5b6477}.wide{max-width:900px}
</style></head><body>
<h1>${esc(r.portfolio)}</h1>
<small>${r.paths.toLocaleString('en-US')} paths, seed ${r.seed}, ${r.horizonYears} years from ${r.startDate}, discount rate ${r.discountRatePct} %/yr. Generated by Mullet.</small>
<p class="synthetic">Power prices in this plan are ${esc(r.powerPrices.label)}.</p>
<div class="kpi">
<div>NPV (mean ± standard error)<br><b>${pm(r.npvUsd.mean, r.npvUsd.se)}</b></div>
<div>NPV p5 / p50 / p95<br><b>${usdM(r.npvUsd.p5)} / ${usdM(r.npvUsd.p50)} / ${usdM(r.npvUsd.p95)}</b></div>
<div>CVaR 5 %<br><b>${pm(r.cvar5Usd, r.cvar5UsdSe)}</b></div>
<div>IRR of the conversion (p50)<br><b>${pct(r.irrPct.p50)}</b></div>
<div>Payback (p50)<br><b>${esc(paybackText(r.paybackYears))}</b></div>
<div>Keep mining (no conversion)<br><b>${pm(r.baseline.npvUsd.mean, r.baseline.npvUsd.se)}</b></div>
</div>
<h2>Conversion schedule that maximizes expected NPV</h2>
<small>Searched on the first ${r.search.paths.toLocaleString('en-US')} paths, then run on all ${r.paths.toLocaleString('en-US')}.</small>
${scheduleTable(r.schedule, r.refresh)}
<h2>Best risk-averse alternative (maximizes CVaR 5 %)</h2>
${scheduleTable(r.riskAverse.schedule, r.riskAverse.refresh)}
<p>NPV ${q(r.riskAverse.npvUsd)}, CVaR 5 % ${pm(r.riskAverse.cvar5Usd, r.riskAverse.cvar5UsdSe)}, IRR p50 ${pct(r.riskAverse.irrPct.p50)}, payback ${esc(paybackText(r.riskAverse.paybackYears))}${risk && risk.verdict !== 'pick' ? `; vs the pick ${pm(risk.vsPickUsd.mean, risk.vsPickUsd.se)} on the same paths: <b>${VERDICT[risk.verdict]}</b>` : ''}.</p>
${users}
<h2>Schedules compared</h2>
<p><small>${esc(r.comparison.basis)}.</small></p>
${comparisonTable(rows.filter((x) => x.kind !== 'start-year' && x.kind !== 'size'), 'main')}
${byYear.length ? `<h2>When: NPV and CVaR 5 % by start year</h2><p><small>Each site varied alone, the others at the pick; for each year the best MW and contract. Band: mean ± 1.96 standard errors.</small></p>${comparisonTable(byYear, 'start-year')}<div class="wide"><canvas id="byYear"></canvas></div>` : ''}
${bySize.length ? `<h2>How much: NPV and CVaR 5 % by size</h2>${comparisonTable(bySize, 'size')}<div class="wide"><canvas id="bySize"></canvas></div>` : ''}
<div class="grid">
<div><h2>Cash flow by year (USD M)</h2><canvas id="cf"></canvas></div>
<div><h2>Revenue mix by year (USD M)</h2><canvas id="mix"></canvas></div>
<div><h2>Bitcoin share of revenue (%)</h2><canvas id="share"></canvas></div>
</div>
<h2>Sensitivity: mean NPV, low … high case (USD M)</h2><small>${esc(r.sensitivity.basis)}; base ${pm(r.sensitivity.baseNpvUsd, r.sensitivity.baseNpvUsdSe)} on those ${r.sensitivity.paths} paths (dashed line).</small>
<div class="wide"><canvas id="tornado"></canvas></div>
<h2>By year (means)</h2>
<table><tr><th>year</th><th>revenue</th><th>Bitcoin share</th><th>EBITDA</th><th>cash flow ± SE</th><th>hashprice USD/PH/day</th><th>BTC USD</th></tr>${yearRows}</table>
<h2>Value per MW by site and use (after-tax PV)</h2>
<table><tr><th>site</th><th>use</th><th>MW</th><th>PV ± SE</th><th>PV per MW</th></tr>${vpm}</table>
<h2>Halving</h2>
<p>Block ${r.halving.height.toLocaleString('en-US')}: p5 ${r.halving.dateP5 ?? '—'}, p50 ${r.halving.dateP50 ?? '—'}, p95 ${r.halving.dateP95 ?? '—'} (block times from the simulated hashrate and the exact retarget rule).</p>
<h2>BTC price process</h2>
<p>${esc(r.btcPriceProcess.model.toUpperCase())}: drift <b>${r.btcPriceProcess.driftPctPerYear.toFixed(1)} %/yr</b> (${esc(r.btcPriceProcess.driftSource)}), so the median path grows ${r.btcPriceProcess.medianGrowthPctPerYear.toFixed(1)} %/yr; volatility <b>${r.btcPriceProcess.volPctPerYear.toFixed(1)} %/yr</b> (${esc(r.btcPriceProcess.volSource)}). The drift is an estimate with a standard error of ±${r.btcPriceProcess.driftStdErrPctPerYear.toFixed(1)} %/yr: the sensitivity shows NPV at ± one standard error. Calibration ${esc(r.btcPriceProcess.calibration.from)}..${esc(r.btcPriceProcess.calibration.to)}: ${esc(r.btcPriceProcess.calibration.method)}.</p>
<h2>Assumptions and notes</h2>
<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<script>${chartJsSource.replace(/<\/script/gi, '<\\/script')}</script>
<script>
const D = ${scriptJson(data)};
// A report is read as a document: no animation, so a capture never shows a chart mid-way.
Chart.defaults.animation = false;
const band = 'rgba(52,110,235,0.18)';
new Chart(document.getElementById('cf'), { type: 'line', data: { labels: D.years, datasets: [
  { label: 'p95', data: D.cfP95, borderWidth: 0, pointRadius: 0, backgroundColor: band, fill: '+1' },
  { label: 'p5', data: D.cfP5, borderWidth: 0, pointRadius: 0, backgroundColor: band, fill: false },
  { label: 'mean', data: D.cfMean, borderColor: '#346eeb', fill: false },
  { label: 'keep mining (mean)', data: D.cfBase, borderColor: '#e08a1e', borderDash: [5, 4], fill: false } ] } });
new Chart(document.getElementById('mix'), { type: 'bar', data: { labels: D.years, datasets: [
  { label: 'Bitcoin mining', data: D.btc, backgroundColor: '#f2a33a' },
  { label: 'AI capacity', data: D.ai, backgroundColor: '#346eeb' },
  { label: 'power resale', data: D.resale, backgroundColor: '#7a8699' } ] },
  options: { scales: { x: { stacked: true }, y: { stacked: true } } } });
new Chart(document.getElementById('share'), { type: 'line', data: { labels: D.years, datasets: [
  { label: 'p95', data: D.shareP95, borderWidth: 0, pointRadius: 0, backgroundColor: 'rgba(242,163,58,0.25)', fill: '+1' },
  { label: 'p5', data: D.shareP5, borderWidth: 0, pointRadius: 0, backgroundColor: 'rgba(242,163,58,0.25)', fill: false },
  { label: 'share of mean revenue', data: D.shareMean, borderColor: '#f2a33a', fill: false } ] },
  options: { scales: { y: { min: 0, max: 100 } } } });
const palette = ['#346eeb', '#e08a1e', '#2ca02c', '#d62728', '#9467bd'];
function gridChart(id, series, xTitle) {
  const el = document.getElementById(id);
  if (!el) return;
  const labels = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const at = (s, ys) => labels.map((x) => { const i = s.x.indexOf(x); return i < 0 ? null : ys[i]; });
  const datasets = series.flatMap((s, i) => [
    { label: s.site + ' NPV +1.96 SE', data: at(s, s.hi), borderWidth: 0, pointRadius: 0, backgroundColor: palette[i % 5] + '30', fill: '+1' },
    { label: s.site + ' NPV −1.96 SE', data: at(s, s.lo), borderWidth: 0, pointRadius: 0, fill: false },
    { label: s.site + ': mean NPV', data: at(s, s.mean), borderColor: palette[i % 5], backgroundColor: palette[i % 5], fill: false },
    { label: s.site + ': CVaR 5 %', data: at(s, s.cvar), borderColor: palette[i % 5], backgroundColor: palette[i % 5], borderDash: [6, 4], fill: false },
  ]);
  new Chart(el, { type: 'line', data: { labels, datasets }, options: { spanGaps: true,
    plugins: { legend: { labels: { filter: (item) => !item.text.includes('1.96 SE') } } },
    scales: { x: { title: { display: true, text: xTitle } }, y: { title: { display: true, text: 'portfolio NPV, USD M' } } } } });
}
gridChart('byYear', D.byYear, 'year construction starts');
gridChart('bySize', D.bySize, 'MW of IT converted');
new Chart(document.getElementById('tornado'), { type: 'bar', data: { labels: D.tornado.map((b) => b.label), datasets: [
  { label: 'low … high case', data: D.tornado.map((b) => [Math.min(b.low, b.high), Math.max(b.low, b.high)]), backgroundColor: D.tornado.map((b) => (b.low <= b.high ? '#4cae4c' : '#d9534f')) },
  { type: 'line', label: 'base ' + D.tornadoBase.toFixed(1) + ' M', data: D.tornado.map((b) => ({ x: D.tornadoBase, y: b.label })), borderColor: '#1d2433', borderDash: [4, 4], pointRadius: 0, indexAxis: 'y' } ] },
  options: { indexAxis: 'y', scales: { x: { title: { display: true, text: 'mean NPV, USD M' } } }, plugins: { tooltip: { callbacks: { label: (c) => {
    const b = D.tornado[c.dataIndex]; return b.lowLabel + ': ' + b.low.toFixed(1) + ' M; ' + b.highLabel + ': ' + b.high.toFixed(1) + ' M'; } } } } } });
</script>
</body></html>
`;
}
