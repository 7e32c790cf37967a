/**
 * zod schema of a site file, exactly as a user writes it. Cross-field checks that need the catalog
 * or the whole file (unique names, model lookup, firm load vs. interconnect) live in parse.ts.
 * Messages are short predicates ("must be > 0") because parse.ts prefixes the data path.
 */
import { z } from 'zod';
import { powerFractionsIncrease } from '../catalog/catalog.js';
import { LEASE_POWER_PASS_THROUGH_DEFAULT } from '../compute/lease.js';
import { atMost, LIMITS } from '../core/limits.js';

const num = () => z.number({ error: 'must be a finite number' });
const positive = () => num().positive('must be > 0');
const nonNegative = () => num().min(0, 'must be >= 0');
const mw = () => positive().max(...atMost(LIMITS.siteMW, 'MW'));
const price = () =>
  num()
    .min(-LIMITS.priceUsdPerMWh, `must be >= -${LIMITS.priceUsdPerMWh.toLocaleString('en-US')} USD/MWh`)
    .max(...atMost(LIMITS.priceUsdPerMWh, 'USD/MWh'));
const usdPerKwMonth = () => nonNegative().max(...atMost(LIMITS.usdPerKwMonth, 'USD/kW-month'));
const pue = () => num().min(1, 'must be >= 1').max(3, 'must be <= 3 (a PUE, not a percent)').default(1);
const name = () =>
  z
    .string({ error: 'must be a string' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a name of letters, digits, _ . - (it labels ledger columns)');

const EfficiencyCurve = z
  .array(
    z.strictObject({
      powerFraction: num().gt(0, 'must be > 0').max(2, 'must be <= 2'),
      jPerTh: positive().max(...atMost(LIMITS.jPerTh, 'J/TH')),
    }),
    { error: "must be a list of { powerFraction, jPerTh } or the word 'catalog'" },
  )
  .min(1, 'needs at least 1 point')
  .max(100, 'at most 100 points')
  .superRefine(powerFractionsIncrease);

/** A resource's grid-service declaration (fleets and capped AI); eligibility is checked in parse.ts. */
const ResourceAncillarySchema = (defaultResponseSeconds: number) =>
  z.strictObject({
    offer: z
      .array(z.enum(['RRS', 'ECRS', 'NSPIN', 'ERS'], { error: 'must be one of RRS, ECRS, NSPIN, ERS' }))
      .max(4)
      .refine((l) => new Set(l).size === l.length, 'products must not repeat'),
    responseSeconds: positive().max(3600, 'must be <= 3600').default(defaultResponseSeconds),
    relay: z.boolean({ error: 'must be true or false' }).default(false),
  });

export const FleetSchema = z
  .strictObject({
    name: name(),
    model: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
    hashrateThs: positive().max(...atMost(LIMITS.machineThs, 'TH/s per machine')).optional(),
    powerW: positive().max(...atMost(LIMITS.machineW, 'W per machine')).optional(),
    count: num().int('must be a whole number').positive('must be > 0').max(...atMost(LIMITS.fleetMachines, 'machines')),
    poolFeePct: num().min(0, 'must be >= 0').lt(100, 'must be < 100').default(0),
    pue: pue(),
    rampMWPerMinute: positive().max(...atMost(LIMITS.siteMW, 'MW/minute')).optional(),
    minOffMinutes: nonNegative().max(...atMost(7 * 1440, 'minutes (a week)')).default(0),
    startCostUsd: nonNegative().max(...atMost(LIMITS.usd, 'USD')).default(0),
    strikeUsdPerMWh: price().optional(),
    efficiencyCurve: z.union([z.literal('catalog'), EfficiencyCurve]).optional(),
    integerMachines: z.boolean({ error: 'must be true or false' }).optional(),
    // Miners sleep in seconds (a fleet-wide sleep command and the power falling at the meter).
    ancillary: ResourceAncillarySchema(10).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.model === undefined) {
      if (f.hashrateThs === undefined) ctx.addIssue({ code: 'custom', path: ['hashrateThs'], message: 'is required when no model is given (or give model)' });
      if (f.powerW === undefined) ctx.addIssue({ code: 'custom', path: ['powerW'], message: 'is required when no model is given (or give model)' });
      if (f.efficiencyCurve === 'catalog') ctx.addIssue({ code: 'custom', path: ['efficiencyCurve'], message: "'catalog' needs a model" });
    } else if (f.hashrateThs !== undefined || f.powerW !== undefined) {
      ctx.addIssue({ code: 'custom', path: [f.hashrateThs !== undefined ? 'hashrateThs' : 'powerW'], message: 'give either model or hashrateThs + powerW, not both' });
    }
    if (f.integerMachines === true && f.efficiencyCurve !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['integerMachines'], message: 'cannot be combined with efficiencyCurve (whole machines run at nameplate)' });
    }
  });

const bool = () => z.boolean({ error: 'must be true or false' });

/**
 * Who pays the AI load's energy: true = the tenant, at the site's real-time price (a powered-shell /
 * colocation lease; the planner's contracts[].powerPassThrough, same default); false = the site.
 * fourCpPassThrough (default: as powerPassThrough): the tenant also pays its share of the 4CP charge.
 */
const passThrough = (defaultPower: boolean) => ({ powerPassThrough: bool().default(defaultPower), fourCpPassThrough: bool().optional() });

const FirmSchema = z.strictObject({
  kind: z.literal('firm'),
  name: name(),
  itMW: mw(),
  pue: pue(),
  usdPerKwMonth: usdPerKwMonth(),
  ...passThrough(LEASE_POWER_PASS_THROUGH_DEFAULT),
});

const DeferrableSchema = z.strictObject({
  kind: z.literal('deferrable'),
  name: name(),
  itMW: mw(),
  pue: pue(),
  dailyEnergyMWh: nonNegative().max(...atMost(24 * LIMITS.siteMW, 'MWh')),
  usdPerMWh: price(),
  usdPerKwMonth: usdPerKwMonth().default(0),
  // Paid per MWh delivered: an all-in price (like the planner's gpu-cloud), so the site pays the energy by default.
  ...passThrough(false),
});

const CappedSchema = z.strictObject({
  kind: z.literal('capped'),
  name: name(),
  itMW: mw(),
  pue: pue(),
  usdPerKwMonth: usdPerKwMonth(),
  maxReductionPct: num().min(0, 'must be >= 0').max(100, 'must be <= 100'),
  maxHoursPerYear: num().min(0, 'must be >= 0').max(8784, 'must be <= 8784'),
  usdPerMWhReduced: price(),
  /** Longest single curtailment the contract allows, minutes. */
  maxEventMinutes: num().positive('must be > 0').max(10_080, 'must be <= 10080 (a week)').default(240),
  /** Notice the tenant must get before a curtailment, minutes (0: none). */
  noticeMinutes: num().min(0, 'must be >= 0').max(1_440, 'must be <= 1440').default(0),
  // Through BMC power caps / the tenant's power manager: tens of seconds to minutes.
  ancillary: ResourceAncillarySchema(120).optional(),
  ...passThrough(LEASE_POWER_PASS_THROUGH_DEFAULT),
});

export const AiSchema = z.discriminatedUnion('kind', [FirmSchema, DeferrableSchema, CappedSchema], {
  error: 'kind must be one of firm, deferrable, capped',
});

const isoInstant = z
  .string({ error: 'must be an ISO 8601 instant with offset, e.g. 2023-08-10T15:00:00-05:00' })
  .refine((s) => /(Z|[+-]\d\d:\d\d)$/.test(s) && Number.isFinite(Date.parse(s)), 'must be an ISO 8601 instant with Z or an offset');

const AlertsSchema = z.strictObject({
  localHours: z
    .tuple([num().int().min(0).max(23), num().int().min(1).max(24)], { error: 'must be [startHour, endHour] in local CPT clock hours' })
    .refine(([a, b]) => b > a, 'end hour must be after start hour')
    .default([14, 19]),
  riskPct: num().min(0, 'must be >= 0').max(100, 'must be <= 100').default(95),
  windows: z
    .array(z.strictObject({ from: isoInstant, to: isoInstant }).refine((w) => Date.parse(w.to) > Date.parse(w.from), 'to must be after from'))
    .max(10_000, 'at most 10,000 windows')
    .optional(),
});

const CoincidentPeakSchema = z.strictObject({
  months: z
    .array(num().int('must be a month 1..12').min(1, 'must be a month 1..12').max(12, 'must be a month 1..12'))
    .min(1, 'needs at least one month')
    .refine((m) => new Set(m).size === m.length, 'months must not repeat'),
  usdPerKwYear: nonNegative().max(...atMost(12 * LIMITS.usdPerKwMonth, 'USD/kW-year')).optional(),
  alerts: AlertsSchema.default({ localHours: [14, 19], riskPct: 95 }),
});

const DispatchSchema = z.strictObject({
  strike: z
    .strictObject({
      sleepAfterIntervals: num().int().min(1, 'must be >= 1').max(...atMost(672, 'intervals (a week of 15 min)')).default(1),
      wakeAfterIntervals: num().int().min(1, 'must be >= 1').max(...atMost(672, 'intervals (a week of 15 min)')).default(2),
      /** Added to every fleet's strike (break-even or strikeUsdPerMWh), USD/MWh: > 0 mines into dearer power. */
      offsetUsdPerMWh: num().min(-1000, 'must be >= -1000').max(1000, 'must be <= 1000').default(0),
      /** Price at or above which every fleet sleeps at once (no interval count), USD/MWh. */
      highStrikeUsdPerMWh: price().optional(),
    })
    .default({ sleepAfterIntervals: 1, wakeAfterIntervals: 2, offsetUsdPerMWh: 0 }),
  rolling: z
    .strictObject({
      horizonHours: num().min(1, 'must be >= 1').max(168, 'must be <= 168').default(36),
      stepMinutes: num().int().min(15, 'must be >= 15').max(1440).default(15),
      nearTerm: z.enum(['rt-persistence', 'da'], { error: "must be 'rt-persistence' or 'da'" }).default('rt-persistence'),
    })
    .default({ horizonHours: 36, stepMinutes: 15, nearTerm: 'rt-persistence' }),
  timeLimitSeconds: positive().max(...atMost(LIMITS.periodS, 's')).default(60),
});

const cptDate = z.string({ error: 'must be a date YYYY-MM-DD' }).regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');

const ErsSchema = z.strictObject({
  name: name(),
  product: z.enum(['ERS-10', 'ERS-30'], { error: 'must be ERS-10 or ERS-30' }),
  resource: name(),
  mw: mw(),
  usdPerMWh: nonNegative().max(...atMost(LIMITS.priceUsdPerMWh, 'USD/MW-h')),
  /** Contract period, CPT dates inclusive. */
  contract: z.strictObject({ from: cptDate, to: cptDate }),
  timePeriods: z
    .array(
      z.strictObject({
        days: z.enum(['all', 'weekdays', 'weekends'], { error: 'must be all, weekdays or weekends' }).default('all'),
        localHours: z
          .tuple([num().int().min(0).max(23), num().int().min(1).max(24)], { error: 'must be [startHour, endHour] in CPT clock hours' })
          .refine(([a, b]) => b > a, 'end hour must be after start hour'),
      }),
    )
    .min(1, 'needs at least one time period')
    .max(24),
});

const AncillarySchema = z.strictObject({
  products: z
    .array(z.enum(['RRS', 'ECRS', 'NSPIN'], { error: 'must be one of RRS, ECRS, NSPIN' }))
    .refine((l) => new Set(l).size === l.length, 'products must not repeat')
    .default([]),
  telemetry: z.boolean({ error: 'must be true or false' }).default(true),
  ers: z.array(ErsSchema).max(100).default([]),
  penaltyUsdPerMWh: nonNegative().max(...atMost(LIMITS.priceUsdPerMWh, 'USD/MWh')).default(5000),
});

export const SiteSchema = z.strictObject({
  name: name(),
  market: z.strictObject({
    iso: z.literal('ERCOT', { error: "must be 'ERCOT' (the only market with data so far)" }),
    settlementPoint: z
      .string({ error: 'must be a string' })
      .regex(/^[A-Za-z0-9_]+$/, 'must be an ERCOT settlement point such as HB_WEST')
      .transform((s) => s.toUpperCase()),
  }),
  interconnect: z.strictObject({ importLimitMW: mw() }),
  transmission: z.strictObject({ coincidentPeak: CoincidentPeakSchema.optional() }).optional(),
  ppa: z
    .strictObject({
      blockMW: mw(),
      priceUsdPerMWh: price(),
      resale: z.boolean({ error: 'must be true or false' }).default(false),
    })
    .optional(),
  ai: z.array(AiSchema, { error: 'must be a list' }).max(LIMITS.fleetsPerSite, `at most ${LIMITS.fleetsPerSite} AI loads (group identical tenants)`).default([]),
  fleets: z.array(FleetSchema, { error: 'must be a list' }).max(LIMITS.fleetsPerSite, `at most ${LIMITS.fleetsPerSite} fleets (a fleet is a group of identical machines: use count)`).default([]),
  ancillary: AncillarySchema.optional(),
  dispatch: DispatchSchema.default({
    strike: { sleepAfterIntervals: 1, wakeAfterIntervals: 2, offsetUsdPerMWh: 0 },
    rolling: { horizonHours: 36, stepMinutes: 15, nearTerm: 'rt-persistence' },
    timeLimitSeconds: 60,
  }),
});

export type SiteInput = z.output<typeof SiteSchema>;
export type FleetInput = z.output<typeof FleetSchema>;
