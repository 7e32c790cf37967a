/**
 * One economics in every tool: a powered-shell lease settled by the planner (monthly, per MW) and by
 * the back-test's site model (15-minute ledger) must give the landlord the same net, with the same
 * default and meaning of `powerPassThrough`.
 */
import { describe, expect, it } from 'vitest';
import { LEASE_POWER_PASS_THROUGH_DEFAULT } from '../compute/lease.js';
import type { HourlyLoad } from '../dispatch/fourcp.js';
import { settle } from '../dispatch/ledger.js';
import { input, Q, site } from '../dispatch/testing/fixtures.js';
import { DEFAULT_SCENARIO_PARAMS } from '../scenario/defaults.js';
import { parseSite } from '../site/parse.js';
import type { Site } from '../site/types.js';
import { deterministicPlan } from './deterministic.js';
import { LeaseContractSchema, PortfolioSchema } from './portfolio.js';
import { resolvePortfolio } from './resolve.js';

const IT_MW = 10;
const PUE = 1.25;
const RATE = 140;
const START = Date.parse('2025-01-01T00:00:00Z'); // a 365-day year: 8,760 h = 12 lease months

/** Planner: landlord EBITDA by month of a one-year lease on a market-priced site (no volatility, no discounting). */
function plannerMonths(powerPassThrough: boolean | undefined) {
  const contract = { name: 'shell', kind: 'lease', usdPerKwMonth: RATE, termYears: 1, ...(powerPassThrough === undefined ? {} : { powerPassThrough }) };
  const p = PortfolioSchema.parse({
    name: 'parity',
    finance: { startDate: '2025-01-01', horizonYears: 1, discountRatePct: 0, terminalValue: 'none' },
    scenarios: { btc: { volPctPerYear: 0 }, fees: { sigmaLog: 0 }, network: { noisePctPerMonth: 0 }, power: { sampling: 'mean', poolYears: 1 }, aiLease: { volPctPerYear: 0 }, tenants: { defaultPctPerYear: 0 } },
    sites: [{ name: 'Shell', interconnectMW: 20, power: { kind: 'market', adderUsdPerMWh: 0 }, ai: { convertibleItMW: IT_MW, pue: PUE, capexUsdPerMW: 0, leadTimeMonths: 0, contracts: [contract] } }],
  });
  const model = resolvePortfolio(p, { paramsFor: () => DEFAULT_SCENARIO_PARAMS, seed: 3 });
  const det = deterministicPlan(model, 3, [{ itMW: IT_MW, startMonth: 0, contract: 0, refreshMask: 0 }]);
  return { ebitda: Array.from(det.flows.ebitda.subarray(0, 12)), hours: Array.from(model.timeline.hours.subarray(0, 12)) };
}

/** Site model: the same lease as a firm tenant, settled over the year at `priceByMonth` (USD/MWh, flat within each month). */
function siteNet(s: Site, priceByMonth: number[], hours: number[], load?: HourlyLoad) {
  const prices: number[] = [];
  hours.forEach((h, m) => {
    for (let i = 0; i < h * 4; i++) prices.push(priceByMonth[m] as number);
  });
  const inp = input(s, prices, { startMs: START, ...(load ? { load } : {}) });
  expect(inp.startMs.length).toBe(8760 * 4);
  const plan = { policy: 'mining-only', fleetMW: [], aiItMW: [new Float64Array(inp.startMs.length).fill(IT_MW)], reason: [] };
  return settle(inp, plan).totals;
}

describe('a powered-shell lease settles the same way in the planner and the site model', () => {
  it('shares the default: the tenant pays its energy unless told otherwise', () => {
    expect(LEASE_POWER_PASS_THROUGH_DEFAULT).toBe(true);
    const parsed = parseSite('name: s\nmarket: { iso: ERCOT, settlementPoint: HB_WEST }\ninterconnect: { importLimitMW: 20 }\nai: [{ kind: firm, name: t, itMW: 10, usdPerKwMonth: 140 }]\n', { file: 's.yaml' });
    expect(parsed.ai[0]).toMatchObject({ powerPassThrough: true, fourCpPassThrough: true });
    const lease = LeaseContractSchema.parse({ name: 'x', kind: 'lease', usdPerKwMonth: 1, termYears: 1 });
    expect(lease.powerPassThrough).toBe(true);
  });

  it('with pass-through (the default) the landlord nets the rent in both, 4CP included', () => {
    const planner = plannerMonths(undefined);
    const rent = IT_MW * 1000 * RATE * 12;
    expect(planner.ebitda.reduce((a, b) => a + b, 0)).toBeCloseTo(rent, 4);
    // A July coincident peak (the site charges 4CP); the tenant pays its share back.
    const hoursOfYear = 8760;
    const load = { startMs: Float64Array.from({ length: hoursOfYear }, (_, h) => START + h * 3_600_000), loadMW: Float64Array.from({ length: hoursOfYear }, (_, h) => (h === 4700 ? 80_000 : 60_000)) };
    const s = site({
      interconnect: { importLimitMW: 20 },
      transmission: { coincidentPeak: { months: [7], usdPerKwYear: 60, alerts: { localHours: [14, 19], riskPct: 95 } } },
      ai: [{ kind: 'firm', name: 'shell', itMW: IT_MW, pue: PUE, usdPerKwMonth: RATE, powerPassThrough: true, fourCpPassThrough: true }],
    });
    const t = siteNet(s, [30, 40, 25, 20, 35, 60, 90, 120, 70, 30, 25, 35], planner.hours, load);
    expect(t.costUsd.energy).toBeGreaterThan(1e6);
    expect(t.costUsd.transmission).toBeCloseTo(60 * 1000 * 0.25 * IT_MW * PUE, 4);
    expect(t.revenueUsd.aiPassThrough).toBeCloseTo(t.costUsd.energy + t.costUsd.transmission, 4);
    expect(t.netUsd).toBeCloseTo(rent, 4);
  });

  it('without pass-through both take the tenant\'s energy out of the rent, month by month', () => {
    const withPt = plannerMonths(true);
    const without = plannerMonths(false);
    // The planner's energy price per month, from what the flag changes.
    const price = withPt.ebitda.map((e, m) => (e - (without.ebitda[m] as number)) / (IT_MW * PUE * (withPt.hours[m] as number)));
    for (const p of price) expect(p).toBeGreaterThan(0);
    const s = site({ interconnect: { importLimitMW: 20 }, ai: [{ kind: 'firm', name: 'shell', itMW: IT_MW, pue: PUE, usdPerKwMonth: RATE, powerPassThrough: false, fourCpPassThrough: false }] });
    const t = siteNet(s, price, withPt.hours);
    expect(t.revenueUsd.aiPassThrough).toBe(0);
    expect(t.netUsd).toBeCloseTo(without.ebitda.reduce((a, b) => a + b, 0), 2);
    expect(Q).toBe(900_000);
  });
});
