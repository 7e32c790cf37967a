/**
 * The industry data format (`../shared/data/industry/README.md`): two CSV files, one sourced fact
 * per row. `miner_metrics.csv` holds company × period × metric facts, `ai_deals.csv` miner → AI
 * tenant contracts. These zod schemas validate one row each (cells as strings in, typed facts out);
 * the parser (`parse.ts`) names the file, line and column of every problem.
 */
import { z } from 'zod';

export const METRIC_HEADER = ['company', 'ticker', 'period', 'metric', 'value', 'unit', 'as_of', 'source_url', 'source_kind', 'note'] as const;
export const DEAL_HEADER = ['announced', 'miner', 'tenant', 'site', 'kind', 'it_mw', 'term_years', 'total_value_usd', 'annual_value_usd', 'escalator_pct', 'prepay_pct', 'backstop', 'source_url', 'source_kind', 'note'] as const;

/** True for the header of either industry file (so `mullet data import` can point to `mullet industry import`). */
export function isIndustryHeader(header: readonly string[]): boolean {
  const h = header.map((c) => c.trim());
  return [METRIC_HEADER, DEAL_HEADER].some((want) => want.length === h.length && want.every((w, i) => h[i] === w));
}

/** Metric names and the unit each must carry. */
export const METRIC_UNITS = {
  revenue_total_usd: 'USD',
  revenue_bitcoin_mining_usd: 'USD',
  revenue_ai_hpc_usd: 'USD',
  revenue_hosting_usd: 'USD',
  revenue_other_usd: 'USD',
  demand_response_usd: 'USD',
  power_credits_usd: 'USD',
  market_cap_usd: 'USD',
  enterprise_value_usd: 'USD',
  ai_hpc_mw_committed: 'MW',
  contracted_or_approved_mw: 'MW',
  energized_mw: 'MW',
  mining_mw: 'MW',
  hashrate_ehs: 'EH/s',
  btc_mined: 'BTC',
  btc_held: 'BTC',
  fleet_efficiency_j_per_th: 'J/TH',
} as const;
export type MetricName = keyof typeof METRIC_UNITS;
export const METRIC_NAMES = Object.keys(METRIC_UNITS) as MetricName[];

export const SOURCE_KINDS = ['filing', 'press_release', 'press', 'analyst'] as const;
export const DEAL_KINDS = ['lease', 'hosting', 'gpu-cloud'] as const;

const text = (max: number) => z.string().trim().max(max);
const required = (max: number) => text(max).min(1, 'must not be empty');
/** A number cell: plain decimal (no thousands separators, no units), finite. */
const numberCell = z
  .string()
  .trim()
  .regex(/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/, 'must be a plain number (no separators, units or words)')
  .transform(Number)
  .pipe(z.number());
const optionalNumber = z.union([z.literal('').transform(() => null), numberCell]);
const positiveOrNull = optionalNumber.refine((v) => v === null || v > 0, 'must be > 0 when given');
const nonNegativeOrNull = optionalNumber.refine((v) => v === null || v >= 0, 'must be >= 0 when given');
/** The source every fact carries: an http(s) URL. */
const sourceUrl = z
  .string()
  .trim()
  .max(2048)
  .superRefine((u, ctx) => {
    if (u === '') ctx.addIssue({ code: 'custom', message: 'every fact needs its source' });
    else if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
  });
const isoDay = /^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$/;
/** A calendar day that exists (2025-06-31 does not). */
const realDay = (s: string): boolean => {
  if (s.length !== 10) return true;
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
};

export const metricRowSchema = z
  .object({
    company: required(200),
    ticker: text(16),
    period: z
      .string()
      .trim()
      .regex(/^(\d{4}Q[1-4]|FY\d{4})$/, "must be a calendar quarter '2025Q3' or a fiscal year 'FY2025'"),
    metric: z.enum(METRIC_NAMES as [MetricName, ...MetricName[]], { error: `must be one of ${METRIC_NAMES.join(', ')}` }),
    value: numberCell,
    unit: required(16),
    as_of: z
      .string()
      .trim()
      .refine((v) => isoDay.test(v) && realDay(v), 'must be YYYY-MM-DD (or YYYY-MM when the day is unknown)'),
    source_url: sourceUrl,
    source_kind: z.enum(SOURCE_KINDS, { error: `must be one of ${SOURCE_KINDS.join(', ')}` }),
    note: text(4000),
  })
  .superRefine((r, ctx) => {
    const want = METRIC_UNITS[r.metric];
    if (r.unit !== want) ctx.addIssue({ code: 'custom', path: ['unit'], message: `${r.metric} is in ${want}, not '${r.unit}'` });
  });
export type MetricRow = z.infer<typeof metricRowSchema>;

export const dealRowSchema = z.object({
  announced: z
    .string()
    .trim()
    .refine((v) => /^$|^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/.test(v) && realDay(v), 'must be YYYY, YYYY-MM, YYYY-MM-DD or empty (unknown)'),
  miner: required(200),
  tenant: required(300),
  site: text(300),
  kind: z.enum(DEAL_KINDS, { error: `must be one of ${DEAL_KINDS.join(', ')}` }),
  it_mw: positiveOrNull,
  term_years: positiveOrNull,
  total_value_usd: nonNegativeOrNull,
  annual_value_usd: nonNegativeOrNull,
  escalator_pct: optionalNumber,
  prepay_pct: optionalNumber,
  backstop: text(1000),
  source_url: sourceUrl,
  source_kind: z.enum(SOURCE_KINDS, { error: `must be one of ${SOURCE_KINDS.join(', ')}` }),
  note: text(4000),
});
export type DealRow = z.infer<typeof dealRowSchema>;

/** A stored fact: the row plus where it came from (file and line of its last import) and its identity. */
export interface Stored<R> {
  /** sha256 of the row's canonical cells: the same fact imported twice is one row. */
  id: string;
  file: string;
  line: number;
  row: R;
}
export type MetricFact = Stored<MetricRow>;
/** `aggregate`: a row the note flags as the sum of phase rows ("AGGREGATE – do not sum"). */
export type DealFact = Stored<DealRow> & { aggregate: boolean };

/** True when a deal row's note flags it as an aggregate of other rows. */
export function isAggregate(r: DealRow): boolean {
  return /\bAGGREGATE\b/.test(r.note) || /\bAGGREGATE\b/.test(r.site);
}
