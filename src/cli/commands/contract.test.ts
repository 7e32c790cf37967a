import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo, runCapture, type CapturedIo } from '../../testing/cli.js';
import { REPO_ROOT } from '../../testing/data.js';
import { runCli } from '../run.js';

function capture(cwd = process.cwd()): { io: CapturedIo; out: () => string; err: () => string } {
  const io = captureIo(cwd);
  return { io, out: io.out, err: io.err };
}

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mullet contract value', () => {
  it('values IREN–Microsoft as JSON: ~808 USD/kW-month, ~$1.94B a year', async () => {
    const c = capture();
    const code = await runCli(['contract', 'value', '--mw', '200', '--years', '5', '--total-usd', '9.7e9', '--prepay-pct', '20', '--discount-rate', '0.08', '--json'], c.io);
    expect(code).toBe(0);
    expect(c.err()).toBe('');
    const j = JSON.parse(c.out()) as Record<string, unknown>;
    expect(j.usdPerKwMonth).toBeCloseTo(808.333, 3);
    expect(j.annualRevenueUsd).toBeCloseTo(1.94e9, 0);
    expect(j.totalValueUsd).toBeCloseTo(9.7e9, 0);
    expect(j.npvUsd).toBeLessThan(9.7e9);
    expect(j.npvUsd).toBeGreaterThan(7.5e9);
    expect(j.revenueByYearUsd).toHaveLength(5);
    expect(j.inputs).toEqual({ mw: 200, years: 5, totalUsd: 9.7e9, usdPerKwMonth: null, escalatorPct: 0, prepayPct: 20, discountRate: 0.08, ramp: { kind: 'none' } });
  });

  it('solves the first-year rate of an escalating total (Hut 8) and prints a table with units', async () => {
    const c = capture();
    expect(await runCli(['contract', 'value', '--mw', '245', '--years', '15', '--total-usd', '7.0e9', '--escalator-pct', '3'], c.io)).toBe(0);
    expect(c.out()).toMatch(/First-year rate: +128\.02 USD\/kW-month/);
    expect(c.out()).toMatch(/Level-equivalent rate: +158\.73 USD\/kW-month/);
    expect(c.out()).toMatch(/year +months +avg IT MW +rate USD\/kW-month +revenue USD +cash USD/);
    expect(c.out().trim().split('\n').at(-1)?.trim()).toMatch(/^15 +12 +245\.0 +193\.64 +569,287,440/);
  });

  it('accepts a rate with a step ramp', async () => {
    const c = capture();
    expect(await runCli(['contract', 'value', '--mw', '100', '--years', '1', '--usd-per-kw-month', '10', '--ramp-step', '4:40', '--ramp-step', '7:100', '--json'], c.io)).toBe(0);
    const j = JSON.parse(c.out()) as { totalValueUsd: number; firstFullYear: number | null };
    expect(j.totalValueUsd).toBeCloseTo(7.2e6, 4);
    expect(j.firstFullYear).toBeNull();
  });

  it.each([
    [['--mw', '200', '--years', '5'], /exactly one of --total-usd or --usd-per-kw-month \(got neither\)/],
    [['--mw', '200', '--years', '5', '--total-usd', '1e9', '--usd-per-kw-month', '100'], /got both/],
    [['--mw', '200', '--years', '5', '--total-usd', '1e9', '--discount-rate', '8'], /--discount-rate: must be > -1 and <= 0\.99 fraction\/year, got 8 \(a fraction per year: 0\.08 = 8 %, not a percent\)/],
    [['--mw', '200', '--years', '5.01', '--total-usd', '1e9'], /--years: 5\.01 years is not a whole number of months/],
    [['--mw', '-1', '--years', '5', '--total-usd', '1e9'], /--mw: must be > 0/],
    [['--mw', '100', '--years', '5', '--total-usd', '1e9', '--ramp-step', '7:10', '--ramp-step', '3:20'], /--ramp-step #2: months must increase strictly/],
    [['--mw', '100', '--years', '5', '--total-usd', '1e9', '--ramp-step', 'soon'], /--ramp-step: expected MONTH:MW/],
    [['--years', '5', '--total-usd', '1e9'], /--mw: is required/],
  ])('exits 2 with a clear message for %j', async (argv, message) => {
    const c = capture();
    expect(await runCli(['contract', 'value', ...argv], c.io)).toBe(2);
    expect(c.out()).toBe('');
    expect(c.err()).toMatch(message);
  });
});

describe('mullet deals', () => {
  it('lists the six published deals with implied rates', async () => {
    const c = capture();
    expect(await runCli(['deals'], c.io)).toBe(0);
    const out = c.out();
    for (const miner of ['IREN', 'Hut 8', 'Cipher Mining', 'Core Scientific', 'TeraWulf', 'Galaxy']) expect(out).toContain(miner);
    expect(out).toMatch(/IREN +Microsoft +gpu-cloud +200 +5 +9\.70 +n\/d +808\.33/);
    expect(out).toMatch(/level USD\/kW-mo/);
  });

  it('merges a user file and reports the override on stderr (JSON on stdout only)', async () => {
    writeFileSync(path.join(dir, 'd.json'), JSON.stringify({ deals: [{ id: 'galaxy-coreweave-2025-08', miner: 'Galaxy', tenant: 'CoreWeave', itMW: 800, termYears: 15, annualUsd: 1e9, announced: '2025-08', source: 'x' }] }));
    const c = capture(dir);
    expect(await runCli(['deals', '--file', 'd.json', '--json'], c.io)).toBe(0);
    const j = JSON.parse(c.out()) as { deals: { id: string; metrics: { usdPerKwMonth: number } }[] };
    expect(j.deals.find((d) => d.id === 'galaxy-coreweave-2025-08')?.metrics.usdPerKwMonth).toBeCloseTo(1e9 / (800_000 * 12), 6);
    expect(c.err()).toMatch(/note: user file overrides built-in deal 'galaxy-coreweave-2025-08'/);
  });

  it('exits 2 naming file:line for a bad deals file', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), '- miner: A\n  tenant: B\n  itMW: 0\n  termYears: 5\n  totalValueUsd: 1e9\n  announced: 2026-01\n  source: x\n');
    const c = capture(dir);
    expect(await runCli(['deals', '--file', 'bad.yaml'], c.io)).toBe(2);
    expect(c.err()).toMatch(/bad\.yaml:3: \[0\]\.itMW: itMW must be > 0/);
  });
});

describe('mullet deals --propose-*', () => {
  it('values a proposal and places it among the published leases', async () => {
    const r = await runCapture(['deals', '--propose-mw', '150', '--propose-years', '10', '--propose-total-usd', '2.6e9', '--propose-escalator-pct', '3', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { proposal: { comparison: { usdPerKwMonth: number; peers: number } } };
    // 2.6e9 / (150 MW × 1000 × 120 months)
    expect(j.proposal.comparison.usdPerKwMonth).toBeCloseTo(2.6e9 / (150 * 1000 * 120), 6);
    expect(j.proposal.comparison.peers).toBe(5);
  });
  it('exits 2 when the proposal is incomplete', async () => {
    const r = await runCapture(['deals', '--propose-mw', '150']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--propose-years');
    const site = await runCapture(['deals', '--propose-mw', '150', '--propose-years', '10', '--propose-total-usd', '2.6e9', '--portfolio', 'examples/portfolio-two-texas-sites.yaml'], captureIo(REPO_ROOT));
    expect(site.code).toBe(2);
    expect(site.err).toMatch(/--portfolio-site: 2 sites have an ai: section \(Pecos, Rockdale\)/);
  });

  it('gives NPV per MW, the escalator- and term-normalised rate, the landlord IRR on conversion capex, counterparty and backstop, with units', async () => {
    // 100 MW, 10 years at a level 100 USD/kW-month = 1.2 M USD per MW-year; capex equal to the rent it earns → IRR 0 %.
    const argv = ['deals', '--propose-mw', '100', '--propose-years', '10', '--propose-usd-per-kw-month', '100', '--propose-capex-usd-per-mw', '12e6', '--propose-lead-time-months', '0',
      '--propose-opex-usd-per-mw-year', '0', '--propose-discount-rate-pct', '8', '--propose-tenant', 'Acme AI', '--propose-backstop', 'Parent Co., 1 B USD'];
    const r = await runCapture([...argv, '--json']);
    expect(r.code).toBe(0);
    const p = (JSON.parse(r.out) as { proposal: Record<string, unknown> & { conversion: Record<string, unknown>; comparisonNormalised: { peers: number } } }).proposal;
    expect(p).toMatchObject({ tenant: 'Acme AI', backstop: 'Parent Co., 1 B USD', discountRatePct: 8, levelUsdPerKwMonth: 100 });
    // No escalator: the PV-level rate is the level rate.
    expect(p.pvLevelUsdPerKwMonth).toBeCloseTo(100, 9);
    // Contract NPV per MW: 100,000 USD a month for 120 months at 8 %/yr, month ends.
    let pv = 0;
    for (let m = 1; m <= 120; m++) pv += 100_000 * 1.08 ** (-m / 12);
    expect(p.contractNpvUsdPerMw).toBeCloseTo(pv, 4);
    expect(p.conversion.landlordIrrPct).toBeCloseTo(0, 6);
    expect(p.conversion.landlordNpvUsdPerMw).toBeCloseTo(pv - 12e6, 4);
    expect(p.conversion.source).toBe('flags and defaults');
    expect(p.comparisonNormalised.peers).toBe(5);
    const human = await runCapture(argv);
    expect(human.out).toContain('tenant Acme AI; backstop Parent Co., 1 B USD');
    expect(human.out).toMatch(/proposal [-+][\d.]+ USD\/kW-month vs median/);
    expect(human.out).toMatch(/landlord: +IRR 0\.0 %\/yr on the conversion capex; NPV [-+][\d.]+ M USD per MW at 8\.00 %\/yr/);
    expect(human.out).toContain('Backstops: Hut 8–Fluidstack: Google');
    // The portfolio's conversion assumptions and discount rate.
    const pf = await runCapture(['deals', '--propose-mw', '100', '--propose-years', '15', '--propose-usd-per-kw-month', '140', '--portfolio', 'examples/portfolio-two-texas-sites.yaml', '--portfolio-site', 'rockdale', '--json'], captureIo(REPO_ROOT));
    const c = (JSON.parse(pf.out) as { proposal: { conversion: { capexUsdPerMW: number; leadTimeMonths: number; source: string } } }).proposal.conversion;
    expect(c).toMatchObject({ capexUsdPerMW: 10_000_000, leadTimeMonths: 24, source: 'examples/portfolio-two-texas-sites.yaml, site Rockdale' });
  });
});
