/**
 * The records the agent keeps of grid deployments and awards (the state store holds them; the
 * evidence is built from them). Zod schemas because a stored record crosses I/O: it is parsed on
 * the way back. Rules and wire requests are in `grid.ts`. Units: MW at the meter, USD, UTC ms.
 */
import { z } from 'zod';
import { GRID_PRODUCTS } from '../../site/grid-products.js';
import type { GridProduct } from '../../site/types.js';

export const gridProductSchema = z.enum(GRID_PRODUCTS as [GridProduct, ...GridProduct[]]);

export const DEPLOYMENT_STATES = ['scheduled', 'active', 'completed', 'recalled'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];
/** pending: before the deadline; met: 95 % by it; missed: not; not-judged: ended or recalled before it was owed. */
export const DEPLOYMENT_RESULTS = ['pending', 'met', 'missed', 'not-judged'] as const;

/** One deployment as received and as it played out (kept in the state store: the QSE's evidence). */
export const deploymentRecordSchema = z.object({
  id: z.string(),
  product: gridProductSchema,
  mw: z.number(),
  /** Canonical JSON of the request (compared when an id repeats). */
  request: z.string(),
  source: z.string(),
  receivedAtMs: z.number(),
  startMs: z.number(),
  deadlineMs: z.number(),
  /** Planned end, UTC ms; null: held until recalled. */
  endMs: z.number().nullable(),
  state: z.enum(DEPLOYMENT_STATES),
  result: z.enum(DEPLOYMENT_RESULTS),
  /** The award it draws on (same product, active at the start), or null. */
  awardId: z.string().nullable(),
  /** meter: site meter; reads: the fleet's confirmed reads (null before it starts). */
  measuredBy: z.enum(['meter', 'reads']).nullable(),
  /** Mining MW (reads) and site MW (meter) the reduction is measured from; the chain's first when overlapping. */
  baselineMW: z.number().nullable(),
  baselineSiteMW: z.number().nullable(),
  /** MW of the deployments already active when this one started (its reduction counts beyond them). */
  priorMW: z.number(),
  firstCommandAtMs: z.number().nullable(),
  /** First measurement showing 95 % / 100 % of the MW reduced. */
  t95AtMs: z.number().nullable(),
  t100AtMs: z.number().nullable(),
  /** Reduction measured last, and the last at or before the deadline (the delivered MW), MW. */
  lastReductionMW: z.number().nullable(),
  deliveredMW: z.number().nullable(),
  penaltyUsd: z.number(),
  finishedAtMs: z.number().nullable(),
});
export type DeploymentRecord = z.infer<typeof deploymentRecordSchema>;

export const awardRecordSchema = z.object({
  id: z.string(),
  product: gridProductSchema,
  mw: z.number(),
  fromMs: z.number(),
  toMs: z.number(),
  source: z.string(),
  request: z.string(),
});
export type AwardRecord = z.infer<typeof awardRecordSchema>;

