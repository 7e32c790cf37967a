/**
 * The industry importer on hand-written rows in the shared format (never the data files
 * themselves), and — when the team's copy is present ($MULLET_DATA/industry) — on the real files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { sharedFile } from '../testing/data.js';
import { dealViews, mwByCompany, revenueMix, valuePerMw } from './analytics.js';
import { readCsv } from './csv.js';
import { importIndustry } from './import.js';
import { parseIndustryCsv } from './parse.js';
import { SqliteIndustryStore } from './store.js';

const METRICS = `company,ticker,period,metric,value,unit,as_of,source_url,source_kind,note
Acme Mining,ACME,2025Q2,revenue_bitcoin_mining_usd,90000000,USD,2025-06-30,https://example.com/acme-q2,press_release,
Acme Mining,ACME,2025Q2,revenue_ai_hpc_usd,10000000,USD,2025-06-30,https://example.com/acme-q2,press_release,
Acme Mining,ACME,2025Q2,revenue_other_usd,3000000,USD,2025-06-30,https://sec.example.gov/R13.htm,filing,"Segment ""Power"""
Acme Mining,ACME,2025Q2,revenue_other_usd,2000000,USD,2025-06-30,https://sec.example.gov/R13.htm,filing,"Segment ""Other"", a second segment of the same report"
Acme Mining,ACME,2025Q3,revenue_bitcoin_mining_usd,80000000,USD,2025-09-30,https://news.example.com/a,press,disagrees with the release (80.1M)
Acme Mining,ACME,2025Q3,revenue_bitcoin_mining_usd,80100000,USD,2025-09-30,https://example.com/acme-q3,press_release,disagrees with news.example.com (80.0M)
Acme Mining,ACME,2025Q3,revenue_ai_hpc_usd,40000000,USD,2025-09-30,https://example.com/acme-q3,press_release,
Acme Mining,ACME,FY2025,revenue_total_usd,500000000,USD,2025-12-31,https://example.com/acme-fy,filing,fiscal year: left out of the quarterly mix
Acme Mining,ACME,2025Q3,ai_hpc_mw_committed,200,MW,2025-09-30,https://example.com/acme-q3,press_release,CRITICAL IT
Acme Mining,ACME,2025Q3,market_cap_usd,4000000000,USD,2025-09-30,https://markets.example.com/acme,press,
Acme Mining,ACME,2025Q3,contracted_or_approved_mw,800,MW,2025-08-15,https://example.com/acme-power,press_release,"approved power, multi-line
note kept"
`;

const DEALS = `announced,miner,tenant,site,kind,it_mw,term_years,total_value_usd,annual_value_usd,escalator_pct,prepay_pct,backstop,source_url,source_kind,note
2025-03,Acme Mining,Hyperco,"Site A, Texas",lease,100,10,2400000000,,3,,,https://example.com/deal-1,press_release,
2025-08-15,Acme Mining,Hyperco,Site B,lease,100,10,,,,,,https://example.com/deal-2,press,value not disclosed
2025-08-15,Acme Mining,Hyperco,Sites A+B - AGGREGATE,lease,200,10,4800000000,,,,,https://example.com/deal-3,press,AGGREGATE ROW - do not sum with phase rows
2025-11-03,Acme Mining,BigCloud,Site C,gpu-cloud,50,5,3000000000,600000000,,20,,https://example.com/deal-4,press,300 MW gross campus
`;

describe('industry CSV', () => {
  it('reads quoted cells with commas, doubled quotes and line breaks, each record at its starting line', () => {
    const r = readCsv('a,b\n1,"x, ""y""\nz"\n\n2,3\r\n', 'f.csv');
    expect(r).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', 'x, "y"\nz'] },
      { line: 5, cells: ['2', '3'] },
    ]);
    expect(() => readCsv('a,b\n1,"open\n', 'f.csv')).toThrow(/f\.csv:2|never closed/);
  });

  it('parses both kinds by header, one fact per row with its source; exact duplicates are one fact', () => {
    const m = parseIndustryCsv(METRICS + METRICS.split('\n')[1] + '\n', 'miner_metrics.csv');
    expect(m.kind).toBe('metrics');
    expect(m.errors).toEqual([]);
    expect(m.facts).toHaveLength(11);
    expect(m.facts[10]).toMatchObject({ line: 12, row: { metric: 'contracted_or_approved_mw', value: 800, note: 'approved power, multi-line\nnote kept' } });
    const d = parseIndustryCsv(DEALS, 'ai_deals.csv');
    if (d.kind !== 'deals') throw new Error('expected deals');
    expect(d.facts.map((f): unknown[] => [f.row.it_mw, f.row.total_value_usd, f.aggregate])).toEqual([
      [100, 2400000000, false],
      [100, null, false],
      [200, 4800000000, true],
      [50, 3000000000, false],
    ]);
  });

  it('names file:line column: problem for every bad cell, and keeps no row of a bad file', () => {
    const bad = `company,ticker,period,metric,value,unit,as_of,source_url,source_kind,note
Acme,ACME,2025Q5,revenue_total_usd,"1,000",USD,2025-06-30,https://x.example/a,press,
Acme,ACME,2025Q2,hashrate_ehs,12,TH/s,2025-06-31,https://x.example/a,press,
Acme,ACME,2025Q2,revenue_total_usd,5,USD,2025-06-30,,press,
Acme,ACME,2025Q2,made_up_metric,5,USD,2025-06-30,ftp://x.example/a,blog,
Acme,ACME,2025Q2,revenue_total_usd,5,USD,2025-06-30,https://x.example/a,press
Acme,ACME,2025Q2,revenue_total_usd,5,USD,2025-06-30,https://x.example/a,press,fine
`;
    const p = parseIndustryCsv(bad, 'm.csv');
    expect(p.facts).toEqual([]);
    expect(p.errors).toEqual([
      "m.csv:2 period: must be a calendar quarter '2025Q3' or a fiscal year 'FY2025' (got '2025Q5')",
      "m.csv:2 value: must be a plain number (no separators, units or words) (got '1,000')",
      "m.csv:3 as_of: must be YYYY-MM-DD (or YYYY-MM when the day is unknown) (got '2025-06-31')",
      "m.csv:3 unit: hashrate_ehs is in EH/s, not 'TH/s' (got 'TH/s')",
      "m.csv:4 source_url: every fact needs its source (got '')",
      expect.stringMatching(/^m\.csv:5 metric: must be one of revenue_total_usd, /),
      "m.csv:5 source_url: must be an http(s) URL (got 'ftp://x.example/a')",
      'm.csv:5 source_kind: must be one of filing, press_release, press, analyst (got \'blog\')',
      'm.csv:6: expected 10 fields, got 9 (quote cells that hold commas)',
    ]);
    // the unit check also runs alone
    const unit = parseIndustryCsv('company,ticker,period,metric,value,unit,as_of,source_url,source_kind,note\nA,A,2025Q2,hashrate_ehs,12,TH/s,2025-06-30,https://x.example/a,press,\n', 'u.csv');
    expect(unit.errors).toEqual(["u.csv:2 unit: hashrate_ehs is in EH/s, not 'TH/s' (got 'TH/s')"]);
    expect(() => parseIndustryCsv('date,price\n', 'other.csv')).toThrow(/not an industry file/);
  });

  it('analytics: revenue mix (segments of one report summed, the better source wins), MW, implied USD/kW-month, value per MW', () => {
    const m = parseIndustryCsv(METRICS, 'm.csv');
    const d = parseIndustryCsv(DEALS, 'd.csv');
    if (m.kind !== 'metrics' || d.kind !== 'deals') throw new Error('wrong kinds');
    const metrics = m.facts;
    const deals = d.facts;
    const mix = revenueMix(metrics);
    expect(mix.map((r) => [r.period, r.bitcoinUsd, r.aiHpcUsd, r.otherUsd])).toEqual([
      ['2025Q2', 90e6, 10e6, 5e6],
      ['2025Q3', 80.1e6, 40e6, null],
    ]);
    expect(mix[1]?.aiSharePct).toBeCloseTo((100 * 40) / 120.1, 9);
    expect(mix[1]?.sources).toContainEqual({ metric: 'revenue_bitcoin_mining_usd', url: 'https://example.com/acme-q3' });
    const mw = mwByCompany(metrics, deals);
    expect(mw.facts.map((f) => [f.metric, f.mw])).toEqual([
      ['contracted_or_approved_mw', 800],
      ['ai_hpc_mw_committed', 200],
    ]);
    expect(mw.signed).toEqual([{ company: 'Acme Mining', steps: [expect.objectContaining({ announced: '2025-03', cumulativeMW: 100 }), expect.objectContaining({ announced: '2025-08-15', cumulativeMW: 200 }), expect.objectContaining({ announced: '2025-11-03', cumulativeMW: 250 })] }]);
    const dv = dealViews(deals);
    const lease = dv.find((d) => d.sourceUrl === 'https://example.com/deal-1');
    expect(lease?.impliedUsdPerKwMonth).toBeCloseTo(2.4e9 / 100_000 / 120, 9); // 200 USD/kW-month
    expect(lease?.caveats).toEqual(['announcement date known to the month only']);
    const gpu = dv.find((d) => d.kind === 'gpu-cloud');
    expect(gpu).toMatchObject({ comparable: false });
    expect(gpu?.caveats).toContain('MW basis: gross (not critical IT) per the note');
    expect(dv.find((d) => d.aggregate)?.caveats).toContain('aggregate of phase rows: do not sum');
    expect(valuePerMw(metrics).map((r) => [r.mwMetric, r.usdPerMW, r.sources.length])).toEqual([
      ['ai_hpc_mw_committed', 20e6, 2],
      ['contracted_or_approved_mw', 5e6, 2],
    ]);
  });
});

describe('industry store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mullet-industry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports idempotently; a re-imported file replaces its edited rows; a bad file stores nothing', async () => {
    const m = join(dir, 'miner_metrics.csv');
    const d = join(dir, 'ai_deals.csv');
    writeFileSync(m, METRICS);
    writeFileSync(d, DEALS);
    const store = SqliteIndustryStore.open(join(dir, 'i.db'));
    try {
      expect((await importIndustry([dir], store, 1)).map((r) => [r.file, r.added, r.unchanged, r.removed])).toEqual([
        ['ai_deals.csv', 4, 0, 0],
        ['miner_metrics.csv', 11, 0, 0],
      ]);
      expect((await importIndustry([m, d], store, 2)).map((r) => [r.added, r.unchanged, r.removed])).toEqual([
        [0, 11, 0],
        [0, 4, 0],
      ]);
      writeFileSync(m, METRICS.replace('90000000', '91000000'));
      expect((await importIndustry([m], store, 3)).map((r) => [r.added, r.unchanged, r.removed])).toEqual([[1, 10, 1]]);
      const rows = await store.metrics();
      expect(rows).toHaveLength(11);
      expect(rows.find((r) => r.row.metric === 'revenue_bitcoin_mining_usd' && r.row.period === '2025Q2')?.row).toMatchObject({ value: 91e6, source_url: 'https://example.com/acme-q2' });
      writeFileSync(m, METRICS + 'Acme,ACME,2025Q2,revenue_total_usd,oops,USD,2025-06-30,https://x.example/a,press,\n');
      await expect(importIndustry([m, d], store, 4)).rejects.toThrow(/miner_metrics\.csv:14 value: must be a plain number/);
      expect(await store.metrics()).toHaveLength(11);
      expect((await store.deals()).filter((x) => x.aggregate)).toHaveLength(1);
      expect(await store.files()).toEqual([
        { file: 'ai_deals.csv', kind: 'deals', rows: 4, importedAtMs: 2 },
        { file: 'miner_metrics.csv', kind: 'metrics', rows: 11, importedAtMs: 3 },
      ]);
    } finally {
      await store.close();
    }
  }, 20_000);

  const real = sharedFile('industry', 'miner_metrics.csv');
  it.skipIf(!existsSync(real))(`imports the team's real files (${real}) without a problem`, async () => {
    const store = SqliteIndustryStore.open(':memory:');
    try {
      const r = await importIndustry([sharedFile('industry')], store, 1);
      const metrics = await store.metrics();
      const deals = await store.deals();
      expect(r.every((x) => x.removed === 0)).toBe(true);
      expect(metrics.length).toBeGreaterThan(250);
      expect(deals.length).toBeGreaterThan(20);
      expect(metrics.every((f) => f.row.source_url.startsWith('http'))).toBe(true);
      expect(deals.filter((x) => x.aggregate).length).toBeGreaterThanOrEqual(1);
      expect(revenueMix(metrics).length).toBeGreaterThan(20);
      const implied = dealViews(deals).filter((x) => x.comparable && !x.aggregate && x.impliedUsdPerKwMonth !== null);
      // Leases and hosting sign for tens to a few hundred USD per kW-month.
      for (const x of implied) {
        expect(x.impliedUsdPerKwMonth).toBeGreaterThan(20);
        expect(x.impliedUsdPerKwMonth).toBeLessThan(1000);
      }
      expect((await importIndustry([sharedFile('industry')], store, 2)).every((x) => x.added === 0 && x.removed === 0)).toBe(true);
    } finally {
      await store.close();
    }
  }, 30_000);
});
