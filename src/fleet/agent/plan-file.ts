/**
 * The plan file the agent follows: dispatch's Plan (MW per fleet per interval, at the meter)
 * written as JSON. Example:
 *
 *   { "version": 1, "site": "demo", "policy": "optimal", "intervalMinutes": 15,
 *     "fleets": ["s21", "s19xp"],                    ← site.fleets names, in plan order
 *     "intervals": [
 *       { "start": "2025-08-01T18:00:00Z",           ← interval start, UTC ISO
 *         "fleetMW": [12.5, 0] },                     ← MW at the meter per fleet
 *       ... ] }
 *
 * The agent drives all its miners as one pool: the mining target of an interval is the sum of its
 * fleetMW (least efficient machines curtailed first, which is how dispatch fills fleets too).
 * Outside the plan's intervals the plan is stale and the agent falls back to its safe mode.
 */
import { z } from 'zod';
import type { Plan } from '../../dispatch/types.js';
import type { Site } from '../../site/types.js';
import type { TargetInput } from './types.js';

const isoInstant = z.string().refine((s) => /(Z|[+-]\d\d:\d\d)$/.test(s) && Number.isFinite(Date.parse(s)), 'must be an ISO 8601 instant with Z or an offset');

export const planFileSchema = z
  .strictObject({
    version: z.literal(1),
    site: z.string().min(1),
    policy: z.string().min(1),
    intervalMinutes: z.number().int().positive(),
    fleets: z.array(z.string().min(1)).min(1),
    /** Each fleet's strike the plan was made with (configured, else break-even at its hashprice), USD/MWh, in `fleets` order; optional. */
    fleetStrikeUsdPerMWh: z.array(z.number()).optional(),
    intervals: z
      .array(
        z.strictObject({
          start: isoInstant,
          fleetMW: z.array(z.number().min(0, 'must be >= 0')),
          /** The price the plan was made with (day-ahead for `mullet dispatch plan`), USD/MWh: shown as the price in force. */
          priceUsdPerMWh: z.number().optional(),
        }),
      )
      .min(1),
  })
  .superRefine((p, ctx) => {
    if (p.fleetStrikeUsdPerMWh && p.fleetStrikeUsdPerMWh.length !== p.fleets.length) ctx.addIssue({ code: 'custom', path: ['fleetStrikeUsdPerMWh'], message: `needs ${p.fleets.length} values (one per fleet), got ${p.fleetStrikeUsdPerMWh.length}` });
    let prev = -Infinity;
    p.intervals.forEach((iv, i) => {
      if (iv.fleetMW.length !== p.fleets.length) ctx.addIssue({ code: 'custom', path: ['intervals', i, 'fleetMW'], message: `needs ${p.fleets.length} values (one per fleet), got ${iv.fleetMW.length}` });
      const t = Date.parse(iv.start);
      if (t <= prev) ctx.addIssue({ code: 'custom', path: ['intervals', i, 'start'], message: 'starts must increase' });
      prev = t;
    });
  });
export type PlanFile = z.infer<typeof planFileSchema>;

/** A parsed plan ready for lookups: starts in UTC ms and the mining MW of each interval. */
export interface LoadedPlan {
  site: string;
  policy: string;
  intervalMs: number;
  startMs: Float64Array;
  miningMW: Float64Array;
  /** The plan's price per interval, USD/MWh; NaN where the file gives none. */
  priceUsdPerMWh: Float64Array;
  /** Each fleet's strike the plan was made with, USD/MWh, by fleet name; undefined when the file gives none. */
  fleetStrikeUsdPerMWh?: Readonly<Record<string, number>>;
}

export function loadPlan(p: PlanFile): LoadedPlan {
  const n = p.intervals.length;
  const startMs = new Float64Array(n);
  const miningMW = new Float64Array(n);
  const priceUsdPerMWh = new Float64Array(n).fill(NaN);
  p.intervals.forEach((iv, i) => {
    startMs[i] = Date.parse(iv.start);
    miningMW[i] = iv.fleetMW.reduce((a, b) => a + b, 0);
    if (iv.priceUsdPerMWh !== undefined) priceUsdPerMWh[i] = iv.priceUsdPerMWh;
  });
  const strikes = p.fleetStrikeUsdPerMWh;
  return {
    site: p.site,
    policy: p.policy,
    intervalMs: p.intervalMinutes * 60_000,
    startMs,
    miningMW,
    priceUsdPerMWh,
    ...(strikes ? { fleetStrikeUsdPerMWh: Object.fromEntries(p.fleets.map((f, i) => [f, strikes[i] as number])) } : {}),
  };
}

/** The plan's mining target at `nowMs`, or stale with the reason (before, after or between intervals). */
export function planTargetAt(plan: LoadedPlan, nowMs: number): TargetInput {
  const s = plan.startMs;
  let lo = 0;
  let hi = s.length - 1;
  if (s.length === 0 || nowMs < (s[0] as number)) return { source: 'plan', stale: true, reason: `plan starts at ${new Date(s[0] ?? NaN).toISOString()}` };
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((s[mid] as number) <= nowMs) lo = mid;
    else hi = mid - 1;
  }
  const start = s[lo] as number;
  if (nowMs >= start + plan.intervalMs) {
    const end = new Date(start + plan.intervalMs).toISOString();
    return { source: 'plan', stale: true, reason: lo === s.length - 1 ? `plan ended at ${end}` : `plan has no interval covering now (gap after ${end})` };
  }
  const price = plan.priceUsdPerMWh[lo] as number;
  return {
    source: 'plan',
    stale: false,
    targetMW: plan.miningMW[lo] as number,
    note: `${plan.policy} interval ${new Date(start).toISOString()}`,
    ...(Number.isNaN(price) ? {} : { priceUsdPerMWh: price, priceIntervalStartMs: start }),
    ...(plan.fleetStrikeUsdPerMWh ? { fleetStrikeUsdPerMWh: plan.fleetStrikeUsdPerMWh } : {}),
  };
}

/**
 * Writes a dispatch Plan as a plan file (for `dispatch` commands to hand to the agent); with
 * `priceUsdPerMWh` (the prices it was planned on) each interval carries its price.
 */
export function planFileFromPlan(site: Site, plan: Plan, startMs: ArrayLike<number>, intervalMinutes: number, priceUsdPerMWh?: ArrayLike<number>, fleetStrikeUsdPerMWh?: readonly number[]): PlanFile {
  const intervals: PlanFile['intervals'] = [];
  for (let t = 0; t < startMs.length; t++) {
    const price = priceUsdPerMWh?.[t];
    intervals.push({ start: new Date(startMs[t] as number).toISOString(), fleetMW: plan.fleetMW.map((f) => f[t] as number), ...(price !== undefined && Number.isFinite(price) ? { priceUsdPerMWh: price } : {}) });
  }
  return { version: 1, site: site.name, policy: plan.policy, intervalMinutes, fleets: site.fleets.map((f) => f.name), ...(fleetStrikeUsdPerMWh ? { fleetStrikeUsdPerMWh: [...fleetStrikeUsdPerMWh] } : {}), intervals };
}
