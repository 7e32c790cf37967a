/**
 * What a strategy job may ask (zod, the body of `POST /api/v1/strategy/jobs`): a back-test of a
 * site from the server's site list over a window of at most a year, or a plan of a portfolio from
 * its list with a bounded number of paths. Names, never paths: the browser cannot point the server
 * at a file. Pure.
 */
import { z } from 'zod';
import { POLICY_NAMES } from '../dispatch/policies.js';

/** The policies a back-test job may run (re-exported: the HTTP edge names them without importing dispatch). */
export { POLICY_NAMES };

/** Longest back-test window a browser job may ask, days (the CLI allows ten years; a console job shares the server). */
export const MAX_JOB_WINDOW_DAYS = 366;
/** Most Monte Carlo paths a browser plan job may ask. */
export const MAX_JOB_PATHS = 5000;

const day = z.iso.date('must be YYYY-MM-DD');
const fileName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*\.ya?ml$/, 'must be a file name from the list (letters, digits, _ . -, ending .yaml)');

export const backtestJobSchema = z
  .strictObject({
    kind: z.literal('backtest'),
    site: fileName.describe('a site file from GET /strategy/inputs'),
    from: day.describe('first CPT operating day'),
    to: day.describe('last CPT operating day (inclusive)'),
    policies: z
      .array(z.enum(POLICY_NAMES))
      .min(1)
      .max(POLICY_NAMES.length)
      .refine((p) => new Set(p).size === p.length, 'each policy once')
      .describe('the first is the primary; more than one compares them (optimal added for regret)'),
    asPrices: z.enum(['store', 'synthetic']).default('store').describe("AS prices for sites with grid services: the store's, or SYNTHETIC"),
  })
  .superRefine((s, ctx) => {
    const days = (Date.parse(s.to) - Date.parse(s.from)) / 86_400_000;
    if (days < 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (days + 1 > MAX_JOB_WINDOW_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `a console back-test covers at most ${MAX_JOB_WINDOW_DAYS} days (run longer ones with the CLI)` });
  });

export const planJobSchema = z.strictObject({
  kind: z.literal('plan'),
  portfolio: fileName.describe('a portfolio file from GET /strategy/inputs'),
  paths: z.number().int().min(100).max(MAX_JOB_PATHS).default(1000),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
});

export const jobSpecSchema = z.discriminatedUnion('kind', [backtestJobSchema, planJobSchema]);
export type JobSpec = z.infer<typeof jobSpecSchema>;

export const JOB_STATES = ['running', 'done', 'failed', 'cancelled'] as const;

/** A job as the API shows it (the result JSON is fetched separately: it can be large). */
export const jobViewSchema = z.object({
  id: z.string(),
  kind: z.enum(['backtest', 'plan']),
  spec: z.record(z.string(), z.unknown()),
  state: z.enum(JOB_STATES),
  submittedBy: z.string(),
  submittedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** 0..100: finished steps (policies) plus the current one's share. */
  progressPct: z.number(),
  /** The last progress line the run printed. */
  message: z.string(),
  error: z.string().nullable(),
  hasResult: z.boolean(),
  hasReport: z.boolean(),
});
export type JobView = z.infer<typeof jobViewSchema>;
