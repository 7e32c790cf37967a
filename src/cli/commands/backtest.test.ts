import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKTEST_2023_FILES } from '../../bench/dispatch.js';
import { captureIo, runCapture } from '../../testing/cli.js';
import { REPO_ROOT, SKIP_REASON, sharedFile, skipWithoutSharedData } from '../../testing/data.js';


describe.skipIf(skipWithoutSharedData)(`mullet backtest on real 2023 HB_WEST data ${skipWithoutSharedData ? SKIP_REASON : ''}`, () => {
  let dir = '';
  let db = '';
  const run = (argv: string[]) => runCapture(argv, captureIo(REPO_ROOT));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mullet-backtest-'));
    db = path.join(dir, 'market.db');
    const r = await run(['data', 'import', ...BACKTEST_2023_FILES.map((f) => sharedFile(f)), '--db', db, '--json']);
    expect(r.code).toBe(0);
    // ~3 s alone; the 2-core machine is shared, so allow for a loaded one.
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs optimal on the hybrid example and prints the documented JSON keys', async () => {
    const r = await run(['backtest', '--site', 'examples/west-texas-hybrid.yaml', '--from', '2023-08-08', '--to', '2023-08-10', '--policy', 'optimal', '--db', db, '--json']);
    expect(r.err).not.toMatch(/mullet backtest:/);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    for (const k of ['policy', 'intervals', 'netUsd', 'revenueUsd', 'costUsd', 'miningEnergyMWh', 'curtailedMWh', 'miningUptimePct', 'fourCpTagMW', 'solveSeconds', 'safeFallbacks']) expect(j).toHaveProperty(k);
    expect(j.policy).toBe('optimal');
    expect(j.intervals).toBe(288);
    expect(Object.keys(j.revenueUsd as object)).toEqual(['ai', 'mining', 'powerResale', 'aiFlex', 'aiPassThrough', 'ancillary']);
    expect(Object.keys(j.costUsd as object)).toEqual(['energy', 'ppa', 'transmission', 'ancillaryPenalty']);
    // An energy-only site: no grid services.
    expect(j.ancillaryByProduct).toEqual({});
    expect(j.safeFallbacks).toBe(0);
    expect(j.importLimitViolations).toBe(0);
    // August 2023's official 4CP interval (Aug 10, 16:45–17:00 CDT, ERCOT NP9-83-M) is inside the window:
    // optimal leaves only AI in it, and the tag is settled at exactly that interval.
    expect(j.fourCpPeaks).toEqual([
      expect.objectContaining({ month: '2023-08', basis: 'official', intervalStartUtc: '2023-08-10T21:45:00Z', intervalStartLocal: '2023-08-10T16:45:00-05:00', candidateIntervals: 1, systemLoadMW: 85_636.9 }),
    ]);
    expect(j.fourCpDemandsMW).toEqual([expect.objectContaining({ month: '2023-08', basis: 'official', intervalStartUtc: '2023-08-10T21:45:00Z' })]);
    expect(j.fourCpTagMW as number).toBeLessThan(0.25 * 195);
  });

  it('grid services: synthetic AS prices, revenue by product in the JSON, what each product added, a ledger column per product', async () => {
    const ledger = path.join(dir, 'grid.csv');
    const deployments = path.join(dir, 'deployments.csv');
    // An ECRS deployment on the evening of 2023-08-08 (17:00–18:00 CDT).
    writeFileSync(deployments, 'product,start_utc,end_utc,fraction\nECRS,2023-08-08T22:00:00Z,2023-08-08T23:00:00Z,1\n');
    const r = await run(['backtest', '--site', 'examples/west-texas-grid-services.yaml', '--from', '2023-08-08', '--to', '2023-08-09', '--compare', 'strike', '--as-prices', 'synthetic:3', '--db', db, '--json', '--ledger', ledger, '--as-deployments', deployments]);
    expect(r.err).not.toMatch(/mullet backtest:/);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { notes: string[]; compare: { policy: string; netUsd: number; revenueUsd: { ancillary: number }; ancillaryByProduct: Record<string, number>; ancillaryValueByProduct?: Record<string, number> }[] };
    expect(j.notes.join('\n')).toMatch(/^SYNTHETIC/m);
    expect(j.notes.join('\n')).toMatch(/SB 6/);
    expect(j.notes.join('\n')).toMatch(/1 deployment\(s\) in the window settled/);
    for (const s of j.compare) {
      const sum = Object.values(s.ancillaryByProduct).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(s.revenueUsd.ancillary, 1);
      expect(Object.keys(s.ancillaryValueByProduct ?? {})).toEqual(['RRS', 'ECRS', 'NSPIN', 'ERS-30', 'allProducts']);
    }
    const opt = j.compare.find((s) => s.policy === 'optimal');
    // Perfect foresight can always decline an award: grid services never lower optimal's net (ERS is fixed, so it can).
    expect(opt?.ancillaryValueByProduct?.ECRS ?? -1).toBeGreaterThanOrEqual(-0.01);
    expect(opt?.revenueUsd.ancillary ?? 0).toBeGreaterThan(0);
    const header = readFileSync(ledger, 'utf8').split('\n')[0] ?? '';
    for (const c of ['rrs_award_mw', 'revenue_ecrs_usd', 'revenue_nspin_usd', 'revenue_ers30_usd', 'revenue_ancillary_usd', 'cost_ancillary_penalty_usd']) expect(header.split(',')).toContain(c);
    const human = await run(['backtest', '--site', 'examples/west-texas-grid-services.yaml', '--from', '2023-08-08', '--to', '2023-08-08', '--compare', 'strike', '--as-prices', 'synthetic', '--db', db]);
    expect(human.out).toMatch(/Grid services by product \(USD\)/);
    const bad = await run(['backtest', '--site', 'examples/west-texas-grid-services.yaml', '--from', '2023-08-08', '--to', '2023-08-08', '--policy', 'strike', '--as-prices', 'made-up', '--db', db]);
    expect(bad.code).toBe(2);
  }, 120_000);

  it('compares policies with regret vs optimal and writes the ledger and report', async () => {
    const ledger = path.join(dir, 'l.csv');
    const report = path.join(dir, 'r.html');
    const r = await run(['backtest', '--site', 'examples/riot-style-miner.yaml', '--from', '2023-08-08', '--to', '2023-08-09', '--compare', 'strike,rolling,mining-only', '--db', db, '--json', '--ledger', ledger, '--report', report]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      compare: { policy: string; netUsd: number; regretVsOptimalUsd: number; regretVsOptimalPct: number; revenueUsd: { powerResale: number }; regretByCause?: { gapUsd: number; causes: { cause: string; usd: number }[] } }[];
      identical: { policies: string[]; why: string }[];
    };
    expect(j.compare.map((c) => c.policy)).toEqual(['strike', 'rolling', 'mining-only', 'optimal']);
    // Regret by cause adds up to the regret, for every policy but the reference.
    for (const c of j.compare.slice(0, 3)) {
      expect(c.regretByCause?.gapUsd).toBeCloseTo(c.regretVsOptimalUsd, 1);
      expect(c.regretByCause?.causes.reduce((x, k) => x + k.usd, 0)).toBeCloseTo(c.regretVsOptimalUsd, 0);
    }
    expect(j.compare[3]?.regretByCause).toBeUndefined();
    // Nothing binds at this site: rolling dispatches exactly like strike, and the output says why.
    expect(j.identical.map((i) => i.policies)).toContainEqual(['strike', 'rolling']);
    expect(j.identical[0]?.why).toContain('exactly the strike rule');
    const opt = j.compare[3];
    expect(opt?.regretVsOptimalUsd).toBe(0);
    for (const c of j.compare) expect(c.regretVsOptimalUsd).toBeGreaterThanOrEqual(-0.01);
    expect(opt?.revenueUsd.powerResale).toBeGreaterThan(0);
    // The ledger has every compared policy, a block of 192 intervals each.
    const rows = readFileSync(ledger, 'utf8').trim().split('\n');
    expect(rows).toHaveLength(1 + 4 * 192);
    expect(rows[0]?.startsWith('policy,interval_start_utc,')).toBe(true);
    expect(new Set(rows.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(['strike', 'rolling', 'mining-only', 'optimal']));
    const html = readFileSync(report, 'utf8');
    for (let i = 0; i < 4; i++) expect(html).toContain(`<canvas id="power-${i}">`);
    expect(html).toContain('<canvas id="net">');
    expect(html).toContain('Policies compared');
    expect(html.length).toBeLessThan(2_000_000);
    expect(r.err).toMatch(/rolling: done in/);
  });

  it('human output has the comparison table with regret', async () => {
    const r = await run(['backtest', '--site', 'examples/ai-lease-campus.yaml', '--from', '2023-08-09', '--to', '2023-08-10', '--compare', 'all', '--db', db, '--hashprice-usd-per-ph-day', '60']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/policy\s+net USD/);
    expect(r.out).toMatch(/regret USD\s+regret %/);
    // --compare all puts the rule peers ship first: it is the primary, not the policy that never curtails.
    expect(r.out.split('\n').find((l) => /^(strike|rolling|optimal|mining-only)\s/.test(l))).toMatch(/^strike\s/);
    expect(r.out).toContain('Regret vs optimal by cause (USD');
    const j = await run(['backtest', '--site', 'examples/ai-lease-campus.yaml', '--from', '2023-08-09', '--to', '2023-08-10', '--compare', 'all', '--db', db, '--hashprice-usd-per-ph-day', '60', '--json']);
    expect((JSON.parse(j.out) as { policy: string }).policy).toBe('strike');
    const bad = await run(['backtest', '--site', 'examples/ai-lease-campus.yaml', '--from', '2023-08-09', '--to', '2023-08-10', '--policy', 'strike', '--regret-vs', 'optimal', '--db', db]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--regret-vs: 'optimal' is not among the policies run/);
  });

  it('--sweep runs the policy over a grid: net USD per point, the site file\'s own point, the best', async () => {
    const argv = ['backtest', '--site', 'examples/riot-style-miner.yaml', '--from', '2023-08-08', '--to', '2023-08-09', '--db', db];
    const r = await run([...argv, '--sweep', 'wake-intervals=1,2', '--sweep', 'strike-offset=-10:10:10', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { sweep: { policy: string; points: { params: Record<string, number>; netUsd: number; regretVsOptimalUsd: number }[]; site: { netUsd: number; params: Record<string, number> }; best: { netUsd: number }; optimalNetUsd: number } };
    expect(j.sweep.policy).toBe('strike');
    expect(j.sweep.points.map((p) => p.params)).toEqual([
      { 'wake-intervals': 1, 'strike-offset': -10 },
      { 'wake-intervals': 1, 'strike-offset': 0 },
      { 'wake-intervals': 1, 'strike-offset': 10 },
      { 'wake-intervals': 2, 'strike-offset': -10 },
      { 'wake-intervals': 2, 'strike-offset': 0 },
      { 'wake-intervals': 2, 'strike-offset': 10 },
    ]);
    // The site file's own settings (wake 2, offset 0) are a grid point and equal a plain strike run.
    expect(j.sweep.site.params).toEqual({ 'wake-intervals': 2, 'strike-offset': 0 });
    const plain = JSON.parse((await run([...argv, '--policy', 'strike', '--json'])).out) as { netUsd: number };
    expect(j.sweep.points[4]?.netUsd).toBeCloseTo(plain.netUsd, 2);
    expect(j.sweep.site.netUsd).toBeCloseTo(plain.netUsd, 2);
    expect(j.sweep.best.netUsd).toBe(Math.max(...j.sweep.points.map((p) => p.netUsd)));
    for (const p of j.sweep.points) expect(p.regretVsOptimalUsd).toBeCloseTo(j.sweep.optimalNetUsd - p.netUsd, 2);
    const human = await run([...argv, '--sweep', 'risk-pct=90,98']);
    expect(human.out).toMatch(/risk-pct \(%\)\s+net USD\s+vs site file USD\s+regret vs optimal USD/);
    expect(human.out).toMatch(/best: risk-pct=\d+ → net [\d,]+ USD/);
    // Two values only: the best is always at an edge of the grid, and the output says so.
    expect(human.out).toMatch(/note: the best risk-pct is at the edge of the values tried \(90\.\.98 %\)/);
    const wrong = await run([...argv, '--policy', 'rolling', '--sweep', 'strike-offset=0,5']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/--sweep: 'strike-offset' does not change the rolling policy/);
    const noFourCp = await run(['backtest', '--site', 'examples/west-texas-hybrid.yaml', '--from', '2023-08-08', '--to', '2023-08-09', '--db', db, '--sweep', 'risk-pct=90', '--report', 'x.html']);
    expect(noFourCp.code).toBe(2);
    expect(noFourCp.err).toMatch(/--report: is not available with --sweep/);
  });

  it('bad site files and flags exit 2 with the place named', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(path.join(REPO_ROOT, 'examples/west-texas-hybrid.yaml'), 'utf8').replace('powerW: 3068', 'powerW: 0'));
    const r = await run(['backtest', '--site', bad, '--from', '2023-08-01', '--to', '2023-08-02', '--policy', 'strike', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:\d+: fleets\[1\]\.powerW: must be > 0/);
    const r2 = await run(['backtest', '--site', bad, '--from', '2023-08-01', '--to', '2023-08-02', '--db', db]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/--policy: give --policy/);
    const r3 = await run(['backtest', '--site', 'examples/riot-style-miner.yaml', '--from', '2023-08-01', '--to', '2023-08-02', '--compare', 'strike,best', '--db', db]);
    expect(r3.err).toMatch(/--compare: unknown policy 'best'/);
  });
});
