import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo, runCapture, type CapturedIo } from '../../testing/cli.js';
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
    [['--mw', '200', '--years', '5', '--total-usd', '1e9', '--discount-rate', '8'], /--discount-rate: is a fraction per year/],
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
  });
});
