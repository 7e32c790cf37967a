import { describe, expect, it } from 'vitest';
import { MulletError } from '../core/errors.js';
import { ineligibility, qseParameters } from './grid-products.js';
import { parseSite } from './parse.js';

const BASE = `name: grid
market: { iso: ERCOT, settlementPoint: HB_WEST }
interconnect: { importLimitMW: 300 }
ai:
  - { name: cloud, kind: capped, itMW: 40, pue: 1.3, usdPerKwMonth: 400, maxReductionPct: 30, maxHoursPerYear: 100, usdPerMWhReduced: 250, ancillary: { offer: [ECRS, NSPIN, ERS] } }
fleets:
  - { name: s21, model: "Antminer S21", count: 8000, pue: 1.05, ancillary: { offer: [RRS, ECRS, NSPIN, ERS], relay: true } }
`;

function errorOf(text: string): string {
  try {
    parseSite(text, { file: 'site.yaml' });
  } catch (err) {
    if (err instanceof MulletError) return err.message;
    throw err;
  }
  throw new Error('expected parseSite to throw');
}

describe('grid products: eligibility in the site model', () => {
  it('accepts eligible offers, resolves ERS contract periods (CPT) and derives SB 6 status', () => {
    const s = parseSite(
      BASE +
        `ancillary:
  products: [RRS, ECRS, NSPIN]
  ers:
    - { name: summer, product: ERS-30, resource: s21, mw: 20, usdPerMWh: 6, contract: { from: 2023-06-01, to: 2023-09-30 }, timePeriods: [{ days: weekdays, localHours: [13, 20] }] }
`,
    );
    expect(s.fleets[0]?.ancillary).toEqual({ offer: ['RRS', 'ECRS', 'NSPIN', 'ERS'], responseSeconds: 10, relay: true });
    const cloud = s.ai[0];
    expect(cloud?.kind === 'capped' ? cloud.ancillary?.responseSeconds : undefined).toBe(120);
    expect(s.ancillary?.ers[0]?.fromMs).toBe(Date.parse('2023-06-01T05:00:00Z'));
    expect(s.ancillary?.ers[0]?.toMs).toBe(Date.parse('2023-10-01T05:00:00Z'));
    // 8,000 × 3,500 W × 1.05 = 29.4 MW of miners + 52 MW of AI = 81.4 MW ≥ 75 MW.
    expect(s.ancillary?.sb6LargeLoad).toBe(true);
    expect(s.ancillary?.penaltyUsdPerMWh).toBe(5000);
  });

  it('refuses RRS without a relay and on capped AI, and a slow resource for ECRS, saying why', () => {
    expect(errorOf(BASE.replace('relay: true', 'relay: false') + 'ancillary: { products: [RRS] }\n')).toMatch(/fleets\[0\]\.ancillary\.offer\[0\]: not eligible: RRS needs an under-frequency relay/);
    expect(errorOf(BASE.replace('offer: [ECRS, NSPIN, ERS]', 'offer: [RRS]') + 'ancillary: { products: [RRS] }\n')).toMatch(/ai\[0\]\.ancillary\.offer\[0\]: not eligible: RRS needs an under-frequency relay tripping the load; capped AI/);
    expect(errorOf(BASE.replace('offer: [ECRS, NSPIN, ERS] }', 'offer: [ECRS], responseSeconds: 900 }') + 'ancillary: { products: [ECRS] }\n')).toMatch(/ECRS must deploy within 600 s; this resource responds in 900 s/);
    expect(errorOf(BASE + 'ancillary: { products: [ECRS], telemetry: false }\n')).toMatch(/needs real-time telemetry/);
  });

  it('refuses an ERS award on a resource that does not offer ERS or cannot curtail that much', () => {
    const ers = (resource: string, mw: number) => `ancillary:\n  ers:\n    - { name: e, product: ERS-10, resource: ${resource}, mw: ${mw}, usdPerMWh: 6, contract: { from: 2023-06-01, to: 2023-09-30 }, timePeriods: [{ localHours: [13, 20] }] }\n`;
    expect(errorOf(BASE.replace('offer: [RRS, ECRS, NSPIN, ERS]', 'offer: [ECRS]') + ers('s21', 5))).toMatch(/'s21' does not offer ERS/);
    expect(errorOf(BASE + ers('s21', 50))).toMatch(/50 MW exceeds what 's21' can curtail \(29.40 MW\)/);
    expect(errorOf(BASE + ers('nobody', 5))).toMatch(/'nobody' is not a fleet or a capped AI load/);
  });

  it('ERS-30 accepts a 20-minute resource, ERS-10 does not', () => {
    const r = { offer: ['ERS' as const], responseSeconds: 1200, relay: false };
    expect(ineligibility('ERS-30', r, false, true)).toBeUndefined();
    expect(ineligibility('ERS-10', r, false, true)).toMatch(/within 600 s/);
  });
});

describe('QSE registration parameters', () => {
  it('computes each resource\'s curtailable MW, ramp, response, longest deployment and weekly energy', () => {
    const s = parseSite(BASE.replace('ancillary: { offer: [RRS, ECRS, NSPIN, ERS], relay: true }', 'rampMWPerMinute: 5, ancillary: { offer: [RRS, ECRS, NSPIN, ERS], relay: true }') + 'ancillary: { products: [RRS, ECRS] }\n');
    const [fleet, cloud] = qseParameters(s);
    // 8,000 × 3,500 W × 1.05 = 29.4 MW; all of it within 10 s is 176 MW/min, the ramp limit says 5.
    expect(fleet).toEqual({ resource: 's21', kind: 'fleet', products: ['RRS', 'ECRS', 'ERS-10', 'ERS-30'], maxMW: 29.4, rampMWPerMinute: 5, responseSeconds: 10, maxDeploymentMinutes: null, maxWeeklyEnergyMWh: 29.4 * 168 });
    // 40 MW IT × 1.3 × 30 % = 15.6 MW in 120 s → 7.8 MW/min; 240-minute events; 100 h/year at full depth → 100 × 15.6 × 7/365 MWh a week.
    expect(cloud?.products).toEqual(['ECRS', 'ERS-10', 'ERS-30']);
    expect(cloud?.maxMW).toBeCloseTo(15.6, 9);
    expect(cloud?.rampMWPerMinute).toBeCloseTo(7.8, 9);
    expect(cloud?.maxDeploymentMinutes).toBe(240);
    expect(cloud?.maxWeeklyEnergyMWh).toBeCloseTo((100 * 15.6 * 7) / 365, 9);
  });
});
