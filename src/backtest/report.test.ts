import { describe, expect, it } from 'vitest';
import { miningOnlyPolicy } from '../dispatch/baseline.js';
import { regretByCause } from '../dispatch/compare.js';
import { settle } from '../dispatch/ledger.js';
import { strikePolicy } from '../dispatch/strike.js';
import { fleet, input, site, SITE_PAYS } from '../dispatch/testing/fixtures.js';
import type { DispatchInput, PolicyResult } from '../dispatch/types.js';
import { renderBacktestReport, type ReportRun } from './report.js';
import { summarizePolicy, type BacktestDocument } from './summary.js';

const doc = (inp: DispatchInput): BacktestDocument => ({
  site: inp.site.name,
  settlementPoint: 'HB_WEST',
  window: { from: '2023-08-01', to: '2023-08-01', fromUtc: '', toUtc: '' },
  expectedIntervals: inp.startMs.length,
  intervals: inp.startMs.length,
  gaps: { missingIntervals: 0, ranges: [] },
  hashprice: { source: 'constant', meanUsdPerPhDay: 24 },
  fourCpPeaks: [],
  identical: [],
  notes: [],
});

function runs(inp: DispatchInput, results: PolicyResult[]): ReportRun[] {
  return results.map((r) => {
    const ledger = settle(inp, r.plan);
    return { plan: r.plan, ledger, summary: summarizePolicy(inp, r, ledger) };
  });
}

/** The chart data the page draws (the `const D = …` block). */
function chartData(html: string): Record<string, unknown> & { power: { policy: string; firm: number[] | null; flexAi: number[] | null }[] } {
  return JSON.parse(/const D = (\{.*\});/.exec(html)?.[1] ?? '{}') as never;
}

describe('back-test report', () => {
  it('compares policies side by side: a power plan per policy from 0 MW, the PPA block drawn, net by policy, regret by cause', () => {
    const s = site({ ppa: { blockMW: 15, priceUsdPerMWh: 30, resale: true }, fleets: [fleet('a', 10, 50), fleet('b', 8, 40)] });
    const inp = input(s, [20, 90, 90, 20, 20, 30]);
    const rs = runs(inp, [strikePolicy(inp), miningOnlyPolicy(inp)]);
    const first = rs[0] as ReportRun;
    first.summary.regretByCause = regretByCause(inp, first, rs[1] as ReportRun);
    const html = renderBacktestReport({ doc: doc(inp), input: inp, runs: rs, chartJsSource: '/* chart.js */' });
    const d = chartData(html);
    expect(d.power.map((p) => p.policy)).toEqual(['strike', 'mining-only']);
    expect(html).toContain('<canvas id="power-0">');
    expect(html).toContain('<canvas id="power-1">');
    expect(html).toContain('<canvas id="net">');
    expect(html).toContain('<canvas id="regret">');
    expect(html).toMatch(/y: \{ stacked: true, min: 0,/);
    expect(d.ppaBlockMW).toBe(15);
    // A miners-only site has no AI series (no "firm AI" legend), and times are labelled with their zone.
    expect(d.power[0]?.firm).toBeNull();
    expect(d.power[0]?.flexAi).toBeNull();
    expect(html).toContain("text: 'interval start, CPT (America/Chicago)'");
    expect(html).not.toContain('animation: true');
    expect(html.match(/animation: false/g)?.length).toBeGreaterThanOrEqual(2);
    // Break-evens readable: the zoomed axis stops well below the 90 USD/MWh spikes' full-range chart.
    expect(d.hasFleets).toBe(true);
    expect(html).toContain("Real-time price vs each fleet's break-even");
    expect(html).toContain('<canvas id="price-full">');
    expect((d.curtailed as (number | null)[]).some((v) => v !== null)).toBe(true);
  });

  it('a site without fleets gets a price chart, no break-even; tables never print -0', () => {
    const s = site({ ai: [{ kind: 'firm', ...SITE_PAYS, name: 't', itMW: 5, pue: 1, usdPerKwMonth: 100 }] });
    const inp = input(s, [0, 0, 0]);
    const html = renderBacktestReport({ doc: doc(inp), input: inp, runs: runs(inp, [strikePolicy(inp)]), chartJsSource: '' });
    expect(html).not.toContain('break-even (USD/MWh)');
    expect(html).toContain('<h2>Real-time price (USD/MWh)</h2>');
    expect(chartData(html).power[0]?.firm).toEqual([5, 5, 5]);
    // Energy bought at a zero price is −0 in the figures table: printed 0.
    expect(html).not.toMatch(/>-0</);
    expect(html).not.toMatch(/>−0</);
  });
});
