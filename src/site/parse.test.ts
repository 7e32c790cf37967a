import { describe, expect, it } from 'vitest';
import { MulletError } from '../core/errors.js';
import { parseSite } from './parse.js';

const ISSUE_YAML = `name: example-hybrid
market: { iso: ERCOT, settlementPoint: HB_WEST }
interconnect: { importLimitMW: 300 }
transmission: { coincidentPeak: { months: [6, 7, 8, 9], usdPerKwYear: 60 } }   # 4CP; optional
ppa: { blockMW: 100, priceUsdPerMWh: 32, resale: true }                       # optional
ai:
  - { name: tenant-a, kind: firm, itMW: 100, pue: 1.3, usdPerKwMonth: 150 }
  - { name: batch, kind: deferrable, itMW: 20, pue: 1.3, dailyEnergyMWh: 300, usdPerMWh: 400 }
  - { name: cloud, kind: capped, itMW: 40, pue: 1.3, usdPerKwMonth: 400, maxReductionPct: 30, maxHoursPerYear: 100, usdPerMWhReduced: 250 }
fleets:
  - { name: s21, model: "Antminer S21", count: 8000, poolFeePct: 2, pue: 1.05, rampMWPerMinute: 5, minOffMinutes: 30 }
  - { name: old, hashrateThs: 104, powerW: 3068, count: 5000, poolFeePct: 2, pue: 1.05 }
`;

function errorOf(text: string): MulletError {
  try {
    parseSite(text, { file: 'site.yaml' });
  } catch (err) {
    if (err instanceof MulletError) return err;
    throw err;
  }
  throw new Error('expected parseSite to throw');
}

describe('parseSite', () => {
  it('accepts the issue example and resolves the catalog model', () => {
    const site = parseSite(ISSUE_YAML, { file: 'site.yaml' });
    expect(site.name).toBe('example-hybrid');
    expect(site.market.settlementPoint).toBe('HB_WEST');
    expect(site.ppa).toEqual({ blockMW: 100, priceUsdPerMWh: 32, resale: true });
    expect(site.ai.map((a) => a.kind)).toEqual(['firm', 'deferrable', 'capped']);
    const [s21, old] = site.fleets;
    expect(s21).toMatchObject({ name: 's21', model: 'Antminer S21', hashrateThs: 200, powerW: 3500, rampMWPerMinute: 5, minOffMinutes: 30 });
    expect(s21?.efficiencyCurve).toBeUndefined();
    expect(old).toMatchObject({ hashrateThs: 104, powerW: 3068, minOffMinutes: 0, startCostUsd: 0, integerMachines: false });
    expect(site.transmission?.coincidentPeak).toMatchObject({ months: [6, 7, 8, 9], usdPerKwYear: 60, alerts: { localHours: [14, 19], riskPct: 95 } });
    expect(site.dispatch).toEqual({ strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2, offsetUsdPerMWh: 0 }, rolling: { horizonHours: 36, stepMinutes: 15, nearTerm: 'rt-persistence' }, timeLimitSeconds: 60 });
  });

  it('leaves the 4CP rate to the default (ERCOT postage stamp of the billing year) when none is given', () => {
    const site = parseSite(ISSUE_YAML.replace('usdPerKwYear: 60 ', ''));
    expect(site.transmission?.coincidentPeak).toEqual({ months: [6, 7, 8, 9], alerts: { localHours: [14, 19], riskPct: 95 } });
  });

  it('takes the power-target curve from the catalog on request', () => {
    const site = parseSite(ISSUE_YAML.replace('minOffMinutes: 30 }', 'minOffMinutes: 30, efficiencyCurve: catalog }'));
    expect(site.fleets[0]?.efficiencyCurve?.length).toBeGreaterThan(2);
  });

  it('names the path and line of a bad number', () => {
    const err = errorOf(ISSUE_YAML.replace('powerW: 3068', 'powerW: -3'));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toBe('fleets[1].powerW: must be > 0');
    expect(err.where).toBe('site.yaml:12');
  });

  it('lists near matches for an unknown model', () => {
    const err = errorOf(ISSUE_YAML.replace('"Antminer S21"', '"Antminer S2l"'));
    expect(err.message).toMatch(/^fleets\[0\]\.model: unknown ASIC model 'Antminer S2l'; near matches: .*Antminer S21/);
    expect(err.where).toBe('site.yaml:11');
  });

  it('reports YAML syntax errors with line and column', () => {
    const err = errorOf('name: x\nmarket: { iso: ERCOT, settlementPoint: HB_WEST\ninterconnect: {}\n');
    expect(err.message).toMatch(/^not valid YAML/);
    expect(err.where).toMatch(/^site\.yaml:\d+:\d+$/);
  });

  it('reports all schema problems at once: unknown keys, both model and hashrate', () => {
    const text = ISSUE_YAML.replace('count: 8000,', 'count: 8000, colour: red,').replace('hashrateThs: 104,', 'model: S19, hashrateThs: 104,');
    const err = errorOf(text);
    expect(err.message).toMatch(/^2 problems:/);
    expect(err.message).toContain('site.yaml:11: fleets[0].colour: unknown key');
    expect(err.message).toContain('site.yaml:12: fleets[1].hashrateThs: give either model or hashrateThs + powerW, not both');
  });

  it('rejects duplicate load names across AI and fleets', () => {
    const err = errorOf(ISSUE_YAML.replace('name: old,', 'name: batch,'));
    expect(err.message).toBe("fleets[1].name: duplicate name 'batch' (already used by ai[1]); load names must be unique");
    expect(err.where).toBe('site.yaml:12');
  });

  it('requires hashrate and power when no model is given', () => {
    const err = errorOf(ISSUE_YAML.replace('hashrateThs: 104, powerW: 3068, ', ''));
    expect(err.message).toContain('fleets[1].hashrateThs: is required when no model is given');
  });

  it('rejects an unknown AI kind, NaN and impossible daily energy', () => {
    expect(errorOf(ISSUE_YAML.replace('kind: firm', 'kind: solid')).message).toBe('ai[0].kind: kind must be one of firm, deferrable, capped');
    expect(errorOf(ISSUE_YAML.replace('usdPerKwMonth: 150', 'usdPerKwMonth: .nan')).message).toBe('ai[0].usdPerKwMonth: must be a finite number');
    expect(errorOf(ISSUE_YAML.replace('dailyEnergyMWh: 300', 'dailyEnergyMWh: 500')).message).toMatch(/^ai\[1\]\.dailyEnergyMWh: 500 MWh cannot fit in a day/);
  });

  it('rejects firm AI load above the interconnect', () => {
    const err = errorOf(ISSUE_YAML.replace('importLimitMW: 300', 'importLimitMW: 150'));
    expect(err.message).toMatch(/^interconnect\.importLimitMW: 150 MW is below the AI load that can never be curtailed \(166\.40 MW/);
    expect(err.where).toBe('site.yaml:3');
  });

  it('validates efficiency curves and 4CP months', () => {
    const curve = ISSUE_YAML.replace('pue: 1.05 }\n', 'pue: 1.05, efficiencyCurve: [{ powerFraction: 0.8, jPerTh: 27 }, { powerFraction: 0.7, jPerTh: 26 }] }\n');
    expect(errorOf(curve).message).toBe('fleets[1].efficiencyCurve[1].powerFraction: powerFraction must increase strictly');
    expect(errorOf(ISSUE_YAML.replace('months: [6, 7, 8, 9]', 'months: [6, 13]')).message).toBe('transmission.coincidentPeak.months[1]: must be a month 1..12');
  });
});

describe('whole-machine dispatch default', () => {
  const base = (extra: string) => `name: s\nmarket: { iso: ERCOT, settlementPoint: HB_WEST }\ninterconnect: { importLimitMW: 100 }\nfleets:\n  - { name: f, hashrateThs: 100, powerW: 3000, count: 10${extra} }\n`;
  it('is a MILP when a fleet has a minimum off-time or a start cost, else an LP', () => {
    expect(parseSite(base('')).fleets[0]?.integerMachines).toBe(false);
    expect(parseSite(base(', minOffMinutes: 30')).fleets[0]?.integerMachines).toBe(true);
    expect(parseSite(base(', startCostUsd: 5')).fleets[0]?.integerMachines).toBe(true);
    expect(parseSite(base(', minOffMinutes: 30, integerMachines: false')).fleets[0]?.integerMachines).toBe(false);
  });
});
