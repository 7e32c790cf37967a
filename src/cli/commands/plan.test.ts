import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_LABEL } from '../../scenario/params.js';
import { captureIo, runCapture } from '../../testing/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PORTFOLIO = `name: tiny
finance: { startDate: 2026-01-01, horizonYears: 3, discountRatePct: 10 }
scenarios: { power: { poolYears: 1 } }
sites:
  - name: A
    interconnectMW: 60
    power: { kind: market, adderUsdPerMWh: 5 }
    mining:
      fleets: [ { model: Antminer S19j Pro, count: 10000 } ]
    ai:
      convertibleItMW: 30
      capexUsdPerMW: 9000000
      leadTimeMonths: 6
      contracts:
        - { name: lease, kind: lease, usdPerKwMonth: 160, termYears: 10, escalatorPct: 3 }
`;

const file = path.join(dir, 'p.yaml');
writeFileSync(file, PORTFOLIO);

describe('mullet plan', () => {
  it('--json has the keys issue 5 lists, and --report writes a self-contained HTML file', async () => {
    const report = path.join(dir, 'r.html');
    const r = await runCapture(['plan', '--portfolio', file, '--paths', '120', '--search-paths', '30', '--seed', '4', '--threads', '1', '--report', report, '--json'], captureIo(dir));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown> & { npvUsd: object; irrPct: object; years: object[]; schedule: unknown[] };
    expect(Object.keys(j.npvUsd)).toEqual(['mean', 'se', 'p5', 'p50', 'p95']);
    expect(j.irrPct).toHaveProperty('p50');
    expect(j.years).toHaveLength(3);
    for (const k of ['year', 'revenueUsd', 'btcRevenueSharePct', 'ebitdaUsd']) expect(j.years[0]).toHaveProperty(k);
    expect(Array.isArray(j.schedule)).toBe(true);
    expect(j.powerPrices).toEqual({ synthetic: true, label: SYNTHETIC_LABEL });
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<canvas id="tornado">');
    expect(html).toContain('new Chart(');
    expect(html).toContain(SYNTHETIC_LABEL);
    expect(html).not.toMatch(/<script[^>]+src=/); // nothing loaded from elsewhere
    expect(r.err).toContain('report written');
  });

  it('--years overrides the horizon; human output labels power prices synthetic', async () => {
    const r = await runCapture(['plan', '--portfolio', file, '--paths', '60', '--search-paths', '20', '--years', '2', '--threads', '1'], captureIo(dir));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`power prices: ${SYNTHETIC_LABEL}`);
    expect(r.out).toMatch(/2 years from 2026-01-01/);
  });

  it('compares the user\'s schedules (file and --schedule) beside the picks, with standard errors and verdicts', async () => {
    const withSchedules = path.join(dir, 'with-schedules.yaml');
    writeFileSync(withSchedules, `${PORTFOLIO}schedules:\n  - name: late\n    sites: [ { site: A, itMW: 30, start: 2028-01, contract: lease } ]\n`);
    const report = path.join(dir, 's.html');
    const r = await runCapture(['plan', '--portfolio', withSchedules, '--paths', '80', '--search-paths', '20', '--threads', '1', '--schedule', 'now=A:30@2026-01', '--report', report], captureIo(dir));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/NPV \(USD M\): mean [\d.,-]+ ± [\d.]+ \(± = standard error\)/);
    expect(r.out).toContain('Your schedule "late"');
    expect(r.out).toContain('Your schedule "now"');
    expect(r.out).toMatch(/yours: now .*(the pick|not significant|worse|better)/);
    // The late build cannot pay back inside a 3-year plan, and says so instead of printing the horizon.
    expect(r.out).toMatch(/Your schedule "late":[\s\S]*payback p50 not within the 3-year horizon/);
    expect(r.out).toContain('By start year');
    expect(r.out).toMatch(/Sensitivity: mean NPV of the expected-NPV pick on the first 20 paths.*base [\d.,-]+ ± [\d.]+ M USD on those 20 paths/);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('Chart.defaults.animation = false');
    expect(html).toContain('<canvas id="byYear">');
    expect(html).toContain('<canvas id="bySize">');
    // The tornado's base and each bar's range are on the chart itself.
    const data = JSON.parse(/const D = (\{.*\});/.exec(html)?.[1] ?? '{}') as { tornadoBase: number; tornado: { label: string; low: number; high: number }[]; byYear: { site: string; x: number[] }[] };
    expect(Number.isFinite(data.tornadoBase)).toBe(true);
    for (const b of data.tornado) expect(b.label).toMatch(/… .* M \(range \d+\)/);
    expect(data.byYear[0]?.x).toEqual([2026, 2027, 2028]);
    const dup = await runCapture(['plan', '--portfolio', withSchedules, '--paths', '20', '--search-paths', '10', '--threads', '1', '--schedule', 'late=A:30@2026-01'], captureIo(dir));
    expect(dup.code).toBe(2);
    expect(dup.err).toContain("schedule name 'late'");
    const bad = await runCapture(['plan', '--portfolio', file, '--paths', '20', '--threads', '1', '--schedule', 'A:999@2026-01'], captureIo(dir));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--schedule\[0\]\.sites\[0\]\.itMW: 999 MW is above the 30 MW/);
  });

  it('a bad portfolio exits 2 naming file, line and path', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, PORTFOLIO.replace('usdPerKwMonth: 160', 'usdPerKwMonth: 0'));
    const r = await runCapture(['plan', '--portfolio', bad, '--threads', '1'], captureIo(dir));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:\d+: sites\[0\]\.ai\.contracts\[0\]\.usdPerKwMonth: must be > 0/);
    const missing = await runCapture(['plan', '--portfolio', 'nope.yaml'], captureIo(dir));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('nope.yaml');
  });
});
