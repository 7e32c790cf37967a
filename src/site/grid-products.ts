/**
 * ERCOT grid products a flexible load can be paid for, and who qualifies. Facts the site model checks
 * at load time and dispatch relies on (see src/dispatch/README.md, "Grid services", for what each pays
 * and obliges). Response times are the product's deployment deadline from ERCOT's instruction.
 */
import type { AsProduct, ErsProduct, GridProduct, ResourceAncillary, Site } from './types.js';

export const AS_PRODUCTS: readonly AsProduct[] = ['RRS', 'ECRS', 'NSPIN'];
export const ERS_PRODUCTS: readonly ErsProduct[] = ['ERS-10', 'ERS-30'];
export const GRID_PRODUCTS: readonly GridProduct[] = [...AS_PRODUCTS, ...ERS_PRODUCTS];

export interface ProductRule {
  /** Deployment deadline, seconds from ERCOT's instruction to the load reduced. */
  responseSeconds: number;
  /** Real-time telemetry to the QSE is required. */
  telemetry: boolean;
  /** An under-frequency relay must trip the load (RRS from load resources). */
  relay: boolean;
  /** One line for humans. */
  summary: string;
}

/**
 * RRS from a load resource trips on under-frequency (59.7 Hz) within 30 cycles (0.5 s), which only a
 * relay does; ECRS deploys within 10 minutes; Non-Spin within 30 (for loads: controllable load
 * resources, i.e. dispatchable with telemetry); ERS-10 / ERS-30 within 10 / 30 minutes, interval
 * metered (no telemetry needed).
 */
export const PRODUCT_RULES: Readonly<Record<GridProduct, ProductRule>> = {
  RRS: { responseSeconds: 0.5, telemetry: true, relay: true, summary: 'Responsive Reserve: under-frequency relay trip, sub-second' },
  ECRS: { responseSeconds: 600, telemetry: true, relay: false, summary: 'ERCOT Contingency Reserve: deploy within 10 minutes' },
  NSPIN: { responseSeconds: 1800, telemetry: true, relay: false, summary: 'Non-Spinning Reserve: deploy within 30 minutes' },
  'ERS-10': { responseSeconds: 600, telemetry: false, relay: false, summary: 'Emergency Response Service, 10-minute' },
  'ERS-30': { responseSeconds: 1800, telemetry: false, relay: false, summary: 'Emergency Response Service, 30-minute' },
};

/** SB 6 (Texas, 2025): loads of at least this many MW are "large loads" with curtailment obligations. */
export const SB6_LARGE_LOAD_MW = 75;

/**
 * Why `resource` cannot hold `product`, or undefined when it qualifies. `telemetry`: the site's.
 * Capped AI has no relay path (its reduction goes through BMC caps), so `isAi` rules RRS out.
 */
export function ineligibility(product: GridProduct, resource: ResourceAncillary, telemetry: boolean, isAi: boolean): string | undefined {
  const rule = PRODUCT_RULES[product];
  if (rule.relay && isAi) return `${product} needs an under-frequency relay tripping the load; capped AI responds through its actuator`;
  if (rule.relay && !resource.relay) return `${product} needs an under-frequency relay (set relay: true)`;
  if (!rule.relay && resource.responseSeconds > rule.responseSeconds) return `${product} must deploy within ${rule.responseSeconds} s; this resource responds in ${resource.responseSeconds} s`;
  if (rule.telemetry && !telemetry) return `${product} needs real-time telemetry to the QSE (ancillary.telemetry)`;
  return undefined;
}

/** Market products a resource may hold at a site: offered by both, and eligible. */
export function eligibleAsProducts(resource: ResourceAncillary | undefined, siteProducts: readonly AsProduct[], telemetry: boolean, isAi: boolean): AsProduct[] {
  if (!resource) return [];
  return siteProducts.filter((p) => resource.offer.includes(p) && ineligibility(p, resource, telemetry, isAi) === undefined);
}

/** What a QSE registers for one controllable load resource (the site agent's evidence starts here). */
export interface QseResourceParameters {
  resource: string;
  kind: 'fleet' | 'capped-ai';
  /** Products it qualifies for at this site (market products the site bids in, plus ERS when offered). */
  products: GridProduct[];
  /** Largest curtailable load at the meter, MW. */
  maxMW: number;
  /** How fast the load can drop, MW per minute: the fleet's ramp limit, else all of it within its response time. */
  rampMWPerMinute: number;
  responseSeconds: number;
  /** Longest single deployment it can sustain, minutes; null = no limit (miners can stay asleep). */
  maxDeploymentMinutes: number | null;
  /** Most curtailed energy per week, MWh (capped AI: its contract's reduction budget, prorated). */
  maxWeeklyEnergyMWh: number;
}

/**
 * The controllable-load parameters a QSE registers, per resource that offers grid products: computed
 * from the fleet (nameplate × PUE, ramp limit, response) and the capped AI actuators (reducible MW,
 * response through BMC caps, the tenant contract's longest event and yearly budget).
 */
export function qseParameters(site: Site): QseResourceParameters[] {
  const anc = site.ancillary;
  const out: QseResourceParameters[] = [];
  const products = (r: ResourceAncillary, isAi: boolean, maxMW: number): GridProduct[] => [
    ...eligibleAsProducts(r, anc?.products ?? [], anc?.telemetry ?? false, isAi),
    ...(r.offer.includes('ERS') ? ERS_PRODUCTS.filter((p) => ineligibility(p, r, anc?.telemetry ?? false, isAi) === undefined && maxMW > 0) : []),
  ];
  for (const f of site.fleets) {
    if (!f.ancillary) continue;
    const maxMW = (f.count * f.powerW * f.pue) / 1e6;
    const all = maxMW / Math.max(f.ancillary.responseSeconds / 60, 1 / 60);
    out.push({
      resource: f.name,
      kind: 'fleet',
      products: products(f.ancillary, false, maxMW),
      maxMW,
      rampMWPerMinute: Math.min(all, f.rampMWPerMinute ?? Infinity),
      responseSeconds: f.ancillary.responseSeconds,
      maxDeploymentMinutes: null,
      maxWeeklyEnergyMWh: maxMW * 168,
    });
  }
  for (const a of site.ai) {
    if (a.kind !== 'capped' || !a.ancillary) continue;
    const maxMW = (a.itMW * a.pue * a.maxReductionPct) / 100;
    out.push({
      resource: a.name,
      kind: 'capped-ai',
      products: products(a.ancillary, true, maxMW),
      maxMW,
      rampMWPerMinute: maxMW / Math.max(a.ancillary.responseSeconds / 60, 1 / 60),
      responseSeconds: a.ancillary.responseSeconds,
      maxDeploymentMinutes: a.maxEventMinutes ?? null,
      // The yearly budget is hours at full depth: prorated to a week.
      maxWeeklyEnergyMWh: Math.min(maxMW * 168, (a.maxHoursPerYear * maxMW * 7) / 365),
    });
  }
  return out;
}
