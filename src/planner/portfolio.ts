/**
 * The portfolio file (YAML), exactly as a user writes it: sites, their mining fleets, the MW that
 * can become AI capacity and the contracts on offer, the finance settings, and scenario overrides.
 * Every field has a unit in its name; cross-field checks (catalog models, names, MW that fit) are in
 * resolve.ts. Messages are short predicates because the reader prefixes the data path
 * (`sites[1].ai.contracts[0].usdPerKwMonth: must be > 0`).
 */
import { z } from 'zod';
import { LEASE_POWER_PASS_THROUGH_DEFAULT } from '../compute/lease.js';
import { atMost, LIMITS } from '../core/limits.js';

const num = () => z.number({ error: 'must be a finite number' });
const positive = () => num().positive('must be > 0');
const nonNegative = () => num().min(0, 'must be >= 0');
const pct = () => num().min(0, 'must be >= 0').max(100, 'must be <= 100');
/** A growth or escalation rate, %/yr: > −100 and <= 100. */
const ratePct = () => num().gt(-LIMITS.ratePct, `must be > -${LIMITS.ratePct}`).max(...atMost(LIMITS.ratePct, '%/yr'));
const usd = () => nonNegative().max(...atMost(LIMITS.usd, 'USD'));
const mw = () => positive().max(...atMost(LIMITS.siteMW, 'MW'));
const price = () =>
  num()
    .min(-LIMITS.priceUsdPerMWh, `must be >= -${LIMITS.priceUsdPerMWh.toLocaleString('en-US')} USD/MWh`)
    .max(...atMost(LIMITS.priceUsdPerMWh, 'USD/MWh'));
const int = () => num().int('must be a whole number');
const name = () => z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty');
const date = () =>
  z
    .string({ error: 'must be a date YYYY-MM-DD' })
    .regex(/^\d{4}-\d{2}-01$/, 'must be the first day of a month, YYYY-MM-01')
    .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'is not a calendar date');

export const FleetSchema = z.strictObject({
  /** Catalog model (`mullet catalog`), e.g. 'Antminer S21'. */
  model: name(),
  count: int().positive('must be > 0').max(...atMost(LIMITS.fleetMachines, 'machines')),
});

export const RefreshSchema = z.strictObject({
  /** The fleet (by model) whose machines are replaced, MW for MW. */
  replaces: name(),
  model: name(),
  usdPerTh: positive().max(...atMost(10_000, 'USD/TH')),
  /** Calendar year the new machines go in (at its first month). */
  year: int().min(2000).max(2200),
});

const ContractBase = {
  name: name(),
  termYears: positive().max(...atMost(LIMITS.contractYears, 'years')),
  /** Annual escalator, %/yr (negative for GPU-hour price deflation). */
  escalatorPct: ratePct().default(0),
  prepayPct: pct().default(0),
  /** Months from delivery until the full MW is billed (linear ramp); 0 = all at once. */
  rampMonths: int().min(0, 'must be >= 0').max(...atMost(12 * LIMITS.contractYears, 'months')).default(0),
  /** Conversion capex the tenant pays, USD per MW of IT (reduces the site's capex). */
  tenantCapexUsdPerMW: usd().default(0),
};

export const LeaseContractSchema = z.strictObject({
  ...ContractBase,
  kind: z.literal('lease'),
  usdPerKwMonth: positive().max(...atMost(LIMITS.usdPerKwMonth, 'USD/kW-month')),
  /** The tenant pays the energy at cost (colocation / powered shell); else the site pays it. Same default and meaning as a site file's ai[].powerPassThrough. */
  powerPassThrough: z.boolean({ error: 'must be true or false' }).default(LEASE_POWER_PASS_THROUGH_DEFAULT),
});

export const GpuCloudContractSchema = z.strictObject({
  ...ContractBase,
  kind: z.literal('gpu-cloud'),
  /** Catalog GPU model, e.g. 'H100 SXM'. */
  gpu: name(),
  usdPerGpuHour: positive().max(...atMost(LIMITS.usdPerGpuHour, 'USD/GPU-hour')),
  utilizationPct: pct().default(85),
  /** GPU and server purchase price per GPU, USD, paid when each contract starts. */
  usdPerGpu: nonNegative().max(...atMost(10_000_000, 'USD per GPU')),
});

export const ContractSchema = z.discriminatedUnion('kind', [LeaseContractSchema, GpuCloudContractSchema], {
  error: "needs kind: 'lease' or 'gpu-cloud'",
});

export const PowerSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('market'),
      /** Delivery, transmission and retail charges on top of the RT price, USD/MWh. */
      adderUsdPerMWh: price().default(0),
    }),
    z.strictObject({
      kind: z.literal('fixed'),
      usdPerMWh: price(),
      /** Curtailed power can be sold back at the RT price (the Riot model). */
      resale: z.boolean({ error: 'must be true or false' }).default(false),
    }),
  ],
  { error: "needs kind: 'market' or 'fixed'" },
);

export const SiteSchema = z.strictObject({
  name: name(),
  settlementPoint: name().default('HB_WEST'),
  interconnectMW: mw(),
  power: PowerSchema,
  mining: z
    .strictObject({
      fleets: z.array(FleetSchema).max(LIMITS.fleetsPerSite, `at most ${LIMITS.fleetsPerSite} fleets`).default([]),
      pue: num().min(1, 'must be >= 1').max(2, 'must be <= 2').default(1.05),
      poolFeePct: num().min(0, 'must be >= 0').lt(100, 'must be < 100').default(2),
      opexUsdPerMWYear: usd().default(0),
      refresh: z.array(RefreshSchema).max(3, 'at most 3 refresh options per site').default([]),
    })
    .default({ fleets: [], pue: 1.05, poolFeePct: 2, opexUsdPerMWYear: 0, refresh: [] }),
  ai: z
    .strictObject({
      convertibleItMW: nonNegative().max(...atMost(LIMITS.siteMW, 'MW')),
      stepItMW: mw().optional(),
      pue: num().min(1, 'must be >= 1').max(3, 'must be <= 3').default(1.3),
      capexUsdPerMW: usd(),
      leadTimeMonths: int().min(0, 'must be >= 0').max(...atMost(240, 'months')),
      opexUsdPerMWYear: usd().default(0),
      contracts: z.array(ContractSchema).min(1, 'needs at least one contract option').max(50, 'at most 50 contract options'),
    })
    .optional(),
});

export const FinanceSchema = z.strictObject({
  startDate: date(),
  horizonYears: int().min(1, 'must be >= 1').max(40, 'must be <= 40'),
  discountRatePct: ratePct(),
  taxRatePct: pct().optional(),
  depreciationYears: positive().max(...atMost(LIMITS.contractYears, 'years')).default(7),
  /** 'contracted': AI contract cash after the horizon counts (to its term's end); 'none': it does not. */
  terminalValue: z.enum(['contracted', 'none']).default('contracted'),
});

export const ScenarioSchema = z
  .strictObject({
    btc: z
      .strictObject({
        model: z.enum(['gbm', 'bootstrap']).default('gbm'),
        startPriceUsd: positive().max(...atMost(LIMITS.btcPriceUsd, 'USD')).optional(),
        driftPctPerYear: ratePct().optional(),
        volPctPerYear: nonNegative().max(...atMost(500, '%/yr')).optional(),
        bootstrapBlockDays: int().min(1).max(365).default(30),
      })
      .default({ model: 'gbm', bootstrapBlockDays: 30 }),
    fees: z
      .strictObject({
        meanShareOfSubsidyPct: nonNegative().max(...atMost(10_000, '% of the subsidy')).default(3),
        sigmaLog: nonNegative().max(...atMost(5, '(log units)')).default(0.6),
        ar1Monthly: num().min(0).lt(1, 'must be < 1').default(0.7),
        /** Multiplier on the mean share at each halving; 2 keeps fees in BTC unchanged across it. */
        stepAtHalving: positive().max(...atMost(100, '×')).default(2),
      })
      .default({ meanShareOfSubsidyPct: 3, sigmaLog: 0.6, ar1Monthly: 0.7, stepAtHalving: 2 }),
    network: z
      .strictObject({
        startHashrateEhs: positive().max(...atMost(LIMITS.networkEhs, 'EH/s')).optional(),
        breakEvenHashpriceUsdPerPhDay: positive().max(...atMost(LIMITS.hashpriceUsdPerPhDay, 'USD/PH/day')).default(40),
        efficiencyGainPctPerYear: num().min(0).max(50).default(8),
        responsePerMonth: nonNegative().max(...atMost(10, 'per month')).default(0.08),
        lagMonths: int().min(0).max(36).default(6),
        maxBuildOutPctPerMonth: nonNegative().max(...atMost(100, '%/month')).default(4),
        maxDeclinePctPerMonth: nonNegative().max(90).default(20),
        noisePctPerMonth: nonNegative().max(...atMost(100, '%/month')).default(2),
      })
      .default({ breakEvenHashpriceUsdPerPhDay: 40, efficiencyGainPctPerYear: 8, responsePerMonth: 0.08, lagMonths: 6, maxBuildOutPctPerMonth: 4, maxDeclinePctPerMonth: 20, noisePctPerMonth: 2 }),
    power: z
      .strictObject({
        sampling: z.enum(['bootstrap', 'mean']).default('bootstrap'),
        poolYears: int().min(1).max(30).default(8),
        escalatorPctPerYear: ratePct().default(0),
      })
      .default({ sampling: 'bootstrap', poolYears: 8, escalatorPctPerYear: 0 }),
    aiLease: z
      .strictObject({ driftPctPerYear: ratePct().default(0), volPctPerYear: nonNegative().max(...atMost(500, '%/yr')).default(10) })
      .default({ driftPctPerYear: 0, volPctPerYear: 10 }),
    tenants: z
      .strictObject({ defaultPctPerYear: pct().default(1), renewalPct: pct().default(75), reletMonths: int().min(0).max(...atMost(240, 'months')).default(12) })
      .default({ defaultPctPerYear: 1, renewalPct: 75, reletMonths: 12 }),
  })
  .default({
    btc: { model: 'gbm', bootstrapBlockDays: 30 },
    fees: { meanShareOfSubsidyPct: 3, sigmaLog: 0.6, ar1Monthly: 0.7, stepAtHalving: 2 },
    network: { breakEvenHashpriceUsdPerPhDay: 40, efficiencyGainPctPerYear: 8, responsePerMonth: 0.08, lagMonths: 6, maxBuildOutPctPerMonth: 4, maxDeclinePctPerMonth: 20, noisePctPerMonth: 2 },
    power: { sampling: 'bootstrap', poolYears: 8, escalatorPctPerYear: 0 },
    aiLease: { driftPctPerYear: 0, volPctPerYear: 10 },
    tenants: { defaultPctPerYear: 1, renewalPct: 75, reletMonths: 12 },
  });

/** One site's part of a schedule the user wants evaluated; sites not listed keep mining. */
export const UserSiteDecisionSchema = z.strictObject({
  site: name(),
  /** MW of critical IT to convert (0 = keep mining; refreshes still apply). */
  itMW: nonNegative().max(...atMost(LIMITS.siteMW, 'MW')),
  /** Month construction starts (mining on the displaced MW stops), YYYY-MM. */
  start: z
    .string({ error: 'must be a month YYYY-MM' })
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM')
    .optional(),
  /** Contract option by name (default: the site's first). */
  contract: name().optional(),
  /** Refresh options to buy, by the new model's name. */
  refresh: z.array(name()).default([]),
});

/** A named schedule the user wants evaluated beside the search's picks, on the same paths. */
export const UserScheduleSchema = z.strictObject({
  name: name(),
  sites: z.array(UserSiteDecisionSchema).default([]),
});

export const PortfolioSchema = z.strictObject({
  name: name(),
  finance: FinanceSchema,
  scenarios: ScenarioSchema,
  sites: z.array(SiteSchema).min(1, 'needs at least one site').max(31, 'at most 31 sites'),
  /** Schedules to evaluate side by side with the search's picks (same paths). */
  schedules: z.array(UserScheduleSchema).max(20, 'at most 20 schedules').default([]),
});

export type Portfolio = z.output<typeof PortfolioSchema>;
export type PortfolioSite = z.output<typeof SiteSchema>;
export type ContractOption = z.output<typeof ContractSchema>;
export type ScenarioSettings = z.output<typeof ScenarioSchema>;
export type UserSchedule = z.output<typeof UserScheduleSchema>;
