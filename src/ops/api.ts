/**
 * What `mullet ops` shows over HTTP (GET /v1/ops, /v1/ops/ledger) and to metrics: the market
 * source, the dispatcher's last decision, the live ledger. One zod schema for the document, shared
 * by the server and any client (tests, the console).
 */
import { z } from 'zod';
import type { LedgerSummary } from './ledger.js';

const totals = z.object({ netUsd: z.number(), revenueUsd: z.record(z.string(), z.number()), costUsd: z.record(z.string(), z.number()), siteEnergyMWh: z.number(), miningEnergyMWh: z.number() }).loose();

export const ledgerSummarySchema = z.object({
  settledIntervals: z.number().int(),
  periods: z.array(z.object({ period: z.enum(['today', 'month', 'run']), from: z.string().nullable(), to: z.string().nullable(), intervals: z.number().int(), totals: totals.nullable() })),
  usdPerHourByStream: z.record(z.string(), z.number()),
  meteredMWh: z.number().nullable(),
});

export const opsStatusSchema = z.object({
  site: z.string(),
  mode: z.enum(['replay', 'live']),
  policy: z.string(),
  now: z.string(),
  /** Replay: the window and how far it has got (0–1). */
  replay: z.object({ from: z.string(), to: z.string(), progress: z.number(), time: z.enum(['scaled', 'virtual', 'wall']), source: z.string() }).nullable(),
  dispatch: z.record(z.string(), z.unknown()),
  ledger: ledgerSummarySchema,
  /** Live: each market feed's status (src/market/live); null in a replay. */
  feeds: z.array(z.record(z.string(), z.unknown())).nullable(),
  notes: z.array(z.string()),
});
/** The document as built (the schema checks it on the wire; LedgerTotals is the ledger's own type). */
export type OpsStatus = Omit<z.infer<typeof opsStatusSchema>, 'ledger' | 'feeds'> & { ledger: LedgerSummary; feeds: readonly object[] | null };

/** What the HTTP edge needs of a running ops loop. */
export interface OpsApi {
  opsStatus(): OpsStatus;
  ledger(): LedgerSummary;
}

/** GET /api/v1/ops/market: RT and DA prices around now and each fleet's break-even, USD/MWh. */
export const opsMarketSchema = z.object({
  /** The run's clock now (a replay's time), ISO UTC. */
  now: z.string(),
  intervalMinutes: z.number(),
  settlementPoint: z.string(),
  /** One row per interval, oldest first; a price not yet published is null. */
  points: z.array(
    z.object({
      start: z.string(),
      rtUsdPerMWh: z.number().nullable(),
      daUsdPerMWh: z.number().nullable(),
      /** Per site fleet (same order as `fleets`): break-even at that interval's hashprice, USD/MWh at the meter. */
      breakEvenUsdPerMWh: z.array(z.number().nullable()),
      fourCpAlert: z.boolean(),
    }),
  ),
  fleets: z.array(z.object({ name: z.string(), strikeUsdPerMWh: z.number().nullable() })),
  /** The latest published RT price and its interval start; null before the first. */
  latestRt: z.object({ start: z.string(), usdPerMWh: z.number() }).nullable(),
  /** Today's (CPT) 4CP alert flag at the interval in force. */
  fourCpAlertNow: z.boolean(),
});
export type OpsMarket = z.infer<typeof opsMarketSchema>;

/** Ops figures the operator console shows (GET /api/v1/ops, /ops/ledger, /ops/market). */
export interface OpsConsoleApi extends OpsApi {
  market(): OpsMarket;
}
