/**
 * The site agent as other processes see it: the `AgentApi` interface the HTTP edge, MQTT and (later)
 * NATS adapters depend on — never the SiteAgent class — and the zod schema of every message that
 * crosses a process boundary: signal requests and their timing (signals.ts), the status document,
 * and the event stream (events.ts). Both ends of every wire parse with these.
 */
import { z } from 'zod';
import type { MinerHealthDetail } from '../capabilities.js';
import type { AgentEvent, AgentEventInput } from './events.js';
import { evidenceRowSchema } from './grid.js';
import type { CurtailPreview, FleetView } from './fleet-view.js';
import { curtailRequestSchema, restoreRequestSchema, signalTimingSchema, type SignalSpec } from './signals.js';
import type { SignalRecord } from './state-port.js';

export { curtailRequestSchema, restoreRequestSchema, signalTimingSchema };
export { minerHealthDetailSchema, type MinerHealthDetail } from '../capabilities.js';
export { curtailPreviewSchema, fleetViewSchema, minerRowSchema, type CurtailPreview, type FleetView, type MinerRow } from './fleet-view.js';

const fin = z.number().nullable();

/** A named bound on mining MW and its value (null: unbounded). */
const limitSchema = z.object({ name: z.string(), bound: z.enum(['upper', 'lower']), mw: fin, hard: z.boolean().optional() });

/** The last tick, as /v1/status shows it (infinities as null). */
export const tickStatusSchema = z.object({
  seq: z.number().int(),
  trigger: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  phasesMs: z.object({ read: z.number(), write: z.number(), verify: z.number() }),
  fullRead: z.boolean(),
  reads: z.number().int(),
  readFailures: z.number().int(),
  rounds: z.number().int(),
  commandsSent: z.number().int(),
  commandsFailed: z.number().int(),
  target: z.union([z.object({ source: z.string(), stale: z.literal(true), reason: z.string() }), z.object({ source: z.string(), stale: z.literal(false), targetMW: fin })]),
  decision: z.object({
    allowedMiningMW: fin,
    limitedBy: z.string(),
    targetMW: fin,
    headroomMW: fin,
    currentMiningMW: z.number(),
    projectedMiningMW: z.number(),
    projectedSiteMW: z.number(),
    meterExcessMW: z.number(),
    shortfallMW: z.number(),
    restoreDeferred: z.number().int(),
    dwellDeferred: z.number().int(),
    nextRestoreAt: z.string().nullable(),
    limits: z.array(limitSchema),
    pending: z.number().int(),
    safeMode: z.object({ mode: z.enum(['hold', 'curtail-all']), reason: z.string() }).nullable(),
    byStateMW: z.record(z.string(), z.number()),
    /** Why this tick curtails (signal, price, plan, import-limit, meter, safe-mode, …); null when it does not. Optional: older agents omit it. */
    curtailReason: z.string().nullable().optional(),
  }),
});

/** GET /v1/status. */
export const agentStatusSchema = z.object({
  site: z.string(),
  nowMs: z.number(),
  miners: z.number().int(),
  limits: z.object({ importLimitMW: z.number(), aiMW: z.number(), otherLoadMW: z.number(), safetyMarginMW: z.number(), safeMode: z.enum(['hold', 'curtail-all']) }),
  target: z.record(z.string(), z.unknown()),
  meter: z.object({ last: z.object({ siteMW: z.number(), atMs: z.number() }).nullable(), error: z.string().nullable() }).nullable(),
  signal: z.object({ capMW: z.number().nullable(), capSignalId: z.string().nullable(), tracking: z.string().nullable() }),
  lastSafeMW: z.number().nullable(),
  lastTick: tickStatusSchema.nullable(),
  minersByState: z.record(z.string(), z.number().int()),
  implausible: z.array(z.object({ minerId: z.string(), host: z.string(), problem: z.string().nullable() })),
  alerts: z.array(z.object({ kind: z.string(), minerId: z.string().optional(), detail: z.string(), at: z.string() })),
  /** Fleet hashrate the miners report (believed readings), TH/s. */
  fleetHashrateThs: z.number().optional(),
  /** Site power at the revenue meter, MW; null without a good reading. */
  sitePowerMW: z.number().nullable().optional(),
  /** The energy price in force (price feed or plan interval) and where it comes from; null when none. */
  price: z.object({ usdPerMWh: z.number(), intervalStart: z.string().nullable(), source: z.string() }).nullable().optional(),
  /** Each fleet's strike (configured, else break-even), USD/MWh; null until a target reports them. */
  fleetStrikesUsdPerMWh: z.record(z.string(), z.number()).nullable().optional(),
  /** Miners held curtailed and the MW they shed, by reason (signal, price, plan, import-limit, meter, safe-mode, unknown, external). */
  curtailed: z.record(z.string(), z.object({ miners: z.number().int(), mw: z.number() })).optional(),
  /** Grid services: the award floor now, the awards in force and the deployments scheduled or active (their evidence rows). Optional: older agents omit it. */
  grid: z.object({ floorMW: z.number(), awardsActive: z.number().int(), open: z.array(evidenceRowSchema) }).optional(),
  /** The AI front: per load, full / read / limited MW at the meter, the contract hours used. */
  ai: z
    .array(
      z.object({
        load: z.string(),
        kind: z.string(),
        fullMW: z.number(),
        readMW: z.number().nullable(),
        limitMW: z.number().nullable(),
        usedHours: z.number(),
        eventSince: z.string().nullable(),
        devices: z.number().int(),
        errors: z.array(z.string()),
        blocked: z.string().nullable(),
      }),
    )
    .optional(),
});
export type AgentStatus = z.infer<typeof agentStatusSchema>;

/** What the agent offers to the HTTP edge, MQTT and other adapters. */
export interface AgentApi {
  readonly siteName: string;
  /** The agent's clock, UTC ms. */
  nowMs(): number;
  status(): AgentStatus;
  /** Records a curtail/restore signal (idempotent by id; CONFLICT for an id reused with another request) and wakes the loop. */
  receiveSignal(spec: SignalSpec, id: string | undefined, source: string): Promise<{ record: SignalRecord; duplicate: boolean }>;
  /** Resolves when the signal settles or is superseded, or after `timeoutMs` with its state then; undefined for an unknown id. */
  waitForSignal(id: string, timeoutMs: number, signal?: AbortSignal): Promise<SignalRecord | undefined>;
  /** Subscribes to the event stream; returns the unsubscribe function. */
  subscribe(fn: (e: AgentEvent) => void): () => void;
  /** Adds an adapter's own event to the stream (an MQTT message refused, broker drops, ...). */
  publish(e: AgentEventInput): void;
  /** Prometheus text exposition of the agent's metrics. */
  metricsText(): string;
  /** Read-only: every miner as the agent last saw it (optional: an adapter without it gets 501 on the fleet routes). */
  fleetView?(): FleetView;
  /** Reads one miner's hashboards and pools now (optional: drivers without `devs`/`pools` are UNSUPPORTED). */
  minerHealth?(id: string, signal?: AbortSignal): Promise<MinerHealthDetail>;
  /** Read-only dry run: which machines a curtail would take now; nothing is sent or recorded. */
  previewCurtail?(spec: SignalSpec): CurtailPreview;
}
