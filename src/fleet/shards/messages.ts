/**
 * The messages between a site's shard coordinator and its shard workers (node:worker_threads).
 * One zod schema per message, parsed by both ends: a worker's message is `unknown` to the
 * coordinator until it parses, and the other way round. Versioned: `v` must match.
 */
import { z } from 'zod';

export const SHARD_PROTOCOL_VERSION = 1;
const v = z.literal(SHARD_PROTOCOL_VERSION);
const mw = z.number().finite().min(0);

/** Coordinator → shard. */
export const toShardSchema = z.discriminatedUnion('type', [
  /** The shard's mining cap, MW at the meter; `seq` grows with every allocation. */
  z.object({ v, type: z.literal('cap'), seq: z.number().int().nonnegative(), capMW: mw }),
  /** Finish the tick in progress, close the agent, then exit. */
  z.object({ v, type: z.literal('stop') }),
]);
export type ToShard = z.infer<typeof toShardSchema>;

/** What a shard says of itself after every tick and on a heartbeat. */
export const shardReportMsgSchema = z.object({
  v,
  type: z.literal('report'),
  shardId: z.string(),
  /** The cap seq the last tick decided under (-1 before any cap). */
  capSeq: z.number().int(),
  capMW: mw.nullable(),
  /** Mining MW the shard's agent counts after its last tick (unknown and failed at nameplate). */
  currentMiningMW: mw,
  nameplateMW: mw,
  /** What it cannot shed: unknown, failed, unreachable at what they are counted, and sleeping standby, MW. */
  minMW: mw,
  wantMW: mw,
  miners: z.number().int().nonnegative(),
  minersByState: z.record(z.string(), z.number().int().nonnegative()),
  /** Commands in flight after the last tick. */
  pending: z.number().int().nonnegative(),
  tickSeq: z.number().int(),
  lastTickMs: z.number().nullable(),
  lastFullReadMs: z.number().nullable(),
  limitedBy: z.string().nullable(),
  /** Whether the shard's own hold on the coordinator's cap has run out (it fell to its safe fallback). */
  fallback: z.boolean(),
  metricsText: z.string().optional(),
});
export type ShardReportMsg = z.infer<typeof shardReportMsgSchema>;

/** Shard → coordinator. */
export const fromShardSchema = z.discriminatedUnion('type', [
  shardReportMsgSchema,
  z.object({ v, type: z.literal('log'), shardId: z.string(), line: z.string() }),
  z.object({ v, type: z.literal('fatal'), shardId: z.string(), error: z.string() }),
  z.object({ v, type: z.literal('stopped'), shardId: z.string() }),
]);
export type FromShard = z.infer<typeof fromShardSchema>;

/** What a worker is started with (workerData): its slice of the fleet and how to run. */
export const shardInitSchema = z.object({
  v,
  shardId: z.string(),
  siteYaml: z.string(),
  siteFile: z.string(),
  /** An inventory document (parsed by the worker with the inventory schema). */
  inventory: z.unknown(),
  /** SQLite state file of this shard; null: in memory (tests, benchmarks). */
  dbPath: z.string().nullable(),
  /** The first cap, before any allocation: the shard's nameplate share of the site budget, MW. */
  initialCapMW: mw,
  /** A cap older than this is no longer trusted: the shard falls to its safe fallback (curtail all), ms. */
  holdMs: z.number().int().positive(),
  reportEveryMs: z.number().int().positive(),
  tickMs: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  callTimeoutMs: z.number().int().positive(),
  verifyWaitMs: z.number().int().positive(),
  snapshotMaxAgeMs: z.number().int().positive(),
  decide: z.object({
    restoreBatchSize: z.number().int().positive(),
    restorePacingMs: z.number().int().nonnegative(),
    minDwellMs: z.number().int().nonnegative(),
    confirmTimeoutMs: z.number().int().positive(),
  }),
  /** Send Prometheus text with every report (for the coordinator's /metrics). */
  withMetrics: z.boolean(),
});
export type ShardInit = z.infer<typeof shardInitSchema>;
