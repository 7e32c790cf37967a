/**
 * The agent's event stream: typed records of what it did and saw, one zod schema for every
 * consumer (the HTTP edge streams them to browsers, NATS will carry them between sites and the
 * center). Versioned: a consumer that meets a `v` it does not know refuses it rather than guessing.
 *  - tick:      one read → decide → write → verify cycle (phases, allowed MW, the binding limit)
 *  - signal:    a signal changed state (received, superseded, confirmed, unmet)
 *  - miner:     a miner's state as the agent decides on it changed (mining → sleeping, …)
 *  - safe-mode: the plan or feed was lost (mode and why) or is back (null)
 *  - grid.deployment: a grid deployment changed state (received, started, 95 % / 100 % reached, met,
 *               ended, recalled), with its evidence row
 *  - grid.deployment.missed: a deployment's deadline passed short of 95 % of its MW: the MW short
 *               and the penalty it costs (MW short × hours held × the site's penalty USD/MWh)
 *  - alert:     something an operator must see (a device that reported the impossible, a command
 *               acknowledged and not obeyed, a miner given up on, the meter over the limit, MQTT)
 */
import { z } from 'zod';
import { evidenceRowSchema, gridProductSchema } from './grid.js';
import { signalTimingSchema } from './signals.js';

export const EVENT_VERSION = 1;

export const ALERT_KINDS = [
  'implausible-reading', // a miner reading outside physical bounds: counted at nameplate instead
  'implausible-meter', // a meter reading outside physical bounds: ignored
  'observed-over-commanded', // a sleep read back still drawing after its grace: others shed for it
  'relapse', // a proven sleep later read undone: counted awake, retried, others shed
  'miner-failed', // retries ran out: left alone for a while, still counted at what it draws
  'meter-over-limit', // the meter read above the import limit between ticks
  'mqtt-dropped', // the MQTT broker reports dropped messages
  'mqtt-ignored', // an MQTT message not taken (retained without a valid expiry, no id, expired, ...)
  'feed-stale', // a live market feed went stale or stopped (`mullet ops`): the dispatcher's safe mode may follow
  'feed-recovered', // a stale live market feed is current again
  'control-link', // the control plane (NATS): center lost or back, fallback engaged, a desired state or command refused, clock skew
  'award-floor-unheld', // a grid award's mining floor cannot be held (the import limit wins, or too few miners can run)
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

const base = { v: z.literal(EVENT_VERSION), atMs: z.number() };

export const agentEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('tick'),
    seq: z.number().int(),
    trigger: z.string(),
    durationMs: z.number(),
    phasesMs: z.object({ read: z.number(), write: z.number(), verify: z.number() }),
    allowedMiningMW: z.number(),
    limitedBy: z.string(),
    miningBeforeMW: z.number(),
    projectedMiningMW: z.number(),
    projectedSiteMW: z.number(),
    commandsSent: z.number().int(),
    commandsFailed: z.number().int(),
    /** Why the tick curtails (signal, price, plan, import-limit, meter, safe-mode, …); absent when it does not. */
    curtailReason: z.string().optional(),
  }),
  z.object({ ...base, type: z.literal('signal'), signal: signalTimingSchema }),
  z.object({ ...base, type: z.literal('miner'), minerId: z.string(), from: z.string(), to: z.string() }),
  z.object({ ...base, type: z.literal('safe-mode'), mode: z.enum(['hold', 'curtail-all']).nullable(), reason: z.string().nullable() }),
  /** The AI front was limited (MW at the meter) or released (null), with the contract term used. */
  z.object({ ...base, type: z.literal('ai'), load: z.string(), limitMW: z.number().nullable(), reason: z.string() }),
  z.object({ ...base, type: z.literal('grid.deployment'), phase: z.enum(['received', 'started', 'reached-95', 'reached-100', 'met', 'completed', 'recalled']), deployment: evidenceRowSchema }),
  z.object({
    ...base,
    type: z.literal('grid.deployment.missed'),
    id: z.string(),
    product: gridProductSchema,
    mwRequested: z.number(),
    /** Reduction measured at the deadline (meter, else reads), MW. */
    mwDelivered: z.number().nullable(),
    shortfallMW: z.number(),
    deadlineAt: z.string(),
    /** Hours the penalty is counted for: to the planned end, else the first hour (settled again at recall). */
    hours: z.number(),
    penaltyUsdPerMWh: z.number(),
    penaltyUsd: z.number(),
  }),
  z.object({ ...base, type: z.literal('alert'), kind: z.enum(ALERT_KINDS), minerId: z.string().optional(), detail: z.string() }),
]);
export type AgentEvent = z.infer<typeof agentEventSchema>;

/** An event without the envelope the hub adds (version and time). */
export type AgentEventInput = AgentEvent extends infer E ? (E extends AgentEvent ? Omit<E, 'v' | 'atMs'> : never) : never;
export type AlertEvent = Extract<AgentEvent, { type: 'alert' }>;

/** Fan-out to subscribers plus the last `keep` events (per type, so miner transitions do not flush alerts). */
export class EventHub {
  private readonly rings = new Map<AgentEvent['type'], AgentEvent[]>();
  private readonly subs = new Set<(e: AgentEvent) => void>();

  constructor(private readonly keep = 200) {}

  publish(e: AgentEvent): void {
    const ring = this.rings.get(e.type) ?? [];
    this.rings.set(e.type, ring);
    ring.push(e);
    if (ring.length > this.keep) ring.splice(0, ring.length - this.keep);
    for (const s of this.subs) {
      try {
        s(e);
      } catch {
        // A failing subscriber never stops the agent or the other subscribers.
      }
    }
  }

  /** Subscribes; returns the unsubscribe function. */
  subscribe(fn: (e: AgentEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  /** The last `n` events of a type (all types merged by time when none is given), oldest first. */
  recent<T extends AgentEvent['type']>(type?: T, n = this.keep): Extract<AgentEvent, { type: T }>[] {
    const all = type ? (this.rings.get(type) ?? []) : [...this.rings.values()].flat().sort((a, b) => a.atMs - b.atMs);
    return all.slice(-n) as Extract<AgentEvent, { type: T }>[];
  }

  /** The last `n` alerts. */
  alerts(n = this.keep): AlertEvent[] {
    return this.recent('alert', n);
  }
}
