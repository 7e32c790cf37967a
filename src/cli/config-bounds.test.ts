import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo } from './capture.js';
import { runCli } from './run.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mullet-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  writeFileSync(path.join(dir, name), text);
  return name;
};

async function fails(argv: string[], message: RegExp): Promise<void> {
  const io = captureIo(dir);
  const code = await runCli(argv, io);
  expect(code, io.err()).toBe(2);
  expect(io.err()).toMatch(message);
}

const SITE = `name: s
market: { iso: ERCOT, settlementPoint: HB_WEST }
interconnect: { importLimitMW: 100 }
fleets:
  - { name: a, model: "Antminer S19 XP", count: 1000 }
`;

const PORTFOLIO = `name: p
finance: { startDate: 2026-01-01, horizonYears: 3, discountRatePct: 10 }
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
        - { name: lease, kind: lease, usdPerKwMonth: 160, termYears: 10 }
`;

const backtest = (site: string) => ['backtest', '--site', site, '--from', '2023-08-01', '--to', '2023-08-01', '--policy', 'strike', '--db', 'absent.db'];

describe('every number in a config file is bounded: exit 2 naming file, line, path and the bound', () => {
  it('site files: MW, machines, prices, list lengths, file size', async () => {
    await fails(backtest(write('mw.yaml', SITE.replace('importLimitMW: 100', 'importLimitMW: 1e9'))), /mw\.yaml:3: interconnect\.importLimitMW: must be <= 10,000 MW/);
    await fails(backtest(write('count.yaml', SITE.replace('count: 1000', 'count: 10000000'))), /count\.yaml:5: fleets\[0\]\.count: must be <= 5,000,000 machines/);
    await fails(backtest(write('ppa.yaml', `${SITE}ppa: { blockMW: 50, priceUsdPerMWh: 1e300 }\n`)), /ppa\.priceUsdPerMWh: must be <= 20,000 USD\/MWh/);
    const many = SITE + Array.from({ length: 201 }, (_, i) => `  - { name: f${i}, model: "Antminer S19 XP", count: 1 }`).join('\n') + '\n';
    await fails(backtest(write('many.yaml', many)), /fleets: at most 200 fleets/);
    // A 600,000-fleet site (35 MB) took minutes; anything over 4 MiB is refused before parsing.
    const huge = SITE + Array.from({ length: 100_000 }, (_, i) => `  - { name: m${i}, model: "Antminer S19 XP", count: 1 }`).join('\n') + '\n';
    await fails(backtest(write('huge.yaml', huge)), /--site huge\.yaml: is 5\.\d MiB; a --site file may be at most 4 MiB/);
  });

  it('portfolio files (plan): absurd money, terms and rates', async () => {
    await fails(['plan', '--portfolio', write('p1.yaml', PORTFOLIO.replace('usdPerKwMonth: 160', 'usdPerKwMonth: 1e308'))], /p1\.yaml:\d+: sites\[0\]\.ai\.contracts\[0\]\.usdPerKwMonth: must be <= 10,000 USD\/kW-month/);
    await fails(['plan', '--portfolio', write('p2.yaml', PORTFOLIO.replace('termYears: 10', 'termYears: 1e5'))], /termYears: must be <= 50 years/);
    await fails(['plan', '--portfolio', write('p3.yaml', PORTFOLIO.replace('discountRatePct: 10', 'discountRatePct: 1e6'))], /finance\.discountRatePct: must be <= 100 %\/yr/);
    await fails(['plan', '--portfolio', write('p4.yaml', PORTFOLIO.replace('capexUsdPerMW: 9000000', 'capexUsdPerMW: 1e300'))], /capexUsdPerMW: must be <= 1,000,000,000,000 USD/);
  });

  it('catalog and deal files', async () => {
    await fails(['catalog', '--file', write('c.yaml', 'asics:\n  - { model: X, hashrateThs: 1e12, powerW: 3000 }\n')], /c\.yaml:2: asics\[0\]\.hashrateThs: must be <= 10,000 TH\/s/);
    const deal = 'deals:\n  - { miner: M, tenant: T, itMW: 100, termYears: 10, totalValueUsd: 1e300, announced: 2025-01, source: x }\n';
    await fails(['deals', '--file', write('d.yaml', deal)], /d\.yaml:2: deals\[0\]\.totalValueUsd: must be <= 1,000,000,000,000 USD/);
  });
});

describe('no NaN in the plan output', () => {
  it('quantities a plan leaves undefined read n/a (text) or null (JSON), never NaN', async () => {
    // Nothing to convert to: no IRR, no payback for the conversion.
    const noAi = write('noai.yaml', PORTFOLIO.slice(0, PORTFOLIO.indexOf('    ai:')));
    const text = captureIo(dir);
    expect(await runCli(['plan', '--portfolio', noAi, '--paths', '40', '--search-paths', '10', '--threads', '1'], text)).toBe(0);
    expect(text.out()).not.toMatch(/NaN|Infinity/);
    expect(text.out()).toMatch(/conversion IRR p50 n\/a/);
    const json = captureIo(dir);
    expect(await runCli(['plan', '--portfolio', noAi, '--paths', '40', '--search-paths', '10', '--threads', '1', '--json'], json)).toBe(0);
    expect((JSON.parse(json.out()) as { irrPct: { p50: unknown } }).irrPct.p50).toBeNull();
  });
});
