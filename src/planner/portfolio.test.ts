import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { valueContract } from '../compute/contract.js';
import { dealMetrics } from '../compute/deals.js';
import { PUBLISHED_DEALS } from '../compute/deals-data.js';
import { parseDataText } from '../catalog/data-file.js';
import { isMulletError } from '../core/errors.js';
import { DEFAULT_SCENARIO_PARAMS } from '../scenario/defaults.js';
import { REPO_ROOT } from '../testing/data.js';
import { PortfolioSchema } from './portfolio.js';
import { resolvePortfolio } from './resolve.js';

function problem(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return isMulletError(err) ? `${err.code} ${err.where ?? ''}: ${err.message}` : String(err);
  }
  return 'no error';
}

const yaml = (body: string) => `name: t
finance: { startDate: 2026-01-01, horizonYears: 5, discountRatePct: 9 }
sites:
${body}`;

const okSite = `  - name: A
    interconnectMW: 100
    power: { kind: market }
    mining: { fleets: [ { model: Antminer S21, count: 1000 } ] }
    ai:
      convertibleItMW: 40
      capexUsdPerMW: 9000000
      leadTimeMonths: 12
      contracts:
        - { name: l, kind: lease, usdPerKwMonth: 150, termYears: 10 }
`;

describe('portfolio file', () => {
  it('the example in examples/ parses and resolves', () => {
    const file = path.join(REPO_ROOT, 'examples', 'portfolio-two-texas-sites.yaml');
    const p = parseDataText(readFileSync(file, 'utf8'), file, PortfolioSchema);
    expect(p.sites).toHaveLength(2);
    const m = resolvePortfolio({ ...p, scenarios: { ...p.scenarios, power: { ...p.scenarios.power, poolYears: 1 } } }, { paramsFor: () => DEFAULT_SCENARIO_PARAMS, seed: 1 });
    expect(m.sites[0]?.fleets[0]?.model).toBe('Antminer S19 XP'); // least efficient first
    expect(m.sites[0]?.ai?.contracts.map((c) => c.name)).toEqual(['hyperscaler-lease', 'gpu-cloud-h100']);
  });

  it("the example's leases level within the published lease deals (mullet deals), not above them", () => {
    const file = path.join(REPO_ROOT, 'examples', 'portfolio-two-texas-sites.yaml');
    const p = parseDataText(readFileSync(file, 'utf8'), file, PortfolioSchema);
    const published = PUBLISHED_DEALS.filter((d) => d.kind === 'lease').map((d) => dealMetrics(d).usdPerKwMonth);
    const [lo, hi] = [Math.min(...published), Math.max(...published)];
    expect([Math.round(lo), Math.round(hi)]).toEqual([121, 159]);
    const leases = p.sites.flatMap((s) => s.ai?.contracts ?? []).filter((c) => c.kind === 'lease');
    expect(leases).toHaveLength(2);
    for (const c of leases) {
      if (c.kind !== 'lease') continue;
      const level = valueContract({ itMW: 1, termYears: c.termYears, usdPerKwMonth: c.usdPerKwMonth, escalatorPct: c.escalatorPct }).usdPerKwMonth;
      expect(level).toBeGreaterThanOrEqual(lo - 1e-9);
      expect(level).toBeLessThanOrEqual(hi + 1e-9);
    }
  });

  it('schema errors name the file line and the data path', () => {
    const bad = okSite.replace('usdPerKwMonth: 150', 'usdPerKwMonth: -5');
    expect(problem(() => parseDataText(yaml(bad), 'p.yaml', PortfolioSchema))).toMatch(/^BAD_INPUT p\.yaml:\d+: sites\[0\]\.ai\.contracts\[0\]\.usdPerKwMonth: must be > 0/);
    const unknown = okSite.replace('interconnectMW: 100', 'interconnectMW: 100\n    color: red');
    expect(problem(() => parseDataText(yaml(unknown), 'p.yaml', PortfolioSchema))).toMatch(/sites\[0\]/);
    const nan = okSite.replace('interconnectMW: 100', 'interconnectMW: .nan');
    expect(problem(() => parseDataText(yaml(nan), 'p.yaml', PortfolioSchema))).toMatch(/sites\[0\]\.interconnectMW/);
    expect(problem(() => parseDataText(yaml(okSite).replace('2026-01-01', '2026-01-15'), 'p.yaml', PortfolioSchema))).toMatch(/finance\.startDate: must be the first day of a month/);
  });

  it('resolve errors carry the data path: unknown model, MW that do not fit, bad refresh', () => {
    const p = (body: string) => parseDataText(yaml(body), 'p.yaml', PortfolioSchema);
    const resolve = (body: string) => resolvePortfolio(p(body), { paramsFor: () => DEFAULT_SCENARIO_PARAMS, seed: 1 });
    expect(problem(() => resolve(okSite.replace('Antminer S21', 'Antminer S99')))).toMatch(/^BAD_INPUT sites\[0\]\.mining\.fleets\[0\]\.model: unknown ASIC model 'Antminer S99'/);
    expect(problem(() => resolve(okSite.replace('count: 1000', 'count: 100000')))).toMatch(/^BAD_INPUT sites\[0\]\.mining\.fleets: fleets draw 367\.5 MW/);
    expect(problem(() => resolve(okSite.replace('convertibleItMW: 40', 'convertibleItMW: 90')))).toMatch(/^BAD_INPUT sites\[0\]\.ai\.convertibleItMW: 90 MW of IT at PUE 1\.3 needs 117\.0 MW/);
    expect(problem(() => resolve(okSite.replace('termYears: 10', 'termYears: 10.01')))).toMatch(/^BAD_INPUT sites\[0\]\.ai\.contracts\[0\]\.termYears: /);
    const refresh = okSite.replace('mining: { fleets: [ { model: Antminer S21, count: 1000 } ] }', 'mining:\n      fleets: [ { model: Antminer S21, count: 1000 } ]\n      refresh: [ { replaces: Antminer S19 XP, model: Antminer S21 XP, usdPerTh: 12, year: 2027 } ]');
    expect(problem(() => resolve(refresh))).toMatch(/^BAD_INPUT sites\[0\]\.mining\.refresh\[0\]\.replaces: no fleet of 'Antminer S19 XP'/);
    expect(problem(() => resolve(okSite + okSite))).toMatch(/^BAD_INPUT sites\[1\]\.name: duplicate site name 'A'/);
  });

  it('the bootstrap model needs real BTC history', () => {
    const p = parseDataText(yaml(okSite) + 'scenarios: { btc: { model: bootstrap } }\n', 'p.yaml', PortfolioSchema);
    expect(problem(() => resolvePortfolio(p, { paramsFor: () => DEFAULT_SCENARIO_PARAMS, seed: 1 }))).toMatch(/^BAD_INPUT scenarios\.btc\.model: the bootstrap needs/);
  });
});
